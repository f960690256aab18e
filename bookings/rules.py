"""The rules a booking must pass, and what to offer instead when it does not.

``check_booking`` lists every rule a request breaks (not just the first), with the conflicting
bookings and maintenance windows. ``next_free_slots`` finds the next times of the same length the
asset could be booked. Both read the database; neither writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from accounts.models import User
from bookings.availability import (
    busy_for_new_booking,
    busy_intervals,
    free_intervals,
    opening_intervals,
    turnaround_of,
    within_bookable_hours,
)
from bookings.policy import may_see_holder
from core.errors import DomainError
from core.timeutil import format_local, to_local
from inventory.inspections import inspection_blocks_booking
from inventory.models import Asset, AssetStatus
from inventory.training import has_current_training

UTC = dt.UTC
SLOT_STEP = dt.timedelta(minutes=15)
SUGGESTION_HORIZON = dt.timedelta(days=60)


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
        what = (
            "Maintenance"
            if self.kind == "maintenance"
            else (f"Booked by {self.holder}" if self.holder else "Booked")
        )
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


def conflicts_for(
    session: Session,
    viewer: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking_id: int | None = None,
) -> list[Conflict]:
    """Active bookings (with their turnaround) and maintenance windows in the way of
    [start_at, end_at) plus this asset's turnaround. Half-open: touching is not a clash. Who holds
    a booking is named only where ``may_see_holder`` lets the viewer know."""
    conflicts = []
    for busy in busy_for_new_booking(session, asset, start_at, end_at, ignore_booking_id):
        booking = busy.booking
        if booking is None:
            conflicts.append(Conflict("maintenance", busy.start_at, busy.end_at))
        else:  # busy_for_new_booking loads each booking and its requester
            holder = booking.requester.name if may_see_holder(viewer, booking) else None
            conflicts.append(Conflict("booking", busy.start_at, busy.end_at, booking.id, holder))
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

    violations: list[Violation] = []
    today = to_local(now).date()
    if asset.status != AssetStatus.AVAILABLE:
        reason = f" ({asset.status_reason})" if asset.status_reason else ""
        violations.append(
            Violation("asset_unavailable", f"{asset.name} is {asset.status.label.lower()}{reason}.")
        )
    if not asset.bookable:
        violations.append(
            Violation("not_bookable", f"{asset.name} is not bookable in Kitshare. Ask its contact.")
        )
    overdue = inspection_blocks_booking(session, asset, today)
    if overdue is not None:
        violations.append(
            Violation(
                "inspection_overdue",
                f"Its {overdue.kind.label.lower()} was due on {overdue.next_due_on:%d %b %Y} and has not been done.",
            )
        )
    if not asset.shareable and requester.home_school_id != asset.school_id:
        violations.append(
            Violation("not_shared", f"{asset.school.name} does not share {asset.name} with other Schools.")
        )
    if asset.training_required and not has_current_training(session, requester, asset, today):
        violations.append(
            Violation(
                "training",
                f"{asset.name} needs training, and you hold no current authorisation. "
                f"Request training from the managers of {asset.school.code} on its page.",
            )
        )

    conflicts: list[Conflict] = []
    if end_at <= start_at:
        violations.append(Violation("ends_before_start", "The booking must end after it starts."))
        return violations, conflicts
    if start_at < now:
        violations.append(Violation("in_past", "The booking starts in the past."))
    elif check_notice and start_at < now + dt.timedelta(minutes=asset.min_notice_minutes):
        violations.append(
            Violation(
                "min_notice",
                f"{asset.name} must be booked at least {_minutes(asset.min_notice_minutes)} ahead.",
            )
        )
    length = end_at - start_at
    if asset.max_booking_minutes is not None and length > dt.timedelta(minutes=asset.max_booking_minutes):
        violations.append(
            Violation(
                "max_length",
                f"A booking of {asset.name} can last at most {_minutes(asset.max_booking_minutes)}.",
            )
        )
    if not within_bookable_hours(asset, start_at, end_at):
        violations.append(
            Violation("outside_hours", f"The booking falls outside {asset.name}'s bookable hours.")
        )

    conflicts = conflicts_for(session, requester, asset, start_at, end_at, ignore_booking_id)
    if any(c.kind == "booking" for c in conflicts):
        turnaround = (
            f" (with {_minutes(asset.turnaround_minutes)} turnaround)" if asset.turnaround_minutes else ""
        )
        violations.append(Violation("overlap", f"It overlaps another booking{turnaround}."))
    if any(c.kind == "maintenance" for c in conflicts):
        violations.append(Violation("maintenance", "It overlaps planned maintenance."))
    # Quotas: the School's cap on one person's booked hours per week or month. bookings.quotas
    # imports this module (its Violation), and a quota is one more rule checked with these, so the
    # cycle is broken here.
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
    opening = opening_intervals(asset, to_local(earliest).date(), to_local(horizon).date())
    if not opening:
        return []
    turnaround = turnaround_of(asset)
    busy = busy_intervals(session, asset, earliest, opening[-1][1] + turnaround, ignore_booking_id)
    slots: list[Slot] = []
    for open_start, open_end in opening:
        # Within one stretch of bookable hours, each suggestion leaves its own turnaround
        # before the next one: they are offered as alternatives, but read as a sequence.
        candidate = _ceil_to_step(max(open_start, earliest))
        for free_start, free_end in free_intervals([(open_start, open_end)], busy, turnaround):
            candidate = _ceil_to_step(max(candidate, free_start))
            while candidate + length <= free_end:
                end = candidate + length
                slots.append(Slot(candidate, end))
                if len(slots) == count:
                    return slots
                candidate = _ceil_to_step(end + turnaround)
    return slots
