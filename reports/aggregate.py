"""The SQL that reads bookings for the utilisation report: every figure that depends on the
bookings table is an aggregate computed by the database (GROUP BY asset, borrowing School and
month, or asset and person), with each row clipped to the period and its asset's in-service days
in SQL. Only rows that cross a month boundary, overlap maintenance, or were cancelled within a few
days of their start are read one by one, to finish in Python what SQL cannot say portably.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from bookings.models import Booking, BookingStatus, BookingStatusChange, UnmetDemand
from db import UTCDateTime, hours_between
from inventory.models import Asset, MaintenanceWindow
from reports.intervals import Interval, is_late_cancellation, overlap_seconds, split_by_spans
from reports.sql import greatest, least

if TYPE_CHECKING:
    from reports.figures import AssetFigures, ReportSettings

#: Bookings whose hours count as booked.
BOOKED = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED)
#: Bookings that were due to be used: held, or released as a no-show.
DUE = (*BOOKED, BookingStatus.NO_SHOW)
#: Bookings a late cancellation is counted against: those held at some time, and cancellations.
CANCELLATION_BASE = (*DUE, BookingStatus.CANCELLED)
#: Unmet demand that shows an asset is saturated: the time asked for was taken (by another
#: booking or maintenance), or a manager turned the request down (most often for a clash).
#: Requests refused for want of training, notice or a quota say nothing about capacity.
CAPACITY_REASONS = ("overlap", "maintenance", "rejected")


@dataclass
class AssetPlan:
    """What Python knows about one asset before the bookings are counted."""

    asset: Asset
    first_day: dt.date  # in-service days inside the period
    last_day: dt.date
    service_start: dt.datetime
    service_end: dt.datetime
    maintenance: list[Interval]
    available: list[Interval]
    month_available: list[int]  # seconds, one per span


def time_value(value: dt.datetime, dialect: str) -> Any:
    """A UTC instant as an SQL value, stored the way the database stores ``UTCDateTime``."""
    bound = literal(value, UTCDateTime())
    # PostgreSQL needs the type of a parameter in a SELECT list; SQLite compares the stored text.
    return cast(bound, UTCDateTime()) if dialect == "postgresql" else bound


def _to_seconds(hours: float | None) -> int:
    return int(round((hours or 0.0) * 3600))


class Clipper:
    """Clip an interval expression per row to the period and to its asset's in-service days, and
    sum it by month, in SQL.

    SQL puts each row's clipped time in the month its start falls in (a CASE over the month
    boundaries), so the database reads each booking once and the months cost no join. The rows
    that run over a month boundary are then read and their time moved across in Python: there
    are few, because one asset's held bookings never overlap, so at most one of them crosses
    each boundary.
    """

    def __init__(self, session: Session, plans: dict[int, AssetPlan], spans_utc: list[Interval], period: Interval):
        self.session = session
        self.dialect = session.get_bind().dialect.name
        self.plans = plans
        self.spans_utc = spans_utc
        self.period = period
        # Assets in service for only part of the period get their own bounds (a CASE); the rest
        # are clipped by the period alone.
        self.partial = {
            asset_id: plan for asset_id, plan in plans.items()
            if (plan.service_start, plan.service_end) != period
        }

    def service_bounds(self) -> tuple[Any, Any]:
        """SQL for each booking's asset: the first and last instants of its in-service days in
        the period (the period's own bounds for most assets)."""
        p0, p1 = self.period
        if not self.partial:
            return time_value(p0, self.dialect), time_value(p1, self.dialect)
        low = case(
            {aid: time_value(p.service_start, self.dialect) for aid, p in self.partial.items()},
            value=Booking.asset_id, else_=time_value(p0, self.dialect),
        )
        high = case(
            {aid: time_value(p.service_end, self.dialect) for aid, p in self.partial.items()},
            value=Booking.asset_id, else_=time_value(p1, self.dialect),
        )
        return low, high

    def bounds(self, start: Any, end: Any) -> tuple[Any, Any]:
        service_start, service_end = self.service_bounds()
        return greatest(start, service_start), least(end, service_end)

    def in_service(self, start: Any, end: Any) -> Any:
        """SQL: the interval overlaps its asset's in-service days in the period."""
        service_start, service_end = self.service_bounds()
        return and_(start < service_end, end > service_start)

    def month_of(self, moment: Any) -> Any:
        """SQL: the index of the month of the period an instant falls in (0 before the period)."""
        boundaries = [hi for _, hi in self.spans_utc[:-1]]
        if not boundaries:
            return literal(0)
        return case(
            *[(moment < time_value(boundary, self.dialect), index) for index, boundary in enumerate(boundaries)],
            else_=len(boundaries),
        )

    def month_index(self, moment: dt.datetime) -> int:
        """``month_of`` in Python."""
        return next((index for index, (_, hi) in enumerate(self.spans_utc[:-1]) if moment < hi), len(self.spans_utc) - 1)

    def sum_by(self, start: Any, end: Any, conditions: list[Any], group: list[Any]) -> dict[tuple[Any, ...], list[float]]:
        """Seconds of the clipped intervals per month, by ``group``: {group values: [seconds by month]}.

        SQL sums each row's clipped time into the month its (unclipped) start falls in; the rows
        whose interval crosses a month boundary are then read and their time moved across."""
        low, high = self.bounds(start, end)
        month = self.month_of(start)
        where = [*conditions, start < self.period[1], end > self.period[0], low < high]
        result: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0.0] * len(self.spans_utc))
        for *key, index, hours in self.session.execute(
            select(*group, month, func.sum(hours_between(low, high))).where(*where).group_by(*group, month)
        ):
            result[tuple(key)][index] += (hours or 0.0) * 3600
        boundaries = [hi for _, hi in self.spans_utc[:-1]]
        if not boundaries:
            return result
        crossing = or_(*[and_(start < time_value(b, self.dialect), end > time_value(b, self.dialect)) for b in boundaries])
        for *key, row_start, row_low, row_high in self.session.execute(select(*group, start, low, high).where(*where, crossing)):
            per_month = split_by_spans([(row_low, row_high)], self.spans_utc)
            counted_in = self.month_index(row_start)
            for index, seconds in enumerate(per_month):
                if index != counted_in:
                    result[tuple(key)][index] += seconds
                    result[tuple(key)][counted_in] -= seconds
        return result

    def maintenance_overlaps(self, start: Any, end: Any, conditions: list[Any], columns: list[Any]) -> list[Any]:
        """The rows (with their interval) that overlap a maintenance window in the period: few,
        since bookings cannot be made over maintenance; only maintenance added later overlaps."""
        p0, p1 = self.period
        window = (
            select(MaintenanceWindow.id)
            .where(
                MaintenanceWindow.asset_id == Booking.asset_id,
                MaintenanceWindow.start_at < end,
                MaintenanceWindow.end_at > start,
                MaintenanceWindow.start_at < p1,
                MaintenanceWindow.end_at > p0,
            )
        )
        query = select(*columns, start, end).where(*conditions, start < p1, end > p0, exists(window))
        return list(self.session.execute(query))

    def maintenance_seconds(self, asset_id: int, start: dt.datetime, end: dt.datetime) -> list[float]:
        """Per month: seconds of [start, end), clipped like the SQL, that fall in maintenance."""
        plan = self.plans[asset_id]
        result = []
        for lo, hi in self.spans_utc:
            lo, hi = max(lo, plan.service_start, start), min(hi, plan.service_end, end)
            result.append(overlap_seconds(plan.maintenance, lo, hi) if lo < hi else 0.0)
        return result


