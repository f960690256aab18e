"""Bookings of assets, and the history of every booking's status."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit import Audited
from db import Base, str_enum, utcnow

if TYPE_CHECKING:
    from accounts.models import User
    from inventory.models import Asset, School


class BookingStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for a manager of the owning School
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"  # a loan handed over, or a bench booking checked in
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


#: Statuses that hold the asset: no two such bookings of one asset may overlap.
ACTIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT)
_ACTIVE_SQL = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)


class Booking(Audited, Base):
    """A request for an asset over the half-open interval [start_at, end_at), in UTC.

    ``blocked_until`` is ``end_at`` plus the asset's turnaround time when the booking was made:
    the asset is unavailable to anyone else until then. PostgreSQL's exclusion constraint
    guarantees that no two active bookings of one asset overlap on [start_at, blocked_until).
    """

    __tablename__ = "bookings"
    __audit_type__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="RESTRICT"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # The requester's home School when they asked: cross-School traffic stays visible even if
    # the person later moves.
    requester_school_id: Mapped[int | None] = mapped_column(
        ForeignKey("schools.id", ondelete="RESTRICT"), index=True
    )
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    blocked_until: Mapped[dt.datetime]
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[BookingStatus] = mapped_column(
        str_enum(BookingStatus, "booking_status"), default=BookingStatus.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    asset: Mapped[Asset] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    requester_school: Mapped[School | None] = relationship(foreign_keys=[requester_school_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    history: Mapped[list[BookingStatusChange]] = relationship(
        back_populates="booking", order_by="BookingStatusChange.at, BookingStatusChange.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint("start_at < end_at", name="starts_before_end"),
        CheckConstraint("end_at <= blocked_until", name="blocked_after_end"),
        Index("ix_bookings_asset_time", "asset_id", "start_at", "blocked_until"),
        Index("ix_bookings_status_start", "status", "start_at"),
        ExcludeConstraint(
            ("asset_id", "="),
            (func.tstzrange(text("start_at"), text("blocked_until"), text("'[)'")), "&&"),
            name="ex_bookings_no_overlap",
            using="gist",
            where=text(f"status IN ({_ACTIVE_SQL})"),
        ).ddl_if(dialect="postgresql"),
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def hours(self) -> float:
        return (self.end_at - self.start_at).total_seconds() / 3600


class BookingStatusChange(Base):
    """One step in a booking's life: from which status to which, by whom, when and why."""

    __tablename__ = "booking_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[BookingStatus | None] = mapped_column(str_enum(BookingStatus, "booking_status_from"))
    to_status: Mapped[BookingStatus] = mapped_column(str_enum(BookingStatus, "booking_status_to"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    booking: Mapped[Booking] = relationship(back_populates="history")
    by: Mapped[User | None] = relationship()
