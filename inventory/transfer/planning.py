"""Planning an import: read, parse and validate every row, and write nothing. The plan lists the
changes and the problems, each where the spreadsheet shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import User
from accounts.permissions import require_school_manager
from accounts.service import find_user_by_email
from core.bounds import NUL_IN_TEXT, has_nul
from inventory import service
from inventory.models import Asset, AssetStatus, Category, Location, School
from inventory.transfer.cell_values import (
    cell_boolean,
    cell_date,
    cell_minutes,
    cell_pence,
    cell_status,
    cell_text,
)
from inventory.transfer.columns import (
    BOOLEAN_KEYS,
    COLUMN_BY_HEADER,
    COLUMN_FOR_FIELD,
    HEADER_OF,
    HEADERS,
    Column,
    header_key,
)
from inventory.transfer.reading import is_blank, read_table
from inventory.transfer.xlsx_limits import XlsxLimits


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded file, where the spreadsheet shows it."""

    line: int
    column: str
    message: str


LocationKey = tuple[str, str]  # (building, room), lower case


@dataclass
class RowPlan:
    line: int
    tag: str
    action: str  # "create", "update" or "unchanged"
    data: service.AssetInput
    asset_id: int | None = None
    new_location: LocationKey | None = None
    status: AssetStatus = AssetStatus.AVAILABLE
    status_reason: str = ""