def count_booked(clipper: Clipper, asset_ids: list[int], figures: dict[int, AssetFigures]) -> None:
    """Booked seconds per asset, borrowing School and month; less maintenance; capped at the
    month's available time (the borrowers' shares scaled down alike)."""
    p0, p1 = clipper.period
    # The plain column bounds let the database use its index on the booking times.
    conditions = [Booking.status.in_(BOOKED), Booking.asset_id.in_(asset_ids), Booking.start_at < p1, Booking.end_at > p0]
    cells: dict[tuple[int, int | None, int], float] = defaultdict(float)
    for (asset_id, borrower), months in clipper.sum_by(
        Booking.start_at, Booking.end_at, conditions, [Booking.asset_id, Booking.requester_school_id]
    ).items():
        for month, seconds in enumerate(months):
            if seconds:
                cells[(asset_id, borrower, month)] += seconds
    for asset_id, borrower, start, end in clipper.maintenance_overlaps(
        Booking.start_at, Booking.end_at, conditions, [Booking.asset_id, Booking.requester_school_id]
    ):
        for month, seconds in enumerate(clipper.maintenance_seconds(asset_id, start, end)):
            if seconds:
                cells[(asset_id, borrower, month)] -= seconds
    by_asset_month: dict[tuple[int, int], list[tuple[int | None, float]]] = defaultdict(list)
    for (asset_id, borrower, month), seconds in cells.items():
        by_asset_month[(asset_id, month)].append((borrower, max(seconds, 0.0)))
    for (asset_id, month), shares in by_asset_month.items():
        asset = figures[asset_id]
        available = asset.months[month].available_seconds
        booked = sum(seconds for _, seconds in shares)
        scale = available / booked if booked > available else 1.0
        month_total = 0
        for borrower, seconds in shares:
            share = int(round(seconds * scale))
            if share:
                asset.by_borrower[borrower] = asset.by_borrower.get(borrower, 0) + share
                month_total += share
        asset.months[month].booked_seconds += month_total
        asset.booked_seconds += month_total


