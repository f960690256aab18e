"""Issue 15 point 4: a booking lying wholly inside maintenance (a window added after it was
booked) has no booked hours, so it is not counted among the asset's bookings, and its person is
not counted among the users unless they have other bookings with booked time. A booking only
partly inside still counts.

The week is Monday 2 to Friday 6 November 2026 (London is on GMT, so local = UTC).

A  office hours.  alice completed Mon 2 10:00-12:00                  booked 2 h, counts
                  alice confirmed Wed 4 12:00-12:30  inside the window: does not count
                  bob   confirmed Wed 4 10:00-12:00  inside the window: does not count
                  maintenance Wed 4 09:00-13:00 (added later)
   bookings 1 (not 3), users 1 (not 2), booked 2 h
B  office hours.  carol confirmed Thu 5 10:00-12:00, maintenance Thu 5 11:00-14:00:
   partly inside: booked 1 h, bookings 1, users 1
C  round the clock. dave completed Sat 31 Oct 20:00 to Mon 2 Nov 06:00, maintenance
   Mon 2 00:00-08:00: its part in the period (00:00-06:00) is wholly inside: bookings 0, users 0
Totals: bookings 2, users 2 (alice, carol), booked 3 h.
"""

from __future__ import annotations

import datetime as dt

from bookings.models import BookingStatus
from inventory.models import BookableHours, MaintenanceWindow
from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from tests.factories import make_asset, make_booking, make_school, make_user, replace_hours

H = 3600
UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_bookings_wholly_inside_maintenance_are_not_counted(session):
    school = make_school(session, "ENG")
    alice, bob, carol, dave = (
        make_user(session, school, name=name) for name in ("Alice", "Bob", "Carol", "Dave")
    )
    long_ago = dt.date(2020, 1, 1)
    a = make_asset(session, school, tag="ENG-A", purchase_date=long_ago)
    b = make_asset(session, school, tag="ENG-B", purchase_date=long_ago)
    c = make_asset(session, school, tag="ENG-C", purchase_date=long_ago)
    replace_hours(
        session, c, [BookableHours(weekday=d, opens=dt.time(0), closes=dt.time(23, 59)) for d in range(7)]
    )
    session.commit()

    make_booking(session, a, alice, at(2, 10), hours=2, status=BookingStatus.COMPLETED)
    make_booking(session, a, alice, at(4, 12), hours=0.5, status=BookingStatus.CONFIRMED)
    make_booking(session, a, bob, at(4, 10), hours=2, status=BookingStatus.CONFIRMED)
    make_booking(session, b, carol, at(5, 10), hours=2, status=BookingStatus.CONFIRMED)
    make_booking(session, c, dave, at(31, 20, month=10), hours=34, status=BookingStatus.COMPLETED)
    # The maintenance is added after the bookings were made.
    session.add_all(
        [
            MaintenanceWindow(asset_id=a.id, start_at=at(4, 9), end_at=at(4, 13), reason="Service"),
            MaintenanceWindow(asset_id=b.id, start_at=at(5, 11), end_at=at(5, 14), reason="Service"),
            MaintenanceWindow(asset_id=c.id, start_at=at(2, 0), end_at=at(2, 8), reason="Service"),
        ]
    )
    session.commit()

    report = utilisation_report(
        session, dt.date(2026, 11, 2), dt.date(2026, 11, 6), None, ReportSettings(), now=at(20, 12)
    )
    assets = {asset.tag: asset for asset in report.assets}
    assert (assets["ENG-A"].bookings, assets["ENG-A"].users, assets["ENG-A"].booked_seconds) == (1, 1, 2 * H)
    assert (assets["ENG-B"].bookings, assets["ENG-B"].users, assets["ENG-B"].booked_seconds) == (1, 1, 1 * H)
    assert (assets["ENG-C"].bookings, assets["ENG-C"].users, assets["ENG-C"].booked_seconds) == (0, 0, 0)
    assert (report.total.bookings, report.total.users, report.total.booked_seconds) == (2, 2, 3 * H)
    assert (report.schools[0].bookings, report.schools[0].users) == (2, 2)
    figures = report_to_json(report)
    assert (figures["totals"]["bookings"], figures["totals"]["users"]) == (2, 2)


def test_maintenance_counts_only_on_an_assets_days_in_service(session):
    """An asset retired on Wednesday 4 (in service Monday 2 and Tuesday 3): maintenance over its
    Monday booking takes its hours away; a booking and maintenance after it was retired count for
    nothing at all. And an asset bought on Thursday 5: maintenance before then changes nothing."""
    school = make_school(session, "ENG")
    erin, finn = make_user(session, school, name="Erin"), make_user(session, school, name="Finn")
    retired = make_asset(session, school, tag="ENG-R", purchase_date=dt.date(2020, 1, 1), retired_at=at(4, 0))
    bought = make_asset(session, school, tag="ENG-N", purchase_date=dt.date(2026, 11, 5))
    session.commit()
    make_booking(session, retired, erin, at(2, 10), hours=2, status=BookingStatus.COMPLETED)
    make_booking(session, retired, finn, at(4, 10), hours=2, status=BookingStatus.CONFIRMED)
    make_booking(session, bought, finn, at(5, 10), hours=2, status=BookingStatus.COMPLETED)
    session.add_all(
        [
            MaintenanceWindow(asset_id=retired.id, start_at=at(2, 11), end_at=at(2, 14), reason="Service"),
            MaintenanceWindow(asset_id=retired.id, start_at=at(4, 9), end_at=at(4, 13), reason="Service"),
            MaintenanceWindow(asset_id=bought.id, start_at=at(3, 9), end_at=at(3, 13), reason="Service"),
        ]
    )
    session.commit()

    report = utilisation_report(
        session, dt.date(2026, 11, 2), dt.date(2026, 11, 6), None, ReportSettings(), now=at(20, 12)
    )
    assets = {asset.tag: asset for asset in report.assets}
    r, n = assets["ENG-R"], assets["ENG-N"]
    assert (r.bookings, r.users, r.booked_seconds, r.service_days) == (1, 1, 1 * H, 2)
    assert r.available_seconds == (5 + 8) * H  # Monday 09-17 less 11-14, and Tuesday
    assert (n.bookings, n.users, n.booked_seconds, n.service_days) == (1, 1, 2 * H, 2)
