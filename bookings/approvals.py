"""The approval queue: the pending requests a manager (or an admin) has to decide, oldest first.

One query serves the page and its filters: by asset, by the requester's School, by the owning
School (for whoever decides for more than one), and by the days the booking falls on. Pages are
LIMIT/OFFSET slices with a COUNT. Deciding itself is in bookings/service.py (``approve``,
``reject``), where the rule "nobody decides their own request" lives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.timeutil import local_to_utc
from inventory.catalogue import Page
from inventory.models import Asset, School

PER_PAGE = 25
_ID = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class QueueFilters:
    asset_id: int | None = None
    requester_school_id: int | None = None  # the School the request comes from
    owning_school_id: int | None = None  # the School that owns the asset
    day_from: dt.date | None = None  # local days the booking falls on, both included
    day_to: dt.date | None = None
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def any(self) -> bool:
        return any(
            value is not None
            for value in (
                self.asset_id,
                self.requester_school_id,
                self.owning_school_id,
                self.day_from,
                self.day_to,
            )
        )

    def with_page(self, page: int) -> QueueFilters:
        return replace(self, page=page)


def _id(args: Mapping[str, str], name: str, what: str, problems: list[str]) -> int | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if not _ID.fullmatch(value):
        problems.append(f"'{value[:40]}' is not {what}; showing every one.")
        return None
    return int(value)


def _day(args: Mapping[str, str], name: str, label: str, problems: list[str]) -> dt.date | None:
    value = (args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"Enter the “{label}” date as a date, such as 2026-12-01.")
        return None
    if not 2000 <= day.year <= 2999:
        problems.append(f"The “{label}” date must be a date between the years 2000 and 2999.")
        return None
    return day


def parse_queue_filters(args: Mapping[str, str]) -> tuple[QueueFilters, list[str]]:
    """Read the queue's filters from query-string arguments; returns them and the problems
    found (a bad value is dropped with a message, rather than failing the whole page)."""
    problems: list[str] = []
    day_from = _day(args, "from", "From", problems)
    day_to = _day(args, "to", "To", problems)
    if day_from and day_to and day_to < day_from:
        problems.append("The “To” date is before the “From” date; showing every date.")
        day_from = day_to = None
    page = _id(args, "page", "a page number", problems) or 1
    filters = QueueFilters(
        asset_id=_id(args, "asset", "an asset", problems),
        requester_school_id=_id(args, "school", "a School", problems),
        owning_school_id=_id(args, "owner", "a School", problems),
        day_from=day_from,
        day_to=day_to,
        page=max(1, page),
    )
    return filters, problems


def _scope(manager: User, now: dt.datetime) -> Select[tuple[Booking]]:
    """Pending requests, not yet over, for the assets of the Schools the person decides for."""
    query = (
        select(Booking)
        .join(Booking.asset)
        .where(Booking.status == BookingStatus.PENDING, Booking.end_at > now)
    )
    if not manager.is_admin:
        query = query.where(Asset.school_id.in_(manager.managed_school_ids))
    return query


def queue_select(
    manager: User, now: dt.datetime, filters: QueueFilters | None = None
) -> Select[tuple[Booking]]:
    """The requests in the person's queue that match ``filters``, oldest request first."""
    filters = filters or QueueFilters()
    query = _scope(manager, now).options(
        joinedload(Booking.asset).joinedload(Asset.school),
        joinedload(Booking.requester),
        joinedload(Booking.requester_school),
    )
    if filters.asset_id is not None:
        query = query.where(Booking.asset_id == filters.asset_id)
    if filters.requester_school_id is not None:
        query = query.where(Booking.requester_school_id == filters.requester_school_id)
    if filters.owning_school_id is not None:
        query = query.where(Asset.school_id == filters.owning_school_id)
    # A booking falls on a day when it overlaps it: [start, end) meets [midnight, next midnight).
    if filters.day_from is not None:
        query = query.where(Booking.end_at > local_to_utc(dt.datetime.combine(filters.day_from, dt.time())))
    if filters.day_to is not None:
        day_after = filters.day_to + dt.timedelta(days=1)
        query = query.where(Booking.start_at < local_to_utc(dt.datetime.combine(day_after, dt.time())))
    return query.order_by(Booking.created_at, Booking.id)


def approval_queue(
    session: Session, manager: User, now: dt.datetime, filters: QueueFilters | None = None
) -> list[Booking]:
    """Pending requests for the assets of the Schools the person manages (every School for an
    admin), oldest request first: the one waiting longest is decided first."""
    return list(session.scalars(queue_select(manager, now, filters)).unique())


def approval_queue_page(session: Session, manager: User, now: dt.datetime, filters: QueueFilters) -> Page:
    """One page of the queue; a page past the end shows the last one."""
    query = queue_select(manager, now, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // filters.per_page))
    page = min(filters.page, pages)
    items = list(
        session.scalars(query.limit(filters.per_page).offset((page - 1) * filters.per_page)).unique()
    )
    return Page(items=items, total=total, page=page, per_page=filters.per_page)


@dataclass(frozen=True)
class Choice:
    id: int
    label: str
    waiting: int


def queue_choices(session: Session, manager: User, now: dt.datetime) -> dict[str, list[Choice]]:
    """What the filters offer: the assets, requesting Schools and owning Schools that have
    requests in the person's queue, each with how many are waiting."""
    waiting = func.count(Booking.id)
    scope = _scope(manager, now).with_only_columns(Booking.id).subquery()
    in_scope = Booking.id.in_(select(scope.c.id))
    assets = session.execute(
        select(Asset.id, Asset.name, Asset.tag, waiting)
        .join(Booking, Booking.asset_id == Asset.id)
        .where(in_scope)
        .group_by(Asset.id, Asset.name, Asset.tag)
        .order_by(Asset.name, Asset.tag)
    )
    requesting = session.execute(
        select(School.id, School.name, waiting)
        .join(Booking, Booking.requester_school_id == School.id)
        .where(in_scope)
        .group_by(School.id, School.name)
        .order_by(School.name)
    )
    owning = session.execute(
        select(School.id, School.name, waiting)
        .join(Asset, Asset.school_id == School.id)
        .join(Booking, Booking.asset_id == Asset.id)
        .where(in_scope)
        .group_by(School.id, School.name)
        .order_by(School.name)
    )
    return {
        "assets": [Choice(id_, f"{name} ({tag})", count) for id_, name, tag, count in assets],
        "requesting_schools": [Choice(id_, name, count) for id_, name, count in requesting],
        "owning_schools": [Choice(id_, name, count) for id_, name, count in owning],
    }


def waiting_by_school(session: Session, now: dt.datetime) -> dict[int, int]:
    """How many requests wait for a decision, by the School that owns the asset."""
    rows = session.execute(
        select(Asset.school_id, func.count(Booking.id))
        .join(Booking, Booking.asset_id == Asset.id)
        .where(Booking.status == BookingStatus.PENDING, Booking.end_at > now)
        .group_by(Asset.school_id)
    )
    return {school_id: count for school_id, count in rows}


def query_args(filters: QueueFilters) -> dict[str, Any]:
    """The filters as query-string arguments, for links that keep them (pages, after a decision)."""
    args: dict[str, Any] = {
        "asset": filters.asset_id,
        "school": filters.requester_school_id,
        "owner": filters.owning_school_id,
        "from": filters.day_from.isoformat() if filters.day_from else None,
        "to": filters.day_to.isoformat() if filters.day_to else None,
    }
    return {name: value for name, value in args.items() if value is not None}
