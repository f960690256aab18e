"""The rules a booking must pass, and what to offer instead when it does not.

``check_booking`` lists every rule a request breaks (not just the first), with the conflicting
bookings and maintenance windows. ``next_free_slots`` finds the next times of the same length the
asset could be booked. Both read the database; neither writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.models import ACTIVE_STATUSES, Booking
from core.errors import DomainError
from inventory.models import Asset, AssetStatus, MaintenanceWindow
from core.timeutil import format_local, local_zone, to_local

UTC = dt.timezone.utc
SLOT_STEP = dt.timedelta(minutes=15)
SUGGESTION_HORIZON = dt.timedelta(days=60)
#: A closing time of 23:59 means "open until midnight", so a day can join the next one.
END_OF_DAY = dt.time(23, 59)


@dataclass(frozen=True)
class Violation:
    code: str  # stable, for the API and the unmet-demand report
    message: str  # for the person who asked


@dataclass(frozen=True)
class Conflict:
    kind: str  # "booking" or "maintenance"
    start_at: dt.datetime
    end_at: dt.datetime  # for a booking: the end of its turnaround
    booking_id: int | None = None
    holder: str | None = None  # who holds it, only where the asker may know

    def describe(self) -> str:
        what = "Maintenance" if self.kind == "maintenance" else (f"Booked by {self.holder}" if self.holder else "Booked")
        return f"{what}, {format_local(self.start_at)} to {format_local(self.end_at, '%H:%M')}"


@dataclass(frozen=True)
class Slot:
    start_at: dt.datetime
    end_at: dt.datetime


class BookingRefused(DomainError):
    """A request broke one or more rules. Nothing was booked."""

    def __init__(
        self,
        violations: list[Violation],
        conflicts: list[Conflict] | None = None,
        suggestions: list[Slot] | None = None,
    ) -> None:
        super().__init__(" ".join(v.message for v in violations))
        self.violations = violations
        self.conflicts = conflicts or []
        self.suggestions = suggestions or []
        # Another booking in the way is a conflict (409); any other broken rule is 422.
        self.status_code = 409 if {v.code for v in violations} <= {"overlap"} else 422

    @property
    def codes(self) -> list[str]:
        return [v.code for v in self.violations]


@dataclass
class Occurrence:
    """One booking of a recurring request, and what it broke (nothing, if it can be made)."""

    start_at: dt.datetime
    end_at: dt.datetime
    violations: list[Violation] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


class SeriesRefused(DomainError):
    """At least one occurrence of a recurring request broke a rule, so none was booked."""

    status_code = 409

    def __init__(self, occurrences: list[Occurrence]) -> None:
        refused = [o for o in occurrences if o.violations]
        super().__init__(
            f"{len(refused)} of the {len(occurrences)} bookings in this series cannot be made, "
            "so none of them was booked."
        )
        self.occurrences = occurrences
        self.status_code = 409 if all({v.code for v in o.violations} <= {"overlap"} for o in refused) else 422


#: An asset's weekly bookable hours: (weekday, opens, closes) local times, Monday = 0.
WeeklyHours = tuple[tuple[int, dt.time, dt.time], ...]


def weekly_hours(asset: Asset) -> WeeklyHours:
    """The asset's weekly bookable hours, sorted: assets with the same hours compare equal."""
    return tuple(sorted((hours.weekday, hours.opens, hours.closes) for hours in asset.bookable_hours))


