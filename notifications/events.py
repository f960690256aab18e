"""Telling people what happened: an in-app notice, and an e-mail unless they opted out.

``notify`` is the one way any package tells a person something. Both the notice and the e-mail
are written in the caller's transaction, so they exist exactly when the change they report does.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.models import User
from bookings.models import Notification
from notifications.service import enqueue

#: Every event a person can be told about, with the label their preferences page shows.
EVENTS: dict[str, str] = {
    "booking_requested": "A loan or booking request waits for my decision (managers)",
    "booking_decided": "My request is approved or rejected",
    "booking_cancelled": "My booking is cancelled by someone else",
    "booking_reminder": "A reminder before my booking starts",
    "waitlist_offer": "A slot I am waiting for becomes free",
    "no_show_released": "My booking is released because I did not check in",
    "loan_overdue": "A loan is overdue",
    "loan_damaged": "Equipment comes back damaged (managers)",
    "inspection_due": "An inspection falls due (managers)",
    "report_delivery": "A scheduled report is ready",
}


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
        text = body + (f"\n\n{link}" if link else "") + "\n\nYou can choose which e-mails Kitshare sends you on your profile page."
        enqueue(session, user.email, f"Kitshare: {title}", text.strip(), dedupe_key=dedupe_key)
    return notice
