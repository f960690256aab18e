"""What the home page shows each person: the few things that matter to their roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.loans import my_overdue_loans, overdue_loans
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from bookings.service import bookings_today
from core.db import hours_between
from core.timeutil import local_day_bounds, to_local
from inventory.inspections import overdue_inspections
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetStatus, InspectionSchedule, School


@dataclass
class SchoolActivity:
    school: School
    bookings: int
    booked_hours: float
    borrowed_by_others: int


@dataclass
class Home:
    upcoming: list[Booking] = field(default_factory=list)
    my_pending: list[Booking] = field(default_factory=list)
    approvals: list[Booking] = field(default_factory=list)
    approvals_total: int = 0
    today: list[Booking] = field(default_factory=list)
    overdue_inspections: list[InspectionSchedule] = field(default_factory=list)
    unavailable_assets: list[Asset] = field(default_factory=list)
    # Loans: overdue ones of the managed Schools' kit or people, kit flagged damaged, one's own.
    overdue_loans: list[Booking] = field(default_factory=list)
    damaged_assets: list[Asset] = field(default_factory=list)
    my_overdue_loans: list[Booking] = field(default_factory=list)
    activity: list[SchoolActivity] = field(default_factory=list)
    activity_period: tuple[dt.date, dt.date] | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _with_asset():
    return joinedload(Booking.asset).joinedload(Asset.school)


def home_for(session: Session, user: User, now: dt.datetime) -> Home:
    home = Home()
    home.upcoming = list(
        session.scalars(
            select(Booking)
            .options(_with_asset())
            .where(
                Booking.requester_id == user.id,
                Booking.end_at > now,
                Booking.status.in_(ACTIVE_STATUSES),
            )
            .order_by(Booking.start_at)
            .limit(5)
        )
    )
    home.my_pending = list(
        session.scalars(
            select(Booking)
            .options(_with_asset())
            .where(
                Booking.requester_id == user.id, Booking.status == BookingStatus.PENDING, Booking.end_at > now
            )
            .order_by(Booking.start_at)
        )
    )

    school_ids = user.managed_school_ids
    if school_ids:
        pending = (
            select(Booking)
            .join(Booking.asset)
            .where(
                Asset.school_id.in_(school_ids), Booking.status == BookingStatus.PENDING, Booking.end_at > now
            )
        )
        home.approvals_total = session.scalar(select(func.count()).select_from(pending.subquery())) or 0
        home.approvals = list(
            session.scalars(
                pending.options(
                    _with_asset(), joinedload(Booking.requester), joinedload(Booking.requester_school)
                )
                .order_by(Booking.created_at)
                .limit(5)
            )
        )
        home.today = bookings_today(session, school_ids, *local_day_bounds(to_local(now).date()))
        home.overdue_inspections = overdue_inspections(session, school_ids, to_local(now).date())
        home.unavailable_assets = list(
            session.scalars(
                select(Asset)
                .options(joinedload(Asset.school))
                .where(
                    Asset.school_id.in_(school_ids),
                    Asset.status.in_([AssetStatus.MAINTENANCE, AssetStatus.OUT_OF_SERVICE]),
                )
                .order_by(Asset.name)
            )
        )
        # Loans (bookings/loans.py): both the owning School and the borrower's School see an overdue loan.
        home.overdue_loans = overdue_loans(session, school_ids, now)
        home.damaged_assets = list(
            session.scalars(
                select(Asset)
                .where(Asset.school_id.in_(school_ids), Asset.damage_reported_at.is_not(None))
                .order_by(Asset.damage_reported_at)
            )
        )
    home.my_overdue_loans = my_overdue_loans(session, user, now)

    if user.is_finance or user.is_admin:
        home.activity_period, home.activity = school_activity_this_month(session, now)

    if user.is_admin:
        home.counts = {
            "Schools": session.scalar(select(func.count(School.id))) or 0,
            "people": session.scalar(select(func.count(User.id))) or 0,
            "assets": session.scalar(
                select(func.count(Asset.id)).where(Asset.status.not_in(WITHDRAWN_STATUSES))
            )
            or 0,
            "bookings": session.scalar(select(func.count(Booking.id))) or 0,
        }
    return home


def school_activity_this_month(
    session: Session, now: dt.datetime
) -> tuple[tuple[dt.date, dt.date], list[SchoolActivity]]:
    """Bookings that hold an asset, started this local month, per owning School (in SQL)."""
    today = to_local(now).date()
    first = today.replace(day=1)
    next_first = (first + dt.timedelta(days=32)).replace(day=1)
    start, _ = local_day_bounds(first)
    end, _ = local_day_bounds(next_first)
    counted = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED)
    rows = session.execute(
        select(
            Asset.school_id,
            func.count(Booking.id),
            func.count(Booking.id).filter(Booking.requester_school_id != Asset.school_id),
            func.coalesce(func.sum(hours_between(Booking.start_at, Booking.end_at)), 0.0),
        )
        .join(Booking.asset)
        .where(Booking.status.in_(counted), Booking.start_at >= start, Booking.start_at < end)
        .group_by(Asset.school_id)
    ).all()
    by_school = {school_id: (count, borrowed, hours) for school_id, count, borrowed, hours in rows}
    activity = []
    for school in session.scalars(select(School).order_by(School.name)):
        count, borrowed, hours = by_school.get(school.id, (0, 0, 0.0))
        activity.append(SchoolActivity(school, count, round(float(hours), 1), borrowed))
    return (first, next_first - dt.timedelta(days=1)), activity
