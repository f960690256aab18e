"""Quotas: a School's cap on the hours one person may book of an asset, or of a category of its
assets, per week or month, set apart for the School's own people and for other Schools' people.

A booking counts towards the quota of the period (the local calendar week, Monday to Sunday, or
the calendar month) in which it starts. Pending, confirmed, checked-out and completed bookings
count: a request waiting for approval already claims its hours. Cancelled, rejected and no-show
bookings do not. A request that would go over a cap is refused (``quota_violation``, called by
``rules.check_booking``) saying the cap, what is used and when it resets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings.models import Booking, BookingStatus, Quota, QuotaPeriod
from bookings.rules import Violation
from core.db import atomic, hours_between
from core.errors import InvalidInput, NotFound
from core.timeutil import local_day_bounds, to_local
from inventory.models import Asset, Category, School

#: The statuses whose hours count towards a quota.
COUNTED = (BookingStatus.PENDING, BookingStatus.CONFIRMED, BookingStatus.CHECKED_OUT, BookingStatus.COMPLETED)
ADJECTIVE = {QuotaPeriod.WEEK: "weekly", QuotaPeriod.MONTH: "monthly"}


def describe_minutes(minutes: int) -> str:
    """480 -> '8 hours'; 450 -> '7 h 30 min'; 30 -> '30 minutes'."""
    hours, mins = divmod(int(minutes), 60)
    if mins and hours:
        return f"{hours} h {mins} min"
    if mins:
        return f"{mins} minute{'s' if mins != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def period_bounds(period: QuotaPeriod, moment: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.date]:
    """The UTC bounds of the local week (Monday to Sunday) or month containing ``moment``, and
    the local date the next one starts (when the quota resets)."""
    day = to_local(moment).date()
    if period == QuotaPeriod.WEEK:
        first = day - dt.timedelta(days=day.weekday())
        following = first + dt.timedelta(days=7)
    else:
        first = day.replace(day=1)
        following = (first + dt.timedelta(days=32)).replace(day=1)
    return local_day_bounds(first)[0], local_day_bounds(following)[0], following


def scope_label(session: Session, quota: Quota) -> str:
    if quota.asset_id is not None:
        asset = session.get(Asset, quota.asset_id)
        return asset.name if asset else "a deleted asset"
    category = session.get(Category, quota.category_id)
    school = session.get(School, quota.school_id)
    return f"{category.name if category else 'a deleted category'} equipment of {school.code if school else 'the School'}"


def cap_for(quota: Quota, requester: User) -> int | None:
    """The cap that applies to the person: the own-School one for the owning School's people."""
    return (
        quota.own_school_minutes
        if requester.home_school_id == quota.school_id
        else quota.other_school_minutes
    )


def minutes_used(
    session: Session,
    requester: User,
    quota: Quota,
    period_start: dt.datetime,
    period_end: dt.datetime,
    ignore_booking_id: int | None = None,
) -> int:
    """Minutes of the person's counted bookings in the quota's scope starting in the period (SQL)."""
    query = (
        select(func.coalesce(func.sum(hours_between(Booking.start_at, Booking.end_at)), 0.0))
        .select_from(Booking)
        .join(Booking.asset)
        .where(
            Booking.requester_id == requester.id,
            Booking.status.in_(COUNTED),
            Booking.start_at >= period_start,
            Booking.start_at < period_end,
        )
    )
    if quota.asset_id is not None:
        query = query.where(Booking.asset_id == quota.asset_id)
    else:
        query = query.where(Asset.category_id == quota.category_id, Asset.school_id == quota.school_id)
    if ignore_booking_id is not None:
        query = query.where(Booking.id != ignore_booking_id)
    return round(float(session.scalar(query) or 0) * 60)


def applicable_quotas(session: Session, asset: Asset) -> list[Quota]:
    """The asset's own quotas first, then its category's within the asset's School."""
    scope = Quota.asset_id == asset.id
    if asset.category_id is not None:
        scope = or_(scope, and_(Quota.category_id == asset.category_id, Quota.school_id == asset.school_id))
    # One query: the asset's own (asset_id set) before its category's, each in the order made.
    return list(session.scalars(select(Quota).where(scope).order_by(Quota.asset_id.is_(None), Quota.id)))