def opening_intervals(asset: Asset, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The asset's bookable hours from ``first_day`` to ``last_day`` (local dates), as merged UTC
    intervals. Local wall-clock hours hold across clock changes: 09:00-17:00 is 8 hours of
    bookable time on either side of a change, at a different UTC offset."""
    return weekly_intervals(weekly_hours(asset), first_day, last_day)


def weekly_intervals(hours: WeeklyHours, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
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
    intervals.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def within_bookable_hours(asset: Asset, start_at: dt.datetime, end_at: dt.datetime) -> bool:
    first = to_local(start_at).date() - dt.timedelta(days=1)
    last = to_local(end_at).date()
    return any(start <= start_at and end_at <= end for start, end in opening_intervals(asset, first, last))


def _blocked_until(asset: Asset, end_at: dt.datetime) -> dt.datetime:
    return end_at + dt.timedelta(minutes=asset.turnaround_minutes)


def conflicts_for(
    session: Session,
    viewer: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking_id: int | None = None,
) -> list[Conflict]:
    """Active bookings (with their turnaround) and maintenance windows in the way of
    [start_at, end_at) plus this asset's turnaround. Half-open: touching is not a clash."""
    blocked_until = _blocked_until(asset, end_at)
    query = (
        select(Booking)
        .options(joinedload(Booking.requester))
        .where(
            Booking.asset_id == asset.id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.start_at < blocked_until,
            Booking.blocked_until > start_at,
        )
        .order_by(Booking.start_at)
    )
    if ignore_booking_id is not None:
        query = query.where(Booking.id != ignore_booking_id)
    conflicts = [
        Conflict(
            "booking",
            booking.start_at,
            booking.blocked_until,
            booking.id,
            booking.requester.name if (booking.requester_id == viewer.id or viewer.manages(asset.school_id)) else None,
        )
        for booking in session.scalars(query)
    ]
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.asset_id == asset.id, MaintenanceWindow.start_at < end_at, MaintenanceWindow.end_at > start_at)
        .order_by(MaintenanceWindow.start_at)
    )
    conflicts += [Conflict("maintenance", w.start_at, w.end_at) for w in windows]
    return conflicts


