"""What people are told about bookings, and whom: called by each booking command, explicitly.

Every command that changes a booking in a way someone else must hear about calls one of these
functions after the change, in the same transaction, so a notice exists exactly when the change
it reports does (as Indico's ``notify_creation(reservation)``). They compose the text and hand it
to the generic channel, ``notifications.service.notify`` (the only writer of notices and their
e-mails):

==============================================  =====================  =========================
the change (from -> to), and who calls          event                  who is told
==============================================  =====================  =========================
(new) -> PENDING: ``notify_requested``          ``booking_requested``  every active manager of
(``request_booking``, and ``accept_offer``                             the asset's owning School,
through it); a series: ``notify_series_``                              except the requester (if
``requested`` (``request_series``)                                     that leaves nobody: the
                                                                       admins)
PENDING -> CONFIRMED or REJECTED, by someone    ``booking_decided``    the requester (with the
other than the requester: ``notify_decided``                           reason of a rejection)
(``approve``, ``reject``, ``disruption.settle``)
PENDING -> LAPSED: ``notify_lapsed``            ``booking_decided``    the requester
(``lapsing.record_lapsed_demand``)
any -> CANCELLED, by anyone but the requester   ``booking_cancelled``  the requester (with the
(a manager, or the system): ``notify_``                                reason)
``cancelled`` (``cancel``, ``disruption.settle``)
==============================================  =====================  =========================

Nobody else is told about a status change: a booking confirmed at once (new -> CONFIRMED) was
made by the person who would be told, and NO_SHOW, CHECKED_OUT and COMPLETED are told (or not)
by the code that makes them (``loans.release_no_shows`` says what only it knows). A recurring
request (a series) is one request to a manager: one notice and one e-mail per manager per
series, not one per occurrence. History written without a command (the demo's imported past)
tells nobody. Each e-mail has a dedupe key naming the booking (a booking is requested, decided,
lapsed or cancelled at most once), so it is written at most once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounts.models import User, school_managers
from bookings.models import Booking, BookingSeries, BookingStatus, BookingStatusChange
from core.config import Config, site_url
from core.db import atomic
from core.timeutil import format_local
from notifications.service import notify

#: How long before a confirmed booking starts its reminder goes out (KITSHARE_REMINDER_HOURS).
DEFAULT_REMINDER_HOURS = Config.KITSHARE_REMINDER_HOURS  # the default lives in core.config


def booking_link(booking: Booking, base_url: str | None = None) -> str:
    """The absolute address of a booking's page."""
    return f"{(base_url or site_url()).rstrip('/')}/bookings/{booking.id}"


def when(booking: Booking) -> str:
    """'Mon 07 Jan 2030, 10:00 to 12:00' in local time (the end's date too if it is another day)."""
    start = format_local(booking.start_at)
    same_day = format_local(booking.start_at, "%Y%m%d") == format_local(booking.end_at, "%Y%m%d")
    end = format_local(booking.end_at, "%H:%M" if same_day else "%a %d %b %Y, %H:%M")
    return f"{start} to {end}"


def managers_of(session: Session, school_id: int) -> list[User]:
    """The active managers of a School, by name."""
    return list(
        session.scalars(
            select(User)
            .join(school_managers, school_managers.c.user_id == User.id)
            .where(school_managers.c.school_id == school_id, User.active.is_(True))
            .order_by(User.name, User.id)
        )
    )


def deciders_of(session: Session, school_id: int, requester_id: int | None) -> list[User]:
    """Who is asked to decide a request: the School's active managers but the requester (nobody
    decides their own request, nor is told what they did themselves); when that leaves nobody,
    the active admins but the requester."""
    managers = [user for user in managers_of(session, school_id) if user.id != requester_id]
    if managers:
        return managers
    return list(
        session.scalars(
            select(User)
            .where(User.is_admin.is_(True), User.active.is_(True), User.id != requester_id)
            .order_by(User.name, User.id)
        )
    )


def _who(change: BookingStatusChange) -> str:
    return change.by.name if change.by is not None else "Kitshare"


def _reason_line(change: BookingStatusChange) -> str:
    return f"\nReason: {change.reason}" if change.reason else ""


def _by_requester(booking: Booking, change: BookingStatusChange) -> bool:
    by_id = change.by.id if change.by is not None else change.by_id
    return by_id == booking.requester_id


