"""Custody and presence: lending portable kit out and back, checking in at the bench, no-shows.

A loan is a confirmed booking of a portable asset. The owning School's staff hand it over
(status CHECKED_OUT, with who, when and its condition) and take it back (COMPLETED, with when
and its condition). A damaged return flags the asset until a manager clears the flag. A loan
still out after its end is overdue: it is shown to both Schools and the borrower and the next
holder are told, but it blocks nothing: the exclusion constraint only covers the booked time.

A bench booking is checked in by its holder at the start (CHECKED_OUT, ``checked_in_at``): that
is what "actual use" means in the reports. An asset with ``no_show_release_minutes`` releases a
booking not checked in by then (NO_SHOW, which holds nothing, so the time is free again).

Each command (hand-over, return, clearing damage, check-in, and the scheduler's jobs) is one
unit of work of its own, the rule every command follows (``core/db.py``); the ``now`` argument
is the clock (tests pass their own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings.models import Booking, BookingStatus
from bookings.service import change_status
from bookings.waitlist import offer_freed_slot
from core.config import site_url
from core.db import atomic
from core.errors import InvalidInput, NotFound
from core.timeutil import format_local
from inventory.models import Asset
from inventory.service import school_managers_of
from notifications.service import notify

#: A loan can be handed over from this long before its start.
HANDOVER_LEAD = dt.timedelta(hours=1)
#: A bench booking can be checked in from this long before its start.
CHECKIN_LEAD = dt.timedelta(minutes=15)


def _booking_link(booking: Booking) -> str:
    return site_url(f"/bookings/{booking.id}")


def _load(session: Session, booking_id: int) -> Booking:
    """The booking, its row locked until the unit of work ends (on PostgreSQL; SQLite's units are
    serialised anyway): a check-in and the no-show job cannot both change it on a stale read."""
    booking = session.scalar(
        select(Booking)
        .options(joinedload(Booking.asset).joinedload(Asset.school), joinedload(Booking.requester))
        .where(Booking.id == booking_id)
        .with_for_update(of=Booking)
    )
    if booking is None:
        raise NotFound("There is no such booking.")
    return booking


def _managers_of(session: Session, school_id: int) -> list[User]:

    return school_managers_of(session, school_id)


def uses_check_in(asset: Asset) -> bool:
    """Bench kit that is checked in at the start: it asks for it, or releases no-shows."""
    return not asset.portable and (asset.checkin_required or asset.no_show_release_minutes is not None)


# --- Loans: hand-over and return ---------------------------------------------------------------


def unreturned_loan(session: Session, asset_id: int, other_than: int | None = None) -> Booking | None:
    """The loan of the asset that was handed over and not yet returned, if any."""
    query = (
        select(Booking)
        .options(joinedload(Booking.requester))
        .where(
            Booking.asset_id == asset_id,
            Booking.status == BookingStatus.CHECKED_OUT,
            Booking.handed_over_at.is_not(None),
            Booking.returned_at.is_(None),
        )
    )
    if other_than is not None:
        query = query.where(Booking.id != other_than)
    return session.scalars(query.order_by(Booking.start_at)).first()


def hand_over(session: Session, actor: User, booking_id: int, condition: str, now: dt.datetime) -> Booking:
    """The owning School's staff (a manager, or an admin) hand a portable asset to its borrower.

    The booking must be confirmed, due to start within an hour (or started) and not ended, and
    the asset must be back from any earlier loan. The condition it leaves in is recorded.
    """
    with atomic(session, actor):
        booking = _load(session, booking_id)
        require_school_manager(actor, booking.asset.school_id)
        asset = booking.asset
        condition = (condition or "").strip()
        if not asset.portable:
            raise InvalidInput(f"{asset.name} is not lent out, so it is not handed over.")
        if booking.status != BookingStatus.CONFIRMED:
            raise InvalidInput(
                f"This booking is {booking.status.label.lower()}, so it cannot be handed over."
            )
        if now >= booking.end_at:
            raise InvalidInput("This booking has already ended.")
        if now < booking.start_at - HANDOVER_LEAD:
            raise InvalidInput(
                f"It can be handed over from {format_local(booking.start_at - HANDOVER_LEAD)}, an hour before the loan starts."
            )
        previous = unreturned_loan(session, asset.id, other_than=booking.id)
        if previous is not None:
            raise InvalidInput(
                f"{asset.name} has not come back from {previous.requester.name}'s loan "
                f"(due back {format_local(previous.end_at)}). Record that return first."
            )
        if not condition:
            raise InvalidInput(field_errors={"condition": ["Describe its condition as it is handed over."]})
        booking.handed_over_at = now
        booking.handed_over_by_id = actor.id
        booking.handover_condition = condition
        change_status(booking, BookingStatus.CHECKED_OUT, actor, "Handed over.", now)
        return booking


def return_loan(
    session: Session, actor: User, booking_id: int, condition: str, damaged: bool, now: dt.datetime
) -> Booking:
    """The owning School's staff take a lent asset back: the loan is completed, with when and its
    condition. Damage flags the asset (shown on its page and the dashboards until a manager
    clears it) and tells each of the School's active managers."""
    with atomic(session, actor):
        booking = _load(session, booking_id)
        require_school_manager(actor, booking.asset.school_id)
        condition = (condition or "").strip()
        if booking.status != BookingStatus.CHECKED_OUT or booking.handed_over_at is None:
            raise InvalidInput("Only a loan that was handed over can be returned.")
        if not condition:
            raise InvalidInput(
                field_errors={
                    "condition": [
                        "Describe the damage." if damaged else "Describe its condition as it comes back."
                    ]
                }
            )
        booking.returned_at = now
        booking.returned_to_id = actor.id
        booking.return_condition = condition
        booking.returned_damaged = bool(damaged)
        change_status(
            booking, BookingStatus.COMPLETED, actor, "Returned damaged." if damaged else "Returned.", now
        )
        if damaged:
            asset = booking.asset
            asset.damage_reported_at = now
            asset.damage_note = condition
            for manager in _managers_of(session, asset.school_id):
                notify(
                    session,
                    manager,
                    "loan_damaged",
                    f"{asset.name} ({asset.tag}) came back damaged",
                    f"{booking.requester.name} returned {asset.name} on {format_local(now)}. "
                    f"Condition recorded by {actor.name}: {condition}",
                    site_url(f"/assets/{asset.id}"),
                    dedupe_key=f"loan-damaged-{booking.id}-{manager.id}",
                )
        return booking


