"""Report subscriptions, their deliveries (exactly once per period), and stored snapshots."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import Base, str_enum, utcnow


class Frequency(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class ReportSubscription(Base):
    """Someone wants the utilisation report by e-mail every week, month or quarter."""

    __tablename__ = "report_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency, "report_frequency"))
    # The Schools it covers; an empty list means every School the subscriber may see.
    school_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class DeliveryStatus(enum.StrEnum):
    CLAIMED = "claimed"  # a scheduler took it; if it crashed, a later run finishes it
    SENT = "sent"  # written to the outbox with its snapshot
    FAILED = "failed"


class ReportDelivery(Base):
    """One subscription's report for one period. The unique key makes two schedulers, or a
    restart after a crash, deliver it exactly once."""

    __tablename__ = "report_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("report_subscriptions.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)  # inclusive
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.CLAIMED
    )
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("report_snapshots.id", ondelete="SET NULL"))

    __table_args__ = (
        UniqueConstraint("subscription_id", "period_start", name="uq_report_deliveries_period"),
    )


class ReportSnapshot(Base):
    """A generated report kept as it was: its figures and its XLSX, to open again later."""

    __tablename__ = "report_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    school_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every School
    title: Mapped[str] = mapped_column(String(250))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
