"""Waitlists: wait for a taken slot, and be offered it, first come first served, when it frees.

A person joins only when the time is taken by another booking (a free time is simply booked;
a time refused for any other reason would not be helped by waiting). When a slot frees (a
cancellation, a rejection, a no-show release, or an offer running out) the oldest waiting entry
whose time can now be booked under every rule is offered it, in the app and by e-mail, until
``offer_expires_at``. While an offer is open nobody else is offered an overlapping time; accepting
books it through ``request_booking`` (so every rule applies, and other Schools' kit stays a
request). An offer that runs out passes to the next person waiting.

An offer does not stop someone booking the time directly meanwhile: accepting then fails with the
usual refusal and the person keeps their place.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.models import Booking, DemandSource, WaitlistEntry, WaitlistStatus
from bookings.rules import SLOT_STEP, BookingRefused, check_booking
from core.config import Config, site_url
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotFound
from core.timeutil import format_local
from inventory.models import Asset
from notifications.service import notify

DEFAULT_OFFER_MINUTES = Config.KITSHARE_WAITLIST_OFFER_MINUTES  # the default lives in core.config
OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)

# How long an offer stays open (KITSHARE_WAITLIST_OFFER_MINUTES). Process-wide, like the
# university's zone: one policy per deployment, set by ``create_app``. A freed slot is offered
# from deep inside every command that frees time (cancel, reject, an asset's status change, a
# loan's return), so handing the value down each of them would thread it through them all.
_offer_minutes = DEFAULT_OFFER_MINUTES


def configure_offer_window(minutes: int) -> None:
    global _offer_minutes
    _offer_minutes = minutes


def offer_window() -> dt.timedelta:
    """How long an offer stays open: KITSHARE_WAITLIST_OFFER_MINUTES, two hours by default."""
    return dt.timedelta(minutes=_offer_minutes)


def _ceil_to_step(moment: dt.datetime) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return epoch + -(-(moment - epoch) // SLOT_STEP) * SLOT_STEP


def offer_interval(entry: WaitlistEntry, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
    """The time an entry can still be booked: all of it, or, once it has started, the rest of
    it from the next quarter hour. None when nothing is left."""
    start = max(entry.start_at, _ceil_to_step(now))
    if start >= entry.end_at:
        return None
    return start, entry.end_at


def _describe(start_at: dt.datetime, end_at: dt.datetime) -> str:
    return f"{format_local(start_at)} to {format_local(end_at, '%H:%M')}"


def join_waitlist(
    session: Session,
    user: User,
    asset_id: int,
    start_at: dt.datetime,
    end_at: dt.datetime,
    purpose: str,
    now: dt.datetime,
) -> WaitlistEntry:
    """Wait for a time another booking holds. Refused when the time is free (book it instead),
    when a rule other than the clash refuses it (waiting would not help), or when the person
    already waits for an overlapping time of the same asset. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        purpose = (purpose or "").strip()
        if not purpose:
            raise InvalidInput(field_errors={"purpose": ["Say what the booking is for."]})
        asset = session.get(Asset, asset_id)
        if asset is None:
            raise NotFound("There is no such asset.")
        violations, conflicts = check_booking(session, user, asset, start_at, end_at, now)
        if not violations:
            raise InvalidInput("That time is free: book it instead of waiting.")
        others = [v.message for v in violations if v.code != "overlap"]
        if others:
            raise InvalidInput("Waiting would not help: " + " ".join(others))
        held_by = [c.booking_id for c in conflicts if c.kind == "booking" and c.booking_id is not None]
        if held_by and session.scalar(
            select(Booking.id).where(Booking.id.in_(held_by), Booking.requester_id == user.id).limit(1)
        ):
            raise InvalidInput("You have booked that time yourself.")
        already = session.scalar(
            select(WaitlistEntry.id)
            .where(
                WaitlistEntry.user_id == user.id,
                WaitlistEntry.asset_id == asset.id,
                WaitlistEntry.status.in_(OPEN_STATUSES),
                WaitlistEntry.start_at < end_at,
                WaitlistEntry.end_at > start_at,
            )
            .limit(1)
        )
        if already:
            raise InvalidInput("You are already on the waitlist for this time.")
        entry = WaitlistEntry(
            asset_id=asset.id,
            user_id=user.id,
            start_at=start_at,
            end_at=end_at,
            purpose=purpose,
            status=WaitlistStatus.WAITING,
            created_at=now,
        )
        session.add(entry)
        session.flush()
        return entry