def clear_damage(session: Session, actor: User, asset_id: int) -> Asset:
    """A manager of the owning School clears an asset's damage flag (it was repaired, or the
    damage was judged harmless)."""
    with atomic(session, actor):
        asset = session.get(Asset, asset_id)
        if asset is None:
            raise NotFound("There is no such asset.")
        require_school_manager(actor, asset.school_id)
        if asset.damage_reported_at is None:
            raise InvalidInput(f"{asset.name} has no damage reported.")
        asset.damage_reported_at = None
        asset.damage_note = ""
        return asset


def loans_for(session: Session, school_ids: set[int] | None, now: dt.datetime) -> dict[str, list[Booking]]:
    """The staff's view of loans of their Schools' portable kit (all Schools for None): what is
    out now (overdue first), and what is due to be handed over in the next week."""
    base = (
        select(Booking)
        .join(Booking.asset)
        .options(
            joinedload(Booking.asset).joinedload(Asset.school),
            joinedload(Booking.requester),
            joinedload(Booking.requester_school),
        )
        .where(Asset.portable.is_(True))
    )
    if school_ids is not None:
        base = base.where(Asset.school_id.in_(school_ids))
    out = base.where(Booking.status == BookingStatus.CHECKED_OUT, Booking.returned_at.is_(None))
    return {
        "out": list(session.scalars(out.order_by(Booking.end_at))),
        "to_hand_over": list(
            session.scalars(
                base.where(
                    Booking.status == BookingStatus.CONFIRMED,
                    Booking.end_at > now,
                    Booking.start_at < now + dt.timedelta(days=7),
                ).order_by(Booking.start_at)
            )
        ),
    }


# --- Overdue loans -----------------------------------------------------------------------------


def _overdue_query(now: dt.datetime):
    return (
        select(Booking)
        .join(Booking.asset)
        .options(
            joinedload(Booking.asset).joinedload(Asset.school),
            joinedload(Booking.requester),
            joinedload(Booking.requester_school),
        )
        .where(
            Booking.status == BookingStatus.CHECKED_OUT,
            Booking.handed_over_at.is_not(None),
            Booking.returned_at.is_(None),
            Booking.end_at < now,
        )
        .order_by(Booking.end_at)
    )


def overdue_loans(session: Session, school_ids: set[int] | None, now: dt.datetime) -> list[Booking]:
    """Loans handed over and not returned by their end, for the dashboards of both the owning
    School and the borrower's School (every School for None)."""
    query = _overdue_query(now)
    if school_ids is not None:
        query = query.where(or_(Asset.school_id.in_(school_ids), Booking.requester_school_id.in_(school_ids)))
    return list(session.scalars(query))


def my_overdue_loans(session: Session, user: User, now: dt.datetime) -> list[Booking]:
    """The person's own loans that should have come back."""
    return list(session.scalars(_overdue_query(now).where(Booking.requester_id == user.id)))


