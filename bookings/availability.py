"""When an asset is busy and when it is free: one definition for the booking rules, the
suggestions, the week view, the catalogue's "free for the whole of" filter and the API.

The rule, in one place:

- A booking that blocks (``BLOCKING_STATUSES``: confirmed or checked out) holds its asset over
  [start_at, blocked_until): the booked time and then the asset's turnaround (``blocked_until``).
- A maintenance window holds it over [start_at, end_at).
- A new booking of [start, end) must leave its own turnaround clear of the next booking, but
  maintenance may begin in that turnaround (it is the owner's time, not anyone's booking).
- Outside its bookable hours an asset is closed (``opening_intervals``).

Every interval is half-open, [start, end): two intervals that touch do not clash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, joinedload

from bookings.models import ACTIVE_STATUSES, Booking
from core.timeutil import local_zone, to_local
from inventory.models import Asset, MaintenanceWindow

UTC = dt.UTC
#: A closing time of 23:59 means "open until midnight", so a day can join the next one.
END_OF_DAY = dt.time(23, 59)
#: The statuses in which a booking holds its asset (the database's exclusion constraint agrees).
BLOCKING_STATUSES = ACTIVE_STATUSES
BOOKING = "booking"
MAINTENANCE = "maintenance"

#: [start, end), aware UTC.
Interval = tuple[dt.datetime, dt.datetime]


# --- Interval arithmetic ------------------------------------------------------------------------


def overlaps(first: Interval, second: Interval) -> bool:
    """Whether two half-open intervals share any time (touching ones do not)."""
    return first[0] < second[1] and second[0] < first[1]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals sorted, with overlapping and touching ones joined into one."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of ``intervals`` inside ``window``, in their order; empty parts dropped."""
    low, high = window
    return [(max(start, low), min(end, high)) for start, end in intervals if max(start, low) < min(end, high)]


def subtract(intervals: Iterable[Interval], taken: Iterable[Interval]) -> list[Interval]:
    """What is left of ``intervals`` once every ``taken`` interval is removed, in their order."""
    remaining = [(start, end) for start, end in intervals if start < end]
    for taken_start, taken_end in taken:
        pieces = []
        for start, end in remaining:
            if taken_end <= start or taken_start >= end:
                pieces.append((start, end))
                continue
            if start < taken_start:
                pieces.append((start, taken_start))
            if taken_end < end:
                pieces.append((taken_end, end))
        remaining = pieces
    return remaining


# --- Turnaround -----------------------------------------------------------------------------------


def turnaround_of(asset: Asset) -> dt.timedelta:
    return dt.timedelta(minutes=asset.turnaround_minutes)


def blocked_until(asset: Asset, end_at: dt.datetime) -> dt.datetime:
    """Until when a booking of ``asset`` ending at ``end_at`` holds it: its end plus the asset's
    turnaround. Stored on the booking (``Booking.blocked_until``) when it is made or confirmed."""
    return end_at + turnaround_of(asset)


# --- Bookable hours -------------------------------------------------------------------------------

#: An asset's weekly bookable hours: (weekday, opens, closes) local times, Monday = 0.
WeeklyHours = tuple[tuple[int, dt.time, dt.time], ...]


def weekly_hours(asset: Asset) -> WeeklyHours:
    """The asset's weekly bookable hours, sorted: assets with the same hours compare equal."""
    return tuple(sorted((hours.weekday, hours.opens, hours.closes) for hours in asset.bookable_hours))


def opening_intervals(asset: Asset, first_day: dt.date, last_day: dt.date) -> list[Interval]:
    """The asset's bookable hours from ``first_day`` to ``last_day`` (local dates), as merged UTC
    intervals. Local wall-clock hours hold across clock changes: 09:00-17:00 is 8 hours of
    bookable time on either side of a change, at a different UTC offset."""
    return weekly_intervals(weekly_hours(asset), first_day, last_day)


def weekly_intervals(hours: WeeklyHours, first_day: dt.date, last_day: dt.date) -> list[Interval]:
    """``opening_intervals`` for weekly hours rather than an asset."""
    zone = local_zone()
    by_weekday: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in hours:
        by_weekday.setdefault(weekday, []).append((opens, closes))
    intervals = []
    day = first_day
    while day <= last_day:
        for opens, closes in by_weekday.get(day.weekday(), []):
            start = dt.datetime.combine(day, opens, tzinfo=zone)
            end = (
                dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
                if closes >= END_OF_DAY
                else dt.datetime.combine(day, closes, tzinfo=zone)
            )
            intervals.append((start.astimezone(UTC), end.astimezone(UTC)))
        day += dt.timedelta(days=1)
    return merge(intervals)


def opening_around(asset: Asset, start_at: dt.datetime, end_at: dt.datetime) -> list[Interval]:
    """The asset's bookable hours on every local day that [start_at, end_at) touches, and the day
    before (whose hours may run on past midnight)."""
    return opening_intervals(asset, to_local(start_at).date() - dt.timedelta(days=1), to_local(end_at).date())


