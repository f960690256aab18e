"""The SQL that reads bookings for the utilisation report: every figure that depends on the
bookings table is an aggregate computed by the database (GROUP BY asset, borrowing School,
person and the months a booking falls in), with each row clipped to the period and its asset's
in-service days in SQL, and read in batches (PostgreSQL) or as one value (SQLite:
``reports.sql.read_all``). Only bookings that overlap maintenance, and cancellations, are read
one by one, to finish in Python what SQL cannot say portably.

The booked seconds, and the bookings, people, bookings due and no-shows, come from the day
totals the database keeps (``bookings.day_totals``: a row per asset, day and borrowing School or
person, in the order the report groups them), where they hold the period's days in the
university's zone (``_days_kept``); otherwise from the bookings themselves, with the same
figures (``_booked_cells``, ``_people_and_due_counts``).

``read_bookings`` starts the reads (several at once on connections of their own, with
``readers`` > 1: ``Clipper.start``), each returning what it counted; ``count_bookings`` puts
their results into the figures once the available time is known.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from bookings.day_totals import calendar_matches
from bookings.models import (
    BOOKED_STATUSES,
    BookedDay,
    Booking,
    BookingStart,
    BookingStatus,
    BookingStatusChange,
    UnmetDemand,
)
from core.db import UTCDateTime, hours_between
from core.timeutil import local_zone
from inventory.models import MaintenanceWindow
from reports.intervals import Interval, apportion, is_late_cancellation, overlap_seconds
from reports.sql import (
    ServiceBounds,
    greatest,
    indexed_by,
    least,
    ordered_join,
    read_all,
    seconds_since,
)

if TYPE_CHECKING:
    from reports.available import AssetFacts
    from reports.figures import AssetFigures, ReportSettings

log = logging.getLogger("kitshare.reports")

#: How many rows of a report's query are read at a time.
ROW_BATCH = 5000

#: The bookings, read by asset and start time (``reports.sql.indexed_by``): every query of a
#: report groups them by asset.
BY_ASSET = "ix_bookings_asset_time"
#: The cancelled bookings by start time (``bookings.models.CANCELLED_SQL``).
CANCELLED_BY_START = "ix_bookings_cancelled"
#: A booking cancelled, and a history row that cancelled one: the statuses in so many words, not
#: as parameters, so that the databases read both from their partial indexes of cancellations,
#: which hold every column the late cancellations read.
_CANCELLED = Booking.status == literal_column(f"'{BookingStatus.CANCELLED.value}'")
_CANCELLING = BookingStatusChange.to_status == literal_column(f"'{BookingStatus.CANCELLED.value}'")
#: The bookings that record use (``bookings.models.TRACKED_SQL``), by asset and start time.
TRACKED_BY_ASSET = "ix_bookings_asset_tracked"

#: Bookings whose hours count as booked.
BOOKED = BOOKED_STATUSES
#: Bookings that were due to be used: held, or released as a no-show.
DUE = (*BOOKED, BookingStatus.NO_SHOW)
#: Bookings a late cancellation is counted against: those held at some time, and cancellations.
CANCELLATION_BASE = (*DUE, BookingStatus.CANCELLED)
#: Unmet demand that shows an asset is saturated: demand turned away for want of free time,
#: refused because the time was already booked ("overlap"), or waitlisted and never served
#: ("waitlisted"). A manager's rejection, maintenance, training, sharing, notice, length,
#: quotas and requests not decided in time say nothing about capacity: they stay unmet demand
#: by reason, and do not make an asset saturated.
CAPACITY_REASONS = ("overlap", "waitlisted")


def is_capacity_demand(reasons: list[str] | tuple[str, ...]) -> bool:
    """A request turned away for want of free time alone: every reason it was refused for is a
    capacity reason (refused for a clash and for want of training, free time would not have
    served it)."""
    return bool(reasons) and all(reason in CAPACITY_REASONS for reason in reasons)


#: One group of unmet demand: (asset, source, reasons, requests, seconds clipped to the period,
#: requester or None).
UnmetRow = tuple[int, str, list[str], int, int, "int | None"]


@dataclass
class AssetPlan:
    """What Python knows about one asset before the bookings are counted."""

    asset: AssetFacts
    first_day: dt.date  # in-service days inside the period
    last_day: dt.date
    service_start: dt.datetime
    service_end: dt.datetime
    maintenance: list[Interval]
    month_available: list[int]  # seconds, one per span


def time_value(value: dt.datetime, dialect: str) -> Any:
    """A UTC instant as an SQL value, stored the way the database stores ``UTCDateTime``."""
    bound = literal(value, UTCDateTime())
    # PostgreSQL needs the type of a parameter in a SELECT list; SQLite compares the stored text.
    return cast(bound, UTCDateTime()) if dialect == "postgresql" else bound


def _to_seconds(hours: float | None) -> int:
    return int(round((hours or 0.0) * 3600))


@dataclass(frozen=True)
class Part:
    """The bookings of some of a report's assets, with SQL for each booking's in-service bounds.

    A report reads its bookings in two parts, so that each is one plain query the databases
    plan well: the assets in service for the whole period (clipped by the period alone, read by
    the bookings' indexes), and the few others (bought or retired during the period, or not in
    service at all), whose bounds are in a small table (``service``: ``ServiceBounds.table``):
    their bookings are read by index and look their asset's bounds up. (One query with a LEFT
    JOIN on that table makes SQLite scan the table for every booking; a CASE over the asset ids
    grows with the register.)
    """

    start: Any  # SQL: the first instant of the booking's asset's in-service days in the period
    end: Any  # SQL: the instant after the last
    # This part's assets and their bounds (``ServiceBounds.table``); None: every other asset.
    service: Any = None
    others: Any = None  # for the whole-period part: the assets it leaves to the other

    def select(self, *columns: Any, index: str = BY_ASSET) -> Select[Any]:
        """``select(*columns)`` from this part's bookings, read (on SQLite) by ``index``."""
        if self.service is not None:
            # The bookings of the assets in the table (by their index on asset and start time),
            # each looking its asset's bounds up.
            service = self.service
            return (
                select(*columns)
                .select_from(
                    ordered_join(
                        Booking.__table__, service, service.c.asset_id == Booking.asset_id, left_index=index
                    )
                )
                .where(
                    Booking.asset_id.in_(select(service.c.asset_id).correlate(None)),
                    service.c.lo < service.c.hi,
                )
            )
        query = select(*columns).select_from(indexed_by(Booking.__table__, index))
        if self.others is not None:
            query = query.where(Booking.asset_id.not_in(select(self.others.c.asset_id)))
        return query

    def bounds(self, start: Any, end: Any) -> tuple[Any, Any]:
        """SQL: the interval clipped to its asset's in-service days in the period."""
        return greatest(start, self.start), least(end, self.end)


