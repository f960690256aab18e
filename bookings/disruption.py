"""When an asset stops being available for bookings already made.

Retiring an asset, taking it out for maintenance (a window, or the status), narrowing its
bookable hours, or revoking someone's training can leave future bookings that now break the
rules. None of these changes leaves them silently:

* the ``affected_by_*`` functions find the bookings a change would touch (read only: the
  manager's confirmation step lists them before anything is saved);
* ``settle`` applies what was decided for each. It is a command (its own unit of work,
  ``core/db.py``); the changes in ``bookings.asset_changes`` call it inside theirs, which it
  joins, so the change and its settlement commit together: all or nothing.

What happens to each booking:

==========================  ==============================  ====================================
the change                  which bookings                  what happens
==========================  ==============================  ====================================
retired                     confirmed and pending, not yet  confirmed -> cancelled, pending ->
                            ended                           rejected, the status reason as the
                                                            reason; no choice
maintenance / out of        confirmed, not yet ended        the manager's choice per booking
service (status)                                            (default for the API: keep)
a maintenance window        confirmed, overlapping it       the manager's choice
narrower bookable hours     confirmed, inside the old       the manager's choice
                            hours but not the new
revoked training            the person's confirmed          the manager's choice
                            bookings of assets needing it
==========================  ==============================  ====================================

"cancel" cancels with the reason (the holder is told by ``bookings.notices.notify_cancelled``,
like any cancellation); "keep" leaves the booking confirmed and tells
the holder what changed (event ``booking_affected``); the booking's page then shows the clash
(``clashes_for``). Reminders go only to confirmed bookings, so an ended booking gets none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.availability import WeeklyHours, weekly_hours, weekly_intervals
from bookings.models import Booking, BookingStatus
from bookings.notices import booking_link, notify_cancelled, when
from bookings.service import _offer_to_waitlist, _reject, change_status
from core.db import atomic, utcnow
from core.errors import InvalidInput
from core.timeutil import format_local, to_local
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetStatus, MaintenanceWindow, TrainingAuthorisation
from inventory.training import has_current_training
from notifications.service import notify

CANCEL = "cancel"
KEEP = "keep"
CHOICES = (CANCEL, KEEP)
#: Statuses that end every booking still to come: the asset will not be used again.
ENDING_STATUSES = WITHDRAWN_STATUSES
#: Statuses that take the asset out of use for a time nobody has fixed: every booking still to
#: come clashes, and the manager chooses.
PAUSING_STATUSES = frozenset({AssetStatus.MAINTENANCE, AssetStatus.OUT_OF_SERVICE})


@dataclass
class Affected:
    """The bookings a change would touch: confirmed ones, and pending requests that it ends
    (retiring) or that now clash (the manager chooses: reject them, or keep them waiting)."""

    confirmed: list[Booking] = field(default_factory=list)
    pending: list[Booking] = field(default_factory=list)
    ends_all: bool = False  # retiring: no choice, everything ends

    def __bool__(self) -> bool:
        return bool(self.confirmed or self.pending)

    @property
    def bookings(self) -> list[Booking]:
        return self.confirmed + self.pending

    def summary(self) -> str:
        """'This will cancel 3 confirmed bookings and reject 2 requests.' (retiring), or how many
        confirmed bookings the manager has to decide about."""
        if self.ends_all:
            cancelled, rejected = (
                _count(len(self.confirmed), "confirmed booking"),
                _count(len(self.pending), "request"),
            )
            return f"This will cancel {cancelled} and reject {rejected}."
        parts = [_count(len(self.confirmed), "confirmed booking")] if self.confirmed else []
        if self.pending:
            parts.append(_count(len(self.pending), "request"))
        n = len(self.confirmed) + len(self.pending)
        return f"{' and '.join(parts)} {'is' if n == 1 else 'are'} affected by this change."


@dataclass
class Decisions:
    """What the manager chose: a choice for all, and any for single bookings (by id)."""

    default: str = KEEP
    per_booking: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        wrong = [c for c in [self.default, *self.per_booking.values()] if c not in CHOICES]
        if wrong:
            raise InvalidInput(
                field_errors={"affected_bookings": ["Choose 'cancel' or 'keep' for the affected bookings."]}
            )

    def for_booking(self, booking_id: int) -> str:
        return self.per_booking.get(booking_id, self.default)


@dataclass
class Settlement:
    """What a change did to the bookings: for the flash message and the API's answer."""

    cancelled: list[Booking] = field(default_factory=list)
    rejected: list[Booking] = field(default_factory=list)
    kept: list[Booking] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cancelled or self.rejected or self.kept)

    def summary(self) -> str:
        parts = []
        if self.cancelled:
            parts.append(f"cancelled {_count(len(self.cancelled), 'booking')}")
        if self.rejected:
            parts.append(f"rejected {_count(len(self.rejected), 'request')}")
        if self.kept:
            parts.append(f"kept {_count(len(self.kept), 'booking')}")
        if not parts:
            return ""
        text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        return text[0].upper() + text[1:] + "; the people who made them have been told."

    def then(self, other: Settlement) -> Settlement:
        """Both settlements, for a request that made two changes (new hours and a new status)."""
        return Settlement(
            self.cancelled + other.cancelled, self.rejected + other.rejected, self.kept + other.kept
        )

    def as_json(self) -> dict[str, list[int]]:
        return {
            "cancelled": [b.id for b in self.cancelled],
            "rejected": [b.id for b in self.rejected],
            "kept": [b.id for b in self.kept],
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _upcoming(asset_id: int | None, statuses: tuple[BookingStatus, ...], now: dt.datetime):
    query = (
        select(Booking)
        .options(
            joinedload(Booking.requester),
            joinedload(Booking.requester_school),
            joinedload(Booking.asset).joinedload(Asset.school),
        )
        .where(Booking.status.in_(statuses), Booking.end_at > now)
        .order_by(Booking.start_at, Booking.id)
    )
    if asset_id is not None:
        query = query.where(Booking.asset_id == asset_id)
    return query


# --- What a change would touch --------------------------------------------------------------------


def affected_by_status(
    session: Session, asset: Asset, status: AssetStatus, now: dt.datetime | None = None
) -> Affected:
    """The bookings putting ``asset`` in ``status`` touches: retiring ends every confirmed booking
    and pending request not yet over; maintenance or out of service clashes with every confirmed
    booking not yet over; available touches none. An unchanged status touches none either."""
    now = now or utcnow()
    if status in ENDING_STATUSES:
        return Affected(
            confirmed=list(session.scalars(_upcoming(asset.id, (BookingStatus.CONFIRMED,), now))),
            pending=list(session.scalars(_upcoming(asset.id, (BookingStatus.PENDING,), now))),
            ends_all=True,
        )
    if status in PAUSING_STATUSES and asset.status not in PAUSING_STATUSES:
        return _split(session.scalars(_upcoming(asset.id, ACTIVE, now)))
    return Affected()


#: What a clash touches: confirmed bookings and requests still waiting for a decision.
ACTIVE = (BookingStatus.CONFIRMED, BookingStatus.PENDING)


def _split(bookings) -> Affected:
    bookings = list(bookings)
    return Affected(
        confirmed=[b for b in bookings if b.status == BookingStatus.CONFIRMED],
        pending=[b for b in bookings if b.status == BookingStatus.PENDING],
    )


def affected_by_window(
    session: Session, asset: Asset, start_at: dt.datetime, end_at: dt.datetime, now: dt.datetime | None = None
) -> Affected:
    """Confirmed bookings and pending requests of ``asset``, not yet over, whose booked time
    overlaps [start_at, end_at). (The turnaround after a booking is the owner's time: maintenance
    may start in it.)"""
    now = now or utcnow()
    query = _upcoming(asset.id, ACTIVE, now).where(Booking.start_at < end_at, Booking.end_at > start_at)
    return _split(session.scalars(query))


def _within(intervals: list[tuple[dt.datetime, dt.datetime]], booking: Booking) -> bool:
    return any(start <= booking.start_at and booking.end_at <= end for start, end in intervals)


def affected_by_hours(
    session: Session, asset: Asset, new_hours: WeeklyHours | list, now: dt.datetime | None = None
) -> Affected:
    """Confirmed bookings and pending requests of ``asset``, not yet over, that fit its current
    bookable hours but not ``new_hours`` (bookings that never fitted are not this change's doing)."""
    now = now or utcnow()
    new_hours = tuple(sorted(new_hours))
    old_hours = weekly_hours(asset)
    if new_hours == old_hours:
        return Affected()
    bookings = list(session.scalars(_upcoming(asset.id, ACTIVE, now)))
    if not bookings:
        return Affected()
    first = to_local(min(b.start_at for b in bookings)).date() - dt.timedelta(days=1)
    last = to_local(max(b.end_at for b in bookings)).date()
    old_open = weekly_intervals(old_hours, first, last)
    new_open = weekly_intervals(new_hours, first, last)
    return _split(b for b in bookings if _within(old_open, b) and not _within(new_open, b))


def affected_by_revocation(
    session: Session, authorisation: TrainingAuthorisation, now: dt.datetime | None = None
) -> Affected:
    """The person's confirmed bookings, not yet over, of assets that need training and that this
    authorisation covers, where no other current authorisation of theirs covers the asset."""
    now = now or utcnow()
    if authorisation.revoked_at is not None:
        return Affected()
    today = to_local(now).date()
    query = (
        _upcoming(None, (BookingStatus.CONFIRMED,), now)
        .join(Booking.asset)
        .where(Booking.requester_id == authorisation.user_id, Asset.training_required.is_(True))
    )
    if authorisation.asset_id is not None:
        query = query.where(Booking.asset_id == authorisation.asset_id)
    else:
        query = query.where(
            Asset.category_id == authorisation.category_id, Asset.school_id == authorisation.school_id
        )
    affected = []
    for booking in session.scalars(query):
        asset = booking.asset
        scopes = [TrainingAuthorisation.asset_id == asset.id]
        if asset.category_id is not None:
            scopes.append(
                (TrainingAuthorisation.category_id == asset.category_id)
                & (TrainingAuthorisation.school_id == asset.school_id)
            )
        other = session.scalar(
            select(TrainingAuthorisation.id)
            .where(
                TrainingAuthorisation.user_id == authorisation.user_id,
                TrainingAuthorisation.id != authorisation.id,
                TrainingAuthorisation.revoked_at.is_(None),
                or_(TrainingAuthorisation.expires_on.is_(None), TrainingAuthorisation.expires_on >= today),
                or_(*scopes),
            )
            .limit(1)
        )
        if other is None:
            affected.append(booking)
    return Affected(confirmed=affected)


# --- Applying the decisions -----------------------------------------------------------------------


def settle(
    session: Session,
    actor: User,
    affected: Affected,
    decisions: Decisions | None,
    reason: str,
    notice: str,
    now: dt.datetime | None = None,
) -> Settlement:
    """End or keep each affected booking. A command (``core/db.py``): called by another
    command, such as the changes in ``bookings.asset_changes``, it joins that one's unit.

    When the change ends everything (``affected.ends_all``: retiring), every confirmed booking is
    cancelled and every pending request rejected, with ``reason``, whatever ``decisions`` say.
    Otherwise each confirmed booking is cancelled, and each pending request rejected, with
    ``reason``, or kept, as decided (no decisions: keep), and a kept one's holder is told ``notice``. Status changes go into each
    booking's history, and the holders of cancelled and rejected ones are told (``bookings.notices``).
    Only bookings still confirmed or pending are touched (one may have changed since it was listed).
    """

    with atomic(session, actor):
        now = now or utcnow()
        decisions = decisions or Decisions()
        settlement = Settlement()
        for booking in affected.confirmed:
            if booking.status != BookingStatus.CONFIRMED:
                continue
            if affected.ends_all or decisions.for_booking(booking.id) == CANCEL:
                change = change_status(booking, BookingStatus.CANCELLED, actor, reason, now)
                notify_cancelled(session, booking, change)
                settlement.cancelled.append(booking)
                continue
            settlement.kept.append(booking)
            if booking.requester_id == actor.id:
                continue  # nobody is told what they did themselves
            asset = booking.asset
            notify(
                session,
                booking.requester,
                "booking_affected",
                f"Check your booking: {asset.name}, {when(booking)}",
                f"Your booking of {asset.name} ({asset.tag}), {when(booking)}, is kept, but {notice}\n"
                f"Reason: {reason}\n\nIf it no longer suits you, cancel it on its page. Questions: "
                f"ask {asset.school.name}'s managers.",
                booking_link(booking),
                dedupe_key=f"booking-affected:{booking.id}:{now.isoformat()}",
            )
        for booking in affected.pending:
            if booking.status != BookingStatus.PENDING:
                continue
            if affected.ends_all or decisions.for_booking(booking.id) == CANCEL:
                _reject(session, actor, booking, reason, now)
                settlement.rejected.append(booking)
                continue
            settlement.kept.append(booking)
            if booking.requester_id == actor.id:
                continue
            asset = booking.asset
            notify(
                session,
                booking.requester,
                "booking_affected",
                f"Check your request: {asset.name}, {when(booking)}",
                f"Your request for {asset.name} ({asset.tag}), {when(booking)}, still waits for a decision, but "
                f"{notice}\nReason: {reason}\n\nIf it no longer suits you, cancel it on its page. Questions: "
                f"ask {asset.school.name}'s managers.",
                booking_link(booking),
                dedupe_key=f"booking-affected:{booking.id}:{now.isoformat()}",
            )
        session.flush()
        if not affected.ends_all:  # a retired asset offers nothing to its waitlist
            for booking in settlement.cancelled:
                _offer_to_waitlist(session, booking, now)
        return settlement


# --- What a kept booking shows ----------------------------------------------------------------------


def clashes_for(session: Session, booking: Booking, now: dt.datetime | None = None) -> list[str]:
    """Sentences for a booking's page: what now stands in the way of a booking still to come
    (planned maintenance, the asset's status, its bookable hours, the holder's training)."""

    now = now or utcnow()
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.PENDING) or booking.end_at <= now:
        return []
    asset = booking.asset
    lines = []
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.asset_id == asset.id,
            MaintenanceWindow.start_at < booking.end_at,
            MaintenanceWindow.end_at > booking.start_at,
        )
        .order_by(MaintenanceWindow.start_at)
    )
    for window in windows:
        same_day = format_local(window.start_at, "%Y%m%d") == format_local(window.end_at, "%Y%m%d")
        end = format_local(window.end_at, "%H:%M" if same_day else "%a %d %b %Y, %H:%M")
        lines.append(
            f"Maintenance is planned during this booking: {format_local(window.start_at)} to {end} ({window.reason})."
        )
    if asset.status != AssetStatus.AVAILABLE:
        why = f": {asset.status_reason}" if asset.status_reason else ""
        lines.append(f"{asset.name} is out of use ({asset.status.label.lower()}){why}.")
    first = to_local(booking.start_at).date() - dt.timedelta(days=1)
    if not _within(weekly_intervals(weekly_hours(asset), first, to_local(booking.end_at).date()), booking):
        lines.append(f"This booking is outside {asset.name}'s bookable hours, which have changed.")
    if asset.training_required and not has_current_training(
        session, booking.requester, asset, to_local(now).date()
    ):
        lines.append(
            f"{booking.requester.name} no longer holds a current training authorisation for {asset.name}."
        )
    return lines