def _open_offers(session: Session, asset_id: int, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    return [
        (start, end)
        for start, end in session.execute(
            select(WaitlistEntry.start_at, WaitlistEntry.end_at).where(
                WaitlistEntry.asset_id == asset_id,
                WaitlistEntry.status == WaitlistStatus.OFFERED,
                WaitlistEntry.offer_expires_at > now,
            )
        )
    ]


def offer_freed_slot(
    session: Session, asset_id: int, start_at: dt.datetime, end_at: dt.datetime, now: dt.datetime
) -> list[WaitlistEntry]:
    """Offer a freed time of an asset to its waitlist: the oldest waiting entry overlapping it
    whose time can now be booked under every rule, then any later ones that do not overlap an
    open offer. Each is told, with a link to accept, and has until ``now`` plus the offer window
    (or the end of its time, if sooner). Returns the entries offered."""
    asset = session.get(Asset, asset_id)
    if asset is None:
        return []
    waiting = session.scalars(
        select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.user))
        .where(
            WaitlistEntry.asset_id == asset_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.start_at < end_at,
            WaitlistEntry.end_at > start_at,
            WaitlistEntry.end_at > now,
        )
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    if not waiting:
        return []
    held = _open_offers(session, asset_id, now)
    offered = []
    for entry in waiting:
        interval = offer_interval(entry, now)
        if interval is None:
            continue
        if any(start < interval[1] and end > interval[0] for start, end in held):
            continue  # someone before them has been offered this time and may still take it
        violations, _ = check_booking(session, entry.user, asset, *interval, now)
        if violations:
            continue
        _offer(session, entry, asset, interval, now)
        held.append((entry.start_at, entry.end_at))
        offered.append(entry)
    return offered


def _offer(
    session: Session,
    entry: WaitlistEntry,
    asset: Asset,
    interval: tuple[dt.datetime, dt.datetime],
    now: dt.datetime,
) -> None:

    entry.status = WaitlistStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = min(now + offer_window(), entry.end_at)
    notify(
        session,
        entry.user,
        "waitlist_offer",
        f"{asset.name} is free for the time you wanted",
        f"{asset.name} ({asset.tag}) is now free {_describe(*interval)}. It is held for you until "
        f"{format_local(entry.offer_expires_at)}: accept it on your waitlist page before then, or it is "
        "offered to the next person waiting.",
        site_url("/waitlist"),
        dedupe_key=f"waitlist-offer-{entry.id}-{now.isoformat()}",
    )


def _own_entry(session: Session, user: User, entry_id: int, lock: bool = False) -> WaitlistEntry:
    query = select(WaitlistEntry).options(joinedload(WaitlistEntry.asset)).where(WaitlistEntry.id == entry_id)
    if lock:
        query = query.with_for_update(of=WaitlistEntry)
    entry = session.scalar(query)
    if entry is None or entry.user_id != user.id:
        raise NotFound("There is no such waitlist entry, or it is not yours.")
    return entry