def count_actual(clipper: Clipper, asset_ids: list[int], figures: dict[int, AssetFigures], now: dt.datetime) -> None:
    """Seconds of actual use per asset and month: check-in to end, hand-over to return."""
    loan = Booking.handed_over_at.is_not(None)
    now_value = time_value(now, clipper.dialect)
    start = case((loan, Booking.handed_over_at), else_=greatest(Booking.checked_in_at, Booking.start_at))
    end = least(case((loan, func.coalesce(Booking.returned_at, now_value)), else_=Booking.end_at), now_value)
    conditions = [
        Booking.asset_id.in_(asset_ids),
        or_(Booking.checked_in_at.is_not(None), Booking.handed_over_at.is_not(None)),
    ]
    cells: dict[tuple[int, int], float] = defaultdict(float)
    for (asset_id,), months in clipper.sum_by(start, end, conditions, [Booking.asset_id]).items():
        figures[asset_id].tracks_actual_use = True
        for month, seconds in enumerate(months):
            cells[(asset_id, month)] += seconds
    for asset_id, use_start, use_end in clipper.maintenance_overlaps(start, end, conditions, [Booking.asset_id]):
        for month, seconds in enumerate(clipper.maintenance_seconds(asset_id, use_start, use_end)):
            cells[(asset_id, month)] -= seconds
    for (asset_id, month), seconds in cells.items():
        asset = figures[asset_id]
        asset.actual_seconds += int(round(min(max(seconds, 0.0), asset.months[month].available_seconds)))
    for asset in figures.values():
        if asset.tracks_actual_use:
            asset.actual_available_seconds = asset.available_seconds


def _counted_bookings(clipper: Clipper, asset_ids: list[int]) -> list[Any]:
    """SQL conditions: a booking whose hours count, in the period and its asset's service."""
    p0, p1 = clipper.period
    return [
        Booking.asset_id.in_(asset_ids), Booking.status.in_(BOOKED), Booking.start_at < p1, Booking.end_at > p0,
        clipper.in_service(Booking.start_at, Booking.end_at),
    ]


