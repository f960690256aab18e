"""Rules of a booking's life. The booking issue adds requests, conflicts and approvals here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from bookings.models import Booking, BookingStatus, BookingStatusChange
from db import utcnow


def change_status(
    booking: Booking, to_status: BookingStatus, by: User | None, reason: str = "", at: dt.datetime | None = None
) -> None:
    """Move a booking to a new status and keep the step in its history."""
    at = at or utcnow()
    booking.history.append(
        BookingStatusChange(from_status=booking.status, to_status=to_status, by=by, at=at, reason=reason)
    )
    booking.status = to_status


def complete_finished(session: Session, now: dt.datetime) -> int:
    """Confirmed bookings whose time is over become completed. Loans stay checked out until
    they are returned. Returns how many bookings were completed."""
    finished = session.scalars(
        select(Booking).where(Booking.status == BookingStatus.CONFIRMED, Booking.end_at <= now)
    ).all()
    for booking in finished:
        change_status(booking, BookingStatus.COMPLETED, by=None, reason="Booking time ended.", at=now)
    return len(finished)
