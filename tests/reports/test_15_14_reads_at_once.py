"""Issue 15 point 14: a report's reads of the bookings run several at once, each on a connection
of its own, only where that gives the same answer (``reports.aggregate.Clipper.start``)."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from sqlalchemy import create_engine, func, literal, select
from sqlalchemy.orm import Session

from bookings.models import Booking, BookingStatus
from core.config import Config, ConfigError
from inventory.models import Asset, School
from reports.aggregate import Clipper
from reports.available import assets_in_scope
from reports.intervals import is_late_cancellation, working_seconds_between
from reports.periods import utc_bounds
from reports.sql import read_all

PERIOD = utc_bounds(dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def _clipper(session) -> Clipper:
    return Clipper(session, {}, [], assets_in_scope(None), [PERIOD], PERIOD)


def _gather(clipper: Clipper, reads: list, readers: int) -> list:
    with clipper.start(reads, readers) as started:
        return started.results()


def _where(clipper: Clipper) -> tuple[int, int]:
    connection = clipper.connection or clipper.session.connection()
    return threading.get_ident(), id(connection)


def test_one_reader_reads_on_the_sessions_connection_in_order(session):
    clipper = _clipper(session)
    here = (threading.get_ident(), id(session.connection()))
    assert _gather(clipper, [_where, _where, _where], 1) == [here, here, here]


def test_several_readers_read_on_connections_of_their_own_and_keep_the_order(session):
    clipper = _clipper(session)
    barrier = threading.Barrier(3, timeout=30)

    def read(n: int):
        def run(c: Clipper) -> tuple[int, tuple[int, int]]:
            barrier.wait()  # all three are running at once, or this times out
            return n, _where(c)

        return run

    results = _gather(clipper, [read(0), read(1), read(2)], 3)
    assert [n for n, _ in results] == [0, 1, 2]
    places = {where for _, where in results}
    assert len(places) == 3
    assert (threading.get_ident(), id(session.connection())) not in places


def test_a_read_on_its_own_connection_sees_what_is_committed(session):
    """What the report reads is what the session would read: committed data."""
    clipper = _clipper(session)
    count = lambda c: c.execute(select(func.count()).select_from(School))[0][0]  # noqa: E731
    assert _gather(clipper, [count, count], 2) == [count(clipper)] * 2


def test_reads_start_before_their_results_are_asked_for_and_finish_when_left(session):
    """The report works out available time while the reads run; whatever happens meanwhile,
    leaving waits for every read begun (its connection goes back to the pool) and drops the
    reads not yet begun."""
    clipper = _clipper(session)
    began, finished = [], []
    first_began = threading.Event()

    def slow(c: Clipper) -> None:
        began.append(True)
        first_began.set()
        time.sleep(1.0)
        assert c.execute(select(literal(1))) == [(1,)]
        finished.append(True)

    with pytest.raises(RuntimeError, match="meanwhile"):
        with clipper.start([slow] * 6, 2):
            assert first_began.wait(30)  # running before anyone asked for the results
            raise RuntimeError("something failed meanwhile")
    assert 1 <= len(began) < 6  # the reads left waiting were dropped
    assert len(finished) == len(began)  # and every read begun was waited for


def test_an_in_memory_sqlite_database_is_read_serially():
    """Its pool gives every thread the same connection (or a new, empty database): one reader."""
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        clipper = Clipper(session, {}, [], assets_in_scope(None), [PERIOD], PERIOD)
        here = (threading.get_ident(), id(session.connection()))
        assert _gather(clipper, [_where, _where], 3) == [here, here]


@pytest.mark.parametrize("readers", [-1, 9])
def test_report_readers_out_of_range_is_a_configuration_error(readers):
    with pytest.raises(ConfigError, match="KITSHARE_REPORT_READERS"):
        Config(SECRET_KEY="x" * 64, KITSHARE_REPORT_READERS=readers).check()


def test_report_readers_by_default_suit_the_database():
    """Three on PostgreSQL, whose server works on the reads on other cores; two on SQLite, which
    works on one read without Python's lock while Python adds up another. A number set is kept on
    either."""
    postgresql, sqlite = "postgresql://kitshare@db/kitshare", "sqlite:////tmp/kitshare.db"
    assert Config(DATABASE_URL=postgresql).report_readers == 3
    assert Config(DATABASE_URL=sqlite).report_readers == 2
    assert Config(DATABASE_URL=sqlite, KITSHARE_REPORT_READERS=1).report_readers == 1
    assert Config(DATABASE_URL=postgresql, KITSHARE_REPORT_READERS=1).report_readers == 1


@pytest.mark.parametrize("notice_hours", [0, 1, 24, 48, 130])
def test_less_notice_in_calendar_hours_is_always_late(notice_hours):
    """The report counts a cancellation late without counting working hours when it came less
    than the notice before the start in calendar hours: working hours are never more. Checked
    over every quarter-hour gap of the notice, from moments across a clock change and a weekend."""
    rng = random.Random(notice_hours)
    starts = [dt.datetime(2026, 10, 26, 9, tzinfo=dt.UTC), dt.datetime(2026, 3, 30, 0, 30, tzinfo=dt.UTC)]
    starts += [
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randrange(525_600))
        for _ in range(20)
    ]
    for start in starts:
        for quarter in range(0, notice_hours * 4):
            cancelled = start - dt.timedelta(minutes=15 * quarter)
            assert working_seconds_between(cancelled, start) <= (start - cancelled).total_seconds()
            assert is_late_cancellation(cancelled, start, notice_hours)


def test_read_all_gives_the_rows_a_plain_read_gives(session, week):
    """``read_all`` (on SQLite: one JSON value, converted by each column's type) returns what
    reading the rows returns, for every kind of value the report reads: ids, texts, dates,
    aware times, statuses, booleans, whole and fractional numbers, nulls; and nothing for a
    query with no rows."""
    tomorrow = week.confocal.purchase_date + dt.timedelta(days=1)
    query = (
        select(
            Booking.id,
            Booking.asset_id,
            Booking.start_at,
            Booking.checked_in_at,
            Booking.status,
            Booking.purpose,
            Asset.purchase_date,
            Asset.checkin_required,
            Asset.hourly_rate_pence,
            func.sum(Booking.requester_id) / 7.0,
            literal(tomorrow),
        )
        .join(Asset, Asset.id == Booking.asset_id)
        .group_by(Booking.id, Asset.id)
        .order_by(Booking.id)
    )
    connection = session.connection()
    expected = [tuple(row) for row in connection.execute(query)]
    assert len(expected) > 5
    got = list(read_all(connection, query))
    assert [tuple(row) for row in got] == expected
    assert {type(row[2]) for row in got} == {dt.datetime}
    assert all(row[2].tzinfo is not None for row in got)
    assert {type(row[4]) for row in got} == {BookingStatus}
    assert list(read_all(connection, query.where(Booking.id < 0))) == []
