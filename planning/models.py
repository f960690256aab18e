"""Decisions managers record against capital-planning recommendations, with their history."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from core.db import Base, str_enum, utcnow


class Recommendation(enum.StrEnum):
    REPLACE = "replace"
    INVEST = "invest"
    SHARE = "share"
    DISPOSE = "dispose"  # dispose or redeploy


class DecisionOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DEFERRED = "deferred"
    DECLINED = "declined"


class PlanningDecision(Base):
    """What a manager (or finance, or an admin) decided about a recommendation for an asset.
    Rows are never changed: the latest per asset and recommendation is the current decision."""

    __tablename__ = "planning_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    recommendation: Mapped[Recommendation] = mapped_column(
        str_enum(Recommendation, "planning_recommendation")
    )
    outcome: Mapped[DecisionOutcome] = mapped_column(str_enum(DecisionOutcome, "planning_outcome"))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_planning_decisions_asset", "asset_id", "recommendation", "decided_at"),)