def next_booking_after(session: Session, loan: Booking) -> Booking | None:
    """The next confirmed or pending booking of the asset after a loan: its holder is the one an
    overdue loan affects."""
    return session.scalars(
        select(Booking)
        .options(joinedload(Booking.requester), joinedload(Booking.asset))
        .where(
            Booking.asset_id == loan.asset_id,
            Booking.id != loan.id,
            Booking.status.in_((BookingStatus.CONFIRMED, BookingStatus.PENDING)),
            Booking.start_at >= loan.end_at,
        )
        .order_by(Booking.start_at, Booking.id)
    ).first()


def overdue_loan_before(session: Session, booking: Booking, now: dt.datetime) -> Booking | None:
    """An overdue loan of the same asset that should have come back before this booking starts:
    its page warns the holder. None once the booking has ended or is no longer wanted."""
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.PENDING) or booking.end_at <= now:
        return None
    return session.scalars(
        _overdue_query(now).where(
            Booking.asset_id == booking.asset_id, Booking.id != booking.id, Booking.end_at <= booking.start_at
        )
    ).first()


def notify_overdue_loans(session: Session, now: dt.datetime) -> int:
    """Scheduler job (every 15 minutes): tell the borrower, the owning School's managers and the
    holder of the asset's next booking, once per loan, that a loan is overdue. Nothing is
    blocked: the next holder is warned so they can plan. Returns how many loans were reported."""
    with atomic(session):
        loans = session.scalars(_overdue_query(now).where(Booking.overdue_notified_at.is_(None))).all()
        for loan in loans:
            asset = loan.asset
            due = format_local(loan.end_at)
            notify(
                session,
                loan.requester,
                "loan_overdue",
                f"Please return {asset.name}: your loan ended {due}",
                f"{asset.name} ({asset.tag}) was due back to {asset.school.name} at {due}. "
                "Please return it as soon as you can: someone may be waiting for it.",
                _booking_link(loan),
                dedupe_key=f"loan-overdue-{loan.id}-borrower",
            )
            for manager in _managers_of(session, asset.school_id):
                notify(
                    session,
                    manager,
                    "loan_overdue",
                    f"Overdue: {asset.name} lent to {loan.requester.name}",
                    f"{asset.name} ({asset.tag}) was due back at {due} from {loan.requester.name}"
                    f"{', ' + loan.requester_school.name if loan.requester_school else ''}.",
                    _booking_link(loan),
                    dedupe_key=f"loan-overdue-{loan.id}-manager-{manager.id}",
                )
            following = next_booking_after(session, loan)
            if following is not None and following.requester_id != loan.requester_id:
                notify(
                    session,
                    following.requester,
                    "loan_overdue",
                    f"{asset.name} may not be back for your booking",
                    f"The loan before yours has not been returned (it was due back at {due}). "
                    f"Your booking starts {format_local(following.start_at)}; {asset.school.name} has been told. "
                    "Contact them if you need to plan around it.",
                    _booking_link(following),
                    dedupe_key=f"loan-overdue-{loan.id}-next-{following.id}",
                )
            loan.overdue_notified_at = now
        return len(loans)


# --- Check-in and no-shows ---------------------------------------------------------------------


def check_in(session: Session, actor: User, booking_id: int, now: dt.datetime) -> Booking:
    """The holder of a bench booking (or a manager of the owning School for them) checks in,
    from 15 minutes before its start until its end. The booking becomes checked out: its time
    is actual use, and it can no longer be released as a no-show."""
    with atomic(session, actor):
        booking = _load(session, booking_id)
        if booking.requester_id != actor.id:
            if not actor.manages(booking.asset.school_id):
                raise NotFound("There is no such booking, or it is not yours to see.")
        asset = booking.asset
        if asset.portable:
            raise InvalidInput(f"{asset.name} is lent out: its staff record the hand-over instead.")
        if not uses_check_in(asset):
            raise InvalidInput(f"{asset.name} does not need checking in.")
        if booking.status == BookingStatus.CHECKED_OUT:
            raise InvalidInput("This booking is already checked in.")
        if booking.status != BookingStatus.CONFIRMED:
            raise InvalidInput(f"This booking is {booking.status.label.lower()}, so it cannot be checked in.")
        if now >= booking.end_at:
            raise InvalidInput("This booking has already ended.")
        if now < booking.start_at - CHECKIN_LEAD:
            raise InvalidInput(f"You can check in from {format_local(booking.start_at - CHECKIN_LEAD)}.")
        booking.checked_in_at = now
        by = "Checked in." if booking.requester_id == actor.id else f"Checked in by {actor.name}."
        change_status(booking, BookingStatus.CHECKED_OUT, actor, by, now)
        return booking


