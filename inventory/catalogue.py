"""The cross-School catalogue: which assets match a search, filters and sort order.

One query builder serves the catalogue page, the register, the exports and the API, so a filter
means the same thing everywhere. Everything is done in SQL; pages are LIMIT/OFFSET slices with a
COUNT, which stays fast at 10,000 assets thanks to the indexes on the filtered columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from bookings.availability import holds_asset, maintenance_in
from core.bounds import MAX_INT, TIME_OUT_OF_RANGE, has_nul, time_in_range, whole_number
from core.timeutil import NonexistentLocalTime, local_to_utc, local_today, to_local
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetStatus, Category, Location, School
from inventory.training import holds_training_for

SORTS = {
    "name": (Asset.name, Asset.id),
    "tag": (Asset.tag,),
    "school": (School.name, Asset.name, Asset.id),
    "category": (Category.name, Asset.name, Asset.id),
    "newest": (Asset.created_at.desc(), Asset.id.desc()),
}
SORT_LABELS = {
    "name": "Name",
    "tag": "Asset tag",
    "school": "School",
    "category": "Category",
    "newest": "Newest first",
}
PER_PAGE_CHOICES = (20, 50, 100)
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""
    school_id: int | None = None
    category_id: int | None = None
    location_id: int | None = None
    status: AssetStatus | None = None
    shareable_with_me: bool = False
    free_from: dt.datetime | None = None  # aware UTC
    free_to: dt.datetime | None = None
    sort: str = "name"
    page: int = 1
    per_page: int = 20
    # The register and exports include what the catalogue hides: retired and unbookable assets.
    include_unbookable: bool = False
    # The register limits a manager to the Schools they manage; None means every School.
    school_ids: frozenset[int] | None = None

    def with_page(self, page: int) -> CatalogueFilters:
        return replace(self, page=page)


def _int(args: Mapping[str, str], name: str, problems: list[str], low: int = 1) -> int | None:
    """The whole number ``?name=`` gives, or None (and a problem said) when it is not one an id
    or a page number can be: '²', '1e3' and 2**31 are refused here, not by the database."""
    value = args.get(name)
    if value in (None, ""):
        return None
    try:
        return whole_number(value, low, MAX_INT)
    except ValueError as error:
        problems.append(f"{name}: {error} Ignored.")
        return None


def _local_datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    wall = dt.datetime.fromisoformat(value)
    if not time_in_range(wall):
        raise ValueError(TIME_OUT_OF_RANGE)
    return local_to_utc(wall)


def parse_filters(
    args: Mapping[str, str], include_unbookable: bool = False
) -> tuple[CatalogueFilters, list[str]]:
    """Read filters from query-string arguments; returns them and the problems found (bad
    values are dropped, with a message, rather than failing the whole page)."""
    problems: list[str] = []
    # PostgreSQL cannot compare text with a NUL character in it: such a filter is left out.
    for name in sorted({name for name, value in args.items() if has_nul(value)}):
        problems.append(
            f"The filter {name} contains a NUL character, which cannot be searched for; it is ignored."
        )
    args = {name: value for name, value in args.items() if not has_nul(value)}
    status = None
    if args.get("status"):
        try:
            status = AssetStatus(args["status"])
        except ValueError:
            problems.append(f"'{args['status']}' is not a status; showing every status.")
    free_from = free_to = None
    try:
        free_from = _local_datetime(args.get("free_from"))
        free_to = _local_datetime(args.get("free_to"))
    except NonexistentLocalTime as error:
        problems.append(str(error))
    except ValueError as error:
        problems.append(
            str(error)
            if str(error) == TIME_OUT_OF_RANGE
            else "Enter the free-from and free-to times as dates and times, such as 2026-12-01T09:00."
        )
    if (free_from is None) != (free_to is None):
        problems.append("To find free equipment, give both a start and an end time.")
        free_from = free_to = None
    elif free_from is not None and free_to is not None and free_from >= free_to:
        problems.append("The end of the free period must be after its start.")
        free_from = free_to = None
    sort = args.get("sort") or "name"
    if sort not in SORTS:
        problems.append(f"Unknown sort order '{sort}'; sorted by name.")
        sort = "name"
    per_page = _int(args, "per_page", problems) or PER_PAGE_CHOICES[0]
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = _int(args, "page", problems) or 1
    filters = CatalogueFilters(
        q=(args.get("q") or "").strip()[:200],
        school_id=_int(args, "school", problems),
        category_id=_int(args, "category", problems),
        location_id=_int(args, "location", problems),
        status=status,
        shareable_with_me=args.get("shareable") in ("1", "on", "true", "y"),
        free_from=free_from,
        free_to=free_to,
        sort=sort,
        page=page,
        per_page=per_page,
        include_unbookable=include_unbookable,
    )
    return filters, problems


WALL_FORMAT = "%Y-%m-%dT%H:%M"


def booking_window(filters: CatalogueFilters) -> dict[str, str]:
    """The "free for the whole of" window searched for, as the ``start``/``end`` arguments the
    asset page and the booking form take (local wall-clock times); empty without a window."""
    if filters.free_from is None or filters.free_to is None:
        return {}
    return {
        "start": to_local(filters.free_from).strftime(WALL_FORMAT),
        "end": to_local(filters.free_to).strftime(WALL_FORMAT),
    }


def window_from_args(args: Mapping[str, str]) -> dict[str, str]:
    """A window passed along as ``?start=...&end=...`` (local times), checked and normalised, to
    hand on to the booking form; empty when either is missing or unreadable, or it ends first."""
    try:
        start = dt.datetime.fromisoformat(args.get("start") or "")
        end = dt.datetime.fromisoformat(args.get("end") or "")
    except ValueError:
        return {}
    if start.tzinfo is not None or end.tzinfo is not None or end <= start:
        return {}
    return {"start": start.strftime(WALL_FORMAT), "end": end.strftime(WALL_FORMAT)}


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def catalogue_select(
    actor: User, filters: CatalogueFilters, today: dt.date | None = None
) -> Select[tuple[Asset]]:
    """The assets matching ``filters``, sorted, without pagination. ``today`` (the local date;
    default: today) is when training must be current for "only equipment I can book"."""
    query = (
        select(Asset)
        .join(Asset.school)
        .outerjoin(Asset.category)
        .outerjoin(Asset.location)
        .options(joinedload(Asset.school), joinedload(Asset.category), joinedload(Asset.location))
    )
    if not filters.include_unbookable:
        query = query.where(Asset.bookable.is_(True), Asset.status.not_in(WITHDRAWN_STATUSES))
    for word in filters.q.split():
        pattern = f"%{_escape_like(word.lower())}%"
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        Asset.name,
                        Asset.tag,
                        Asset.manufacturer,
                        Asset.model,
                        Asset.description,
                    )
                )
            )
        )
    if filters.school_id is not None:
        query = query.where(Asset.school_id == filters.school_id)
    if filters.school_ids is not None:
        query = query.where(Asset.school_id.in_(filters.school_ids))
    if filters.category_id is not None:
        query = query.where(Asset.category_id == filters.category_id)
    if filters.location_id is not None:
        query = query.where(Asset.location_id == filters.location_id)
    if filters.status is not None:
        query = query.where(Asset.status == filters.status)
    if filters.shareable_with_me:
        # "Only equipment I can book": shared with the person's School (or its own), and no
        # training they lack (bookings/rules.py refuses such a booking).
        query = query.where(
            or_(Asset.shareable.is_(True), Asset.school_id == actor.home_school_id),
            or_(Asset.training_required.is_(False), holds_training_for(actor, today or local_today())),
        )
    if filters.free_from is not None and filters.free_to is not None:
        query = query.where(
            Asset.status == AssetStatus.AVAILABLE,
            # The same definition of busy as the booking rules (bookings/availability.py).
            ~exists().where(holds_asset(Asset.id, filters.free_from, filters.free_to)),
            ~exists().where(maintenance_in(Asset.id, filters.free_from, filters.free_to)),
        )
    return query.order_by(*SORTS[filters.sort])


@dataclass
class Page:
    items: list[Asset]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def search(session: Session, actor: User, filters: CatalogueFilters) -> Page:
    query = catalogue_select(actor, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(
        session.scalars(query.limit(filters.per_page).offset((filters.page - 1) * filters.per_page)).unique()
    )
    return Page(items=items, total=total, page=filters.page, per_page=filters.per_page)


def needs_approval(actor: User, asset: Asset) -> bool:
    """Would this person's booking of the asset wait for a manager's approval?"""
    return asset.requires_approval or asset.school_id != actor.home_school_id


def filter_choices(session: Session) -> dict[str, list[Any]]:
    return {
        "schools": list(session.scalars(select(School).order_by(School.name))),
        "categories": list(session.scalars(select(Category).order_by(Category.name))),
        "locations": list(
            session.scalars(
                select(Location).join(Location.school).order_by(School.code, Location.building, Location.room)
            )
        ),
    }
