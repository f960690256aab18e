"""Arranging the stories of issue 14 points 3 to 5 (an asset stops being available) on the demo:
a CHEM asset with a free day, bookings on it made as the booking pages would store them, and
a real API token made with the ``create-token`` command."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, BookingStatusChange
from core.db import utcnow
from core.timeutil import local_to_utc, to_local
from inventory.models import Asset, AssetStatus, MaintenanceWindow, School
from notifications.models import Notification


def person(session: Session, demo, name: str) -> User:
    return session.scalar(select(User).where(func.lower(User.email) == demo.email(name).lower()))


def chem_asset(session: Session, skip: tuple[int, ...] = ()) -> Asset:
    """An available, bookable CHEM asset open on weekdays from 09:00 to 17:00 at least."""
    candidates = session.scalars(
        select(Asset)
        .join(Asset.school)
        .where(
            School.code == "CHEM",
            Asset.status == AssetStatus.AVAILABLE,
            Asset.bookable.is_(True),
            Asset.portable.is_(False),
            Asset.id.not_in(skip or (0,)),
        )
        .order_by(Asset.id)
    )
    for asset in candidates:
        days = {h.weekday for h in asset.bookable_hours if h.opens <= dt.time(9) and h.closes >= dt.time(17)}
        if set(range(5)) <= days:
            return asset
    raise AssertionError("The demo has no CHEM asset open 09:00-17:00 on weekdays")


def free_day(session: Session, asset: Asset, after_days: int = 21) -> dt.date:
    """The first weekday from ``after_days`` ahead on which nothing holds ``asset`` or maintains it."""
    day = to_local(utcnow()).date() + dt.timedelta(days=after_days)
    while True:
        if day.weekday() < 5:
            start, end = at(day, 0), at(day, 23, 59)
            busy = session.scalar(
                select(func.count())
                .select_from(Booking)
                .where(
                    Booking.asset_id == asset.id,
                    Booking.status.in_(ACTIVE_STATUSES + (BookingStatus.PENDING,)),
                    Booking.start_at < end,
                    Booking.blocked_until > start,
                )
            ) or session.scalar(
                select(func.count())
                .select_from(MaintenanceWindow)
                .where(
                    MaintenanceWindow.asset_id == asset.id,
                    MaintenanceWindow.start_at < end,
                    MaintenanceWindow.end_at > start,
                )
            )
            if not busy:
                return day
        day += dt.timedelta(days=1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A local wall-clock time on ``day``, in UTC."""
    return local_to_utc(dt.datetime.combine(day, dt.time(hour, minute)))


def book(
    session: Session, asset: Asset, holder: User, start_at: dt.datetime, hours: int, status: BookingStatus
) -> Booking:
    """A booking as the booking service stores it (with its first history step), committed."""
    booking = Booking(
        asset=asset,
        requester=holder,
        requester_school_id=holder.home_school_id,
        start_at=start_at,
        end_at=start_at + dt.timedelta(hours=hours),
        blocked_until=start_at + dt.timedelta(hours=hours, minutes=asset.turnaround_minutes),
        purpose="Story test",
        status=status,
    )
    booking.history.append(BookingStatusChange(from_status=None, to_status=status, by=holder, at=utcnow()))
    session.add(booking)
    session.commit()
    return booking


def see_committed(session: Session) -> None:
    session.rollback()
    session.expire_all()


def notices(session: Session, user: User, booking: Booking, event: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.event == event,
                Notification.link.like(f"%/bookings/{booking.id}"),
            )
        )
    )


def api_token(demo, name: str) -> str:
    """A personal API token for the demo person, made the documented way (``flask create-token``)."""
    result = demo.app.test_cli_runner().invoke(args=["create-token", demo.email(name), "--name", "Story"])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def api(demo, token: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One real HTTP request to the served API; the status and the JSON answer."""
    request = urllib.request.Request(
        demo.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def hours_body(hours: list[list]) -> list[dict]:
    """[[weekday, "HH:MM", "HH:MM"], ...] as the API's weekly_hours."""
    return [{"weekday": day, "opens": opens, "closes": closes} for day, opens, closes in hours]


def hours_of(session: Session, asset_id: int) -> list[list]:
    """The asset's weekly hours as stored, as sorted [weekday, "HH:MM", "HH:MM"] lists."""
    from inventory.models import BookableHours

    return sorted(
        [h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}"]
        for h in session.scalars(select(BookableHours).where(BookableHours.asset_id == asset_id))
    )