def checkin_candidate(session: Session, user: User, asset_id: int, now: dt.datetime) -> Booking | None:
    """The person's booking of the asset they can check in to now (starting within 15 minutes,
    or running and not checked in): what scanning the asset's label offers them."""
    booking = session.scalars(
        select(Booking)
        .options(joinedload(Booking.asset))
        .where(
            Booking.asset_id == asset_id,
            Booking.requester_id == user.id,
            Booking.status == BookingStatus.CONFIRMED,
            Booking.start_at <= now + CHECKIN_LEAD,
            Booking.end_at > now,
        )
        .order_by(Booking.start_at)
    ).first()
    if booking is None or not uses_check_in(booking.asset):
        return None
    return booking


def release_no_shows(session: Session, now: dt.datetime) -> int:
    """Scheduler job (every minute): confirmed bookings of assets that release no-shows, not
    checked in within the asset's N minutes of their start, become no-shows. A no-show holds
    nothing, so the time is free again: the holder is told, and the time is offered to its
    waitlist. Returns how many bookings were released."""
    with atomic(session):
        candidates = session.scalars(
            select(Booking)
            .join(Booking.asset)
            .options(joinedload(Booking.asset), joinedload(Booking.requester))
            .where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.checked_in_at.is_(None),
                Booking.start_at <= now,
                Asset.no_show_release_minutes.is_not(None),
                Asset.portable.is_(False),
            )
            .order_by(Booking.start_at, Booking.id)
            .with_for_update(of=Booking, skip_locked=True)  # one being checked in right now is left alone
        ).all()
        released = 0
        for booking in candidates:
            minutes = booking.asset.no_show_release_minutes
            if booking.start_at + dt.timedelta(minutes=minutes) > now:
                continue
            asset = booking.asset
            change_status(
                booking,
                BookingStatus.NO_SHOW,
                None,
                f"Not checked in within {minutes} minutes of its start.",
                now,
            )
            notify(
                session,
                booking.requester,
                "no_show_released",
                f"Your booking of {asset.name} was released",
                f"You did not check in to your booking of {asset.name} ({format_local(booking.start_at)} to "
                f"{format_local(booking.end_at, '%H:%M')}) within {minutes} minutes of its start, so the time "
                "was released for others. Book again if you still need it.",
                _booking_link(booking),
                dedupe_key=f"no-show-{booking.id}",
            )
            offer_freed_slot(session, asset.id, booking.start_at, booking.blocked_until, now)
            released += 1
        return released


def complete_checked_in(session: Session, now: dt.datetime) -> int:
    """Checked-in bench bookings whose time is over become completed (loans, which were handed
    over, stay out until they are returned). Returns how many were completed."""
    with atomic(session):
        finished = session.scalars(
            select(Booking).where(
                Booking.status == BookingStatus.CHECKED_OUT,
                Booking.handed_over_at.is_(None),
                Booking.end_at <= now,
            )
        ).all()
        for booking in finished:
            change_status(booking, BookingStatus.COMPLETED, None, "Booking time ended.", now)
        return len(finished)


# --- What a booking's page offers --------------------------------------------------------------


@dataclass
class AroundBooking:
    """The custody and presence actions a booking's page offers the viewer, and its warnings."""

    can_check_in: bool = False
    check_in_opens_at: dt.datetime | None = None  # set when check-in applies but is not open yet
    can_hand_over: bool = False
    hand_over_opens_at: dt.datetime | None = None
    can_return: bool = False
    is_overdue: bool = False
    overdue_before: Booking | None = None  # an overdue loan that should be back before this one


def around_booking(session: Session, viewer: User, booking: Booking, now: dt.datetime) -> AroundBooking:
    asset = booking.asset
    manages = viewer.manages(asset.school_id)
    result = AroundBooking(overdue_before=overdue_loan_before(session, booking, now))
    running = booking.status == BookingStatus.CONFIRMED and now < booking.end_at
    if running and uses_check_in(asset) and (booking.requester_id == viewer.id or manages):
        opens = booking.start_at - CHECKIN_LEAD
        result.can_check_in = now >= opens
        result.check_in_opens_at = None if result.can_check_in else opens
    if running and asset.portable and manages:
        opens = booking.start_at - HANDOVER_LEAD
        result.can_hand_over = now >= opens
        result.hand_over_opens_at = None if result.can_hand_over else opens
    if booking.status == BookingStatus.CHECKED_OUT and booking.handed_over_at is not None:
        result.can_return = manages
        result.is_overdue = booking.end_at < now
    return result
