"""An asset's days laid out for people: bookable hours, and what is busy within them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.availability import BLOCKING_STATUSES, booked_in, maintenance_in, overlaps, weekly_hours
from bookings.models import Booking, BookingStatus
from bookings.policy import may_see_holder
from core.db import utcnow
from core.timeutil import local_day_bounds
from inventory.models import Asset, MaintenanceWindow

#: Bookings that have happened: shown on the days they took, up to when the asset came free.
HISTORY_STATUSES = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@dataclass
class BusyPeriod:
    start_at: dt.datetime
    end_at: dt.datetime
    kind: str  # "booking", "pending", "maintenance"
    label: str  # what this viewer may see


@dataclass
class CalendarDay:
    date: dt.date
    opening: list[tuple[dt.time, dt.time]]
    busy: list[BusyPeriod] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return bool(self.opening)


def _label(viewer: User, booking: Booking) -> str:
    who = booking.requester.name if may_see_holder(viewer, booking) else None
    if booking.status == BookingStatus.PENDING:
        return (
            f"requested by {who}, awaiting approval"
            if who
            else "another request awaiting approval (still free)"
        )
    if booking.status in HISTORY_STATUSES:
        return f"{who or 'Booked'} ({booking.status.label.lower()})"
    return who or "Booked"


def _held_until(booking: Booking, now: dt.datetime) -> dt.datetime:
    """Where a booking's busy time ends on the calendar: a loan returned early, or a booking
    released as a no-show, stopped holding the asset then (never later than ``now``)."""
    if booking.status not in HISTORY_STATUSES:
        return booking.end_at
    return min(booking.end_at, booking.returned_at or booking.end_at, max(now, booking.start_at))


def asset_days(
    session: Session,
    viewer: User,
    asset: Asset,
    first_day: dt.date,
    days: int = 14,
    now: dt.datetime | None = None,
) -> list[CalendarDay]:
    """``days`` local days from ``first_day``: the asset's bookable hours on each, and the active
    bookings, pending requests and maintenance windows that fall in it. Days gone by show the
    bookings that took place (completed, or not turned up to) as well, so the past reads as it
    was rather than as free time."""
    now = now or utcnow()
    start, _ = local_day_bounds(first_day)
    _, end = local_day_bounds(first_day + dt.timedelta(days=days - 1))
    bookings = session.scalars(
        select(Booking)
        .options(joinedload(Booking.requester))  # (their asset is ``asset``, already in the session)
        .where(
            booked_in(asset.id, start, end),
            Booking.status.in_((*BLOCKING_STATUSES, BookingStatus.PENDING, *HISTORY_STATUSES)),
        )
        .order_by(Booking.start_at)
    ).all()
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(maintenance_in(asset.id, start, end))
        .order_by(MaintenanceWindow.start_at)
    ).all()
    periods = [
        BusyPeriod(
            b.start_at,
            _held_until(b, now),
            "pending" if b.status == BookingStatus.PENDING else "booking",
            _label(viewer, b),
        )
        for b in bookings
    ] + [
        BusyPeriod(
            w.start_at, w.end_at, "maintenance", f"Maintenance: {w.reason}" if w.reason else "Maintenance"
        )
        for w in windows
    ]
    periods.sort(key=lambda p: p.start_at)

    hours_by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for weekday, opens, closes in weekly_hours(asset):
        hours_by_day.setdefault(weekday, []).append((opens, closes))
    calendar = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        day_start, day_end = local_day_bounds(day)
        calendar.append(
            CalendarDay(
                date=day,
                opening=hours_by_day.get(day.weekday(), []),
                busy=[p for p in periods if overlaps((p.start_at, p.end_at), (day_start, day_end))],
            )
        )
    return calendar


def week_containing(day: dt.date) -> dt.date:
    """The Monday that starts the week ``day`` is in: weeks run Monday to Sunday, so a Sunday
    belongs to the week that began six days before it."""
    return day - dt.timedelta(days=day.weekday())