def accept_offer(session: Session, user: User, entry_id: int, now: dt.datetime | None = None) -> Booking:
    """The person offered a time takes it before the offer runs out: it is booked through
    ``request_booking`` (every rule applies; pending where approval is needed). If it cannot be
    booked after all, the refusal is raised, the person keeps their place in the queue, and the
    time is offered to whoever can book it. Owns its transaction."""
    # bookings.service imports this module at its top (a cancellation offers the freed slot to the
    # waitlist); an accepted offer is booked through request_booking, so every booking rule applies
    # to it too. The two commands are one workflow, so the cycle is broken here, not split further.
    from bookings.service import record_unmet_demand, request_booking

    now = now or utcnow()
    try:
        with atomic(session, user):
            entry = _own_entry(session, user, entry_id, lock=True)
            if entry.status != WaitlistStatus.OFFERED:
                raise InvalidInput(
                    f"There is no open offer here: this place is {entry.status.label.lower()}."
                )
            if entry.offer_expires_at is None or entry.offer_expires_at <= now:
                raise InvalidInput(
                    f"This offer ran out at {format_local(entry.offer_expires_at)}; the time was offered to the next person."
                )
            interval = offer_interval(entry, now)
            if interval is None:
                raise InvalidInput("The time you were waiting for has passed.")
            booking = request_booking(session, user, entry.asset_id, *interval, entry.purpose, now)
            entry.status = WaitlistStatus.ACCEPTED
            entry.booking_id = booking.id
        return booking
    except BookingRefused as refusal:
        with atomic(session, user):
            entry = _own_entry(session, user, entry_id)
            if entry.status == WaitlistStatus.OFFERED:
                entry.status = WaitlistStatus.WAITING
                entry.offered_at = entry.offer_expires_at = None
            interval = offer_interval(entry, now) or (entry.start_at, entry.end_at)
            record_unmet_demand(session, user, entry.asset_id, *interval, DemandSource.REFUSED, refusal.codes)
            offer_freed_slot(session, entry.asset_id, entry.start_at, entry.end_at, now)
        raise


def leave_waitlist(session: Session, user: User, entry_id: int, now: dt.datetime) -> WaitlistEntry:
    """The person stops waiting (or declines an offer, which passes to the next person).
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        entry = _own_entry(session, user, entry_id, lock=True)
        if entry.status not in OPEN_STATUSES:
            raise InvalidInput(
                f"You are no longer waiting for this time: it is {entry.status.label.lower()}."
            )
        was_offered = entry.status == WaitlistStatus.OFFERED
        entry.status = WaitlistStatus.CANCELLED
        session.flush()
        if was_offered:
            offer_freed_slot(session, entry.asset_id, entry.start_at, entry.end_at, now)
        return entry


def expire_offers(session: Session, now: dt.datetime) -> int:
    """Scheduler job (every minute): offers not accepted in time expire and pass to the next
    person waiting; entries whose time has passed stop waiting. Returns the offers expired.
    A command: its own unit of work (``core/db.py``). The scheduler calls it bare."""
    with atomic(session):
        for entry in session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.status.in_(OPEN_STATUSES), WaitlistEntry.end_at <= now)
        ):
            entry.status = WaitlistStatus.EXPIRED
        session.flush()
        lapsed = session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.status == WaitlistStatus.OFFERED, WaitlistEntry.offer_expires_at <= now)
            .order_by(WaitlistEntry.offer_expires_at, WaitlistEntry.id)
            .with_for_update(skip_locked=True)  # one being accepted right now is left alone
        ).all()
        for entry in lapsed:
            entry.status = WaitlistStatus.EXPIRED
        session.flush()
        for entry in lapsed:
            offer_freed_slot(session, entry.asset_id, entry.start_at, entry.end_at, now)
        return len(lapsed)


def my_waitlist(session: Session, user: User, now: dt.datetime) -> dict[str, list[WaitlistEntry]]:
    """The person's open offers, what they wait for, and the last 20 closed entries."""
    base = (
        select(WaitlistEntry)
        .options(joinedload(WaitlistEntry.asset).joinedload(Asset.school))
        .where(WaitlistEntry.user_id == user.id)
    )
    return {
        "offered": list(
            session.scalars(
                base.where(
                    WaitlistEntry.status == WaitlistStatus.OFFERED, WaitlistEntry.offer_expires_at > now
                ).order_by(WaitlistEntry.offer_expires_at)
            )
        ),
        "waiting": list(
            session.scalars(
                base.where(
                    WaitlistEntry.status == WaitlistStatus.WAITING, WaitlistEntry.end_at > now
                ).order_by(WaitlistEntry.start_at)
            )
        ),
        "closed": list(
            session.scalars(
                base.where(WaitlistEntry.status.not_in(OPEN_STATUSES))
                .order_by(WaitlistEntry.created_at.desc(), WaitlistEntry.id.desc())
                .limit(20)
            )
        ),
    }