def within_bookable_hours(asset: Asset, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    return any(start <= start_at and end_at <= end for start, end in opening_around(asset, start_at, end_at))


# --- Busy time ------------------------------------------------------------------------------------


def holds_asset(asset_id: Any, start_at: dt.datetime, end_at: dt.datetime) -> ColumnElement[bool]:
    """SQL: a booking that blocks holds the asset (an id, or a column to correlate with) for
    some of [start_at, end_at), its turnaround included."""
    return and_(
        Booking.asset_id == asset_id,
        Booking.status.in_(BLOCKING_STATUSES),
        Booking.start_at < end_at,
        Booking.blocked_until > start_at,
    )


def booked_in(asset_id: Any, start_at: dt.datetime, end_at: dt.datetime) -> ColumnElement[bool]:
    """SQL: a booking's booked time, [start_at, end_at) without its turnaround, overlaps the
    window (for showing bookings; any status: the caller chooses which)."""
    return and_(Booking.asset_id == asset_id, Booking.start_at < end_at, Booking.end_at > start_at)


def maintenance_in(asset_id: Any, start_at: dt.datetime, end_at: dt.datetime) -> ColumnElement[bool]:
    """SQL: a maintenance window of the asset overlaps [start_at, end_at)."""
    return and_(
        MaintenanceWindow.asset_id == asset_id,
        MaintenanceWindow.start_at < end_at,
        MaintenanceWindow.end_at > start_at,
    )


@dataclass(frozen=True)
class Busy:
    """Time the asset is held: by a booking (to the end of its turnaround) or by maintenance."""

    kind: str  # BOOKING or MAINTENANCE
    start_at: dt.datetime
    end_at: dt.datetime
    booking_id: int | None = None
    booking: Booking | None = None  # loaded (with its requester) only when asked for

    @property
    def interval(self) -> Interval:
        return (self.start_at, self.end_at)

    def keeps_out(self, turnaround: dt.timedelta) -> Interval:
        """Where a new booking may not be because of this: a booking's hold and, before it, the
        new booking's own turnaround; a maintenance window as it is."""
        return (self.start_at - turnaround if self.kind == BOOKING else self.start_at, self.end_at)


def busy_intervals(
    session: Session,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking_id: int | None = None,
    *,
    load_bookings: bool = False,
) -> list[Busy]:
    """What holds ``asset`` for some of [start_at, end_at): bookings that block (each by start),
    then maintenance windows (each by start). Not clipped to the window. ``load_bookings`` loads
    each booking and its requester, for callers that show who holds it; free-time searches over
    weeks read only the times."""
    where = [holds_asset(asset.id, start_at, end_at)]
    if ignore_booking_id is not None:
        where.append(Booking.id != ignore_booking_id)
    order = (Booking.start_at, Booking.id)
    if load_bookings:
        loaded = session.scalars(
            select(Booking).options(joinedload(Booking.requester)).where(*where).order_by(*order)
        )
        bookings = [Busy(BOOKING, b.start_at, b.blocked_until, b.id, b) for b in loaded]
    else:
        rows = session.execute(
            select(Booking.id, Booking.start_at, Booking.blocked_until).where(*where).order_by(*order)
        )
        bookings = [Busy(BOOKING, start, until, booking_id) for booking_id, start, until in rows]
    windows = session.execute(
        select(MaintenanceWindow.start_at, MaintenanceWindow.end_at)
        .where(maintenance_in(asset.id, start_at, end_at))
        .order_by(MaintenanceWindow.start_at, MaintenanceWindow.id)
    )
    return bookings + [Busy(MAINTENANCE, start, end) for start, end in windows]


def clashes(busy: Busy, asset: Asset, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    """Whether ``busy`` is in the way of a new booking of ``asset`` over [start_at, end_at)."""
    return overlaps(busy.keeps_out(turnaround_of(asset)), (start_at, end_at))


def busy_for_new_booking(
    session: Session,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking_id: int | None = None,
) -> list[Busy]:
    """What is in the way of a new booking of ``asset`` over [start_at, end_at): bookings that
    hold the asset before the new one's turnaround is over, and maintenance in its booked time."""
    found = busy_intervals(
        session, asset, start_at, blocked_until(asset, end_at), ignore_booking_id, load_bookings=True
    )
    return [busy for busy in found if clashes(busy, asset, start_at, end_at)]


def free_intervals(
    opening: Iterable[Interval], busy: Iterable[Busy], turnaround: dt.timedelta
) -> list[Interval]:
    """The parts of ``opening`` where a new booking may start and end: clear of maintenance, and
    ending early enough that its own turnaround is over before the next booking starts."""
    return subtract(opening, [b.keeps_out(turnaround) for b in busy])
