"""Telling people what happened: an in-app notice, and an e-mail unless they opted out.

``notify`` is the one way any package tells a person something. Both the notice and the e-mail
are written in the caller's transaction, so they exist exactly when the change they report does.

Links in notices and e-mails are absolute, on the site's public address: ``site_base_url()`` is
the running app's ``KITSHARE_BASE_URL`` inside an app context, and otherwise the address
``configure_base_url`` was last given (``create_app`` gives it the app's), so code running
outside a request (a test's own session, a script) still writes usable links. Functions that
know the address take it as ``base_url`` and use it first.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from accounts.models import User
from bookings.models import Booking, BookingStatus, Notification
from core.errors import InvalidInput, NotFound
from notifications.service import enqueue
from core.timeutil import format_local

#: Every event a person can be told about, with the label their preferences page shows.
EVENTS: dict[str, str] = {
    "booking_requested": "A loan or booking request waits for my decision (managers)",
    "booking_decided": "My request is approved or rejected",
    "booking_cancelled": "My booking is cancelled by someone else",
    "booking_affected": "Maintenance or a rule change affects a booking of mine that is kept",
    "booking_reminder": "A reminder before my booking starts",
    "waitlist_offer": "A slot I am waiting for becomes free",
    "no_show_released": "My booking is released because I did not check in",
    "loan_overdue": "A loan is overdue",
    "loan_damaged": "Equipment comes back damaged (managers)",
    "inspection_due": "An inspection falls due (managers)",
    "training_requested": "Someone asks to be trained on equipment (managers)",
    "training_decided": "My request for training is granted or declined",
    "report_delivery": "A scheduled report is ready",
}

#: How long before a confirmed booking starts its reminder goes out (KITSHARE_REMINDER_HOURS).
DEFAULT_REMINDER_HOURS = 24
#: How many notices the in-app list shows.
LIST_LIMIT = 100

_configured_base_url = "http://127.0.0.1:5000"


def configure_base_url(base_url: str) -> None:
    """Remember the site's public address for links made outside an app context."""
    global _configured_base_url
    _configured_base_url = base_url.rstrip("/")


def site_base_url() -> str:
    """The site's public address, without a trailing slash (see the module docstring)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("KITSHARE_BASE_URL") or _configured_base_url).rstrip("/")
    return _configured_base_url


def booking_link(booking: Booking, base_url: str | None = None) -> str:
    """The absolute address of a booking's page."""
    return f"{(base_url or site_base_url()).rstrip('/')}/bookings/{booking.id}"


def when(booking: Booking) -> str:
    """'Mon 07 Jan 2030, 10:00 to 12:00' in local time (the end's date too if it is another day)."""
    start = format_local(booking.start_at)
    same_day = format_local(booking.start_at, "%Y%m%d") == format_local(booking.end_at, "%Y%m%d")
    end = format_local(booking.end_at, "%H:%M" if same_day else "%a %d %b %Y, %H:%M")
    return f"{start} to {end}"


def wants_email(user: User, event: str) -> bool:
    """People receive every e-mail unless they turned that event off on their profile."""
    return bool((user.email_preferences or {}).get(event, True))


def notify(
    session: Session,
    user: User,
    event: str,
    title: str,
    body: str = "",
    link: str = "",
    dedupe_key: str | None = None,
) -> Notification:
    """Tell ``user`` about ``event``: always in the app, by e-mail if they want it.

    ``link`` is an absolute URL (the e-mail needs one). ``dedupe_key`` makes the e-mail at most
    once even if a job runs twice.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    notice = Notification(user_id=user.id, event=event, title=title[:250], body=body, link=link)
    session.add(notice)
    if user.active and wants_email(user, event):
        footer = f"Choose which e-mails Kitshare sends you: {site_base_url()}/notifications/preferences"
        text = body + (f"\n\n{link}" if link else "") + f"\n\n{footer}"
        enqueue(session, user.email, f"Kitshare: {title}", text.strip(), dedupe_key=dedupe_key)
    return notice


# --- Reminders ----------------------------------------------------------------------------------


def send_booking_reminders(
    session: Session, now: dt.datetime, hours: int = DEFAULT_REMINDER_HOURS, base_url: str | None = None
) -> int:
    """Remind each requester of a confirmed booking that starts within the next ``hours``.

    Once per booking: ``reminder_sent_at`` records it, so a second run sends nothing, and the
    e-mail's dedupe key ``reminder:<booking id>`` guarantees it even against a concurrent run
    (on PostgreSQL a concurrent run also skips the rows this one holds). A booking made less
    than ``hours`` before its start is reminded at the next run. Call it inside ``atomic``.
    Returns how many bookings were reminded.
    """
    horizon = now + dt.timedelta(hours=hours)
    due = session.scalars(
        select(Booking)
        .options(selectinload(Booking.requester), selectinload(Booking.asset))
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.reminder_sent_at.is_(None),
            Booking.start_at > now,
            Booking.start_at <= horizon,
        )
        .order_by(Booking.start_at, Booking.id)
        .with_for_update(skip_locked=True)
    ).all()
    for booking in due:
        asset = booking.asset
        place = f" in {asset.location.label}" if asset.location else ""
        notify(
            session,
            booking.requester,
            "booking_reminder",
            f"Reminder: {asset.name}, {when(booking)}",
            f"Your booking of {asset.name} ({asset.tag}){place} starts {format_local(booking.start_at)}.\n"
            "If you no longer need it, please cancel it so someone else can use the time.",
            booking_link(booking, base_url),
            dedupe_key=f"reminder:{booking.id}",
        )
        booking.reminder_sent_at = now
    session.flush()
    return len(due)


# --- The in-app list and preferences ------------------------------------------------------------


def notices_for(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Notification]:
    """The person's notices, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    ) or 0


def mark_read(session: Session, user: User, notice_id: int, now: dt.datetime) -> Notification:
    """Mark one of the person's own notices read; anyone else's is NotFound."""
    notice = session.get(Notification, notice_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound("There is no such notification.")
    if notice.read_at is None:
        notice.read_at = now
    return notice


def mark_all_read(session: Session, user: User, now: dt.datetime) -> int:
    """Mark every unread notice of the person read. Returns how many were unread."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def set_email_preferences(session: Session, user: User, wanted: Iterable[str]) -> dict[str, bool]:
    """The person gets e-mails for exactly the ``wanted`` events (in-app notices always stay).

    Every event is stored, yes or no, so an event added later defaults to yes for everyone.
    """
    wanted = set(wanted)
    unknown = wanted - EVENTS.keys()
    if unknown:
        raise InvalidInput(field_errors={"events": [f"Unknown notification: {', '.join(sorted(unknown))}."]})
    preferences = {event: event in wanted for event in EVENTS}
    user.email_preferences = preferences  # a new dict: JSON columns do not track in-place changes
    session.flush()
    return preferences
