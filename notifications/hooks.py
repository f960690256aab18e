"""Booking notifications, raised by the booking's own history rather than by each service.

Every status change of a booking is a ``BookingStatusChange`` row (``bookings.service.change_status``
and the new-booking code write one). A session hook watches those rows being flushed and tells
people, in the same transaction, so a notice exists exactly when the change it reports does:

==============================================  =====================  =========================
the change (from -> to)                         event                  who is told
==============================================  =====================  =========================
(new) -> PENDING                                ``booking_requested``  every active manager of
                                                                       the asset's owning School,
                                                                       except the requester (if
                                                                       that leaves nobody: the
                                                                       admins)
PENDING -> CONFIRMED or REJECTED, by someone    ``booking_decided``    the requester (with the
other than the requester                                               reason of a rejection)
any -> CANCELLED, by anyone but the requester   ``booking_cancelled``  the requester (with the
(a manager, or the system)                                             reason)
==============================================  =====================  =========================

Nothing else is told from here: a booking confirmed at once (new -> CONFIRMED) was made by the
person who would be told, and NO_SHOW, CHECKED_OUT and COMPLETED are ignored on purpose. The
code that releases a no-show, offers a waitlist slot, or finds a loan overdue or damaged calls
``notifications.events.notify`` itself, with what only it knows; this hook never doubles them.
A release for a no-show must therefore use NO_SHOW, not CANCELLED.

A recurring request (a series) is one request to a manager: one notice and one e-mail per
manager per series, not one per occurrence.

How: ``after_flush`` collects the new history rows (they have ids by then) and
``after_flush_postexec`` notifies. ``notify`` adds a ``Notification`` to the session, which the
commit's next flush writes, and puts the e-mail in the outbox with a dedupe key built from the
history row's id (``booking-change:<change id>:<user id>``), so it is written at most once.
Links use ``notifications.events.site_base_url()``: the app's ``KITSHARE_BASE_URL``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from accounts.models import User, school_managers
from bookings.models import Booking, BookingStatus, BookingStatusChange
from notifications.events import booking_link, notify, site_base_url, when

_PENDING_KEY = "kitshare_booking_changes"
_SERIES_KEY = "kitshare_series_notified"


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


def notify_booking_change(session: Session, change: BookingStatusChange, base_url: str | None = None) -> int:
    """Tell whoever the table in the module docstring names about one status change.

    Returns how many people were told.
    """
    booking: Booking = change.booking
    base_url = base_url or site_base_url()
    requester = booking.requester
    asset = booking.asset
    told = 0
    to_status, from_status = change.to_status, change.from_status
    by_requester = change.by_id == booking.requester_id

    if from_status is None and to_status == BookingStatus.PENDING:
        series = booking.series
        if series is not None:
            notified = session.info.setdefault(_SERIES_KEY, set())
            if series.id in notified:
                return 0
            notified.add(series.id)
            title = f"Recurring request to approve: {asset.name}, {series.description.lower()}"
            body = (
                f"{requester.name} asks for {asset.name} ({asset.tag}) {series.description.lower()}, "
                f"the first time {when(booking)}.\nPurpose: {booking.purpose}\n\n"
                "Approve or reject each occurrence in your approval queue:"
            )
            link = f"{base_url}/approvals"
            key = f"booking-series:{series.id}"
        else:
            title = f"Request to approve: {asset.name}, {when(booking)}"
            body = (
                f"{requester.name} asks for {asset.name} ({asset.tag}), {when(booking)}.\n"
                f"Purpose: {booking.purpose}\n\nApprove or reject it on its page:"
            )
            link = booking_link(booking, base_url)
            key = f"booking-change:{change.id}"
        for manager in deciders_of(session, asset.school_id, change.by_id):
            notify(session, manager, "booking_requested", title, body, link, dedupe_key=f"{key}:{manager.id}")
            told += 1
        return told

    if by_requester:
        return 0

    decided = to_status in (BookingStatus.CONFIRMED, BookingStatus.REJECTED)
    if from_status == BookingStatus.PENDING and decided:
        approved = to_status == BookingStatus.CONFIRMED
        title = f"{'Approved' if approved else 'Rejected'}: {asset.name}, {when(booking)}"
        body = (
            f"{_who(change)} {'approved' if approved else 'rejected'} your request for "
            f"{asset.name} ({asset.tag}), {when(booking)}.{_reason_line(change)}"
        )
        notify(session, requester, "booking_decided", title, body, booking_link(booking, base_url),
               dedupe_key=f"booking-change:{change.id}:{requester.id}")
        return 1

    if from_status == BookingStatus.PENDING and to_status == BookingStatus.LAPSED:
        title = f"Not decided in time: {asset.name}, {when(booking)}"
        body = (
            f"Nobody decided your request for {asset.name} ({asset.tag}), {when(booking)}, before it started, "
            "so it has lapsed: you do not have the booking. It is counted as demand the School did not meet."
        )
        notify(session, requester, "booking_decided", title, body, booking_link(booking, base_url),
               dedupe_key=f"booking-change:{change.id}:{requester.id}")
        return 1

    if to_status == BookingStatus.CANCELLED:
        title = f"Cancelled: {asset.name}, {when(booking)}"
        body = (
            f"{_who(change)} cancelled your booking of {asset.name} ({asset.tag}), "
            f"{when(booking)}.{_reason_line(change)}"
        )
        notify(session, requester, "booking_cancelled", title, body, booking_link(booking, base_url),
               dedupe_key=f"booking-change:{change.id}:{requester.id}")
        return 1
    return 0


@event.listens_for(Session, "after_flush")
def _collect_status_changes(session: Session, _flush_context: Any) -> None:
    changes = [obj for obj in session.new if isinstance(obj, BookingStatusChange)]
    if changes:
        session.info.setdefault(_PENDING_KEY, []).extend(changes)


@event.listens_for(Session, "after_flush_postexec")
def _notify_status_changes(session: Session, _flush_context: Any) -> None:
    changes = session.info.pop(_PENDING_KEY, None)
    if not changes:
        return
    # The session is still flushing, so these reads do not autoflush; the notices added here
    # are written by the next flush (a commit flushes until nothing is left).
    for change in sorted(changes, key=lambda c: c.id):
        notify_booking_change(session, change)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_SERIES_KEY, None)
