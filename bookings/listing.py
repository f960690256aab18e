"""Listing bookings: a person's own, or (for managers) those of their Schools' assets, filtered and
a page at a time. The API's ``GET /bookings`` answers with it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.permissions import require_school_manager
from bookings.models import Booking, BookingStatus
from core.errors import NotAllowed
from inventory.models import Asset

MINE, MANAGED = "mine", "managed"


@dataclass(frozen=True)
class BookingFilters:
    scope: str = MINE  # mine: the person's own bookings; managed: their Schools' assets' bookings
    school_id: int | None = None
    asset_id: int | None = None
    status: BookingStatus | None = None
    ends_after: dt.datetime | None = None
    starts_before: dt.datetime | None = None


@dataclass(frozen=True)
class BookingPage:
    items: list[Booking]
    total: int  # over every page
    page: int
    per_page: int


def _visible_bookings(user: User, filters: BookingFilters) -> Select[tuple[Booking]]:
    """The bookings the listing shows: the person's own, or (scope managed) those of the assets
    of the Schools they manage, the same bookings ``service.get_booking`` lets them read."""
    query = select(Booking).join(Booking.asset)
    if filters.scope == MANAGED:
        if not (user.is_admin or user.managed_schools):
            raise NotAllowed("Only managers can list their Schools' bookings.")
        if not user.is_admin:
            query = query.where(Asset.school_id.in_(user.managed_school_ids))
        if filters.school_id is not None:
            require_school_manager(user, filters.school_id)
    else:
        query = query.where(Booking.requester_id == user.id)
    if filters.school_id is not None:
        query = query.where(Asset.school_id == filters.school_id)
    if filters.asset_id is not None:
        query = query.where(Booking.asset_id == filters.asset_id)
    if filters.status is not None:
        query = query.where(Booking.status == filters.status)
    if filters.ends_after is not None:
        query = query.where(Booking.end_at > filters.ends_after)
    if filters.starts_before is not None:
        query = query.where(Booking.start_at < filters.starts_before)
    return query


def list_bookings(
    session: Session, user: User, filters: BookingFilters, page: int, per_page: int
) -> BookingPage:
    """One page of the bookings ``user`` may list, earliest first. Only managers (and admins) may
    ask for scope managed, and a School named with it must be one they manage (NotAllowed)."""
    query = _visible_bookings(user, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    bookings = session.scalars(
        query.options(
            joinedload(Booking.asset).joinedload(Asset.school),
            joinedload(Booking.requester),
            joinedload(Booking.requester_school),
            joinedload(Booking.decided_by),
        )
        .order_by(Booking.start_at, Booking.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return BookingPage(list(bookings), total, page, per_page)
