"""Demand that was never refused, but was not met either: unmet demand too (issue 15).

* A **request not decided in time**: a pending request whose start passes with no decision
  lapses. It becomes ``BookingStatus.LAPSED`` (it can no longer be approved or rejected, and it
  is not a manager's rejection) and is recorded as unmet demand with the reason
  ``not_decided`` ("Not decided in time"). It is not demand turned away for want of free time.
* A **waitlist place never served**: a place whose time has passed without its person getting
  a booking of that time (never offered it: an offer that ran out showed the time was free) is
  recorded with the reason ``waitlisted`` ("Waitlisted, never served"), which is capacity
  demand (``reports.aggregate.CAPACITY_REASONS``). The person was usually refused for the clash
  first (a refusal for "overlap" of exactly that time, recorded when they asked): that row
  becomes the waitlisted one, so the same wish is never counted twice.

``record_lapsed_demand`` does both, once for each booking and each waitlist place (the booking's
status and ``UnmetDemand.waitlist_entry_id``, unique, say it is done); the scheduler runs it
every few minutes (``record-lapsed-demand``). Managers see how many of their Schools' requests
lapsed (``lapsed_requests``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.models import (
    Booking,
    BookingStatus,
    DemandSource,
    UnmetDemand,
    WaitlistEntry,
    WaitlistStatus,
)
from bookings.notices import notify_lapsed
from bookings.service import change_status, record_unmet_demand
from core.db import atomic
from inventory.models import Asset

#: Why a lapsed request's history says it ended.
LAPSE_REASON = "Not decided before its start."
#: The reason codes of the demand recorded here (reports.figures.REASON_LABELS names them).
NOT_DECIDED = "not_decided"
WAITLISTED = "waitlisted"
#: Bookings that mean the person got the time they waited for.
_SERVED = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
#: How far back the managers' count of lapsed requests looks, in days.
LAPSED_DAYS = 30


@dataclass(frozen=True)
class Recorded:
    lapsed_requests: int
    waitlist_places: int

    def __bool__(self) -> bool:
        return bool(self.lapsed_requests or self.waitlist_places)

    def __str__(self) -> str:
        return f"{self.lapsed_requests} requests not decided in time, {self.waitlist_places} waitlist places never served"


def record_lapsed_demand(session: Session, now: dt.datetime) -> Recorded:
    """Scheduler job: pending requests whose start has passed lapse and become unmet demand
    "not decided in time"; waitlist places whose time has passed, never offered and never
    booked, become unmet demand "waitlisted, never served". Each booking and each place is
    recorded once, however often this runs. A command: its own unit of work (``core/db.py``).
    The scheduler calls it bare."""

    with atomic(session):
        lapsing = session.scalars(
            select(Booking)
            .where(Booking.status == BookingStatus.PENDING, Booking.start_at <= now)
            .order_by(Booking.start_at, Booking.id)
            .with_for_update(skip_locked=True, of=Booking)  # one being decided right now is left alone
        ).all()
        for booking in lapsing:
            change_status(booking, BookingStatus.LAPSED, None, LAPSE_REASON, now)
            notify_lapsed(session, booking)
            already = session.scalar(
                select(UnmetDemand.id).where(
                    UnmetDemand.booking_id == booking.id, UnmetDemand.source == DemandSource.LAPSED
                )
            )
            if already is None:
                record_unmet_demand(
                    session,
                    booking.requester,
                    booking.asset_id,
                    booking.start_at,
                    booking.end_at,
                    DemandSource.LAPSED,
                    [NOT_DECIDED],
                    booking.id,
                    requester_school_id=booking.requester_school_id,
                )
        session.flush()

        served = exists().where(
            Booking.requester_id == WaitlistEntry.user_id,
            Booking.asset_id == WaitlistEntry.asset_id,
            Booking.start_at < WaitlistEntry.end_at,
            Booking.end_at > WaitlistEntry.start_at,
            Booking.status.in_(_SERVED),
        )
        recorded = exists().where(UnmetDemand.waitlist_entry_id == WaitlistEntry.id)
        places = session.scalars(
            select(WaitlistEntry)
            .options(joinedload(WaitlistEntry.user))
            .where(
                WaitlistEntry.status.in_((WaitlistStatus.WAITING, WaitlistStatus.EXPIRED)),
                WaitlistEntry.end_at <= now,
                WaitlistEntry.offered_at.is_(None),
                WaitlistEntry.booking_id.is_(None),
                ~served,
                ~recorded,
            )
            .order_by(WaitlistEntry.start_at, WaitlistEntry.id)
        ).all()
        for entry in places:
            _record_waitlisted(session, entry)
        session.flush()
        return Recorded(len(lapsing), len(places))


def _record_waitlisted(session: Session, entry: WaitlistEntry) -> None:
    refusal = next(
        (
            row
            for row in session.scalars(
                select(UnmetDemand)
                .where(
                    UnmetDemand.requester_id == entry.user_id,
                    UnmetDemand.asset_id == entry.asset_id,
                    UnmetDemand.start_at == entry.start_at,
                    UnmetDemand.end_at == entry.end_at,
                    UnmetDemand.source == DemandSource.REFUSED,
                    UnmetDemand.waitlist_entry_id.is_(None),
                )
                .order_by(UnmetDemand.created_at.desc(), UnmetDemand.id.desc())
            )
            if list(row.reasons or []) == ["overlap"]
        ),
        None,
    )
    if refusal is not None:
        refusal.source = DemandSource.WAITLISTED
        refusal.reasons = [WAITLISTED]
        refusal.waitlist_entry_id = entry.id
        return

    record_unmet_demand(
        session,
        entry.user,
        entry.asset_id,
        entry.start_at,
        entry.end_at,
        DemandSource.WAITLISTED,
        [WAITLISTED],
        waitlist_entry_id=entry.id,
    )


@dataclass(frozen=True)
class LapsedRequests:
    """The requests of a manager's Schools that lapsed undecided in the last ``days`` days."""

    count: int
    days: int
    latest: list[Booking]  # the most recent first, at most ``limit`` of them


def lapsed_requests(
    session: Session, manager: User, now: dt.datetime, days: int = LAPSED_DAYS, limit: int = 20
) -> LapsedRequests:
    """How many requests for the assets of the Schools ``manager`` manages (every School for an
    admin) lapsed undecided with a start in the last ``days`` days, and the latest of them."""
    since = now - dt.timedelta(days=days)
    conditions = [Booking.status == BookingStatus.LAPSED, Booking.start_at >= since, Booking.start_at <= now]
    if not manager.is_admin:
        conditions.append(Asset.school_id.in_(manager.managed_school_ids))
    count = (
        session.scalar(
            select(func.count(Booking.id))
            .select_from(Booking)
            .join(Asset, and_(Asset.id == Booking.asset_id))
            .where(*conditions)
        )
        or 0
    )
    latest = list(
        session.scalars(
            select(Booking)
            .join(Booking.asset)
            .options(joinedload(Booking.asset).joinedload(Asset.school), joinedload(Booking.requester))
            .where(*conditions)
            .order_by(Booking.start_at.desc(), Booking.id.desc())
            .limit(limit)
        ).unique()
    )
    return LapsedRequests(count=int(count), days=days, latest=latest)
