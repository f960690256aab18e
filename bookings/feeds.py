"""iCalendar (RFC 5545) feeds: a person's bookings, and an asset's busy times.

Calendar programs (Outlook, Google Calendar, Apple Calendar) subscribe to a URL and cannot sign
in, so each feed's URL carries a secret token: ``User.calendar_token`` for a person's feed,
``Asset.calendar_token`` for an asset's. Resetting a token makes the old URL answer 404.

What a feed holds (``FEED_HISTORY`` = 90 days):

* a person's feed: their bookings that end after 90 days ago, in any status. Pending ones are
  TENTATIVE; confirmed, checked-out and completed ones CONFIRMED; cancelled, rejected, lapsed
  (not decided in time) and released (no-show) ones are sent as STATUS:CANCELLED, so calendar
  programs remove them.
* an asset's feed: the same window of the asset's bookings, as busy time only: "Booked" or
  "Requested", never who booked it or why (everyone signed in may see this URL).

Each event keeps its UID (``booking-<id>@<host>``) for the booking's whole life and its SEQUENCE
counts the booking's status changes, so a client updates the event rather than adding another.
Times are written in UTC (``...Z``); the client shows them in its own zone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User, new_session_token
from accounts.permissions import require_school_manager
from bookings.models import Booking, BookingStatus, BookingStatusChange
from core.bounds import has_nul
from core.db import atomic
from core.errors import NotFound
from inventory.models import Asset

FEED_HISTORY = dt.timedelta(days=90)
#: How often we ask calendar programs to fetch the feed again.
REFRESH_INTERVAL = dt.timedelta(hours=1)
PRODID = "-//Kitshare//Kitshare bookings//EN"

#: A booking's status as an iCalendar STATUS.
ICAL_STATUS = {
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CONFIRMED: "CONFIRMED",
    BookingStatus.CHECKED_OUT: "CONFIRMED",
    BookingStatus.COMPLETED: "CONFIRMED",
    BookingStatus.CANCELLED: "CANCELLED",
    BookingStatus.REJECTED: "CANCELLED",
    BookingStatus.NO_SHOW: "CANCELLED",
    BookingStatus.LAPSED: "CANCELLED",
}

_MIN_TOKEN_LENGTH = 20


# --- Tokens -------------------------------------------------------------------------------------


def user_for_token(session: Session, token: str) -> User:
    """The active person whose feed token this is, or NotFound (a reset or made-up token)."""
    user = None
    if len(token or "") >= _MIN_TOKEN_LENGTH and not has_nul(token):  # PostgreSQL cannot compare NUL
        user = session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.active:
        raise NotFound("There is no calendar feed at this address. Its owner may have reset it.")
    return user


def asset_for_token(session: Session, token: str) -> Asset:
    """The asset whose feed token this is, or NotFound."""
    asset = None
    if len(token or "") >= _MIN_TOKEN_LENGTH and not has_nul(token):
        asset = session.scalar(select(Asset).where(Asset.calendar_token == token))
    if asset is None:
        raise NotFound("There is no calendar feed at this address. A manager may have reset it.")
    return asset


def reset_user_token(session: Session, user: User) -> str:
    """Give the person's feed a new secret address; the old address stops working at once.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        user.calendar_token = new_session_token()
        session.flush()
        return user.calendar_token


def reset_asset_token(session: Session, actor: User, asset_id: int) -> Asset:
    """A manager of the owning School (or an admin) gives the asset's feed a new address.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        asset = session.get(Asset, asset_id)
        if asset is None:
            raise NotFound("There is no such asset.")
        require_school_manager(actor, asset.school_id)
        asset.calendar_token = secrets.token_urlsafe(32)
        session.flush()
        return asset


def webcal_url(url: str) -> str:
    """The same feed as a webcal:// link, which opens the person's calendar program to subscribe."""
    return "webcal://" + url.split("://", 1)[1] if "://" in url else url


