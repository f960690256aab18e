"""Available time for the utilisation report: which days each asset was in service in the period,
the weekly hours in force on each of those days (``BookableHoursHistory`` keeps the hours each
change replaced), less maintenance; and the counted bookings left outside the hours in force by a
later change of hours.

Available time is worked out once per distinct set of weekly hours (``DailyOpening``: running
totals per local day), and each asset sums its in-service days of each month under the hours it
had; only the days of an asset's maintenance windows are worked out for the asset itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bookings.availability import WeeklyHours, weekly_intervals
from bookings.models import Booking
from core.timeutil import to_local
from inventory.models import (
    Asset,
    AssetStatus,
    BookableHours,
    BookableHoursHistory,
    Category,
    MaintenanceWindow,
    decode_weekly_hours,
)
from reports.aggregate import BOOKED, AssetPlan
from reports.intervals import Interval, merge, split_by_spans, subtract
from reports.periods import Span, utc_bounds
from reports.sql import read_all

if TYPE_CHECKING:
    from reports.figures import AssetFigures


# --- In service ----------------------------------------------------------------------------------


class AssetFacts(NamedTuple):
    """What a report reads of an asset (a plain row: a register of 10,000 needs no ORM objects)."""

    id: int
    tag: str
    name: str
    school_id: int
    category_id: int | None
    hourly_rate_pence: int | None
    checkin_required: bool
    portable: bool
    purchase_date: dt.date | None
    created_at: dt.datetime
    retired_at: dt.datetime | None
    status: AssetStatus
    status_changed_at: dt.datetime | None
    category_name: str | None  # from the category (last: not a column of assets)


def in_service_days(asset: Asset | AssetFacts) -> tuple[dt.date, dt.date | None]:
    """The first and last local dates an asset was in service (last None: still in service).

    From its purchase date (or the date it was added to Kitshare, when that is unknown) to the
    day before the date it was retired.
    """
    first = asset.purchase_date or to_local(asset.created_at).date()
    retired_at = asset.retired_at
    if retired_at is None and asset.status.withdrawn:
        retired_at = asset.status_changed_at
    last = to_local(retired_at).date() - dt.timedelta(days=1) if retired_at is not None else None
    return first, last


def scope_conditions(school_ids: set[int] | None) -> list[Any]:
    """SQL conditions on assets: the ones a report covers (bookable, owned by the Schools in scope)."""
    conditions = [Asset.bookable.is_(True)]
    return conditions + [Asset.school_id.in_(school_ids)] if school_ids is not None else conditions


def assets_in_scope(school_ids: set[int] | None) -> Select[Any]:
    """SQL: the ids of the assets a report covers."""
    return select(Asset.id).where(*scope_conditions(school_ids))


#: An asset's weekly hours over runs of local days, in order: (first day, last day, hours).
HoursInForce = list[tuple[dt.date, dt.date, WeeklyHours]]


def hours_history(
    session: Session, school_ids: set[int] | None
) -> dict[int, list[tuple[dt.date, WeeklyHours]]]:
    """Per asset in scope whose hours ever changed: (in force until, the hours), oldest first.
    One row per change of hours, so a small table: read whole."""
    history: dict[int, list[tuple[dt.date, WeeklyHours]]] = defaultdict(list)
    for asset_id, until, hours in session.execute(
        select(BookableHoursHistory.asset_id, BookableHoursHistory.in_force_until, BookableHoursHistory.hours)
        .where(BookableHoursHistory.asset_id.in_(assets_in_scope(school_ids)))
        .order_by(BookableHoursHistory.asset_id, BookableHoursHistory.in_force_until)
    ):
        history[asset_id].append((until, decode_weekly_hours(hours)))
    return dict(history)


def hours_in_force(
    current: WeeklyHours, history: list[tuple[dt.date, WeeklyHours]], first_day: dt.date, last_day: dt.date
) -> HoursInForce:
    """The weekly hours in force on each day from ``first_day`` to ``last_day``, as runs of days:
    each kept set of hours on the days before its ``in_force_until`` (back to the previous one's),
    the current hours from the last change on."""
    runs: HoursInForce = []
    start = first_day
    for until, hours in history:
        if until <= start:
            continue
        if start > last_day:
            break
        runs.append((start, min(until - dt.timedelta(days=1), last_day), hours))
        start = until
    if start <= last_day:
        runs.append((start, last_day, current))
    return runs


def plan_assets(
    session: Session,
    school_ids: set[int] | None,
    period_from: dt.date,
    period_to: dt.date,
) -> tuple[dict[int, AssetPlan], list[int]]:
    """The bookable assets in scope that were in service in the period, each with its in-service
    days in the period (all the report's reads of the bookings need, so they can start: their
    available time is ``count_available``'s); and the ids of the assets in scope that were not in
    service at all."""
    query = (
        select(*(getattr(Asset, name) for name in AssetFacts._fields[:-1]), Category.name)
        .outerjoin(Category, Category.id == Asset.category_id)
        .where(*scope_conditions(school_ids))
    )
    plans: dict[int, AssetPlan] = {}
    not_in_service: list[int] = []
    bounds: dict[tuple[dt.date, dt.date], tuple[dt.datetime, dt.datetime]] = {}
    for row in session.connection().execute(query):  # (plain rows: no ORM for 10,000 of them)
        asset = AssetFacts(*row)
        first, last = in_service_days(asset)
        first, last = max(first, period_from), min(last or period_to, period_to)
        if first > last:
            not_in_service.append(asset.id)
            continue
        utc = bounds.get((first, last))
        if utc is None:  # (most assets share the period's bounds: worked out once)
            utc = bounds[first, last] = utc_bounds(first, last)
        plans[asset.id] = AssetPlan(asset, first, last, *utc, [], [])
    return plans, not_in_service


def count_available(
    session: Session,
    plans: dict[int, AssetPlan],
    school_ids: set[int] | None,
    period_from: dt.date,
    period_to: dt.date,
    spans: list[Span],
    spans_utc: list[Interval],
    history: dict[int, list[tuple[dt.date, WeeklyHours]]] | None = None,
) -> None:
    """Each planned asset's available time in each month (``AssetPlan.month_available``): the
    weekly hours in force on each in-service day, less maintenance (merged, so overlapping
    windows count once, and kept in ``AssetPlan.maintenance``). ``history``: ``hours_history``,
    for assets whose hours changed.

    Available time is worked out once per distinct set of weekly hours (a register has a few
    dozen, however many assets share them) as seconds per local day, and each asset sums its
    in-service days of each month (under each set of hours it had, if they changed); only the
    days of an asset's maintenance windows are worked out for the asset itself."""
    history = history or {}
    if not plans:
        return
    p0, p1 = spans_utc[0][0], spans_utc[-1][1]
    # (Plain rows, no ORM for 60,000 of them; read in one step on SQLite, while the bookings are
    # read on other threads: ``read_all``.)
    connection = session.connection()
    windows: dict[int, list[Interval]] = defaultdict(list)
    for asset_id, start, end in read_all(
        connection,
        select(MaintenanceWindow.asset_id, MaintenanceWindow.start_at, MaintenanceWindow.end_at).where(
            MaintenanceWindow.start_at < p1,
            MaintenanceWindow.end_at > p0,
            MaintenanceWindow.asset_id.in_(assets_in_scope(school_ids)),
        ),
    ):
        windows[asset_id].append((start, end))
    weekly: dict[int, list[tuple[int, dt.time, dt.time]]] = defaultdict(list)
    for asset_id, weekday, opens, closes in read_all(
        connection,
        select(
            BookableHours.asset_id, BookableHours.weekday, BookableHours.opens, BookableHours.closes
        ).where(BookableHours.asset_id.in_(assets_in_scope(school_ids))),
    ):
        weekly[asset_id].append((weekday, opens, closes))
    opening = DailyOpening(period_from, period_to)
    # Per set of weekly hours and run of in-service days: seconds in each month. (Most assets
    # share their hours and are in service all year: worked out once for all of them.)
    months_of: dict[tuple[WeeklyHours, dt.date, dt.date], list[float]] = {}
    rounded: dict[tuple[WeeklyHours, dt.date, dt.date], list[int]] = {}
    for asset_id, plan in plans.items():
        hours: WeeklyHours = tuple(sorted(weekly.get(asset_id, ())))
        plan.maintenance = merge(windows.get(asset_id, []))
        if asset_id in history:
            runs = hours_in_force(hours, history[asset_id], plan.first_day, plan.last_day)
            month_seconds = [
                sum(
                    opening.seconds(run, max(first, span.first_day), min(last, span.last_day))
                    for first, last, run in runs
                )
                for span in spans
            ]
        else:  # nearly every asset: one set of hours throughout
            runs = [(plan.first_day, plan.last_day, hours)]
            key = (hours, plan.first_day, plan.last_day)
            if key not in months_of:
                months_of[key] = [
                    opening.seconds(
                        hours, max(plan.first_day, span.first_day), min(plan.last_day, span.last_day)
                    )
                    for span in spans
                ]
                rounded[key] = [int(round(seconds)) for seconds in months_of[key]]
            if not plan.maintenance:  # most assets: the shared figures, rounded once
                plan.month_available = list(rounded[key])
                continue
            month_seconds = list(months_of[key])
        if plan.maintenance:
            for month, lost in enumerate(_opening_lost(runs, plan, spans_utc)):
                month_seconds[month] -= lost
        plan.month_available = [int(round(seconds)) for seconds in month_seconds]


class DailyOpening:
    """Seconds of bookable time on each local day of a period, for any weekly hours: worked out
    once per distinct weekly hours and kept as running totals, so any run of days sums in O(1)."""

    def __init__(self, period_from: dt.date, period_to: dt.date) -> None:
        self.period_from, self.period_to = period_from, period_to
        days = (period_to - period_from).days + 1
        self.day_bounds = [
            utc_bounds(day, day) for day in (period_from + dt.timedelta(days=n) for n in range(days))
        ]
        self.running: dict[WeeklyHours, list[float]] = {}

    def seconds(self, hours: WeeklyHours, first_day: dt.date, last_day: dt.date) -> float:
        """Bookable seconds from ``first_day`` to ``last_day`` (local, inside the period); 0 if
        ``last_day`` is before ``first_day``."""
        if last_day < first_day:
            return 0.0
        running = self.running.get(hours)
        if running is None:
            per_day = split_by_spans(
                weekly_intervals(hours, self.period_from, self.period_to), self.day_bounds
            )
            running = self.running[hours] = [0.0, *itertools.accumulate(per_day)]
        return running[(last_day - self.period_from).days + 1] - running[(first_day - self.period_from).days]


def _opening_lost(runs: HoursInForce, plan: AssetPlan, spans_utc: list[Interval]) -> list[float]:
    """Per month: the asset's bookable seconds (under the hours in force each day: ``runs``) on
    its in-service days that its maintenance windows take away."""
    near: list[Interval] = []
    for start, end in plan.maintenance:
        first = max(plan.first_day, to_local(start).date())
        last = min(plan.last_day, to_local(end).date())
        if first <= last:
            near.extend(_opening(runs, first, last))
    near = merge(near)
    taken = subtract(near, subtract(near, plan.maintenance))
    return split_by_spans(taken, spans_utc)


def _opening(runs: HoursInForce, first_day: dt.date, last_day: dt.date) -> list[Interval]:
    """Bookable time from ``first_day`` to ``last_day`` under the hours in force each day, as
    UTC intervals (merged where one run's hours meet the next's at midnight)."""
    opening: list[Interval] = []
    for first, last, hours in runs:
        first, last = max(first, first_day), min(last, last_day)
        if first <= last:
            opening.extend(weekly_intervals(hours, first, last))
    return merge(opening)


def count_outside_hours(
    session: Session,
    plans: dict[int, AssetPlan],
    history: dict[int, list[tuple[dt.date, WeeklyHours]]],
    figures: dict[int, AssetFigures],
    period: Interval,
) -> None:
    """Per asset: its counted bookings (confirmed, checked out, completed) whose time in the period
    and its in-service days is not wholly inside the weekly hours in force on those days.

    A booking is made inside the hours in force when it is made, so only a later change of hours
    can leave it outside: only the assets with a change that took effect by the end of their
    in-service days in the period are read, and of those only the bookings in the period. An
    asset whose hours never changed costs nothing here."""
    changed = {
        asset_id: rows
        for asset_id, rows in history.items()
        if asset_id in plans and rows[0][0] <= plans[asset_id].last_day
    }
    if not changed:
        return
    current: dict[int, list[tuple[int, dt.time, dt.time]]] = defaultdict(list)
    for asset_id, weekday, opens, closes in session.execute(
        select(
            BookableHours.asset_id, BookableHours.weekday, BookableHours.opens, BookableHours.closes
        ).where(BookableHours.asset_id.in_(changed))
    ):
        current[asset_id].append((weekday, opens, closes))
    p0, p1 = period
    for asset_id, start_at, end_at in session.execute(
        select(Booking.asset_id, Booking.start_at, Booking.end_at).where(
            Booking.asset_id.in_(changed),
            Booking.status.in_(BOOKED),
            Booking.start_at < p1,
            Booking.end_at > p0,
        )
    ):
        plan = plans[asset_id]
        start, end = max(start_at, plan.service_start), min(end_at, plan.service_end)
        if start >= end:
            continue
        # From the day before: hours open until midnight run on into the next day's.
        first, last = to_local(start).date() - dt.timedelta(days=1), to_local(end).date()
        runs = hours_in_force(tuple(sorted(current[asset_id])), changed[asset_id], first, last)
        if not any(lo <= start and end <= hi for lo, hi in _opening(runs, first, last)):
            figures[asset_id].outside_hours_bookings += 1
            figures[asset_id].outside_hours = True
