"""The generic channel: telling a person something, in the app and by e-mail, through the outbox.

``notify`` is the one way any package tells a person something, and the only writer of
``Notification`` rows. It is a step of the command that calls it, not a command (``core/db.py``):
the notice and the e-mail are written in that command's unit of work, so they exist exactly when
the change they report does. Marking notices read and setting e-mail preferences are commands:
each opens its own unit. What to say about a booking, and to whom, is the
bookings package's business (``bookings/notices.py``); this module knows no domain.

Links in notices and e-mails are absolute, on the site's public address: ``core.config.site_url``.

The outbox: e-mails are written in the same transaction as the change they report, then sent
by a scheduler job that retries with backoff. A mail server being down loses nothing (the
message waits in the table) and the job never sends a message twice on purpose: each message's
new state is committed straight after its own send.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from core.config import Config, site_url
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotFound
from notifications.mail import PermanentSendError, Transport, transport_from_config
from notifications.models import Notification, OutboxMessage, OutboxStatus

log = logging.getLogger("kitshare.outbox")

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

#: How many notices the in-app list shows.
LIST_LIMIT = 100


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
    attachment: tuple[str, str, bytes] | None = None,
) -> Notification:
    """Tell ``user`` about ``event``: always in the app, by e-mail if they want it.

    This is the only code that writes a ``Notification``. ``link`` is an absolute URL (the
    e-mail needs one; it is added below the text unless the text already gives it).
    ``dedupe_key`` makes the e-mail at most once even if a job runs twice. ``attachment`` is one
    file for the e-mail: (file name, content type, bytes).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    notice = Notification(user_id=user.id, event=event, title=title[:250], body=body, link=link)
    session.add(notice)
    if user.active and wants_email(user, event):
        footer = f"Choose which e-mails Kitshare sends you: {site_url('/notifications/preferences')}"
        text = body + (f"\n\n{link}" if link and link not in body else "") + f"\n\n{footer}"
        enqueue(
            session,
            user.email,
            f"Kitshare: {title}",
            text.strip(),
            dedupe_key=dedupe_key,
            attachment=attachment,
        )
    return notice


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
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, user: User, notice_id: int, now: dt.datetime) -> Notification:
    """Mark one of the person's own notices read; anyone else's is NotFound.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        notice = session.get(Notification, notice_id)
        if notice is None or notice.user_id != user.id:
            raise NotFound("There is no such notification.")
        if notice.read_at is None:
            notice.read_at = now
        return notice


def mark_all_read(session: Session, user: User, now: dt.datetime) -> int:
    """Mark every unread notice of the person read. Returns how many were unread.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, user):
        result = session.execute(
            update(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult, result).rowcount or 0  # an UPDATE's result is a CursorResult


def set_email_preferences(session: Session, user: User, wanted: Iterable[str]) -> dict[str, bool]:
    """The person gets e-mails for exactly the ``wanted`` events (in-app notices always stay).

    Every event is stored, yes or no, so an event added later defaults to yes for everyone.
    """
    with atomic(session, user):
        wanted = set(wanted)
        unknown = wanted - EVENTS.keys()
        if unknown:
            raise InvalidInput(
                field_errors={"events": [f"Unknown notification: {', '.join(sorted(unknown))}."]}
            )
        preferences = {event: event in wanted for event in EVENTS}
        user.email_preferences = preferences  # a new dict: JSON columns do not track in-place changes
        session.flush()
        return preferences


# --- The outbox ---------------------------------------------------------------------------------

#: Waits after the 1st, 2nd, ... failed attempt; the last one repeats. Eight attempts in all span
#: about two and a half days, long enough to outlast a mail server's weekend outage.
BACKOFF = tuple(dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 240, 720, 1440))
MAX_ATTEMPTS = 8
#: How many messages one run of the job sends at most, so a run stays short.
BATCH_LIMIT = 200


