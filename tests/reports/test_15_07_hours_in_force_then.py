"""Issue 15 point 7: a period's available hours use the bookable hours in force then, not today's.

A hand-built asset, the Lathe (CHEM), in service since 2020, open Monday to Friday 08:00-20:00
(12 h a day) until its manager narrows it to 09:00-17:00 (8 h a day) through the API on
Thursday 15 October 2026 at 10:00 BST. The change takes effect that day. October 2026 in London:
the clocks go back on Sunday 25th, which moves no weekday hours.

- Week of Mon 5 Oct (before the change): 5 x 12 = 60 h.
- Week of Mon 19 Oct (after): 5 x 8 = 40 h.
- Week of Mon 12 Oct (the change on Thursday): Mon-Wed 3 x 12 + Thu-Fri 2 x 8 = 52 h.
- October: weekdays 1-14 are 10 (Thu 1, Fri 2, 5-9, 12-14) x 12 = 120 h; weekdays 15-31 are
  12 (Thu 15, Fri 16, 19-23, 26-30) x 8 = 96 h: 216 h.

Bookings (confirmed, made before the change):
- old: Tue 6 Oct 18:00-19:00, inside the hours then (08-20): booked, not flagged.
- kept: Tue 20 Oct 18:00-19:00, made before the change and kept by it: booked, and flagged as
  outside the hours in force (09-17) on its day.
- inside: Wed 21 Oct 10:00-12:00, inside the new hours: booked, not flagged.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from accounts.models import Role
from bookings import asset_changes
from bookings.models import BookingStatus
from core.config import Config
from inventory import service
from inventory.models import Asset, BookableHours, BookableHoursHistory, MaintenanceWindow
from notifications.models import OutboxMessage
from planning.evidence import gather_evidence
from planning.lifecycle import PlanningSettings
from reports.delivery import deliver_due
from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from reports.models import Frequency, ReportSnapshot, ReportSubscription
from tests.api.conftest import Api
from tests.api.world import token_for
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_booking, make_school, make_user
from tests.reports.helpers import csv_sections, page_tables, xlsx_sheets

BST = dt.timezone(dt.timedelta(hours=1))
GMT = dt.UTC
CHANGE = dt.datetime(2026, 10, 15, 10, tzinfo=BST)  # Thursday
AFTER = dt.datetime(2026, 11, 2, 12, tzinfo=GMT)
OLD_HOURS = [(day, dt.time(8), dt.time(20)) for day in range(5)]
NEW_HOURS = [{"weekday": day, "opens": "09:00", "closes": "17:00"} for day in range(5)]


def oct_(day: int, hour: int) -> dt.datetime:
    """A wall-clock time in London in October 2026 (BST until the 25th, 02:00)."""
    return dt.datetime(2026, 10, day, hour, tzinfo=BST if day < 25 else GMT)


def h(seconds: int) -> float:
    return seconds / 3600


@pytest.fixture
def lathe(session, client):
    chem = make_school(session, "CHEM")
    manager = make_user(session, chem, Role.MANAGER, name="Mo Manager")
    user = make_user(session, chem, name="Uma User")
    # Bought in 2020; put on Kitshare on Monday 5 October 2026 (the capital plan's records begin then).
    asset = make_asset(
        session,
        chem,
        name="Lathe",
        tag="CHEM-LATHE",
        purchase_date=dt.date(2020, 1, 1),
        created_at=dt.datetime(2026, 10, 5, 8, tzinfo=GMT),
    )
    asset.bookable_hours.clear()
    session.flush()
    asset.bookable_hours.extend(BookableHours(weekday=d, opens=o, closes=c) for d, o, c in OLD_HOURS)
    session.commit()
    with time_machine.travel(dt.datetime(2026, 9, 1, 9, tzinfo=BST), tick=False):
        old = make_booking(session, asset, user, oct_(6, 18), 1)
        kept = make_booking(session, asset, user, oct_(20, 18), 1)
        inside = make_booking(session, asset, user, oct_(21, 10), 2)
    token = token_for(session, manager)
    with time_machine.travel(CHANGE, tick=False):
        response = Api(client, token).patch(f"/assets/{asset.id}", json={"weekly_hours": NEW_HOURS})
    assert response.status_code == 200, response.get_json()
    see_committed(session)
    return {
        "asset": session.get(Asset, asset.id),
        "manager": manager,
        "old": old,
        "kept": kept,
        "inside": inside,
    }


def report(session, first: dt.date, last: dt.date):
    return utilisation_report(session, first, last, None, now=AFTER)


def only_asset(session, first, last):
    (figures,) = report(session, first, last).assets
    return figures


def test_the_api_change_keeps_the_hours_it_replaced_with_the_day_it_took_effect(session, lathe):
    (row,) = session.scalars(select(BookableHoursHistory))
    assert row.asset_id == lathe["asset"].id
    assert row.in_force_until == dt.date(2026, 10, 15)
    assert row.hours == [[d, "08:00", "20:00"] for d in range(5)]
    assert row.changed_by_id == lathe["manager"].id
    # The hours in force now are the new ones: the booking rules read them as before.
    assert [(x.weekday, x.opens, x.closes) for x in lathe["asset"].bookable_hours] == [
        (d, dt.time(9), dt.time(17)) for d in range(5)
    ]


def test_a_week_before_the_change_has_the_old_hours(session, lathe):
    asset = only_asset(session, dt.date(2026, 10, 5), dt.date(2026, 10, 11))
    assert h(asset.available_seconds) == 60
    assert h(asset.booked_seconds) == 1  # the 18:00-19:00 booking, inside the hours then
    assert asset.outside_hours_bookings == 0 and not asset.outside_hours


def test_a_week_after_the_change_has_the_new_hours(session, lathe):
    asset = only_asset(session, dt.date(2026, 10, 19), dt.date(2026, 10, 25))
    assert h(asset.available_seconds) == 40
    assert h(asset.booked_seconds) == 3  # still counted as booked: 18:00-19:00 and 10:00-12:00
    assert asset.outside_hours_bookings == 1 and asset.outside_hours


def test_the_week_of_the_change_and_its_month_add_up_both(session, lathe):
    assert h(only_asset(session, dt.date(2026, 10, 12), dt.date(2026, 10, 18)).available_seconds) == 52
    month = report(session, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert h(month.assets[0].available_seconds) == 216
    assert h(month.assets[0].months[0].available_seconds) == 216
    assert h(month.total.available_seconds) == 216
    # Over September and October, by month: September (22 weekdays) all under the old hours.
    two = report(session, dt.date(2026, 9, 1), dt.date(2026, 10, 31)).assets[0]
    assert [h(m.available_seconds) for m in two.months] == [22 * 12, 216]
    assert h(two.available_seconds) == 22 * 12 + 216


def test_maintenance_takes_away_the_hours_in_force_on_its_days(session, lathe):
    asset_id = lathe["asset"].id
    session.add_all(
        [
            # Tue 6 Oct 07:00-10:00, under 08-20: 2 h (under today's 09-17 it would be 1 h).
            MaintenanceWindow(asset_id=asset_id, start_at=oct_(6, 7), end_at=oct_(6, 10), reason="Old"),
            # Tue 20 Oct 16:00-19:00, under 09-17: 1 h (under the old 08-20 it would be 3 h).
            MaintenanceWindow(asset_id=asset_id, start_at=oct_(20, 16), end_at=oct_(20, 19), reason="New"),
            # Wed 14 Oct 19:00 to Thu 15 Oct 10:00, across the change: 19-20 old + 09-10 new = 2 h.
            MaintenanceWindow(asset_id=asset_id, start_at=oct_(14, 19), end_at=oct_(15, 10), reason="Across"),
        ]
    )
    session.commit()
    assert h(only_asset(session, dt.date(2026, 10, 5), dt.date(2026, 10, 11)).available_seconds) == 60 - 2
    assert h(only_asset(session, dt.date(2026, 10, 19), dt.date(2026, 10, 25)).available_seconds) == 40 - 1
    assert h(only_asset(session, dt.date(2026, 10, 12), dt.date(2026, 10, 18)).available_seconds) == 52 - 2
    assert h(only_asset(session, dt.date(2026, 10, 1), dt.date(2026, 10, 31)).available_seconds) == 216 - 5


def test_bookings_outside_the_hours_in_force_roll_up_and_reach_the_json(session, lathe):
    figures = report_to_json(report(session, dt.date(2026, 10, 1), dt.date(2026, 10, 31)))
    (asset,) = figures["assets"]
    assert asset["outside_hours_bookings"] == 1 and asset["outside_hours"] is True
    assert asset["bookings"] == 3
    assert figures["schools"][0]["outside_hours_bookings"] == 1
    assert figures["categories"][0]["outside_hours_bookings"] == 1
    assert figures["totals"]["outside_hours_bookings"] == 1


def test_a_cancelled_booking_outside_the_hours_is_not_flagged(session, lathe):
    kept = session.get(type(lathe["kept"]), lathe["kept"].id)
    kept.status = BookingStatus.CANCELLED
    session.commit()
    asset = only_asset(session, dt.date(2026, 10, 19), dt.date(2026, 10, 25))
    assert asset.outside_hours_bookings == 0 and not asset.outside_hours


def test_several_changes_the_same_day_keep_one_row_with_the_hours_before_that_day(session, lathe):
    asset = lathe["asset"]
    manager = lathe["manager"]

    def change(hours, now):
        data = service.AssetInput.from_asset(asset)
        data.weekly_hours = hours
        asset_changes.update_asset(session, manager, asset, data, now=now)
        session.commit()

    # Later that Thursday: open 10:00-16:00 instead. Still one row, holding 08-20.
    change([(d, dt.time(10), dt.time(16)) for d in range(5)], oct_(15, 15))
    rows = list(session.scalars(select(BookableHoursHistory).order_by(BookableHoursHistory.in_force_until)))
    assert [(r.in_force_until, r.hours[0]) for r in rows] == [(dt.date(2026, 10, 15), [0, "08:00", "20:00"])]
    # The next Monday: back to 09:00-17:00. A second row holds 10-16, in force Thu 15 to Sun 18.
    change([(d, dt.time(9), dt.time(17)) for d in range(5)], oct_(19, 8))
    rows = list(session.scalars(select(BookableHoursHistory).order_by(BookableHoursHistory.in_force_until)))
    assert [(r.in_force_until, r.hours[0]) for r in rows] == [
        (dt.date(2026, 10, 15), [0, "08:00", "20:00"]),
        (dt.date(2026, 10, 19), [0, "10:00", "16:00"]),
    ]
    # Week of the 12th: Mon-Wed 3 x 12 + Thu-Fri 2 x 6 = 48 h; week of the 19th: 40 h.
    assert h(only_asset(session, dt.date(2026, 10, 12), dt.date(2026, 10, 18)).available_seconds) == 48
    assert h(only_asset(session, dt.date(2026, 10, 19), dt.date(2026, 10, 25)).available_seconds) == 40
    # Saving the same hours again keeps nothing.
    change([(d, dt.time(9), dt.time(17)) for d in range(5)], oct_(20, 8))
    assert len(list(session.scalars(select(BookableHoursHistory)))) == 2


def test_an_asset_whose_hours_never_changed_uses_its_hours_throughout(session, lathe):
    other = make_asset(
        session, lathe["asset"].school, name="Saw", tag="CHEM-SAW", purchase_date=dt.date(2020, 1, 1)
    )
    week = report(session, dt.date(2026, 10, 5), dt.date(2026, 10, 11))
    saw = next(a for a in week.assets if a.asset_id == other.id)
    assert h(saw.available_seconds) == 40  # Mon-Fri 09:00-17:00, the factory's default
    assert saw.outside_hours_bookings == 0
    assert (
        session.scalars(select(BookableHoursHistory).where(BookableHoursHistory.asset_id == other.id)).first()
        is None
    )


def test_page_csv_xlsx_and_api_agree(session, client, lathe):
    finance = make_user(session, None, Role.FINANCE, name="Fiona Finance", email="finance@test.ac.uk")
    query = "from=2026-10-19&to=2026-10-25"
    with time_machine.travel(AFTER, tick=False):
        sign_in(client, finance.email)
        page = client.get(f"/reports/utilisation?{query}").get_data(as_text=True)
        csv_text = client.get(f"/reports/utilisation.csv?{query}").get_data(as_text=True)
        xlsx = client.get(f"/reports/utilisation.xlsx?{query}").data
        api = Api(client, token_for(session, finance)).get(f"/reports/utilisation?{query}&group_by=asset")
    header, row = page_tables(page)["table-assets"][:2]
    assert row[header.index("Available hours")] == "40.0"  # one decimal on the page (point 10)
    assert row[header.index("Bookings outside hours")] == "1"
    assert "1 booking outside the hours in force" in page and "CHEM-LATHE Lathe (CHEM): 1" in page

    csv_header, csv_row = csv_sections(csv_text)["By asset"][:2]
    assert csv_row[csv_header.index("Available hours")] == "40.00"
    assert csv_row[csv_header.index("Bookings outside hours")] == "1"
    summary = dict(row[:2] for row in csv_sections(csv_text)["Summary"])
    assert summary["Bookings outside the hours in force"] == "1"

    sheet = xlsx_sheets(xlsx)["By asset"]
    xlsx_header = next(r for r in sheet if r and "Available hours" in r)
    xlsx_row = sheet[sheet.index(xlsx_header) + 1]
    assert xlsx_row[xlsx_header.index("Available hours")] == 40
    assert xlsx_row[xlsx_header.index("Bookings outside hours")] == 1

    assert api.status_code == 200
    (api_row,) = api.get_json()["rows"]
    assert api_row["available_hours"] == 40.0
    assert api_row["outside_hours_bookings"] == 1 and api_row["outside_hours"] is True
    assert api.get_json()["totals"]["outside_hours_bookings"] == 1


def test_the_scheduled_email_and_its_spreadsheet_use_the_hours_in_force(session, lathe):
    finance = make_user(session, None, Role.FINANCE, name="Fiona Finance", email="finance@test.ac.uk")
    session.add(
        ReportSubscription(
            user_id=finance.id,
            frequency=Frequency.WEEKLY,
            school_ids=[],
            created_at=dt.datetime(2026, 10, 5, 8, tzinfo=GMT),
        )
    )
    session.commit()
    # Monday 12 October, 06:00: the week of the 5th (before the change) is sent.
    run = deliver_due(
        session, dt.datetime(2026, 10, 12, 6, tzinfo=GMT), Config(KITSHARE_BASE_URL="https://kitshare.test")
    )
    assert (run.sent, run.failed) == (1, 0)
    see_committed(session)
    snapshot = session.scalars(select(ReportSnapshot)).one()
    assert snapshot.figures["assets"][0]["available_hours"] == 60.0
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == finance.email)).one()
    sheet = xlsx_sheets(message.attachment)["By asset"]
    header = next(r for r in sheet if r and "Available hours" in r)
    assert sheet[sheet.index(header) + 1][header.index("Available hours")] == 60
    assert "outside the bookable hours" not in message.body_text
    # Monday 26 October: the week of the 19th (after it), with the kept evening booking.
    deliver_due(
        session, dt.datetime(2026, 10, 26, 6, tzinfo=GMT), Config(KITSHARE_BASE_URL="https://kitshare.test")
    )
    see_committed(session)
    latest = session.scalars(select(ReportSnapshot).order_by(ReportSnapshot.id.desc())).first()
    assert latest.figures["assets"][0]["available_hours"] == 40.0
    assert latest.figures["totals"]["outside_hours_bookings"] == 1
    body = (
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.to_address == finance.email)
            .order_by(OutboxMessage.id.desc())
        )
        .first()
        .body_text
    )
    assert "Bookings outside the bookable hours in force on their days: 1." in body


def test_the_capital_plan_s_evidence_uses_the_hours_in_force(session, lathe):
    # Today Monday 26 October: the evidence runs from the day records began (5 October) to
    # yesterday: weeks of the 5th (60 h), the 12th (52 h) and the 19th (40 h).
    evidence = gather_evidence(
        session, None, None, PlanningSettings(), ReportSettings(), dt.date(2026, 10, 26), now=AFTER
    )
    (item,) = evidence.assets
    assert (evidence.period_from, evidence.period_to) == (dt.date(2026, 10, 5), dt.date(2026, 10, 25))
    assert h(item.figures.available_seconds) == 60 + 52 + 40
    assert item.figures.outside_hours_bookings == 1