def _minutes(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours else f"{mins} minutes"


def check_booking(
    session: Session,
    requester: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    now: dt.datetime,
    *,
    ignore_booking_id: int | None = None,
    check_notice: bool = True,
) -> tuple[list[Violation], list[Conflict]]:
    """Every rule the booking of ``asset`` by ``requester`` over [start_at, end_at) breaks.

    ``check_notice`` is off when a manager approves a request: the notice was given when it was
    asked for, and a slow decision must not turn it down.
    """
    from inventory.inspections import inspection_blocks_booking
    from inventory.training import has_current_training

    violations: list[Violation] = []
    today = to_local(now).date()
    if asset.status != AssetStatus.AVAILABLE:
        reason = f" ({asset.status_reason})" if asset.status_reason else ""
        violations.append(Violation("asset_unavailable", f"{asset.name} is {asset.status.label.lower()}{reason}."))
    if not asset.bookable:
        violations.append(Violation("not_bookable", f"{asset.name} is not bookable in Kitshare. Ask its contact."))
    overdue = inspection_blocks_booking(session, asset, today)
    if overdue is not None:
        violations.append(
            Violation("inspection_overdue", f"Its {overdue.kind.label.lower()} was due on {overdue.next_due_on:%d %b %Y} and has not been done.")
        )
    if not asset.shareable and requester.home_school_id != asset.school_id:
        violations.append(Violation("not_shared", f"{asset.school.name} does not share {asset.name} with other Schools."))
    if asset.training_required and not has_current_training(session, requester, asset, today):
        violations.append(
            Violation("training", f"{asset.name} needs training, and you hold no current authorisation. "
                      f"Request training from the managers of {asset.school.code} on its page.")
        )

    conflicts: list[Conflict] = []
    if end_at <= start_at:
        violations.append(Violation("ends_before_start", "The booking must end after it starts."))
        return violations, conflicts
    if start_at < now:
        violations.append(Violation("in_past", "The booking starts in the past."))
    elif check_notice and start_at < now + dt.timedelta(minutes=asset.min_notice_minutes):
        violations.append(
            Violation("min_notice", f"{asset.name} must be booked at least {_minutes(asset.min_notice_minutes)} ahead.")
        )
    length = end_at - start_at
    if asset.max_booking_minutes is not None and length > dt.timedelta(minutes=asset.max_booking_minutes):
        violations.append(
            Violation("max_length", f"A booking of {asset.name} can last at most {_minutes(asset.max_booking_minutes)}.")
        )
    if not within_bookable_hours(asset, start_at, end_at):
        violations.append(Violation("outside_hours", f"The booking falls outside {asset.name}'s bookable hours."))

    conflicts = conflicts_for(session, requester, asset, start_at, end_at, ignore_booking_id)
    if any(c.kind == "booking" for c in conflicts):
        turnaround = f" (with {_minutes(asset.turnaround_minutes)} turnaround)" if asset.turnaround_minutes else ""
        violations.append(Violation("overlap", f"It overlaps another booking{turnaround}."))
    if any(c.kind == "maintenance" for c in conflicts):
        violations.append(Violation("maintenance", "It overlaps planned maintenance."))
    # Quotas: the School's cap on one person's booked hours per week or month (bookings/quotas.py).
    from bookings.quotas import quota_violation

    over_quota = quota_violation(session, requester, asset, start_at, end_at, ignore_booking_id)
    if over_quota is not None:
        violations.append(over_quota)
    return violations, conflicts


#: Rules that a different time of the same length could satisfy: worth suggesting free slots.
TIME_RULES = {"overlap", "maintenance", "outside_hours", "min_notice", "in_past"}


def worth_suggesting(violations: list[Violation]) -> bool:
    codes = {v.code for v in violations}
    return bool(codes) and codes <= TIME_RULES


def _ceil_to_step(moment: dt.datetime) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(moment - epoch) // SLOT_STEP)
    return epoch + steps * SLOT_STEP


def next_free_slots(
    session: Session,
    asset: Asset,
    length: dt.timedelta,
    after: dt.datetime,
    now: dt.datetime,
    count: int = 3,
    ignore_booking_id: int | None = None,
) -> list[Slot]:
    """The next ``count`` free times of ``length`` on the asset, from ``after`` (never sooner
    than its minimum notice), each inside one stretch of bookable hours, clear of active
    bookings, their turnaround and maintenance, and leaving this booking's own turnaround."""
    if length <= dt.timedelta(0):
        return []
    earliest = _ceil_to_step(max(after, now + dt.timedelta(minutes=asset.min_notice_minutes)))
    horizon = earliest + SUGGESTION_HORIZON
    turnaround = dt.timedelta(minutes=asset.turnaround_minutes)
    busy_query = select(Booking.start_at, Booking.blocked_until).where(
        Booking.asset_id == asset.id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.start_at < horizon + length + turnaround,
        Booking.blocked_until > earliest,
    )
    if ignore_booking_id is not None:
        busy_query = busy_query.where(Booking.id != ignore_booking_id)
    bookings = [(start, end, True) for start, end in session.execute(busy_query)]
    windows = [
        (start, end, False)
        for start, end in session.execute(
            select(MaintenanceWindow.start_at, MaintenanceWindow.end_at).where(
                MaintenanceWindow.asset_id == asset.id,
                MaintenanceWindow.start_at < horizon + length,
                MaintenanceWindow.end_at > earliest,
            )
        )
    ]
    busy = sorted(bookings + windows)
    slots: list[Slot] = []
    for open_start, open_end in opening_intervals(asset, to_local(earliest).date(), to_local(horizon).date()):
        candidate = _ceil_to_step(max(open_start, earliest))
        while candidate + length <= open_end:
            end = candidate + length
            clash = next(
                (
                    busy_end
                    for busy_start, busy_end, is_booking in busy
                    if busy_start < (end + turnaround if is_booking else end) and busy_end > candidate
                ),
                None,
            )
            if clash is None:
                slots.append(Slot(candidate, end))
                if len(slots) == count:
                    return slots
                candidate = _ceil_to_step(end + turnaround)
            else:
                candidate = _ceil_to_step(max(clash, candidate + SLOT_STEP))
    return slots
