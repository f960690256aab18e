"""Issue 15 point 14: the day totals the database keeps for the utilisation report
(``bookings.day_totals``: booked seconds per asset, local day and borrowing School; bookings
starting per asset, person and day by what became of them).

Whatever writes a booking (the services, the ORM, a bulk UPDATE, a DELETE, many people at once
over HTTP), the totals equal a recount from the bookings, done here in Python with the zone's own
midnights; the report figures read from them equal those read from the bookings themselves
(``tests/reports/test_15_14_fast_report_equals_a_recount.py`` checks both against a recount
booking by booking); and after a change of zone the report reads the bookings until
``flask rebuild-booked-days`` has filled the totals again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

import reports.aggregate as aggregate
from accounts.models import Role
from bookings import service as booking_service
from bookings.day_totals import calendar_matches, fill_local_days, mismatches
from bookings.models import BOOKED_STATUSES, BookedDay, Booking, BookingStart, BookingStatus
from core.db import db
from core.errors import DomainError
from core.timeutil import local_zone, set_local_zone
from reports.figures import utilisation_report
from reports.figures_json import report_to_json
from tests.bookings.test_concurrency import _client
from tests.factories import make_asset, make_booking, make_school, make_user
from tests.reports.test_15_14_fast_report_equals_a_recount import NOW, PERIOD, build_world

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")


def recount(session, zone: ZoneInfo = LONDON) -> tuple[dict, dict]:
    """The day totals worked out from the bookings, in Python: each booking held split at the
    zone's midnights (each part rounded to the second), and each booking counted on the day it
    starts by what became of it."""
    booked: dict[tuple, int] = defaultdict(int)
    starts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for booking in session.scalars(select(Booking)):
        if booking.status in BOOKED_STATUSES:
            day = booking.start_at.astimezone(zone).date()
            while True:
                midnight = dt.datetime.combine(day, dt.time(), zone).astimezone(UTC)
                next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(
                    UTC
                )
                if midnight >= booking.end_at:
                    break
                lo, hi = max(booking.start_at, midnight), min(booking.end_at, next_midnight)
                key = (booking.asset_id, day.replace(day=1), booking.requester_school_id or 0, day)
                booked[key] += round((hi - lo).total_seconds())
                day += dt.timedelta(days=1)
        kind = {
            **{status: 0 for status in BOOKED_STATUSES},
            BookingStatus.NO_SHOW: 1,
            BookingStatus.CANCELLED: 2,
        }.get(booking.status)
        if kind is not None:
            starts[(booking.asset_id, booking.requester_id, booking.start_at.astimezone(zone).date())][
                kind
            ] += 1
    return (
        {key: seconds for key, seconds in booked.items() if seconds},
        {key: tuple(counts) for key, counts in starts.items()},
    )


def stored(session) -> tuple[dict, dict]:
    session.expire_all()
    booked = {
        (row.asset_id, row.month, row.school_id, row.day): row.seconds
        for row in session.scalars(select(BookedDay))
        if row.seconds
    }
    starts = {
        (row.asset_id, row.requester_id, row.day): (row.held, row.no_shows, row.cancelled)
        for row in session.scalars(select(BookingStart))
    }
    return booked, starts


def test_15_14_day_totals_equal_a_recount_whatever_writes_the_bookings(session):
    build_world(session, 11)
    booked, starts = recount(session)
    assert len(booked) > 200 and len(starts) > 200  # the world is not empty
    assert stored(session) == (booked, starts)

    bookings = session.scalars(select(Booking).order_by(Booking.id)).all()
    admin = make_user(session, None, Role.ADMIN)
    # Through the services: a request approved, a booking cancelled.
    for pending in (b for b in bookings if b.status is BookingStatus.PENDING and b.start_at > NOW):
        try:  # (the random world has requests the rules refuse: outside the hours, over others)
            booking_service.approve(session, admin, pending.id, now=NOW)
            break
        except DomainError:
            session.rollback()
    confirmed = next(b for b in bookings if b.status is BookingStatus.CONFIRMED and b.start_at > NOW)
    booking_service.cancel(session, admin, confirmed.id, reason="Broken", now=NOW)
    session.expire_all()
    assert (pending.status, confirmed.status) == (BookingStatus.CONFIRMED, BookingStatus.CANCELLED)
    # Through the ORM: moved in time and to another borrowing School; to another person; a no-show.
    moved, other_person, no_show = [b for b in bookings if b.status in BOOKED_STATUSES][:3]
    moved.start_at += dt.timedelta(hours=30)
    moved.end_at += dt.timedelta(hours=31)
    moved.blocked_until = moved.end_at
    moved.requester_school_id = None
    other_person.requester_id = admin.id
    no_show.status = BookingStatus.NO_SHOW
    session.commit()
    assert stored(session) == recount(session)

    # A bulk UPDATE and a DELETE, as a script or an administrator in psql would.
    asset_id = bookings[-1].asset_id
    session.execute(
        update(Booking)
        .where(Booking.asset_id == asset_id, Booking.status.in_(BOOKED_STATUSES))
        .values(status=BookingStatus.CANCELLED)
    )
    session.execute(delete(Booking).where(Booking.asset_id == bookings[0].asset_id))
    session.commit()
    assert stored(session) == recount(session)
    assert mismatches(session.connection()) == 0  # (the check the benchmark's build makes)
    some_asset = session.scalars(select(BookedDay.asset_id).limit(1)).one()
    session.execute(
        update(BookedDay).where(BookedDay.asset_id == some_asset).values(seconds=BookedDay.seconds + 60)
    )
    assert mismatches(session.connection()) > 0
    session.rollback()
    # Nothing is left of what was taken away but rows that still count.
    assert all(seconds > 0 for seconds in stored(session)[0].values())
    assert not session.scalars(select(BookedDay).where(BookedDay.asset_id == bookings[0].asset_id)).first()


def test_15_14_a_booking_over_the_clock_change_splits_at_local_midnights(session):
    school = make_school(session)
    asset = make_asset(session, school)
    person = make_user(session, school)
    # Saturday 24 October 2026, 22:00 BST, to Monday 26 October, 02:00 GMT: the Sunday has 25 hours.
    start = dt.datetime(2026, 10, 24, 22, tzinfo=LONDON).astimezone(UTC)
    end = dt.datetime(2026, 10, 26, 2, tzinfo=LONDON).astimezone(UTC)
    make_booking(session, asset, person, start, hours=(end - start).total_seconds() / 3600)
    rows = session.execute(
        select(BookedDay.day, BookedDay.seconds).where(BookedDay.asset_id == asset.id).order_by(BookedDay.day)
    ).all()
    assert [(day.isoformat(), seconds // 3600) for day, seconds in rows] == [
        ("2026-10-24", 2),
        ("2026-10-25", 25),
        ("2026-10-26", 2),
    ]
    assert session.execute(select(BookingStart.day, BookingStart.held)).all() == [(dt.date(2026, 10, 24), 1)]


def test_15_14_people_booking_one_asset_at_once_each_count(live_server, session):
    """Sixteen people book half-hours of one asset on one day at the same instant, each by the
    booking form: every booking lands in the same day's total (one row, sixteen writers)."""
    school = make_school(session)
    asset = make_asset(session, school, name="Shared balance")
    people = [make_user(session, school) for _ in range(16)]
    clients = [_client(live_server, person.email) for person in people]
    barrier = threading.Barrier(len(people))
    results = [0] * len(people)

    def book(n: int) -> None:
        start = dt.datetime(2030, 1, 7, 9) + dt.timedelta(minutes=30 * n)  # a Monday, 09:00-17:00
        form = {
            "start": start.strftime("%Y-%m-%dT%H:%M"),
            "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
            "purpose": f"Weighing {n}",
            "repeat": "none",
        }
        barrier.wait()
        results[n] = clients[n](f"/assets/{asset.id}/book", form)[0]

    threads = [threading.Thread(target=book, args=(n,)) for n in range(len(people))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [302] * len(people)
    booked, starts = stored(session)
    assert booked == {(asset.id, dt.date(2030, 1, 1), school.id, dt.date(2030, 1, 7)): 16 * 1800}
    assert (booked, starts) == recount(session)


def _figures(session, **kwargs) -> dict:
    figures = report_to_json(utilisation_report(session, *PERIOD, None, now=NOW, **kwargs))
    return {key: value for key, value in figures.items() if key != "generated_at"}


def test_15_14_the_report_reads_the_day_totals_and_they_give_the_bookings_figures(session, monkeypatch):
    build_world(session, 12)
    read: list[str] = []
    for name in ("_booked_days", "_people_and_due_from_days", "_booked_cells", "_people_and_due_counts"):
        original = getattr(aggregate, name)

        def spy(*args, _original=original, _name=name):
            read.append(_name)
            return _original(*args)

        monkeypatch.setattr(aggregate, name, spy)
    from_days = _figures(session, readers=3)
    assert sorted(read) == ["_booked_days", "_people_and_due_from_days"]
    read.clear()
    monkeypatch.setattr(aggregate, "_days_kept", lambda clipper: False)
    from_bookings = _figures(session, readers=3)
    assert sorted(read) == ["_booked_cells", "_people_and_due_counts"]
    assert from_days == from_bookings
    assert from_days["totals"]["bookings"] > 50


@pytest.fixture
def london_again(app):
    """Whatever the test does to the zone, London and its calendar come back after it."""
    yield
    set_local_zone("Europe/London")
    with app.app_context(), db.engine.begin() as connection:
        fill_local_days(connection, LONDON)
        from bookings.day_totals import rebuild

        rebuild(connection)


def test_15_14_after_a_change_of_zone_the_report_reads_the_bookings_until_rebuilt(
    app, session, caplog, london_again
):
    build_world(session, 13)
    in_london = _figures(session)
    set_local_zone("America/New_York")  # the university's zone changed (KITSHARE_TIMEZONE)
    connection = session.connection()
    assert not calendar_matches(connection, local_zone(), *PERIOD)
    session.rollback()
    with caplog.at_level(logging.WARNING, logger="kitshare.reports"):
        in_new_york = _figures(session)
    assert "flask rebuild-booked-days" in caplog.text
    assert in_new_york != in_london  # the months are New York's: the figures move

    result = app.test_cli_runner().invoke(args=["rebuild-booked-days"])
    assert result.exit_code == 0, result.output
    assert "America/New_York" in result.output
    session.rollback()  # (a new transaction: the rebuild was another connection's)
    assert calendar_matches(session.connection(), local_zone(), *PERIOD)
    session.rollback()
    assert stored(session) == recount(session, ZoneInfo("America/New_York"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kitshare.reports"):
        assert _figures(session) == in_new_york  # from the totals now, the same figures
    assert "rebuild-booked-days" not in caplog.text