def batched(connection: Connection, query: Select[Any]) -> Iterator[Any]:
    """The rows of ``query``, read ``ROW_BATCH`` at a time (a server-side cursor) on PostgreSQL;
    all at once on SQLite, as one value (``reports.sql.read_all``)."""
    if connection.dialect.name == "sqlite":
        yield from read_all(connection, query)  # (in one step: ``reports.sql.read_all``)
        return
    for batch in connection.execute(query, execution_options={"yield_per": ROW_BATCH}).partitions():
        yield from batch


class Reads:
    """Reads started by ``Clipper.start``: ``results`` waits for them, in the order given; as a
    context manager, leaving stops the reads not yet begun and waits for the others (and their
    connections) to finish, whatever happened meanwhile."""

    def __init__(self, collect: Callable[[], list[Any]], pool: ThreadPoolExecutor | None = None) -> None:
        self._collect, self._pool = collect, pool

    def results(self) -> list[Any]:
        return self._collect()

    def __enter__(self) -> Reads:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class Clipper:
    """Clip an interval expression per row to the period and to its asset's in-service days, and
    sum it by month, in SQL.

    SQL groups each row by the months its clipped start and end fall in (CASEs over the month
    boundaries), so the database reads each booking once and the months cost no join; the few
    rows that run into a later month are split exactly from two sums (``sum_by``). Every query
    runs once for each ``Part``.
    """

    def __init__(
        self,
        session: Session,
        plans: dict[int, AssetPlan],
        not_in_service: list[int],
        assets_in_scope: Select[Any],
        spans_utc: list[Interval],
        period: Interval,
        span_days: list[tuple[dt.date, dt.date]] | None = None,
    ):
        """``span_days``: the first and last local day of each span (month) of ``spans_utc``;
        with them, the booked seconds, bookings and people are read from the day totals where
        they can be (``_days_kept``)."""
        self.session = session
        #: The connection this clipper's reads use: the session's own, unless ``start`` gave it one.
        self.connection: Connection | None = None
        self.dialect = session.get_bind().dialect.name
        self.plans = plans
        self.spans_utc = spans_utc
        self.period = period
        self.span_days = span_days
        self.zone = local_zone()
        self.assets_in_scope = assets_in_scope
        #: SQL: the booking's asset is one the report covers.
        self.in_scope = Booking.asset_id.in_(assets_in_scope)
        p0, p1 = period
        bounds = [
            (asset_id, plan.service_start, plan.service_end)
            for asset_id, plan in plans.items()
            if (plan.service_start, plan.service_end) != period
        ]
        bounds += [(asset_id, p0, p0) for asset_id in not_in_service]  # an empty interval: nothing counts
        whole = (time_value(p0, self.dialect), time_value(p1, self.dialect))
        #: The assets in service for part of the period, read apart: filled on each reading
        #: connection before its reads (``rows``).
        self.service: ServiceBounds | None = None
        if not bounds:
            self.parts = [Part(*whole)]
        else:
            self.service = ServiceBounds(bounds, self.dialect)
            table = self.service.table
            self.parts = [Part(*whole, others=table), Part(table.c.lo, table.c.hi, service=table)]

    def rows(self, build: Callable[[Part], Select[Any]]) -> Iterator[Any]:
        """The rows of the query ``build`` makes for each part, one part after the other
        (``batched``): on PostgreSQL a batch at a time, so the report never holds a query's whole
        result; on SQLite each part's whole result at once, as one value, which is grouped (per
        asset and month, or person), not a row per booking: the report's peak memory at full size
        stays within 1.2 times its size at 1,000 bookings (``bench``). (Plain rows from the
        connection: the ORM's row handling cost more than the rest of the report's Python.)"""
        connection = self.connection_for_reads()
        if self.service is not None:
            self.service.prepare(connection)
        for part in self.parts:
            yield from batched(connection, build(part))

    def execute(self, statement: Select[Any]) -> Any:
        """The rows of one small query, on this clipper's connection."""
        return read_all(self.connection_for_reads(), statement)

    def connection_for_reads(self) -> Connection:
        """The connection this clipper reads on (its own, or the session's)."""
        return self.connection or self.session.connection()

    def start(self, reads: Sequence[Callable[[Clipper], Any]], readers: int = 1) -> Reads:
        """Start ``reads``: with ``readers`` > 1, that many at once, each on a connection of its
        own from the engine's pool, so that the database works on one while Python adds up
        another (and the caller goes on with work of its own); otherwise they run one after the
        other on the session's connection when their results are asked for (``Reads.results``).

        Only for a caller whose session has written nothing: the other connections cannot see
        uncommitted changes. Each read sees what was committed when it started (on PostgreSQL
        every statement takes its own snapshot at READ COMMITTED, one connection or several). A
        database that cannot serve several connections (SQLite in memory) is read serially.
        The reads must not write anything shared: each returns what it counted."""
        engine = self.session.get_bind()
        if readers <= 1 or len(reads) <= 1 or not _serves_several(engine):
            return Reads(lambda: [read(self) for read in reads])

        def run(read: Callable[[Clipper], Any]) -> Any:
            with engine.connect() as connection:
                clipper = copy.copy(self)
                clipper.connection = connection
                return read(clipper)

        pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="report-read")
        futures = [pool.submit(run, read) for read in reads]

        def collect() -> list[Any]:
            # The caller, done with its own work, takes the reads no reader has begun, one at a
            # time (the readers go on taking the next meanwhile), then waits for the others.
            taken = {}
            for index, future in enumerate(futures):
                if future.cancel():
                    taken[index] = run(reads[index])
            return [
                taken[index] if index in taken else future.result() for index, future in enumerate(futures)
            ]

        return Reads(collect, pool)

    def month_of(self, moment: Any) -> Any:
        """SQL: the index of the month of the period an instant falls in (0 before the period,
        the last month after it): a binary search of the month boundaries, so a year's
        instant costs four comparisons, not up to eleven."""
        boundaries = [time_value(hi, self.dialect) for _, hi in self.spans_utc[:-1]]

        def search(first: int, last: int) -> Any:  # the month is one of first..last
            if first == last:
                return literal(first)
            middle = (first + last) // 2
            return case((moment < boundaries[middle], search(first, middle)), else_=search(middle + 1, last))

        return search(0, len(boundaries))

    def sum_by(
        self,
        start: Any,
        end: Any,
        conditions: list[Any],
        group: list[Any],
        index: str = BY_ASSET,
        ordered: bool = False,
    ) -> Iterator[tuple[tuple[Any, ...], list[tuple[int, float]], int]]:
        """Seconds of the clipped intervals by ``group`` and month: for each row SQL returns,
        (group values, [(month index, seconds), ...], how many of the rows it sums have time in
        the period). A group may come in several rows; the caller adds them up. ``index``: the
        bookings' index to read them by (on SQLite); ``ordered``: every row's start is before its
        end (a constraint), so that need not be asked of each.

        One read of the rows: SQL groups them by the months their clipped start and end fall in,
        summing the seconds from the period's start to each start and to each end. For a row
        within one month (nearly all) the difference of the sums is its time; one that crosses
        into later months has the time to its first month's end (a constant of the group) there,
        every month in between whole, and the rest in its last month."""
        where = [*conditions, start < self.period[1], end > self.period[0]]
        origin = time_value(self.period[0], self.dialect)

        def summed(part: Part) -> Select[Any]:
            low, high = part.bounds(start, end)
            if part.service is None:
                # Clipped to the period alone: the month of the clipped start is the month of the
                # start (0 before the period), that of the clipped end the month of the end; and
                # a row that overlaps the period has time in it, if it starts before it ends.
                first, last = self.month_of(start), self.month_of(end)
                overlaps = [] if ordered else [start < end]
            else:
                first, last = self.month_of(low), self.month_of(high)
                overlaps = [low < high]
            return (
                part.select(
                    *group,
                    first.label("first_month"),
                    last.label("last_month"),
                    func.sum(seconds_since(low, origin)),
                    func.sum(seconds_since(high, origin)),
                    func.count(),
                    index=index,
                )
                .where(*where, *overlaps)
                # (By the labels: SQLite would work the months out again for the GROUP BY.)
                .group_by(*group, literal_column("first_month"), literal_column("last_month"))
            )

        p0 = self.period[0]
        month_ends = [(hi - p0).total_seconds() for _, hi in self.spans_utc]
        span_seconds = [(hi - lo).total_seconds() for lo, hi in self.spans_utc]
        for *key, first, last, starts, ends, rows in self.rows(summed):
            starts, ends = starts or 0.0, ends or 0.0
            if last == first:
                yield key, ((first, ends - starts),), rows
                continue
            months = [(first, month_ends[first] * rows - starts)]
            months += [(month, span_seconds[month] * rows) for month in range(first + 1, last)]
            months.append((last, ends - month_ends[last - 1] * rows))
            yield key, months, rows

    def maintenance_overlaps(
        self,
        start: Any,
        end: Any,
        conditions: list[Any],
        columns: list[Any],
        index: str = BY_ASSET,
        blocked_until_after_end: bool = False,
    ) -> list[Any]:
        """The rows (``columns``, the first of them the asset, then the row's interval) that overlap
        a maintenance window in the period and their asset's in-service days: few, since bookings
        cannot be made over maintenance; only maintenance added later overlaps.

        One query driven by the period's windows, each looking its asset's rows up by index, for
        both parts; the in-service days are checked here. (Asking each part's rows of the
        windows made PostgreSQL hash-join every booking of the period, and SQLite look up every
        asset of the inline table: 0.2-0.4 s for each of two reads that find none.) ``index``: the
        bookings' index each window looks its asset's rows up by (on SQLite);
        ``blocked_until_after_end``: every row ends by its booking's ``blocked_until`` (in that
        index: the bookings ended before a window are passed over there, without reading them)."""
        p0, p1 = self.period
        overlapping = and_(
            MaintenanceWindow.asset_id == Booking.asset_id,
            MaintenanceWindow.start_at < end,
            MaintenanceWindow.end_at > start,
            MaintenanceWindow.start_at < p1,
            MaintenanceWindow.end_at > p0,
            *([Booking.blocked_until > MaintenanceWindow.start_at] if blocked_until_after_end else []),
        )
        rows = self.execute(
            select(Booking.id, *columns, start, end)
            .select_from(ordered_join(MaintenanceWindow.__table__, Booking.__table__, overlapping, index))
            .where(*conditions, start < p1, end > p0)
            .distinct()
        )
        result = []
        for row in rows:
            plan = self.plans.get(row[1])  # none: not in service in the period
            if plan is not None and row[-2] < plan.service_end and row[-1] > plan.service_start:
                result.append(tuple(row[1:]))
        return result

    def clipped_seconds(self, asset_id: int, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of [start, end) clipped to the period and its asset's in-service days."""
        plan = self.plans[asset_id]
        lo, hi = max(self.period[0], plan.service_start, start), min(self.period[1], plan.service_end, end)
        return max((hi - lo).total_seconds(), 0.0)

    def maintenance_seconds(self, asset_id: int, start: dt.datetime, end: dt.datetime) -> list[float]:
        """Per month: seconds of [start, end), clipped like the SQL, that fall in maintenance."""
        plan = self.plans[asset_id]
        result = []
        for lo, hi in self.spans_utc:
            lo, hi = max(lo, plan.service_start, start), min(hi, plan.service_end, end)
            result.append(overlap_seconds(plan.maintenance, lo, hi) if lo < hi else 0.0)
        return result


def _serves_several(engine: Any) -> bool:
    """The engine hands out independent connections to one database (not SQLite in memory,
    whose pools give every thread the same connection, or its own empty database)."""
    return isinstance(engine, Engine) and not isinstance(engine.pool, (StaticPool, SingletonThreadPool))


def read_bookings(clipper: Clipper, now: dt.datetime, settings: ReportSettings, readers: int = 1) -> Reads:
    """Start every read of the bookings and unmet demand a report needs, ``readers`` at a time
    (``Clipper.start``; the longest first): the booked seconds, the people and bookings due,
    actual use, late cancellations, the bookings and use under maintenance, and the unmet demand.
    They need only the assets' in-service days; ``count_bookings`` puts their results into the
    figures."""
    conditions = _booked_conditions(clipper)
    by_day = _days_kept(clipper)
    return clipper.start(
        [
            lambda c: _booked_days(c) if by_day else _booked_cells(c, conditions),
            lambda c: _people_and_due_from_days(c, now) if by_day else _people_and_due_counts(c, now),
            lambda c: _actual_cells(c, now),
            lambda c: _late_cancellations(c, settings),
            lambda c: _booked_under_maintenance(c, conditions),
            lambda c: _actual_under_maintenance(c, now),
            unmet_rows_for,
        ],
        readers,
    )


def count_bookings(
    clipper: Clipper, figures: dict[int, AssetFigures], results: list[Any]
) -> tuple[dict[int, set[int]], list[UnmetRow]]:
    """Put the results of ``read_bookings`` into the figures (which need the assets' available
    time and maintenance, ``reports.available.count_available``). Returns the people with booked
    time on each asset and the unmet demand rows of the report's assets."""
    cells, (counted, due), actual, late, booked_overlaps, actual_overlaps, unmet = results
    for asset_id, (held_due, no_shows, base) in due.items():
        asset = figures[asset_id]
        asset.due, asset.no_shows, asset.cancellation_base = held_due, no_shows, base
    for asset_id, count in late.items():
        figures[asset_id].late_cancellations = count
    _apply_actual(clipper, figures, *actual, actual_overlaps)
    users_by_asset = _apply_booked(clipper, figures, cells, counted, booked_overlaps)
    return users_by_asset, [row for row in unmet if row[0] in figures]


def _booked_conditions(clipper: Clipper) -> list[Any]:
    """The bookings whose hours count, in the report's scope, that touch the period. (The plain
    column bounds let the database use its index on the booking times; a booking is blocked at
    least until its end, a CHECK constraint, so ``blocked_until`` after the start of the period
    says nothing new, but is in the index: older bookings are passed over there.)"""
    p0, p1 = clipper.period
    return [
        Booking.status.in_(BOOKED),
        clipper.in_scope,
        Booking.start_at < p1,
        Booking.end_at > p0,
        Booking.blocked_until > p0,
    ]


#: Booked seconds by (asset, month index), each by borrowing School, before maintenance and the cap.
BookedCells = dict[tuple[int, int], dict[int | None, float]]


class PeopleCounts:
    """Per asset and person, the bookings with booked time in the period; and per asset, the
    bookings due, no-shows and the base of late cancellations. (55,000 rows a year at full size:
    only what is not 0 is added.)"""

    def __init__(self) -> None:
        self.counted: dict[tuple[int, int], int] = defaultdict(int)
        self.due_by_asset: dict[int, list[int]] = {}

    def add(self, asset_id: int, person: int, held: int, due: int, no_shows: int, base: int) -> None:
        if held:
            self.counted[asset_id, person] += held
        if due or base:
            totals = self.due_by_asset.get(asset_id)
            if totals is None:
                self.due_by_asset[asset_id] = [due, no_shows, base]
            else:
                totals[0] += due
                totals[1] += no_shows
                totals[2] += base


def _add_booked(cells: BookedCells, asset_id: int, month: int, borrower: int | None, seconds: float) -> None:
    """Add a borrowing School's seconds to an asset's month."""
    shares = cells.get((asset_id, month))
    if shares is None:
        cells[asset_id, month] = {borrower: seconds}
    else:
        shares[borrower] = shares.get(borrower, 0.0) + seconds


def _days_kept(clipper: Clipper) -> bool:
    """The day totals hold the period's days (and the day before it, where a booking running
    into the period shows) as the university's zone has them: not so after a change of zone
    until ``flask rebuild-booked-days``, nor for a period beyond the calendar."""
    if not clipper.span_days:
        return False
    first, last = clipper.span_days[0][0] - dt.timedelta(days=1), clipper.span_days[-1][1]
    if calendar_matches(clipper.connection_for_reads(), clipper.zone, first, last):
        return True
    log.warning(
        "The day totals of the bookings do not hold %s to %s in %s: the report reads the bookings "
        "instead (flask rebuild-booked-days fills them again).",
        first,
        last,
        clipper.zone.key,
    )
    return False


class DayTotals:
    """Reads of the day totals the database keeps (``bookings.day_totals``) for a report's assets:
    for those in service the whole period, grouped in SQL over the period's days; for the others
    (``Part.service``), day by day, keeping the days each was in service."""

    def __init__(self, clipper: Clipper) -> None:
        assert clipper.span_days is not None
        self.clipper = clipper
        self.first, self.last = clipper.span_days[0][0], clipper.span_days[-1][1]
        self.connection = clipper.connection_for_reads()
        if clipper.service is not None:
            clipper.service.prepare(self.connection)
        whole, *partial = clipper.parts
        self.others = whole.others
        self.service = partial[0].service if partial else None
        self._month_starts = [first_day for first_day, _ in clipper.span_days]

    def whole(self, query: Select[Any], asset_id: Any, day: Any) -> Any:
        """The rows of ``query`` over the period's days, for the assets in service all of it."""
        query = query.where(asset_id.in_(self.clipper.assets_in_scope), day >= self.first, day <= self.last)
        if self.others is not None:
            query = query.where(asset_id.not_in(select(self.others.c.asset_id)))
        return batched(self.connection, query)

    def partial(self, query: Select[Any], asset_id: Any, day: Any) -> Iterator[tuple[AssetPlan, Any]]:
        """(plan, row) for the rows of ``query`` (its first column the asset, its third the day)
        on the days the assets in service for part of the period were in service."""
        if self.service is None:
            return
        plans = self.clipper.plans
        for row in batched(
            self.connection,
            query.where(
                asset_id.in_(select(self.service.c.asset_id)),
                asset_id.in_(self.clipper.assets_in_scope),
                day >= self.first,
                day <= self.last,
            ),
        ):
            plan = plans.get(row[0])  # none: not in service in the period
            if plan is not None and plan.first_day <= row[2] <= plan.last_day:
                yield plan, row

    def month_index(self, day: dt.date) -> int:
        return bisect_right(self._month_starts, day) - 1


def _booked_days(clipper: Clipper) -> BookedCells:
    """Booked seconds per asset and month, by borrowing School, from the day totals: the same
    figures as ``_booked_cells``, from a row per asset, day and borrowing School rather than
    from every booking (the rows of an asset's month in order of their key)."""
    days = DayTotals(clipper)
    cells: BookedCells = {}

    month_index = {
        first_day.replace(day=1): index for index, (first_day, _) in enumerate(clipper.span_days or [])
    }
    table = BookedDay
    for asset_id, month, school_id, seconds in days.whole(
        # (PostgreSQL sums a bigint as a numeric.)
        select(table.asset_id, table.month, table.school_id, cast(func.sum(table.seconds), BigInteger))
        # (The months too, so that the database reads each asset's months by its key.)
        .where(table.month >= days.first.replace(day=1), table.month <= days.last)
        .group_by(table.asset_id, table.month, table.school_id),
        table.asset_id,
        table.day,
    ):
        if seconds:
            _add_booked(cells, asset_id, month_index[month], school_id or None, seconds)
    for _plan, (asset_id, school_id, day, seconds) in days.partial(
        select(table.asset_id, table.school_id, table.day, table.seconds), table.asset_id, table.day
    ):
        if seconds:
            _add_booked(cells, asset_id, days.month_index(day), school_id or None, seconds)
    return cells


def _people_and_due_from_days(
    clipper: Clipper, now: dt.datetime
) -> tuple[dict[tuple[int, int], int], dict[int, list[int]]]:
    """What ``_people_and_due_counts`` counts, from the day totals: the bookings held, no-shows
    and cancellations starting on each day, by asset and person (``BookingStart``); the bookings
    held that began before the in-service days and run into them (few: read from the bookings);
    and, in a period still running, the bookings due today by their start."""
    days = DayTotals(clipper)
    table = BookingStart
    today = now.astimezone(clipper.zone).date()  # the days before it have passed
    people = PeopleCounts()
    add = people.add

    sums = [func.sum(table.held), func.sum(table.no_shows), func.sum(table.cancelled)]
    closed = today > days.last  # every day of the period has passed
    if not closed:  # the bookings held and the no-shows of the days that have
        sums += [
            func.sum(case((table.day < today, column), else_=0)) for column in (table.held, table.no_shows)
        ]
    for asset_id, person, held, no_shows, cancelled, *gone in days.whole(
        select(table.asset_id, table.requester_id, *sums).group_by(table.asset_id, table.requester_id),
        table.asset_id,
        table.day,
    ):
        held_gone, no_shows_gone = (held, no_shows) if closed else gone
        add(asset_id, person, held, held_gone + no_shows_gone, no_shows_gone, held + no_shows + cancelled)
    for _plan, (asset_id, person, day, held, no_shows, cancelled) in days.partial(
        select(table.asset_id, table.requester_id, table.day, table.held, table.no_shows, table.cancelled),
        table.asset_id,
        table.day,
    ):
        gone = day < today
        add(
            asset_id,
            person,
            held,
            (held + no_shows) if gone else 0,
            no_shows if gone else 0,
            held + no_shows + cancelled,
        )
    for asset_id, person in _held_from_before(clipper, days):
        people.counted[asset_id, person] += 1
    if days.first <= today <= days.last:
        _due_today(clipper, now, today, add)
    return people.counted, people.due_by_asset


def _held_from_before(clipper: Clipper, days: DayTotals) -> Iterator[tuple[int, int]]:
    """(asset, person) of each booking held that starts before its asset's in-service days in
    the period and runs into them. For the assets in service the whole period, only those with
    booked time on both the day before the period and its first day can have one."""
    p0 = clipper.period[0]
    held = Booking.status.in_(BOOKED)
    on_day = BookedDay.__table__

    def booked_on(day: dt.date) -> Select[Any]:
        return select(on_day.c.asset_id).where(on_day.c.day == day)

    either_side = booked_on(days.first - dt.timedelta(days=1)).intersect(booked_on(days.first))
    query = select(Booking.asset_id, Booking.requester_id).where(
        Booking.asset_id.in_(either_side.scalar_subquery()),
        Booking.asset_id.in_(clipper.assets_in_scope),
        held,
        Booking.start_at < p0,
        Booking.end_at > p0,
    )
    if days.others is not None:
        query = query.where(Booking.asset_id.not_in(select(days.others.c.asset_id)))
    yield from read_all(days.connection, query)
    if days.service is not None:
        service = days.service
        for asset_id, person in read_all(
            days.connection,
            select(Booking.asset_id, Booking.requester_id)
            .select_from(
                ordered_join(service, Booking.__table__, service.c.asset_id == Booking.asset_id, BY_ASSET)
            )
            .where(
                service.c.lo < service.c.hi,
                held,
                Booking.asset_id.in_(clipper.assets_in_scope),
                Booking.start_at < service.c.lo,
                Booking.end_at > service.c.lo,
            ),
        ):
            if asset_id in clipper.plans:
                yield asset_id, person


def _due_today(
    clipper: Clipper, now: dt.datetime, today: dt.date, add: Callable[[int, int, int, int, int, int], None]
) -> None:
    """Count the bookings due that started today before ``now`` (the day has not passed)."""
    start_of_today = dt.datetime.combine(today, dt.time(), clipper.zone).astimezone(dt.UTC)
    for asset_id, person, start_at, status in clipper.execute(
        select(Booking.asset_id, Booking.requester_id, Booking.start_at, Booking.status).where(
            Booking.status.in_(DUE),
            Booking.start_at >= start_of_today,
            Booking.start_at < now,
            Booking.asset_id.in_(clipper.assets_in_scope),
        )
    ):
        plan = clipper.plans.get(asset_id)
        if plan is not None and plan.service_start <= start_at < plan.service_end:
            add(asset_id, person, 0, 1, int(status == BookingStatus.NO_SHOW), 0)


def _booked_cells(clipper: Clipper, conditions: list[Any]) -> BookedCells:
    """Booked seconds per asset and month, by borrowing School (``Clipper.sum_by``)."""
    cells: BookedCells = {}
    for (asset_id, borrower), months, _bookings in clipper.sum_by(
        Booking.start_at,
        Booking.end_at,
        conditions,
        [Booking.asset_id, Booking.requester_school_id],
        ordered=True,  # (a CHECK constraint: every booking starts before it ends)
    ):
        for month, seconds in months:
            if seconds:
                _add_booked(cells, asset_id, month, borrower, seconds)
    return cells


def _people_and_due_counts(
    clipper: Clipper, now: dt.datetime
) -> tuple[dict[tuple[int, int], int], dict[int, list[int]]]:
    """The bookings with booked time in the period per asset and person; and per asset, the
    bookings due, no-shows and the base of late cancellations."""
    people = PeopleCounts()
    for asset_id, person, held, due, no_shows, base in clipper.rows(_people_and_due(clipper, now)):
        people.add(asset_id, person, held, due or 0, no_shows or 0, base or 0)
    return people.counted, people.due_by_asset


def _booked_under_maintenance(clipper: Clipper, conditions: list[Any]) -> list[Any]:
    """The counted bookings that overlap maintenance: (asset, borrowing School, person, start, end)."""
    return clipper.maintenance_overlaps(
        Booking.start_at,
        Booking.end_at,
        conditions,
        [Booking.asset_id, Booking.requester_school_id, Booking.requester_id],
        blocked_until_after_end=True,  # (a CHECK constraint)
    )


def _apply_booked(
    clipper: Clipper,
    figures: dict[int, AssetFigures],
    cells: BookedCells,
    counted: dict[tuple[int, int], int],
    overlaps: list[Any],
) -> dict[int, set[int]]:
    """Booked seconds per asset, borrowing School and month; less maintenance; capped at the
    month's available time (the borrowers' shares scaled down alike, ``apportion``). And the bookings and
    distinct people of each asset, counting only bookings with booked time left once clipped and
    less maintenance (one wholly inside a window added later counts for nothing): returns the
    people with booked time on each asset, so that Schools and categories count each person once.
    (The bookings due, no-shows and the base of late cancellations are ``_people_and_due_counts``'s:
    a booking counts there where it starts, in the asset's in-service days in the period.)

    From two reads of the bookings, each grouped as coarsely as its figures allow: the seconds by
    asset, borrowing School and months (``_booked_cells``), and the bookings by asset and person
    (``_people_and_due``). (One read grouped by all of them gave three times the rows of the two
    together, and most of the report's Python time went on them.)"""
    for asset_id, borrower, person, start, end in overlaps:
        lost = clipper.maintenance_seconds(asset_id, start, end)
        for month, seconds in enumerate(lost):
            if seconds:
                shares = cells.setdefault((asset_id, month), {})
                shares[borrower] = shares.get(borrower, 0.0) - seconds
        if sum(lost) >= clipper.clipped_seconds(asset_id, start, end):
            counted[(asset_id, person)] -= 1  # wholly under maintenance: no booked hours, not counted
    users_by_asset: dict[int, set[int]] = defaultdict(set)
    for (asset_id, person), bookings in counted.items():
        if bookings > 0:
            figures[asset_id].bookings += bookings
            users_by_asset[asset_id].add(person)
    for asset_id, users in users_by_asset.items():
        figures[asset_id].users = len(users)
    for (asset_id, month), shares in cells.items():
        asset = figures[asset_id]
        month_figures = asset.months[month]
        available = month_figures.available_seconds
        by_borrower = asset.by_borrower
        if len(shares) == 1:
            # Most months have one borrowing School: its seconds, up to the month's available
            # time (what ``apportion`` gives a single share).
            ((borrower, seconds),) = shares.items()
            share = min(int(round(seconds)), available) if seconds > 0 else 0
            if share:
                by_borrower[borrower] = by_borrower.get(borrower, 0) + share
                month_figures.booked_seconds += share
                asset.booked_seconds += share
            continue
        booked = 0.0
        for seconds in shares.values():
            if seconds > 0:
                booked += seconds
        month_total = 0
        rounded = [(borrower, int(round(seconds))) for borrower, seconds in shares.items() if seconds > 0]
        if booked > available or sum(share for _, share in rounded) > available:
            rounded = list(apportion(shares, available).items())
        for borrower, share in rounded:
            if share:
                by_borrower[borrower] = by_borrower.get(borrower, 0) + share
                month_total += share
        month_figures.booked_seconds += month_total
        asset.booked_seconds += month_total
    return users_by_asset


def _people_and_due(clipper: Clipper, now: dt.datetime) -> Callable[[Part], Select[Any]]:
    """For ``Clipper.rows``, per asset and person: (asset, person, bookings with booked time in
    the period once clipped, bookings due, no-shows, the base of late cancellations), from one
    read of the bookings held, released as no-shows or cancelled that touch the period. A group
    may come in several rows; the caller adds them up."""
    p0, p1 = clipper.period

    # Each condition as short as the rows read allow: SQLite works each out for every row.
    passed = [Booking.start_at < now] if now < p1 else []  # (otherwise: every start in the period)

    def counted(part: Part) -> Select[Any]:
        if part.service is None:
            # The whole period: the bounds below leave only bookings that overlap it, so a held
            # one has booked time in it, and one that starts in it starts before its end.
            held = Booking.status.in_(BOOKED)
            starts_here = Booking.start_at >= p0
        else:  # the asset's in-service days (inside the period)
            low, high = part.bounds(Booking.start_at, Booking.end_at)
            held = and_(Booking.status.in_(BOOKED), low < high)
            starts_here = and_(Booking.start_at >= part.start, Booking.start_at < part.end)
        due = and_(starts_here, Booking.status.in_(DUE), *passed)
        no_show = and_(starts_here, Booking.status == BookingStatus.NO_SHOW, *passed)
        return (
            part.select(
                Booking.asset_id,
                Booking.requester_id,
                func.sum(case((held, 1), else_=0)),
                func.sum(case((due, 1), else_=0)),
                func.sum(case((no_show, 1), else_=0)),
                func.sum(case((starts_here, 1), else_=0)),
            )
            # (A booking that starts in the period ends after its start, and is blocked at least
            # until its end: these bounds leave none out.)
            .where(
                Booking.status.in_(CANCELLATION_BASE),
                clipper.in_scope,
                Booking.start_at < p1,
                Booking.end_at > p0,
                Booking.blocked_until > p0,
            )
            .group_by(Booking.asset_id, Booking.requester_id)
        )

    return counted


def _actual_use(clipper: Clipper, now: dt.datetime) -> tuple[Any, Any, list[Any]]:
    """SQL: a booking's actual use (check-in, or the booked start if checked in early, to the
    booked end; for a loan, hand-over to return, or now while still out), and the bookings that
    have any."""
    loan = Booking.handed_over_at.is_not(None)
    now_value = time_value(now, clipper.dialect)
    start = case((loan, Booking.handed_over_at), else_=greatest(Booking.checked_in_at, Booking.start_at))
    end = least(case((loan, func.coalesce(Booking.returned_at, now_value)), else_=Booking.end_at), now_value)
    conditions = [
        clipper.in_scope,
        or_(Booking.checked_in_at.is_not(None), Booking.handed_over_at.is_not(None)),
    ]
    return start, end, conditions


def _actual_cells(clipper: Clipper, now: dt.datetime) -> tuple[dict[tuple[int, int], float], set[int]]:
    """Seconds of actual use per asset and month, before maintenance and the cap; and the assets
    with any use recorded."""
    cells: dict[tuple[int, int], float] = defaultdict(float)
    tracked: set[int] = set()
    # (Read by the index of the bookings that record use: about one in eight.)
    for (asset_id,), months, _ in clipper.sum_by(
        *_actual_use(clipper, now), [Booking.asset_id], index=TRACKED_BY_ASSET
    ):
        tracked.add(asset_id)
        for month, seconds in months:
            cells[(asset_id, month)] += seconds
    return cells, tracked


def _actual_under_maintenance(clipper: Clipper, now: dt.datetime) -> list[Any]:
    """The actual use that overlaps maintenance: (asset, start, end)."""
    start, end, conditions = _actual_use(clipper, now)
    # (Read by the index of the bookings that record use, as ``_actual_cells`` reads them.)
    return clipper.maintenance_overlaps(start, end, conditions, [Booking.asset_id], index=TRACKED_BY_ASSET)


def _apply_actual(
    clipper: Clipper,
    figures: dict[int, AssetFigures],
    cells: dict[tuple[int, int], float],
    tracked: set[int],
    overlaps: list[Any],
) -> None:
    """Seconds of actual use per asset and month (check-in to end, hand-over to return), less
    maintenance, capped at the month's available time."""
    for asset_id in tracked:
        figures[asset_id].tracks_actual_use = True
    for asset_id, use_start, use_end in overlaps:
        for month, seconds in enumerate(clipper.maintenance_seconds(asset_id, use_start, use_end)):
            cells[(asset_id, month)] -= seconds
    for (asset_id, month), seconds in cells.items():
        asset = figures[asset_id]
        asset.actual_seconds += int(round(min(max(seconds, 0.0), asset.months[month].available_seconds)))
    for asset in figures.values():
        if asset.tracks_actual_use:
            asset.actual_available_seconds = asset.available_seconds


def _late_cancellations(clipper: Clipper, settings: ReportSettings) -> dict[int, int]:
    """Late cancellations per asset (the base they are a share of is counted with the bookings
    due, ``_people_and_due``). A booking counts where it starts, in the asset's in-service days in
    the period."""
    p0, p1 = clipper.period

    def starting(part: Part) -> list[Any]:
        # (A part's in-service bounds lie inside the period; the whole period's are its own.)
        bounds = (p0, p1) if part.service is None else (part.start, part.end)
        return [clipper.in_scope, Booking.start_at >= bounds[0], Booking.start_at < bounds[1]]

    # When each booking was cancelled: the history row that made it so (or its last update).
    # Only cancellations within this many calendar hours of the start can be late; the rest are
    # not read at all. (The notice skips weekends: at most 48 extra hours per 120 working hours.)
    horizon_hours = settings.late_cancel_hours + 48 * (settings.late_cancel_hours // 120 + 1) + 24
    # (A scalar subquery, not a join and GROUP BY: each part's query then reads its bookings the
    # same way as the others, and looks each one's history up by its index. The horizon is
    # checked here, not in SQL: a WHERE on the subquery made the databases look each history
    # up twice, to leave out only one cancellation in eight.)
    cancelled_at = func.coalesce(
        select(func.max(BookingStatusChange.at))
        .where(BookingStatusChange.booking_id == Booking.id, _CANCELLING)
        .scalar_subquery(),
        Booking.updated_at,
    )
    horizon = dt.timedelta(hours=horizon_hours)
    late: dict[int, int] = defaultdict(int)
    # Working hours are never more than calendar hours: less notice than that in calendar hours
    # is late without counting the working hours.
    notice = dt.timedelta(hours=settings.late_cancel_hours)
    # (The assets in service the whole period read their cancellations by start: about one
    # booking in eleven; the others by asset, as every read does.)
    for asset_id, start_at, when in clipper.rows(
        lambda part: part.select(
            Booking.asset_id,
            Booking.start_at,
            cancelled_at,
            index=CANCELLED_BY_START if part.service is None else BY_ASSET,
        ).where(*starting(part), _CANCELLED)
    ):
        gap = start_at - when
        if gap < notice or (
            gap < horizon and is_late_cancellation(when, start_at, settings.late_cancel_hours)
        ):
            late[asset_id] += 1
    return late


def unmet_rows_for(clipper: Clipper) -> list[UnmetRow]:
    """(asset, source, reasons, requests, seconds clipped to the period, requester), grouped in
    SQL, for every asset in the report's scope. (By requester, so that capacity demand can say
    from how many distinct people it came.)"""
    dialect = clipper.dialect
    p0, p1 = clipper.period
    low = greatest(UnmetDemand.start_at, time_value(p0, dialect))
    high = least(UnmetDemand.end_at, time_value(p1, dialect))
    reasons_text = cast(UnmetDemand.reasons, String)
    rows = clipper.execute(
        select(
            UnmetDemand.asset_id,
            UnmetDemand.source,
            reasons_text,
            func.count(),
            func.sum(hours_between(low, high)),
            UnmetDemand.requester_id,
        )
        .where(
            UnmetDemand.asset_id.in_(clipper.assets_in_scope),
            UnmetDemand.start_at < p1,
            UnmetDemand.end_at > p0,
        )
        .group_by(UnmetDemand.asset_id, UnmetDemand.source, reasons_text, UnmetDemand.requester_id)
    )
    result: list[UnmetRow] = []
    for asset_id, source, reasons, requests, hours, requester_id in rows:
        codes = json.loads(reasons) if reasons else []
        result.append(
            (asset_id, str(source), list(codes) or [str(source)], requests, _to_seconds(hours), requester_id)
        )
    return result


def count_unmet(rows: list[UnmetRow], figures: dict[int, AssetFigures]) -> None:
    """Unmet demand per asset: all of it, by reason (a request refused for several reasons counts
    under each), and that turned away for want of free time (``is_capacity_demand``), by reason
    and with its distinct people."""
    people: dict[int, set[int]] = defaultdict(set)
    for asset_id, _source, reasons, requests, seconds, requester_id in rows:
        asset = figures[asset_id]
        asset.unmet_requests += requests
        asset.unmet_seconds += seconds
        for reason in reasons:
            asset.unmet_by_reason[reason] = asset.unmet_by_reason.get(reason, 0) + seconds
            asset.unmet_requests_by_reason[reason] = asset.unmet_requests_by_reason.get(reason, 0) + requests
        if is_capacity_demand(reasons):
            asset.capacity_unmet_seconds += seconds
            asset.capacity_unmet_requests += requests
            for reason in reasons:
                asset.capacity_by_reason[reason] = asset.capacity_by_reason.get(reason, 0) + seconds
            if requester_id is not None:
                people[asset_id].add(requester_id)
    for asset_id, requesters in people.items():
        figures[asset_id].capacity_people = len(requesters)
