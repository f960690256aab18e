"""Bookings of assets, and the history of every booking's status."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.audit import Audited
from core.db import Base, str_enum, utcnow

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
    LAPSED = "lapsed"  # a request whose start passed with no decision (bookings.lapsing)

    @property
    def label(self) -> str:
        if self is BookingStatus.LAPSED:
            return "Lapsed, not decided in time"
        return self.value.replace("_", " ").capitalize()


#: Statuses that hold the asset: no two such bookings of one asset may overlap.
ACTIVE_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT)
_ACTIVE_SQL = ", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES)
#: Bookings whose hours count as booked: in the utilisation report, and in ``BookedDay``.
BOOKED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED)
#: Bookings that record use: checked in, or lent out and handed over (index ix_bookings_asset_tracked).
TRACKED_SQL = "checked_in_at IS NOT NULL OR handed_over_at IS NOT NULL"
#: Cancelled bookings, and the history rows that cancelled them (indexes ix_bookings_cancelled and
#: ix_booking_status_changes_cancelled): a query names the status as a literal to read them.
CANCELLED_SQL = "status = 'cancelled'"
CANCELLING_SQL = "to_status = 'cancelled'"


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
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )
    # Check-in (bench kit) and custody (loans): what "actual use" means in the reports.
    checked_in_at: Mapped[dt.datetime | None]
    handed_over_at: Mapped[dt.datetime | None]
    handed_over_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    handover_condition: Mapped[str] = mapped_column(Text, default="")
    returned_at: Mapped[dt.datetime | None]
    returned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    return_condition: Mapped[str] = mapped_column(Text, default="")
    returned_damaged: Mapped[bool] = mapped_column(default=False)
    # Once-only markers for the scheduler's messages.
    reminder_sent_at: Mapped[dt.datetime | None]
    overdue_notified_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    asset: Mapped[Asset] = relationship()
    series: Mapped[BookingSeries | None] = relationship(back_populates="bookings")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    requester_school: Mapped[School | None] = relationship(foreign_keys=[requester_school_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    history: Mapped[list[BookingStatusChange]] = relationship(
        back_populates="booking",
        order_by="BookingStatusChange.at, BookingStatusChange.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint("start_at < end_at", name="starts_before_end"),
        CheckConstraint("end_at <= blocked_until", name="blocked_after_end"),
        Index("ix_bookings_asset_time", "asset_id", "start_at", "blocked_until"),
        # "Free from ... to ...": only the bookings still blocking at the window's start (0007).
        Index("ix_bookings_asset_blocked", "asset_id", "blocked_until"),
        Index("ix_bookings_status_start", "status", "start_at"),
        # The cancellations by start, with what the report's late cancellations read of them: the
        # asset, and the last update where no history says when (0021).
        Index(
            "ix_bookings_cancelled",
            "start_at",
            "asset_id",
            "updated_at",
            "status",
            postgresql_where=text(CANCELLED_SQL),
            sqlite_where=text(CANCELLED_SQL),
        ),
        # The bookings that record use, for the utilisation report's actual use (0019).
        Index(
            "ix_bookings_asset_tracked",
            "asset_id",
            "start_at",
            postgresql_where=text(TRACKED_SQL),
            sqlite_where=text(TRACKED_SQL),
        ),
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

    __table_args__ = (
        # When each booking was cancelled, for the report's late cancellations (0021).
        Index(
            "ix_booking_status_changes_cancelled",
            "booking_id",
            "at",
            "to_status",
            postgresql_where=text(CANCELLING_SQL),
            sqlite_where=text(CANCELLING_SQL),
        ),
    )
    by: Mapped[User | None] = relationship()


class BookingSeries(Base):
    """Bookings made together by one recurring request (daily or weekly)."""

    __tablename__ = "booking_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(String(200))  # "Weekly, 10 times", for people
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    bookings: Mapped[list[Booking]] = relationship(back_populates="series", order_by="Booking.start_at")


class DemandSource(enum.StrEnum):
    REFUSED = "refused"  # a request that broke a rule and was never made
    REJECTED = "rejected"  # a request a manager turned down
    WAITLISTED = "waitlisted"  # a waitlist place whose time passed without a booking
    LAPSED = "lapsed"  # a request whose start passed with no decision


class UnmetDemand(Base):
    """Time someone wanted an asset and did not get it: the evidence for investment."""

    __tablename__ = "unmet_demand"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requester_school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id", ondelete="SET NULL"))
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    minutes: Mapped[int]
    source: Mapped[DemandSource] = mapped_column(str_enum(DemandSource, "demand_source"))
    reasons: Mapped[list[str]] = mapped_column(JSON)  # rule codes, e.g. ["overlap", "min_notice"]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # The waitlist place this demand is (a place never served): recorded once per place.
    waitlist_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_unmet_demand_asset_start", "asset_id", "start_at"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
    )


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # the slot is held for this person until offer_expires_at
    ACCEPTED = "accepted"
    EXPIRED = "expired"  # the offer ran out; the next person is offered it
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class WaitlistEntry(Base):
    """Someone waiting for a taken slot; offered it, first come first served, when it frees."""

    __tablename__ = "waitlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[WaitlistStatus] = mapped_column(
        str_enum(WaitlistStatus, "waitlist_status"), default=WaitlistStatus.WAITING
    )
    offered_at: Mapped[dt.datetime | None]
    offer_expires_at: Mapped[dt.datetime | None]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_waitlist_asset_status", "asset_id", "status", "created_at"),
        CheckConstraint("start_at < end_at", name="starts_before_end"),
    )


class QuotaPeriod(enum.StrEnum):
    WEEK = "week"
    MONTH = "month"


class Quota(Base):
    """A cap on booked hours per person per week or month, for one asset or a category within a
    School, set separately for the owning School's people and for other Schools' people."""

    __tablename__ = "quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    period: Mapped[QuotaPeriod] = mapped_column(str_enum(QuotaPeriod, "quota_period"))
    own_school_minutes: Mapped[int | None]  # None: no cap
    other_school_minutes: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("(asset_id IS NULL) <> (category_id IS NULL)", name="one_scope"),
        CheckConstraint("own_school_minutes IS NULL OR own_school_minutes >= 0", name="own_not_negative"),
        CheckConstraint(
            "other_school_minutes IS NULL OR other_school_minutes >= 0", name="other_not_negative"
        ),
    )


class LocalDay(Base):
    """The university's local days as UTC instants: each date's [start_at, end_at) in its zone
    (23 or 25 hours on the days the clocks change), and the first day of its month. Reference
    data for the day totals (``BookedDay``, ``BookingStart``): filled for the configured zone by
    the migration, and again by ``flask rebuild-booked-days`` if the zone changes
    (``bookings.day_totals``); tests keep it when they empty the tables."""

    __tablename__ = "local_days"
    __table_args__ = {"info": {"reference_data": True}}

    day: Mapped[dt.date] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[dt.date]
    start_at: Mapped[dt.datetime]
    end_at: Mapped[dt.datetime]


class BookedDay(Base):
    """Booked seconds per asset, local month and day, and borrowing School (0: a requester of no
    School): the bookings in ``BOOKED_STATUSES`` split at the local midnights (``LocalDay``),
    each part rounded to the second. Kept by the database's own triggers on ``bookings``, in the
    same statement as every insert, update and delete of a booking, however it is made
    (``bookings.day_totals``): the utilisation report reads its booked hours here, a month of
    an asset's rows in order of its key."""

    __tablename__ = "booked_days"
    __table_args__ = (
        Index("ix_booked_days_day", "day"),
        {"sqlite_with_rowid": False, "info": {"kept_by_triggers": True}},
    )

    asset_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    seconds: Mapped[int] = mapped_column(BigInteger)


class BookingStart(Base):
    """How many bookings of an asset each person made start on each local day, by what became
    of them: held (``BOOKED_STATUSES``), released as no-shows, or cancelled. Kept by the same
    triggers as ``BookedDay``; the utilisation report counts its bookings, people, bookings due,
    no-shows and the base of late cancellations here, an asset's people in order of its key."""

    __tablename__ = "booking_starts"
    __table_args__ = {"sqlite_with_rowid": False, "info": {"kept_by_triggers": True}}

    asset_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    requester_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    held: Mapped[int]
    no_shows: Mapped[int]
    cancelled: Mapped[int]
