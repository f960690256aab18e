"""An asset's days laid out for people: bookable hours, and what is busy within them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from inventory.models import Asset, MaintenanceWindow
from timeutil import local_day_bounds, local_zone


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


def may_see_requester(viewer: User, booking: Booking) -> bool:
    """Who booked is shown to the requester, the owning School's managers and admins only."""
    return booking.requester_id == viewer.id or viewer.manages(booking.asset.school_id)


def _label(viewer: User, booking: Booking) -> str:
    who = booking.requester.name if may_see_requester(viewer, booking) else None
    if booking.status == BookingStatus.PENDING:
        return f"requested by {who}, awaiting approval" if who else "another request awaiting approval (still free)"
    return who or "Booked"


def asset_days(session: Session, viewer: User, asset: Asset, first_day: dt.date, days: int = 14) -> list[CalendarDay]:
    """``days`` local days from ``first_day``: the asset's bookable hours on each, and the active
    bookings, pending requests and maintenance windows that fall in it."""
    start, _ = local_day_bounds(first_day)
    _, end = local_day_bounds(first_day + dt.timedelta(days=days - 1))
    bookings = session.scalars(
        select(Booking)
        .options(joinedload(Booking.requester))  # (their asset is ``asset``, already in the session)
        .where(
            Booking.asset_id == asset.id,
            Booking.status.in_((*ACTIVE_STATUSES, BookingStatus.PENDING)),
            Booking.start_at < end,
            Booking.end_at > start,
        )
        .order_by(Booking.start_at)
    ).all()
    windows = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.asset_id == asset.id, MaintenanceWindow.start_at < end, MaintenanceWindow.end_at > start)
        .order_by(MaintenanceWindow.start_at)
    ).all()
    periods = [
        BusyPeriod(
            b.start_at,
            b.end_at,
            "pending" if b.status == BookingStatus.PENDING else "booking",
            _label(viewer, b),
        )
        for b in bookings
    ] + [BusyPeriod(w.start_at, w.end_at, "maintenance", f"Maintenance: {w.reason}" if w.reason else "Maintenance") for w in windows]
    periods.sort(key=lambda p: p.start_at)

    hours_by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for hours in asset.bookable_hours:
        hours_by_day.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    calendar = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        day_start, day_end = local_day_bounds(day)
        calendar.append(
            CalendarDay(
                date=day,
                opening=sorted(hours_by_day.get(day.weekday(), [])),
                busy=[p for p in periods if p.start_at < day_end and p.end_at > day_start],
            )
        )
    return calendar


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(local_zone()).date()