def count_bookings(
    clipper: Clipper, asset_ids: list[int], figures: dict[int, AssetFigures], now: dt.datetime, settings: ReportSettings
) -> dict[int, set[int]]:
    """Per asset: bookings and distinct users; bookings due and no-shows; late cancellations.
    A booking counts where it starts (due, cancelled) or overlaps (booked) the asset's
    in-service days in the period. Returns the people with booked time on each asset, so that
    Schools and categories count each person once (one row per asset and person, from SQL)."""
    session = clipper.session
    p0, p1 = clipper.period
    service_start, service_end = clipper.service_bounds()
    users_by_asset: dict[int, set[int]] = defaultdict(set)
    for asset_id, requester_id, bookings in session.execute(
        select(Booking.asset_id, Booking.requester_id, func.count())
        .where(*_counted_bookings(clipper, asset_ids))
        .group_by(Booking.asset_id, Booking.requester_id)
    ):
        figures[asset_id].bookings += bookings
        users_by_asset[asset_id].add(requester_id)
    for asset_id, users in users_by_asset.items():
        figures[asset_id].users = len(users)

    starting = [
        Booking.asset_id.in_(asset_ids), Booking.start_at >= p0, Booking.start_at < p1,
        Booking.start_at >= service_start, Booking.start_at < service_end,
    ]
    is_due = and_(Booking.status.in_(DUE), Booking.start_at < min(p1, now))
    for asset_id, due, no_shows, base in session.execute(
        select(
            Booking.asset_id,
            func.sum(case((is_due, 1), else_=0)),
            func.sum(case((and_(is_due, Booking.status == BookingStatus.NO_SHOW), 1), else_=0)),
            func.sum(case((Booking.status.in_(CANCELLATION_BASE), 1), else_=0)),
        )
        .where(*starting, Booking.status.in_(CANCELLATION_BASE))
        .group_by(Booking.asset_id)
    ):
        figures[asset_id].due = int(due or 0)
        figures[asset_id].no_shows = int(no_shows or 0)
        figures[asset_id].cancellation_base = int(base or 0)

    # When each booking was cancelled: the history row that made it so (or its last update).
    # Only cancellations within this many calendar hours of the start can be late; the rest are
    # not read at all. (The notice skips weekends: at most 48 extra hours per 120 working hours.)
    horizon_hours = settings.late_cancel_hours + 48 * (settings.late_cancel_hours // 120 + 1) + 24
    cancelled_at = func.coalesce(func.max(BookingStatusChange.at), Booking.updated_at)
    for asset_id, start_at, when in session.execute(
        select(Booking.asset_id, Booking.start_at, cancelled_at)
        .outerjoin(
            BookingStatusChange,
            and_(BookingStatusChange.booking_id == Booking.id, BookingStatusChange.to_status == BookingStatus.CANCELLED),
        )
        .where(*starting, Booking.status == BookingStatus.CANCELLED)
        .group_by(Booking.id, Booking.asset_id, Booking.start_at, Booking.updated_at)
        .having(hours_between(cancelled_at, Booking.start_at) < horizon_hours)
    ):
        if is_late_cancellation(when, start_at, settings.late_cancel_hours):
            figures[asset_id].late_cancellations += 1
    return users_by_asset


def unmet_rows_for(session: Session, asset_ids: list[int], period: Interval) -> list[tuple[int, str, list[str], int, int]]:
    """(asset, source, reasons, requests, seconds clipped to the period), grouped in SQL."""
    p0, p1 = period
    dialect = session.get_bind().dialect.name
    low = greatest(UnmetDemand.start_at, time_value(p0, dialect))
    high = least(UnmetDemand.end_at, time_value(p1, dialect))
    reasons_text = cast(UnmetDemand.reasons, String)
    rows = session.execute(
        select(UnmetDemand.asset_id, UnmetDemand.source, reasons_text, func.count(), func.sum(hours_between(low, high)))
        .where(UnmetDemand.asset_id.in_(asset_ids), UnmetDemand.start_at < p1, UnmetDemand.end_at > p0)
        .group_by(UnmetDemand.asset_id, UnmetDemand.source, reasons_text)
    )
    result = []
    for asset_id, source, reasons, requests, hours in rows:
        codes = json.loads(reasons) if reasons else []
        result.append((asset_id, str(source), list(codes) or [str(source)], requests, _to_seconds(hours)))
    return result


def count_unmet(rows: list[tuple[int, str, list[str], int, int]], figures: dict[int, AssetFigures]) -> None:
    for asset_id, _source, reasons, requests, seconds in rows:
        asset = figures[asset_id]
        asset.unmet_requests += requests
        asset.unmet_seconds += seconds
        for reason in reasons:
            asset.unmet_by_reason[reason] = asset.unmet_by_reason.get(reason, 0) + seconds
        if set(reasons) & set(CAPACITY_REASONS):
            asset.capacity_unmet_seconds += seconds
