"""People, their roles and their API tokens."""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow

if TYPE_CHECKING:
    from inventory.models import School


class Role(enum.StrEnum):
    """What a person may do. Everyone who can sign in is a technician (they can book)."""

    TECHNICIAN = "technician"
    MANAGER = "manager"
    FINANCE = "finance"
    ADMIN = "admin"


#: Managers of a School: one row per (person, School). The primary key keeps each pair unique.
school_managers = Table(
    "school_managers",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    # None for people who only ever sign in through the university's single sign-on.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    home_school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(default=True)
    is_finance: Mapped[bool] = mapped_column(default=False)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # What the login session and the remember-me cookie store instead of the id: rotating it
    # (signing out, a new password, deactivation) signs the person out everywhere, and any copy
    # of either cookie saved before opens nothing.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None]
    # The secret in the person's calendar-feed URL; resetting it stops the old URL working.
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # Which notification e-mails the person wants, by event name; a missing event means yes.
    email_preferences: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)

    home_school: Mapped[School | None] = relationship(foreign_keys=[home_school_id])
    managed_schools: Mapped[list[School]] = relationship(secondary=school_managers, order_by="School.name")

    __table_args__ = (
        # Email addresses are unique whatever their case, guaranteed by the database.
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    # Flask-Login
    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def get_id(self) -> str:
        return self.session_token

    @property
    def managed_school_ids(self) -> set[int]:
        return {school.id for school in self.managed_schools}

    @property
    def roles(self) -> list[Role]:
        roles = [Role.TECHNICIAN]
        if self.managed_schools:
            roles.append(Role.MANAGER)
        if self.is_finance:
            roles.append(Role.FINANCE)
        if self.is_admin:
            roles.append(Role.ADMIN)
        return roles

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    def manages(self, school_id: int | None) -> bool:
        """True for an admin, or a manager of that School."""
        return self.is_admin or (school_id is not None and school_id in self.managed_school_ids)

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class ApiToken(Base):
    """A personal API token. Only its SHA-256 hash is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()

    def is_usable(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class SignInCounter(Base):
    """How many sign-ins were tried for one email address, or from one client address, in the
    current lockout window.

    Each attempt is counted *before* its password is checked, by one statement that adds one and
    returns the new count (an upsert on this row, which the database serialises): sixteen parallel
    guesses are counted 1 to 16, and only those within the limit have their password checked. The
    email is counted as typed (lower-cased) whether or not an account has it, so the lockout
    behaves the same for addresses that exist and those that do not.
    """

    __tablename__ = "sign_in_counters"

    #: "email" or "ip".
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(254), primary_key=True)
    window_started_at: Mapped[dt.datetime]
    attempts: Mapped[int]


class PasswordResetRequest(Base):
    """Someone asked for a password-reset e-mail for ``email`` (as typed, lower-cased).

    The form records the request and nothing else, whether or not an account has the address, so
    both answers do the same work; the outbox job writes the e-mail for the addresses that have an
    active account. The rows also limit how many requests one address, or one client, makes.
    """

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip_address: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: When the outbox job dealt with it (mailed the person, or found no active account).
    handled_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_password_reset_requests_email_at", "email", "requested_at"),
        Index("ix_password_reset_requests_ip_at", "ip_address", "requested_at"),
        Index("ix_password_reset_requests_handled", "handled_at"),
    )