# --- Calendars ----------------------------------------------------------------------------------


def _host(base_url: str) -> str:
    return urlsplit(base_url).hostname or "kitshare"


def _calendar(name: str, description: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)  # RFC 7986
    calendar.add("x-wr-calname", name)  # what Outlook and Google read
    calendar.add("x-wr-caldesc", description)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    return calendar


def _place(asset: Asset) -> str:
    location = asset.location
    if location is None:
        return asset.school.name
    return f"{location.building}, {location.room}, {location.site}"


def _window(session: Session, now: dt.datetime, *criteria) -> list[tuple[Booking, int]]:
    """Bookings matching ``criteria`` that end after FEED_HISTORY ago, with their number of
    status changes, soonest first."""
    changes = (
        select(func.count(BookingStatusChange.id))
        .where(BookingStatusChange.booking_id == Booking.id)
        .correlate(Booking)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Booking, changes)
        .options(
            joinedload(Booking.asset).joinedload(Asset.location),
            joinedload(Booking.asset).joinedload(Asset.school),
        )
        .where(Booking.end_at > now - FEED_HISTORY, *criteria)
        .order_by(Booking.start_at, Booking.id)
    ).all()
    return [(booking, count) for booking, count in rows]


def _event(
    booking: Booking, history_rows: int, now: dt.datetime, uid: str, summary: str, url: str, description: str
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("created", booking.created_at)
    event.add("last-modified", booking.updated_at)
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    event.add("summary", summary)
    event.add("location", _place(booking.asset))
    event.add("description", description)
    event.add("url", url)
    event.add("status", ICAL_STATUS[booking.status])
    event.add("sequence", max(history_rows - 1, 0))
    event.add("transp", "TRANSPARENT" if ICAL_STATUS[booking.status] == "CANCELLED" else "OPAQUE")
    return event


def user_calendar(session: Session, user: User, now: dt.datetime, base_url: str) -> bytes:
    """The person's own bookings as an iCalendar file (see the module docstring)."""
    base_url = base_url.rstrip("/")
    host = _host(base_url)
    calendar = _calendar(f"Kitshare: {user.name}", "Your equipment bookings in Kitshare")
    for booking, history_rows in _window(session, now, Booking.requester_id == user.id):
        asset = booking.asset
        link = f"{base_url}/bookings/{booking.id}"
        lines = [
            f"Status: {booking.status.label}",
            f"Asset: {asset.name} ({asset.tag}), {asset.school.name}",
            f"Purpose: {booking.purpose}",
        ]
        if booking.decision_reason:
            lines.append(f"Reason: {booking.decision_reason}")
        lines.append(f"Booking: {link}")
        calendar.add_component(
            _event(
                booking,
                history_rows,
                now,
                f"booking-{booking.id}@{host}",
                f"{asset.name} ({booking.status.label.lower()})",
                link,
                "\n".join(lines),
            )
        )
    return calendar.to_ical()


def asset_calendar(session: Session, asset: Asset, now: dt.datetime, base_url: str) -> bytes:
    """The asset's busy times as an iCalendar file, without names or purposes."""
    base_url = base_url.rstrip("/")
    host = _host(base_url)
    link = f"{base_url}/assets/{asset.id}"
    calendar = _calendar(f"Kitshare: {asset.name} ({asset.tag})", f"When {asset.name} is booked")
    for booking, history_rows in _window(session, now, Booking.asset_id == asset.id):
        status = ICAL_STATUS[booking.status]
        summary = {"TENTATIVE": "Requested", "CONFIRMED": "Booked", "CANCELLED": "Cancelled"}[status]
        description = f"{summary}: {asset.name} ({asset.tag}).\nSee when it is free: {link}"
        calendar.add_component(
            _event(
                booking, history_rows, now, f"booking-{booking.id}-busy@{host}", summary, link, description
            )
        )
    return calendar.to_ical()