def notify_requested(session: Session, booking: Booking) -> int:
    """A new request waits for a decision: ask whoever decides it. Returns how many were told."""
    if booking.status != BookingStatus.PENDING:
        return 0  # confirmed at once: nobody else needs to act
    requester, asset = booking.requester, booking.asset
    title = f"Request to approve: {asset.name}, {when(booking)}"
    body = (
        f"{requester.name} asks for {asset.name} ({asset.tag}), {when(booking)}.\n"
        f"Purpose: {booking.purpose}\n\nApprove or reject it on its page:"
    )
    deciders = deciders_of(session, asset.school_id, requester.id)
    for manager in deciders:
        notify(
            session,
            manager,
            "booking_requested",
            title,
            body,
            booking_link(booking),
            dedupe_key=f"booking-requested:{booking.id}:{manager.id}",
        )
    return len(deciders)


def notify_series_requested(session: Session, series: BookingSeries, bookings: list[Booking]) -> int:
    """A recurring request waits for decisions: one notice per decider for the whole series."""
    pending = [booking for booking in bookings if booking.status == BookingStatus.PENDING]
    if not pending:
        return 0
    first = min(pending, key=lambda booking: booking.start_at)
    requester, asset = first.requester, first.asset
    description = series.description.lower()
    title = f"Recurring request to approve: {asset.name}, {description}"
    body = (
        f"{requester.name} asks for {asset.name} ({asset.tag}) {description}, "
        f"the first time {when(first)}.\nPurpose: {first.purpose}\n\n"
        "Approve or reject each occurrence in your approval queue:"
    )
    deciders = deciders_of(session, asset.school_id, requester.id)
    for manager in deciders:
        notify(
            session,
            manager,
            "booking_requested",
            title,
            body,
            site_url("/approvals"),
            dedupe_key=f"booking-series:{series.id}:{manager.id}",
        )
    return len(deciders)


def notify_decided(session: Session, booking: Booking, change: BookingStatusChange) -> int:
    """A request was approved or rejected: tell its requester, unless they did it themselves."""
    if _by_requester(booking, change):
        return 0
    asset = booking.asset
    approved = change.to_status == BookingStatus.CONFIRMED
    title = f"{'Approved' if approved else 'Rejected'}: {asset.name}, {when(booking)}"
    body = (
        f"{_who(change)} {'approved' if approved else 'rejected'} your request for "
        f"{asset.name} ({asset.tag}), {when(booking)}.{_reason_line(change)}"
    )
    notify(
        session,
        booking.requester,
        "booking_decided",
        title,
        body,
        booking_link(booking),
        dedupe_key=f"booking-decided:{booking.id}:{booking.requester_id}",
    )
    return 1


def notify_lapsed(session: Session, booking: Booking) -> int:
    """Nobody decided a request before it started: tell its requester it has lapsed."""
    asset = booking.asset
    title = f"Not decided in time: {asset.name}, {when(booking)}"
    body = (
        f"Nobody decided your request for {asset.name} ({asset.tag}), {when(booking)}, before it started, "
        "so it has lapsed: you do not have the booking. It is counted as demand the School did not meet."
    )
    notify(
        session,
        booking.requester,
        "booking_decided",
        title,
        body,
        booking_link(booking),
        dedupe_key=f"booking-lapsed:{booking.id}:{booking.requester_id}",
    )
    return 1


def notify_cancelled(session: Session, booking: Booking, change: BookingStatusChange) -> int:
    """Someone else (a manager, or the system) cancelled a booking: tell its requester why."""
    if _by_requester(booking, change):
        return 0
    asset = booking.asset
    title = f"Cancelled: {asset.name}, {when(booking)}"
    body = (
        f"{_who(change)} cancelled your booking of {asset.name} ({asset.tag}), "
        f"{when(booking)}.{_reason_line(change)}"
    )
    notify(
        session,
        booking.requester,
        "booking_cancelled",
        title,
        body,
        booking_link(booking),
        dedupe_key=f"booking-cancelled:{booking.id}:{booking.requester_id}",
    )
    return 1


# --- Reminders ----------------------------------------------------------------------------------


def send_booking_reminders(
    session: Session, now: dt.datetime, hours: int = DEFAULT_REMINDER_HOURS, base_url: str | None = None
) -> int:
    """Remind each requester of a confirmed booking that starts within the next ``hours``.

    Once per booking: ``reminder_sent_at`` records it, so a second run sends nothing, and the
    e-mail's dedupe key ``reminder:<booking id>`` guarantees it even against a concurrent run
    (on PostgreSQL a concurrent run also skips the rows this one holds). A booking made less
    than ``hours`` before its start is reminded at the next run. One unit of work, like every
    command (``core/db.py``). Returns how many bookings were reminded.
    """
    with atomic(session):
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