def quota_violation(
    session: Session,
    requester: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    ignore_booking_id: int | None = None,
):
    """The first quota the booking would take the person over, as a Violation("quota", ...) that
    says the cap, what is used and when it resets; None when it fits every quota."""

    needed = round((end_at - start_at).total_seconds() / 60)
    for quota in applicable_quotas(session, asset):
        cap = cap_for(quota, requester)
        if cap is None:
            continue
        period_start, period_end, resets_on = period_bounds(quota.period, start_at)
        used = minutes_used(session, requester, quota, period_start, period_end, ignore_booking_id)
        if used + needed <= cap:
            continue
        who = "" if requester.home_school_id == quota.school_id else " (for people from other Schools)"
        this = "week" if quota.period == QuotaPeriod.WEEK else "month"
        return Violation(
            "quota",
            f"Your {ADJECTIVE[quota.period]} quota for {scope_label(session, quota)}{who} is "
            f"{describe_minutes(cap)}: you have booked {describe_minutes(used)} that {this}, and this booking "
            f"needs {describe_minutes(needed)}. It resets on {resets_on:%a %d %b}.",
        )
    return None


# --- Managing quotas ---------------------------------------------------------------------------


@dataclass
class QuotaRow:
    quota: Quota
    scope: str


def list_quotas(session: Session, school_id: int) -> list[QuotaRow]:
    quotas = session.scalars(select(Quota).where(Quota.school_id == school_id).order_by(Quota.id))
    rows = [QuotaRow(quota, scope_label(session, quota)) for quota in quotas]
    return sorted(rows, key=lambda row: (row.scope.lower(), row.quota.period.value))


def create_quota(
    session: Session,
    actor: User,
    school_id: int,
    *,
    asset_id: int | None,
    category_id: int | None,
    period: str,
    own_school_minutes: int | None,
    other_school_minutes: int | None,
) -> Quota:
    """A manager of the School (or an admin) caps booked time per person for one of its assets,
    or for a category of its assets, per week or month. At least one of the two caps is set;
    a scope has at most one quota per period. A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        require_school_manager(actor, school_id)
        errors: dict[str, list[str]] = {}
        if (asset_id is None) == (category_id is None):
            errors["scope"] = ["Choose one asset or one category."]
        elif asset_id is not None:
            asset = session.get(Asset, asset_id)
            if asset is None or asset.school_id != school_id:
                errors["scope"] = ["Choose one of the School's assets."]
        elif session.get(Category, category_id) is None:
            errors["scope"] = ["Choose a category from the list."]
        try:
            period_value = QuotaPeriod(period)
        except ValueError:
            errors["period"] = ["Choose week or month."]
            period_value = None
        for name, value in (
            ("own_school_minutes", own_school_minutes),
            ("other_school_minutes", other_school_minutes),
        ):
            if value is not None and value < 0:
                errors[name] = ["A cap cannot be negative."]
        if own_school_minutes is None and other_school_minutes is None:
            errors.setdefault("own_school_minutes", []).append(
                "Set a cap for the School's own people, other Schools' people, or both."
            )
        if not errors and period_value is not None:
            clash = session.scalar(
                select(Quota.id).where(
                    Quota.school_id == school_id,
                    Quota.period == period_value,
                    Quota.asset_id == asset_id if asset_id is not None else Quota.category_id == category_id,
                )
            )
            if clash:
                errors["scope"] = [
                    f"There is already a {ADJECTIVE[period_value]} quota for this; delete it first."
                ]
        if errors:
            raise InvalidInput(field_errors=errors)
        quota = Quota(
            school_id=school_id,
            asset_id=asset_id,
            category_id=category_id,
            period=period_value,
            own_school_minutes=own_school_minutes,
            other_school_minutes=other_school_minutes,
            created_by_id=actor.id,
        )
        session.add(quota)
        session.flush()
        return quota


def delete_quota(session: Session, actor: User, quota_id: int) -> Quota:
    """A manager of the quota's School (or an admin) removes it; bookings already made stay.
    A command: its own unit of work (``core/db.py``)."""
    with atomic(session, actor):
        quota = session.get(Quota, quota_id)
        if quota is None:
            raise NotFound("There is no such quota.")
        require_school_manager(actor, quota.school_id)
        session.delete(quota)
        session.flush()
        return quota
