"""Issue 15 point 14: the yearly report reads the bookings in fewer, coarser SQL aggregates (booked
seconds by asset, borrowing School and months, summed as seconds since the period's start; people
counted by asset and person; months found by binary search). Whatever the shape of the world, it
must give the figures a plain recount gives, booking by booking, in Python.

The world is random (seeded, so a failure can be replayed): three Schools lending to each other,
assets with different weekly hours, some bought or retired during the period, some whose hours
changed during it (point 7), maintenance windows added over bookings, and bookings of every
status, some crossing month ends and the period's ends, some checked in or lent out and returned.
The period runs from August to December 2026, across the October clock change.

The recount (``recount``) reads every booking as an ORM object and applies the rules as the
report page states them (``reports.figures``), with exact ``timedelta`` arithmetic: clip to the
period and the asset's in-service days, take maintenance away, cap each month at the available
time (the borrowers' shares scaled alike), count a booking only if it keeps some booked time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest
from sqlalchemy import select, text

import reports.aggregate as aggregate
from bookings.availability import weekly_intervals
from bookings.models import Booking, BookingStatus
from core.db import SERIALISED
from inventory.models import Asset, BookableHours, BookableHoursHistory, MaintenanceWindow
from reports.aggregate import BOOKED, CANCELLATION_BASE, DUE
from reports.available import hours_in_force, in_service_days
from reports.figures import utilisation_report
from reports.figures_json import report_to_json
from reports.intervals import merge, overlap_seconds, subtract
from reports.periods import month_spans, utc_bounds
from tests.factories import make_asset, make_school, make_user, replace_hours

UTC = dt.UTC
PERIOD = (dt.date(2026, 8, 1), dt.date(2026, 12, 31))
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=UTC)  # some bookings of the period are still to come

HOURS = {
    "office": [(day, dt.time(9), dt.time(17)) for day in range(5)],
    "long days": [(day, dt.time(8), dt.time(20)) for day in range(7)],
    "round the clock": [(day, dt.time(0), dt.time(23, 59)) for day in range(7)],  # 23:59: until midnight
    "two days": [(1, dt.time(10), dt.time(16)), (3, dt.time(10), dt.time(16))],
}


def _hours(spans: list[tuple[int, dt.time, dt.time]]) -> list[BookableHours]:
    return [BookableHours(weekday=day, opens=opens, closes=closes) for day, opens, closes in spans]


def build_world(session, seed: int) -> None:
    rng = random.Random(seed)
    schools = [make_school(session, code) for code in ("CHEM", "PHYS", "BIO")]
    people = [make_user(session, school) for school in schools for _ in range(3)]
    assets: list[Asset] = []
    for n in range(12):
        fields: dict = {"hourly_rate_pence": rng.choice([0, 1250, 3000])}
        if n % 4 == 1:
            fields["purchase_date"] = PERIOD[0] + dt.timedelta(
                days=rng.randrange(20, 120)
            )  # bought during it
        else:
            fields["purchase_date"] = dt.date(2020, 1, 1)
        if n % 5 == 2:
            fields["retired_at"] = dt.datetime(
                2026, 10, rng.randrange(1, 28), 15, tzinfo=UTC
            )  # retired during it
        fields["checkin_required"] = n % 3 == 0
        fields["portable"] = n % 3 == 1
        asset = make_asset(session, rng.choice(schools), **fields)
        replace_hours(session, asset, _hours(HOURS[rng.choice(list(HOURS))]))
        if n % 4 == 3:  # the hours changed during the period: the old ones kept with the date
            until = PERIOD[0] + dt.timedelta(days=rng.randrange(10, 140))
            old = HOURS[rng.choice(list(HOURS))]
            session.add(
                BookableHoursHistory(
                    asset_id=asset.id,
                    in_force_until=until,
                    hours=[
                        [day, opens.strftime("%H:%M"), closes.strftime("%H:%M")] for day, opens, closes in old
                    ],
                )
            )
        session.commit()
        assets.append(asset)

    statuses = list(BookingStatus)
    first = dt.datetime(2026, 7, 20, 6, tzinfo=UTC)
    for asset in assets:
        cursor = first + dt.timedelta(hours=rng.randrange(0, 48))
        while cursor < dt.datetime(2027, 1, 10, tzinfo=UTC):
            length = dt.timedelta(minutes=rng.choice([30, 60, 90, 120, 240, 480, 1440, 2880, 4320]))
            start, end = cursor, cursor + length
            person = rng.choice(people)
            status = rng.choices(statuses, weights=[1, 6, 1, 2, 2, 6, 2, 1])[0]
            booking = Booking(
                asset_id=asset.id,
                requester_id=person.id,
                requester_school_id=person.home_school_id,
                start_at=start,
                end_at=end,
                blocked_until=end,
                purpose="Testing",
                status=status,
            )
            if status in (BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED) and rng.random() < 0.6:
                if asset.portable:
                    booking.handed_over_at = start - dt.timedelta(minutes=rng.choice([-30, 0, 45]))
                    if status is BookingStatus.COMPLETED:
                        booking.returned_at = end + dt.timedelta(minutes=rng.choice([-60, 0, 90]))
                else:
                    booking.checked_in_at = start + dt.timedelta(minutes=rng.choice([-10, 0, 15]))
            session.add(booking)
            cursor = end + dt.timedelta(minutes=rng.choice([0, 15, 60, 600, 2000, 5000]))
        for _ in range(rng.randrange(0, 3)):  # maintenance added later, over bookings
            start = dt.datetime(
                2026, rng.randrange(7, 13), rng.randrange(1, 28), rng.randrange(0, 24), tzinfo=UTC
            )
            session.add(
                MaintenanceWindow(
                    asset_id=asset.id,
                    start_at=start,
                    end_at=start + dt.timedelta(hours=rng.choice([2, 9, 30, 100])),
                    reason="Service",
                )
            )
    session.commit()


def _capped(shares: dict, cap: int) -> dict:
    """Each borrower's whole seconds of a month: rounded; but where they come to more than the
    month's available seconds, scaled down alike to exactly those, the odd seconds going to the
    largest remainders (on a tie, the lower School id, no School last)."""
    shares = {borrower: seconds for borrower, seconds in shares.items() if seconds > 0}
    rounded = {borrower: round(seconds) for borrower, seconds in shares.items()}
    if sum(shares.values()) <= cap and sum(rounded.values()) <= cap:
        return rounded
    total = sum(shares.values())
    exact = {borrower: seconds * min(1.0, cap / total) for borrower, seconds in shares.items()}
    result = {borrower: int(seconds // 1) for borrower, seconds in exact.items()}
    order = sorted(exact, key=lambda b: (result[b] - exact[b], b is None, b or 0))
    for borrower in order[: min(cap, round(total)) - sum(result.values())]:
        result[borrower] += 1
    return result


def recount(session) -> dict:
    """Every booking-derived figure, and the available time, worked out booking by booking."""
    p0, p1 = utc_bounds(*PERIOD)
    months = [utc_bounds(span.first_day, span.last_day) for span in month_spans(*PERIOD)]
    result: dict = {"assets": {}}
    group_users: dict = defaultdict(set)
    for asset in session.scalars(select(Asset).where(Asset.bookable.is_(True))):
        first_day, last_day = in_service_days(asset)
        first_day, last_day = max(first_day, PERIOD[0]), min(last_day or PERIOD[1], PERIOD[1])
        if first_day > last_day:
            continue
        s0, s1 = utc_bounds(first_day, last_day)
        lo, hi = max(p0, s0), min(p1, s1)
        windows = merge(
            (w.start_at, w.end_at)
            for w in session.scalars(select(MaintenanceWindow).where(MaintenanceWindow.asset_id == asset.id))
        )
        history = [
            (
                row.in_force_until,
                tuple(
                    sorted(
                        (int(d), dt.time.fromisoformat(o), dt.time.fromisoformat(c)) for d, o, c in row.hours
                    )
                ),
            )
            for row in session.scalars(
                select(BookableHoursHistory)
                .where(BookableHoursHistory.asset_id == asset.id)
                .order_by(BookableHoursHistory.in_force_until)
            )
        ]
        current = tuple(sorted((h.weekday, h.opens, h.closes) for h in asset.bookable_hours))
        opening = []
        for run_first, run_last, hours in hours_in_force(current, history, first_day, last_day):
            opening += weekly_intervals(hours, run_first, run_last)
        opening = subtract(merge(opening), windows)
        available = [round(overlap_seconds(opening, m0, m1)) for m0, m1 in months]

        cells: dict = defaultdict(float)
        counted: dict = defaultdict(int)
        actual = [0.0] * len(months)
        due = no_shows = base = 0
        for b in session.scalars(select(Booking).where(Booking.asset_id == asset.id)):
            if b.status in BOOKED:
                start, end = max(b.start_at, lo), min(b.end_at, hi)
                if start < end:
                    kept = 0.0
                    for index, (m0, m1) in enumerate(months):
                        a, z = max(start, m0), min(end, m1)
                        if a < z:
                            seconds = (z - a).total_seconds() - overlap_seconds(windows, a, z)
                            cells[b.requester_school_id, index] += seconds
                            kept += seconds
                    if kept > 0:
                        counted[b.requester_id] += 1
            if b.checked_in_at is not None or b.handed_over_at is not None:
                if b.handed_over_at is not None:
                    use0, use1 = b.handed_over_at, min(b.returned_at or NOW, NOW)
                else:
                    use0, use1 = max(b.checked_in_at, b.start_at), min(b.end_at, NOW)
                use0, use1 = max(use0, lo), min(use1, hi)
                for index, (m0, m1) in enumerate(months):
                    a, z = max(use0, m0), min(use1, m1)
                    if a < z:
                        actual[index] += (z - a).total_seconds() - overlap_seconds(windows, a, z)
            if lo <= b.start_at < hi and b.status in CANCELLATION_BASE:
                base += 1
                if b.status in DUE and b.start_at < min(p1, NOW):
                    due += 1
                    no_shows += b.status is BookingStatus.NO_SHOW
        booked = [0] * len(months)
        by_borrower: dict = defaultdict(int)
        for index, cap in enumerate(available):
            shares = {
                borrower: max(seconds, 0.0) for (borrower, month), seconds in cells.items() if month == index
            }
            for borrower, share in _capped(shares, cap).items():
                if share:
                    by_borrower[borrower] += share
                    booked[index] += share
        users = {person for person, n in counted.items() if n > 0}
        for key in (("school", asset.school_id), ("category", asset.category_id), ("total", None)):
            group_users[key] |= users
        result["assets"][asset.id] = {
            "available": available,
            "booked": booked,
            "by_borrower": dict(by_borrower),
            "bookings": sum(n for n in counted.values() if n > 0),
            "users": len(users),
            "due": due,
            "no_shows": no_shows,
            "cancellation_base": base,
            "actual": sum(int(round(min(max(seconds, 0.0), cap))) for seconds, cap in zip(actual, available)),
        }
    result["users"] = {key: len(people) for key, people in group_users.items()}
    return result


@pytest.mark.parametrize("source", ["day totals", "bookings"])
@pytest.mark.parametrize("readers", [1, 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_15_14_every_booking_figure_equals_a_recount_booking_by_booking(
    session, seed, readers, source, monkeypatch
):
    """Read one after the other, and three reads at once on connections of their own (as the
    page, its downloads and the API read); from the day totals the database keeps, and from the
    bookings themselves (as after a change of zone, until the totals are rebuilt)."""
    if source == "bookings":
        monkeypatch.setattr(aggregate, "_days_kept", lambda clipper: False)
    build_world(session, seed)
    report = utilisation_report(session, *PERIOD, None, now=NOW, readers=readers)
    expected = recount(session)

    assert {a.asset_id for a in report.assets} == set(expected["assets"])
    assert sum(a.bookings for a in report.assets) > 50  # the world is not empty
    for asset in report.assets:
        want = expected["assets"][asset.asset_id]
        got = {
            "available": [m.available_seconds for m in asset.months],
            "booked": [m.booked_seconds for m in asset.months],
            "by_borrower": asset.by_borrower,
            "bookings": asset.bookings,
            "users": asset.users,
            "due": asset.due,
            "no_shows": asset.no_shows,
            "cancellation_base": asset.cancellation_base,
            "actual": asset.actual_seconds,
        }
        assert got == want, asset.tag
        assert asset.booked_seconds == sum(want["booked"])
    for group in report.schools:
        assert group.users == expected["users"][("school", group.key)]
    for group in report.categories:
        assert group.users == expected["users"][("category", group.key)]
    assert report.total.users == expected["users"][("total", None)]
    assert report.total.booked_seconds == sum(sum(a["booked"]) for a in expected["assets"].values())


def _without_time(figures: dict) -> dict:
    return {key: value for key, value in figures.items() if key != "generated_at"}


@pytest.mark.parametrize("seed", [4, 5])
def test_15_14_reads_at_once_give_every_figure_of_the_report_alike(session, seed):
    """Every figure every renderer reads (the report's JSON, whole), read serially and with two,
    three and five connections at once."""
    build_world(session, seed)
    serial = report_to_json(utilisation_report(session, *PERIOD, None, now=NOW))
    assert serial["totals"]["bookings"] > 50
    for readers in (2, 3, 5):
        at_once = report_to_json(utilisation_report(session, *PERIOD, None, now=NOW, readers=readers))
        assert _without_time(at_once) == _without_time(serial), readers


def test_15_14_reports_one_after_another_clip_each_by_its_own_days_in_service(session):
    """A connection that read one report's bookings reads the next report's with that report's
    own in-service days (on SQLite they are a temporary table of the connection, filled again
    for every read): the whole period and October (when some assets were retired or bought), one
    after the other, on the session's connection and on the pooled ones, in both orders."""
    build_world(session, 6)
    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))

    def figures(period: tuple[dt.date, dt.date], readers: int) -> dict:
        return _without_time(
            report_to_json(utilisation_report(session, *period, None, now=NOW, readers=readers))
        )

    whole_serial, october_at_once = figures(PERIOD, 1), figures(october, 3)
    whole_at_once, october_serial = figures(PERIOD, 3), figures(october, 1)
    assert whole_at_once == whole_serial
    assert october_serial == october_at_once
    service_days = {a["tag"]: a["service_days"] for a in october_serial["assets"]}
    assert set(service_days.values()) - {31}  # some assets were in service for part of October


def test_15_14_a_report_reads_while_someone_else_is_writing(session):
    """Reading a report takes no lock a writer holds, nor one a writer wants: with another
    connection in the middle of a write (on SQLite, holding the database's write lock), the report
    (whose in-service days SQLite keeps in a temporary table of each reading connection) reads
    serially and at once, and gives the same figures."""
    build_world(session, 7)
    before = _without_time(report_to_json(utilisation_report(session, *PERIOD, None, now=NOW)))
    session.commit()
    with session.get_bind().connect().execution_options(**{SERIALISED: True}) as writer:
        writer.begin()
        writer.execute(text("UPDATE schools SET name = name || ' (renamed)' WHERE code = 'BIO'"))
        for readers in (1, 3):
            during = utilisation_report(session, *PERIOD, None, now=NOW, readers=readers)
            assert _without_time(report_to_json(during)) == before, readers
            session.commit()
        writer.rollback()