def enqueue(
    session: Session,
    to_address: str,
    subject: str,
    body_text: str,
    dedupe_key: str | None = None,
    send_after: dt.datetime | None = None,
    attachment: tuple[str, str, bytes] | None = None,
) -> OutboxMessage | None:
    """Put an e-mail in the outbox, in the caller's transaction (it is sent only if that commits).

    ``attachment`` is one optional file: (file name, content type, bytes).

    With a ``dedupe_key`` that is already in the outbox nothing is inserted and None is returned:
    the database's unique constraint decides, so two concurrent callers cannot both insert it.
    """
    to_address = (to_address or "").strip()
    if not to_address or "@" not in to_address or any(c in to_address for c in "\r\n,;"):
        raise ValueError(f"{to_address!r} is not one e-mail address")
    now = utcnow()
    values: dict[str, Any] = {
        "to_address": to_address,
        # Header lines cannot carry line breaks; the column holds 250 characters.
        "subject": " ".join((subject or "").split())[:250],
        "body_text": body_text,
        "dedupe_key": dedupe_key,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": send_after or now,
        "last_error": "",
        "created_at": now,
    }
    if attachment is not None:
        values["attachment_name"], values["attachment_type"], values["attachment"] = attachment
    if dedupe_key is None:
        message = OutboxMessage(**values)
        session.add(message)
        session.flush()
        return message

    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert  # the same API
        statement = (
            insert(OutboxMessage)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[OutboxMessage.dedupe_key])
            .returning(OutboxMessage.id)
        )
        new_id = session.execute(statement).scalar()
        return None if new_id is None else session.get(OutboxMessage, new_id)

    # Any other database: try the insert inside a savepoint and treat a clash as "already there".
    message = OutboxMessage(**values)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


@dataclass
class SendReport:
    """What one run of ``send_due`` did."""

    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again
    failed: int = 0  # gave up: permanent refusal or the last attempt failed

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


def backoff_after(attempts: int) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1-based)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def send_due(
    session: Session, now: dt.datetime, transport: Transport, limit: int = BATCH_LIMIT
) -> SendReport:
    """Send the pending messages whose time has come (``next_attempt_at <= now``), oldest first.

    Each message is claimed, sent and its new state committed in a transaction of its own:

    * sent: SENT, with ``sent_at``;
    * refused for good (``PermanentSendError``): FAILED at once;
    * any other error: ``attempts`` + 1, ``last_error`` kept, and it waits ``backoff_after``
      (1, 5, 15, 60, 240 minutes ...) before the next try; the 8th failure makes it FAILED.

    Claiming: each message's unit of work is an ``atomic`` transaction. On PostgreSQL the row is
    locked ``FOR UPDATE SKIP LOCKED`` for the length of its send, so a second sender running at
    the same time takes other messages, never this one. On SQLite the unit begins IMMEDIATE,
    which serialises senders (and holds SQLite's write lock for one send; ``SmtpTransport``
    gives up after 20 s, inside SQLite's 30 s busy timeout).

    Delivery is at least once, not exactly once: if the process dies, or the database cannot
    commit, between the mail server accepting a message and our commit of SENT, the message is
    still PENDING and will be sent again. The window is one commit long; the Message-ID stays
    the same, so mail systems can recognise the copy.

    Call it outside any unit of work: it commits once per message, which an enclosing
    ``atomic`` would defer to its own end.
    """
    if session.info.get("atomic_depth"):
        raise RuntimeError("send_due commits once per message; do not call it inside atomic().")
    report = SendReport()
    for _ in range(limit):
        with atomic(session):
            message = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if message is None:
                break
            _attempt(message, now, transport, report)
    return report


def _attempt(message: OutboxMessage, now: dt.datetime, transport: Transport, report: SendReport) -> None:
    """Send one message and record what happened on it (the caller commits)."""
    message.attempts += 1
    try:
        transport.send(message)
    except PermanentSendError as error:
        message.status = OutboxStatus.FAILED
        message.last_error = str(error)[:2000]
        report.failed += 1
        log.error("outbox message %s to %s refused for good: %s", message.id, message.to_address, error)
    except Exception as error:  # noqa: BLE001 - any failure of the transport is retried
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            report.failed += 1
            log.error(
                "outbox message %s to %s failed %d times; giving up: %s",
                message.id,
                message.to_address,
                message.attempts,
                message.last_error,
            )
        else:
            message.next_attempt_at = now + backoff_after(message.attempts)
            report.retrying += 1
            log.warning(
                "outbox message %s to %s failed (attempt %d), retrying at %s: %s",
                message.id,
                message.to_address,
                message.attempts,
                message.next_attempt_at.isoformat(),
                message.last_error,
            )
    else:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = ""
        report.sent += 1


def run_outbox(session: Session, config: Config, now: dt.datetime | None = None) -> SendReport:
    """The scheduler's job: send what is due with the transport the configuration names."""
    transport = transport_from_config(config)
    report = send_due(session, now or utcnow(), transport)
    if report.attempted:
        log.info(
            "outbox: %d sent, %d to retry, %d failed (%r)",
            report.sent,
            report.retrying,
            report.failed,
            transport,
        )
    return report
