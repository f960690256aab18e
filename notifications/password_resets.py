"""The password-reset e-mail: the outbox job's first step. Accounts keeps the requests and the
tokens; sending mail is this package's, so accounts (below it) never imports the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import PasswordResetRequest
from accounts.service import PASSWORD_RESET_MAX_AGE, find_user_by_email, password_reset_token
from core.db import atomic
from notifications.service import enqueue


def mail_password_resets(session: Session, secret_key: str, base_url: str, now: dt.datetime) -> int:
    """The outbox job's first step: e-mail a reset link for each waiting request whose address
    has an active account (other requests are simply marked handled). Returns how many e-mails
    were queued. A command: its own unit of work (``core/db.py``); the scheduler calls it bare."""
    with atomic(session):
        waiting = session.scalars(
            select(PasswordResetRequest)
            .where(PasswordResetRequest.handled_at.is_(None))
            .order_by(PasswordResetRequest.id)
        ).all()
        queued = 0
        for request in waiting:
            request.handled_at = now
            user = find_user_by_email(session, request.email)
            if user is None or not user.active or now - request.requested_at > PASSWORD_RESET_MAX_AGE:
                continue
            link = f"{base_url}/password-reset/{password_reset_token(secret_key, user)}"
            enqueue(
                session,
                user.email,
                "Kitshare: reset your password",
                f"Hello {user.name},\n\nSomeone (we hope you) asked to reset your Kitshare password. "
                f"Choose a new one here within the next hour:\n\n{link}\n\n"
                "The link works once. If you did not ask, ignore this e-mail: your password is unchanged.",
            )
            queued += 1
        return queued