@dataclass
class ImportPlan:
    """What importing a file would do, or why it cannot be imported."""

    filename: str
    school_id: int
    rows: list[RowPlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Locations to add, by key: (site, building, room) as the file first spelt them.
    new_locations: dict[LocationKey, tuple[str, str, str]] = field(default_factory=dict)
    #: What importing does to bookings still to come: retired or disposed assets' confirmed
    #: bookings cancelled and requests rejected; bookings under a maintenance or out-of-service
    #: status, or outside narrower hours, kept (their holders are told).
    bookings_cancelled: int = 0
    requests_rejected: int = 0
    bookings_kept: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


def plan_import(
    session: Session,
    actor: User,
    school: School,
    filename: str,
    content: bytes,
    limits: XlsxLimits | None = None,
) -> ImportPlan:
    """Read and check a register file for ``school``, writing nothing.

    Only the School's managers (and admins) may import. Tag and Name are required columns, other
    columns are optional (a missing column keeps an asset's value, or the default for a new one),
    and unknown columns are refused. Rows are matched to assets by tag: a tag of another School's
    asset, or a tag repeated in the file, is a problem. Every problem is reported with its line
    and column; a file with any problem cannot be imported. Raises InvalidInput only when the file
    cannot be read at all, or is bigger inside than ``limits`` (the KITSHARE_XLSX_* settings) allow.
    """
    require_school_manager(actor, school.id)
    table = read_table(filename, content, limits)
    plan = ImportPlan(filename=filename, school_id=school.id)
    columns = _read_header(table[0][1], table[1:], plan)
    if columns is None:
        return plan
    context = _PlanContext.load(session, school, [row for _, row in table[1:]], columns)
    seen_tags: dict[str, int] = {}
    for line, cells in table[1:]:
        # A present column's missing cell (rows are trimmed) is an empty cell, not a missing column.
        values = {column.key: cells[i] if i < len(cells) else None for i, column in columns.items()}
        _plan_row(session, school, plan, context, line, values, seen_tags)
    if plan.ok:
        _plan_bookings(session, plan, context)
    return plan


def _plan_bookings(session: Session, plan: ImportPlan, context: _PlanContext) -> None:
    """Count the bookings still to come that the import's status and hours changes end or leave in
    the way, so that the preview says so before the manager confirms (the same rule as the asset
    page's, bookings/disruption.py)."""
    # Bookings build on inventory; the import asks them what a change touches, as the services do:
    # an import against the layers, allowed by name in pyproject.toml's import-linter contract.
    from bookings import disruption

    assets = {asset.id: asset for asset in context.assets_by_tag.values()}
    for row in plan.rows:
        asset = assets.get(row.asset_id or 0)
        if row.action != "update" or asset is None:
            continue
        by_status = (
            disruption.affected_by_status(session, asset, row.status) if row.status != asset.status else None
        )
        if by_status is not None and by_status.ends_all:
            plan.bookings_cancelled += len(by_status.confirmed)
            plan.requests_rejected += len(by_status.pending)
            continue
        kept = {
            booking.id
            for booking in disruption.affected_by_hours(session, asset, row.data.weekly_hours).confirmed
        }
        if by_status is not None:
            kept |= {booking.id for booking in by_status.confirmed}
        plan.bookings_kept += len(kept)


def _read_header(
    cells: list[Any], rows: list[tuple[int, list[Any]]], plan: ImportPlan
) -> dict[int, Column] | None:
    """Map cell positions to columns; report unknown, repeated and missing headers on line 1."""
    columns: dict[int, Column] = {}
    seen: dict[str, int] = {}
    known = ", ".join(HEADERS)
    for index, cell in enumerate(cells):
        text = cell_text(cell)
        if not text:
            if any(index < len(row) and not is_blank(row[index]) for _, row in rows):
                plan.problems.append(
                    Problem(1, f"Column {_column_letter(index)}", "This column has values but no header.")
                )
            continue
        column = COLUMN_BY_HEADER.get(header_key(text))
        if column is None:
            plan.problems.append(
                Problem(1, text, f"Kitshare has no column called '{text}'. The columns are: {known}.")
            )
        elif column.key in seen:
            plan.problems.append(
                Problem(
                    1,
                    text,
                    f"{column.header} is also column {_column_letter(seen[column.key])}; "
                    "give each column once.",
                )
            )
        else:
            seen[column.key] = index
            columns[index] = column
    for required in ("tag", "name"):
        if required not in seen:
            header = HEADER_OF[required]
            plan.problems.append(Problem(1, header, f"The file needs a {header} column."))
    present = set(seen)
    if ("building" in present) != ("room" in present):
        missing = "Room" if "building" in present else "Building"
        plan.problems.append(Problem(1, missing, "Building and Room go together: add the missing column."))
    elif "site" in present and "building" not in present:
        plan.problems.append(Problem(1, "Site", "A Site needs the Building and Room columns too."))
    if "tag" not in present or "name" not in present:
        return None
    return columns


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass
class _PlanContext:
    """What every row is checked against, loaded once rather than once a row."""

    categories: dict[str, Category]
    locations: dict[LocationKey, Location]
    assets_by_tag: dict[str, Asset]
    contacts: dict[str, User | None] = field(default_factory=dict)

    @classmethod
    def load(
        cls, session: Session, school: School, rows: list[list[Any]], columns: dict[int, Column]
    ) -> _PlanContext:
        tag_index = next(i for i, column in columns.items() if column.key == "tag")
        # A tag with a NUL character is refused on its row; PostgreSQL would refuse the query.
        tags = {cell_text(row[tag_index]).lower() for row in rows if tag_index < len(row)}
        tags = {tag for tag in tags if tag and not has_nul(tag)}
        assets: dict[str, Asset] = {}
        ordered = sorted(tags)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            for asset in session.scalars(
                select(Asset)
                .options(
                    selectinload(Asset.bookable_hours), joinedload(Asset.school), joinedload(Asset.contact)
                )
                .where(func.lower(Asset.tag).in_(chunk))
            ).unique():
                assets[asset.tag.lower()] = asset
        return cls(
            categories={c.name.lower(): c for c in session.scalars(select(Category).order_by(Category.name))},
            locations={
                (loc.building.lower(), loc.room.lower()): loc
                for loc in session.scalars(select(Location).where(Location.school_id == school.id))
            },
            assets_by_tag=assets,
        )


def _plan_row(
    session: Session,
    school: School,
    plan: ImportPlan,
    context: _PlanContext,
    line: int,
    values: dict[str, Any],
    seen_tags: dict[str, int],
) -> None:
    problems: list[Problem] = []

    def problem(key_or_header: str, message: str) -> None:
        problems.append(Problem(line, HEADER_OF.get(key_or_header, key_or_header), message))

    for key, value in values.items():
        if has_nul(value):  # said once here; the cell is read as empty so no lookup meets it
            problem(key, NUL_IN_TEXT)
    values = {key: "" if has_nul(value) else value for key, value in values.items()}
    tag = cell_text(values.get("tag"))
    existing = context.assets_by_tag.get(tag.lower()) if tag else None
    if tag:
        if tag.lower() in seen_tags:
            problem("tag", f"The tag {tag} is also on line {seen_tags[tag.lower()]}; give each asset once.")
        else:
            seen_tags[tag.lower()] = line
    if existing is not None and existing.school_id != school.id:
        problem(
            "tag", f"The tag {tag} belongs to {existing.school.name}'s {existing.name}, not to {school.name}."
        )
    if "school" in values:
        given = cell_text(values["school"])
        if given and given.lower() not in (school.code.lower(), school.name.lower()):
            problem(
                "school",
                f"This row is for {given}, but you are importing into {school.name} ({school.code}).",
            )
    own = existing if existing is not None and existing.school_id == school.id else None
    data = service.AssetInput.from_asset(own) if own else service.AssetInput(tag="", name="")
    data.tag = tag
    data.name = cell_text(values.get("name"))
    _read_fields(session, context, values, data, problem)
    new_location = _plan_location(plan, context, values, data, problem)
    status, reason = _plan_status(values, own, plan.filename, problem)

    tag_reported = any(p.column == "Tag" for p in problems)
    checked = service.validate_asset_input(session, school, data, own, tag_holder=existing)
    for name, messages in checked.items():
        if name == "tag" and tag_reported:
            continue  # already said why, more precisely
        for message in messages:
            problem(COLUMN_FOR_FIELD.get(name, name), message)

    if problems:
        plan.problems.extend(problems)
        return
    if own is None:
        action = "create"
    elif (
        new_location is None
        and data == service.AssetInput.from_asset(own)
        and (status, reason) == (own.status, own.status_reason)
    ):
        action = "unchanged"
    else:
        action = "update"
    plan.rows.append(
        RowPlan(
            line=line,
            tag=tag,
            action=action,
            data=data,
            asset_id=own.id if own else None,
            new_location=new_location,
            status=status,
            status_reason=reason,
        )
    )


def _read_fields(
    session: Session,
    context: _PlanContext,
    values: dict[str, Any],
    data: service.AssetInput,
    problem: Callable[[str, str], None],
) -> None:
    """Set ``data`` from the row's cells of the columns present (other than tag, name, place
    and status); a cell that does not parse is a problem."""
    for key in ("manufacturer", "model", "serial_number", "description", "funding_source"):
        if key in values:
            setattr(data, key, cell_text(values[key]))
    if "category" in values:
        name = cell_text(values["category"])
        category = context.categories.get(name.lower()) if name else None
        if name and category is None:
            problem("category", _unknown_category(name, context.categories))
        data.category_id = category.id if category else None
    if "purchase_date" in values:
        try:
            data.purchase_date = cell_date(values["purchase_date"])
        except ValueError as error:
            problem("purchase_date", str(error))
    for key, attribute, empty in (
        ("purchase_cost", "purchase_cost_pence", None),
        ("hourly_rate", "hourly_rate_pence", 0),
    ):
        if key in values:
            try:
                pence = cell_pence(values[key])
            except ValueError as error:
                problem(key, str(error))
            else:
                setattr(data, attribute, empty if pence is None else pence)
    if "contact_email" in values:
        email = cell_text(values["contact_email"])
        contact = _contact(session, context, email) if email else None
        if email and (contact is None or not contact.active):
            problem("contact_email", f"Nobody active in Kitshare has the email address {email}.")
        data.contact_id = contact.id if contact else None
    for key in BOOLEAN_KEYS:
        if key in values and not is_blank(values[key]):
            try:
                setattr(data, key, cell_boolean(values[key]))
            except ValueError as error:
                problem(key, str(error))
    for key, empty in (("min_notice_minutes", 0), ("max_booking_minutes", None), ("turnaround_minutes", 0)):
        if key in values:
            try:
                minutes = cell_minutes(values[key])
            except ValueError as error:
                problem(key, str(error))
            else:
                setattr(data, key, empty if minutes is None else minutes)
    if "bookable_hours" in values:
        try:
            data.weekly_hours = sorted(service.parse_weekly_hours(cell_text(values["bookable_hours"])))
        except ValueError as error:
            problem("bookable_hours", str(error))


def _plan_status(
    values: dict[str, Any], own: Asset | None, filename: str, problem: Callable[[str, str], None]
) -> tuple[AssetStatus, str]:
    """The status and reason the row asks for. An empty Status keeps the current one; a change
    without a reason is explained as "Imported from <file>"."""
    old_status, old_reason = (own.status, own.status_reason) if own else (AssetStatus.AVAILABLE, "")
    status = old_status
    if "status" in values and not is_blank(values["status"]):
        try:
            status = cell_status(values["status"])
        except ValueError as error:
            problem("status", str(error))
    reason = cell_text(values.get("status_reason"))
    if not reason and status == old_status:
        reason = old_reason
    if not reason and status != AssetStatus.AVAILABLE:
        reason = f"Imported from {filename}"
    elif len(reason) > 2000:
        problem("status_reason", "Use at most 2,000 characters.")
    return status, reason


def _plan_location(
    plan: ImportPlan,
    context: _PlanContext,
    values: dict[str, Any],
    data: service.AssetInput,
    problem: Callable[[str, str], None],
) -> LocationKey | None:
    """Set ``data.location_id`` from Site, Building and Room; returns the key of a location the
    import will add (its id is not known until then)."""
    if "building" not in values:
        return None
    site, building, room = (cell_text(values.get(key)) for key in ("site", "building", "room"))
    for key, text, limit in (("site", site, 100), ("building", building, 200), ("room", room, 100)):
        if len(text) > limit:
            problem(key, f"Use at most {limit} characters.")
            return None
    if not building and not room:
        if site:
            problem("site", "Give the building and room as well as the site, or leave all three empty.")
        data.location_id = None
        return None
    if not building or not room:
        problem("room" if building else "building", "Give both the building and the room, or neither.")
        return None
    key = (building.lower(), room.lower())
    location = context.locations.get(key)
    if location is not None:
        if site and site.lower() != location.site.lower():
            problem("site", f"{location.label} is on the site {location.site} in Kitshare, not {site}.")
        data.location_id = location.id
        return None
    data.location_id = None
    planned = plan.new_locations.get(key)
    if planned is None:
        plan.new_locations[key] = (site or "Main campus", building, room)
    elif site and site.lower() != planned[0].lower():
        problem("site", f"{planned[1]}, {planned[2]} is on the site {planned[0]} earlier in this file.")
    return key


def _unknown_category(name: str, categories: dict[str, Category]) -> str:
    names = [category.name for category in categories.values()]
    if not names:
        return f"There is no category called {name}, and no categories yet: ask a manager to add it first."
    listed = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"There is no category called {name}. The categories are: {listed}."


def _contact(session: Session, context: _PlanContext, email: str) -> User | None:
    key = email.lower()
    if key not in context.contacts:
        context.contacts[key] = find_user_by_email(session, email)
    return context.contacts[key]
