"""Moving a School's register in and out: spreadsheet import and export, and the Uniquip feed.

Import and export share one column layout (``COLUMNS``), so an exported register re-imports
unchanged. An import is planned first (``plan_import``: read, parse, validate, write nothing),
then applied (``apply_import``: every change inside the caller's one transaction). Confirmed
imports run in the background, as jobs of the scheduler: see ``inventory.import_jobs``.

Spreadsheet programs run cells that start with ``=``, ``+``, ``-`` or ``@`` as formulas (CSV
injection), so exports prefix such text with a single quote and imports take that quote off again.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import Role, User, school_managers
from accounts.permissions import require_role, require_school_manager
from accounts.service import find_user_by_email
from core.bounds import NUL_IN_TEXT, has_nul
from core.errors import InvalidInput, NotAllowed, NotFound
from inventory import service
from bookings import asset_changes
from inventory.catalogue import CatalogueFilters, catalogue_select
from inventory.models import WITHDRAWN_STATUSES, Asset, AssetStatus, Category, Location, School
from inventory.xlsx_limits import XlsxLimits, check_xlsx
from core.money import parse_pounds

# --- The column layout ------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str  # as exports write it; imports match it ignoring case, spacing and a "(...)" suffix
    key: str
    meaning: str  # for the import page and the README


COLUMNS: tuple[Column, ...] = (
    Column("Tag", "tag", "Required. Unique across the university; rows are matched to assets by it."),
    Column("Name", "name", "Required."),
    Column("School", "school", "The owning School's code. Optional; if given, the School you import into."),
    Column("Category", "category", "The name of an existing category."),
    Column("Site", "site", "The campus; empty means Main campus."),
    Column("Building", "building", "With Room: one of the School's locations (a new one is added)."),
    Column("Room", "room", "With Building."),
    Column("Manufacturer", "manufacturer", ""),
    Column("Model", "model", ""),
    Column("Serial number", "serial_number", ""),
    Column("Description", "description", ""),
    Column("Purchase date", "purchase_date", "YYYY-MM-DD (or DD/MM/YYYY)."),
    Column("Purchase cost (GBP)", "purchase_cost", "Pounds and pence, such as 1234.50."),
    Column("Funding source", "funding_source", ""),
    Column("Contact email", "contact_email", "The email address of an active Kitshare user."),
    Column("Hourly rate (GBP)", "hourly_rate", "Pounds and pence; empty means 0."),
    Column("Status", "status", "available, maintenance, out_of_service, retired or disposed."),
    Column("Status reason", "status_reason", "Why the asset is not available."),
    Column("Bookable", "bookable", "yes or no."),
    Column("Shareable", "shareable", "yes or no: people from other Schools may request it."),
    Column("Requires approval", "requires_approval", "yes or no."),
    Column("Training required", "training_required", "yes or no."),
    Column("Block when inspection overdue", "block_when_inspection_overdue", "yes or no."),
    Column("Minimum notice (minutes)", "min_notice_minutes", "Whole minutes; empty means 0."),
    Column("Maximum booking (minutes)", "max_booking_minutes", "Whole minutes; empty means no limit."),
    Column("Turnaround (minutes)", "turnaround_minutes", "Whole minutes; empty means 0."),
    Column("Bookable hours", "bookable_hours", "Such as Mon 09:00-17:00; Tue 09:00-12:00 (empty: never)."),
)
HEADERS = tuple(column.header for column in COLUMNS)
_HEADER_OF = {column.key: column.header for column in COLUMNS}
BOOLEAN_KEYS = (
    "bookable", "shareable", "requires_approval", "training_required", "block_when_inspection_overdue",
)

#: Where each AssetInput field's problems are reported.
_COLUMN_FOR_FIELD = {
    "tag": "Tag",
    "name": "Name",
    "category_id": "Category",
    "location_id": "Building",
    "manufacturer": "Manufacturer",
    "model": "Model",
    "serial_number": "Serial number",
    "description": "Description",
    "purchase_date": "Purchase date",
    "purchase_cost_pence": "Purchase cost (GBP)",
    "funding_source": "Funding source",
    "contact_id": "Contact email",
    "hourly_rate_pence": "Hourly rate (GBP)",
    "bookable": "Bookable",
    "shareable": "Shareable",
    "requires_approval": "Requires approval",
    "training_required": "Training required",
    "block_when_inspection_overdue": "Block when inspection overdue",
    "min_notice_minutes": "Minimum notice (minutes)",
    "max_booking_minutes": "Maximum booking (minutes)",
    "turnaround_minutes": "Turnaround (minutes)",
    "weekly_hours": "Bookable hours",
}

MAX_ROWS = 20_000
UPLOAD_SUFFIXES = ("csv", "xlsx")


def _header_key(text: str) -> str:
    """'  Purchase COST (£) ' and 'purchase_cost' both -> 'purchase cost'."""
    text = re.sub(r"[\s_]+", " ", text).strip().lower()
    return re.sub(r"\s*\([^)]*\)$", "", text)


_COLUMN_BY_HEADER = {_header_key(column.header): column for column in COLUMNS}


# --- CSV injection ----------------------------------------------------------------------------

#: What makes a spreadsheet read a cell as a formula (OWASP: = + - @, tab and carriage return),
#: plus the quote itself, so that neutralising is exactly undone by ``restore_cell``.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix text a spreadsheet would run as a formula with a single quote."""
    if text and text[0] in (*_FORMULA_STARTS, "'"):
        return "'" + text
    return text


def restore_cell(text: str) -> str:
    """Undo ``neutralise_cell``: '\\'=SUM(A1)' -> '=SUM(A1)'; other text is left alone."""
    if len(text) > 1 and text[0] == "'" and text[1] in (*_FORMULA_STARTS, "'"):
        return text[1:]
    return text


# --- Reading files ----------------------------------------------------------------------------


def read_table(
    filename: str, content: bytes, limits: XlsxLimits | None = None
) -> list[tuple[int, list[Any]]]:
    """The rows of a .csv or .xlsx file as (line number, cells), header first, empty rows left out.

    Line numbers are the spreadsheet's row numbers: the header is line 1. Raises InvalidInput
    with a message for the person when the file cannot be read at all, or when an .xlsx is
    bigger inside than ``limits`` allow (checked before it is parsed: see inventory.xlsx_limits).
    """
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(
            f"{filename or 'That file'} is not a .csv or .xlsx file. Save your spreadsheet as CSV "
            "(UTF-8) or as an Excel workbook (.xlsx) and upload that."
        )
    if not content:
        raise InvalidInput(f"{filename} is empty.")
    if suffix == "xlsx":
        rows = _read_xlsx(filename, content, limits or XlsxLimits())
    else:
        rows = _read_csv(filename, content)
    table: list[tuple[int, list[Any]]] = []
    for line, cells in rows:
        while cells and _is_blank(cells[-1]):
            cells.pop()
        if not cells:
            continue
        table.append((line, cells))
        if len(table) > MAX_ROWS + 1:
            raise InvalidInput(
                f"{filename} has more than {MAX_ROWS:,} rows. Split it into files of at most "
                f"{MAX_ROWS:,} rows and import them one after another."
            )
    if not table:
        raise InvalidInput(f"{filename} has no rows.")
    if table[0][0] != 1:
        raise InvalidInput(f"The first row of {filename} must hold the column headers, such as Tag and Name.")
    return table


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_csv(filename: str, content: bytes) -> Iterator[tuple[int, list[Any]]]:
    if b"\x00" in content[:4096]:
        raise InvalidInput(
            f"{filename} is not a text file. Save your spreadsheet as CSV (UTF-8) and try again."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("cp1252")  # what Excel on Windows writes as "CSV"
        except UnicodeDecodeError:
            raise InvalidInput(
                f"{filename} is neither UTF-8 nor Windows text. Save it as 'CSV UTF-8' and try again."
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # The record number, not the physical line: a cell may span lines, a spreadsheet row does not.
        for line, cells in enumerate(reader, start=1):
            yield line, list(cells)
    except csv.Error as error:
        raise InvalidInput(f"{filename} is not valid CSV near row {reader.line_num}: {error}.") from None


def _read_xlsx(filename: str, content: bytes, limits: XlsxLimits) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    check_xlsx(filename, content, limits)  # before openpyxl builds anything from the file
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, KeyError) for files it cannot read
        raise InvalidInput(
            f"{filename} could not be read as an Excel workbook. Save it as .xlsx (or as CSV) and try again."
        ) from None
    try:
        if not workbook.worksheets:
            raise InvalidInput(f"{filename} has no sheets.")
        sheet = workbook.worksheets[0]
        # Some programs write a wrong size into the file; openpyxl would stop reading there.
        sheet.reset_dimensions()
        line = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                cells = next(rows, None)
            except Exception:  # a value openpyxl cannot convert (a number, a truth value, a date)
                raise InvalidInput(
                    f"{filename} could not be read near row {line + 1:,}: a cell there holds a value its "
                    "type does not allow. Save it again as .xlsx (or as CSV) and try again."
                ) from None
            if cells is None:
                break
            line += 1
            yield line, list(cells)
    finally:
        workbook.close()


# --- Planning an import -----------------------------------------------------------------------


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
    session: Session, actor: User, school: School, filename: str, content: bytes, limits: XlsxLimits | None = None
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


def _plan_bookings(session: Session, plan: ImportPlan, context: "_PlanContext") -> None:
    """Count the bookings still to come that the import's status and hours changes end or leave in
    the way, so that the preview says so before the manager confirms (the same rule as the asset
    page's, bookings/disruption.py)."""
    # Bookings build on inventory; the import asks them what a change touches, as the services do.
    from bookings import disruption

    assets = {asset.id: asset for asset in context.assets_by_tag.values()}
    for row in plan.rows:
        asset = assets.get(row.asset_id or 0)
        if row.action != "update" or asset is None:
            continue
        by_status = disruption.affected_by_status(session, asset, row.status) if row.status != asset.status else None
        if by_status is not None and by_status.ends_all:
            plan.bookings_cancelled += len(by_status.confirmed)
            plan.requests_rejected += len(by_status.pending)
            continue
        kept = {booking.id for booking in disruption.affected_by_hours(session, asset, row.data.weekly_hours).confirmed}
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
        text = _text(cell)
        if not text:
            if any(index < len(row) and not _is_blank(row[index]) for _, row in rows):
                plan.problems.append(
                    Problem(1, f"Column {_column_letter(index)}", "This column has values but no header.")
                )
            continue
        column = _COLUMN_BY_HEADER.get(_header_key(text))
        if column is None:
            plan.problems.append(
                Problem(1, text, f"Kitshare has no column called '{text}'. The columns are: {known}.")
            )
        elif column.key in seen:
            plan.problems.append(
                Problem(
                    1, text,
                    f"{column.header} is also column {_column_letter(seen[column.key])}; "
                    "give each column once.",
                )
            )
        else:
            seen[column.key] = index
            columns[index] = column
    for required in ("tag", "name"):
        if required not in seen:
            header = _HEADER_OF[required]
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
    ) -> "_PlanContext":
        tag_index = next(i for i, column in columns.items() if column.key == "tag")
        # A tag with a NUL character is refused on its row; PostgreSQL would refuse the query.
        tags = {_text(row[tag_index]).lower() for row in rows if tag_index < len(row)}
        tags = {tag for tag in tags if tag and not has_nul(tag)}
        assets: dict[str, Asset] = {}
        ordered = sorted(tags)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
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
        problems.append(Problem(line, _HEADER_OF.get(key_or_header, key_or_header), message))

    for key, value in values.items():
        if has_nul(value):  # said once here; the cell is read as empty so no lookup meets it
            problem(key, NUL_IN_TEXT)
    values = {key: "" if has_nul(value) else value for key, value in values.items()}
    tag = _text(values.get("tag"))
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
        given = _text(values["school"])
        if given and given.lower() not in (school.code.lower(), school.name.lower()):
            problem(
                "school",
                f"This row is for {given}, but you are importing into {school.name} ({school.code}).",
            )
    own = existing if existing is not None and existing.school_id == school.id else None
    data = service.AssetInput.from_asset(own) if own else service.AssetInput(tag="", name="")
    data.tag = tag
    data.name = _text(values.get("name"))
    _read_fields(session, context, values, data, problem)
    new_location = _plan_location(plan, context, values, data, problem)
    status, reason = _plan_status(values, own, plan.filename, problem)

    tag_reported = any(p.column == "Tag" for p in problems)
    checked = service.validate_asset_input(session, school, data, own, tag_holder=existing)
    for name, messages in checked.items():
        if name == "tag" and tag_reported:
            continue  # already said why, more precisely
        for message in messages:
            problem(_COLUMN_FOR_FIELD.get(name, name), message)

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
            setattr(data, key, _text(values[key]))
    if "category" in values:
        name = _text(values["category"])
        category = context.categories.get(name.lower()) if name else None
        if name and category is None:
            problem("category", _unknown_category(name, context.categories))
        data.category_id = category.id if category else None
    if "purchase_date" in values:
        try:
            data.purchase_date = _date(values["purchase_date"])
        except ValueError as error:
            problem("purchase_date", str(error))
    for key, attribute, empty in (
        ("purchase_cost", "purchase_cost_pence", None), ("hourly_rate", "hourly_rate_pence", 0),
    ):
        if key in values:
            try:
                pence = _pence(values[key])
            except ValueError as error:
                problem(key, str(error))
            else:
                setattr(data, attribute, empty if pence is None else pence)
    if "contact_email" in values:
        email = _text(values["contact_email"])
        contact = _contact(session, context, email) if email else None
        if email and (contact is None or not contact.active):
            problem("contact_email", f"Nobody active in Kitshare has the email address {email}.")
        data.contact_id = contact.id if contact else None
    for key in BOOLEAN_KEYS:
        if key in values and not _is_blank(values[key]):
            try:
                setattr(data, key, _boolean(values[key]))
            except ValueError as error:
                problem(key, str(error))
    for key, empty in (("min_notice_minutes", 0), ("max_booking_minutes", None), ("turnaround_minutes", 0)):
        if key in values:
            try:
                minutes = _minutes(values[key])
            except ValueError as error:
                problem(key, str(error))
            else:
                setattr(data, key, empty if minutes is None else minutes)
    if "bookable_hours" in values:
        try:
            data.weekly_hours = sorted(service.parse_weekly_hours(_text(values["bookable_hours"])))
        except ValueError as error:
            problem("bookable_hours", str(error))


def _plan_status(
    values: dict[str, Any], own: Asset | None, filename: str, problem: Callable[[str, str], None]
) -> tuple[AssetStatus, str]:
    """The status and reason the row asks for. An empty Status keeps the current one; a change
    without a reason is explained as "Imported from <file>"."""
    old_status, old_reason = (own.status, own.status_reason) if own else (AssetStatus.AVAILABLE, "")
    status = old_status
    if "status" in values and not _is_blank(values["status"]):
        try:
            status = _status(values["status"])
        except ValueError as error:
            problem("status", str(error))
    reason = _text(values.get("status_reason"))
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
    site, building, room = (_text(values.get(key)) for key in ("site", "building", "room"))
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


# --- Cell values ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', quotes added by exports taken off."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return str(value).strip()
    return restore_cell(value.strip().replace("\r\n", "\n"))


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date; use YYYY-MM-DD, such as 2024-03-31.")


def _pence(value: Any) -> int | None:
    if isinstance(value, bool):
        raise ValueError(f"'{_text(value)}' is not an amount in pounds, such as 1250.00.")
    if isinstance(value, float):
        # Spreadsheets keep 15 significant digits; beyond that a float is noise, not pence.
        value = format(Decimal(f"{value:.15g}"), "f")
    elif isinstance(value, (int, Decimal)):
        value = format(Decimal(value), "f")
    return parse_pounds(_text(value))


def _minutes(value: Any) -> int | None:
    if isinstance(value, bool):
        raise ValueError("Enter a whole number of minutes, such as 30.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = _text(value)
        if not text:
            return None
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError(f"'{text}' is not a whole number of minutes, such as 30.")
        number = int(text)
    return number


_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(f"'{_text(value)}' is not yes or no.")


def _status(value: Any) -> AssetStatus:
    text = re.sub(r"[\s-]+", "_", _text(value).lower())
    try:
        return AssetStatus(text)
    except ValueError:
        choices = ", ".join(status.value for status in AssetStatus)
        raise ValueError(f"'{_text(value)}' is not a status; use one of {choices}.") from None


# --- Applying an import -----------------------------------------------------------------------


def apply_import(session: Session, actor: User, school: School, plan: ImportPlan) -> Iterator[int]:
    """Make the changes a checked plan describes, yielding the number of rows done so far.

    The caller wraps the whole iteration in one transaction (``db.atomic``): if any row fails,
    nothing is imported. Each asset goes through the inventory service's own rules again, so
    changes made since the plan was checked cannot slip through. New locations are added first;
    status changes carry the row's Status reason, or "Imported from <file>".
    """
    require_school_manager(actor, school.id)
    if plan.school_id != school.id:
        raise NotAllowed("That import was checked for another School.")
    if not plan.ok:
        raise InvalidInput(f"{plan.filename} has problems, so nothing was imported.")
    location_ids: dict[LocationKey, int] = {}
    for key, (site, building, room) in plan.new_locations.items():
        try:
            location_ids[key] = service.add_location(session, actor, school, site, building, room).id
        except InvalidInput as error:
            raise InvalidInput(f"Could not add the location {building}, {room}: {_messages(error)}") from None
    assets = _assets_by_id(
        session, [row.asset_id for row in plan.rows if row.action == "update" and row.asset_id]
    )
    # The service looks categories, locations and contacts up by id for every row; holding them
    # here keeps them in the session's (weak) identity map, so that costs no query after the first.
    referenced = _load_referenced(session, school, plan)  # noqa: F841
    done = 0
    for row in plan.rows:
        if row.action != "unchanged":
            data = row.data
            if row.new_location is not None:
                data = replace(data, location_id=location_ids[row.new_location])
            try:
                if row.action == "create":
                    asset = service.create_asset(session, actor, school, data)
                else:
                    asset = assets.get(row.asset_id or 0)
                    if asset is None or asset.school_id != school.id:
                        raise InvalidInput(f"The asset {row.tag} is no longer on {school.name}'s register.")
                    asset_changes.update_asset(session, actor, asset, data)
                if (row.status, row.status_reason) != (asset.status, asset.status_reason):
                    asset_changes.change_asset_status(session, actor, asset, row.status, row.status_reason)
            except InvalidInput as error:
                raise InvalidInput(
                    f"Line {row.line} ({row.tag}): {_messages(error)}"
                ) from None
        done += 1
        yield done


def _messages(error: InvalidInput) -> str:
    parts = [
        f"{_COLUMN_FOR_FIELD.get(name, name.replace('_', ' ').capitalize())}: {message}"
        for name, messages in error.field_errors.items()
        for message in messages
    ]
    return " ".join(parts) if parts else error.message


def _load_referenced(session: Session, school: School, plan: ImportPlan) -> list[Any]:
    contact_ids = sorted({row.data.contact_id for row in plan.rows if row.data.contact_id is not None})
    held: list[Any] = [
        *session.scalars(select(Category)),
        *session.scalars(select(Location).where(Location.school_id == school.id)),
    ]
    for start in range(0, len(contact_ids), 500):
        held.extend(session.scalars(select(User).where(User.id.in_(contact_ids[start:start + 500]))))
    return held


def _assets_by_id(session: Session, ids: list[int]) -> dict[int, Asset]:
    assets: dict[int, Asset] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for asset in session.scalars(
            select(Asset)
            .options(selectinload(Asset.bookable_hours), joinedload(Asset.school))
            .where(Asset.id.in_(chunk))
        ).unique():
            assets[asset.id] = asset
    return assets


# --- Keeping an upload between preview and confirm --------------------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: How long a previewed upload waits for its confirmation; the scheduler removes older ones.
UPLOAD_LIFETIME = dt.timedelta(hours=24)


def upload_folder(instance_path: str | Path) -> Path:
    """Where uploads wait between preview and confirmation (and SQLite imports keep progress)."""
    return Path(instance_path) / "imports"


def save_upload(directory: str | Path, user_id: int, school_id: int, filename: str, content: bytes) -> str:
    """Keep an uploaded file until it is confirmed; returns the token that names it.

    A sidecar JSON records who uploaded it for which School, so only they can confirm it.
    Uploads never confirmed are removed after ``UPLOAD_LIFETIME`` (by the scheduler, and on the way).
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned_uploads(folder)
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput("Only .csv and .xlsx files can be imported.")
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.{suffix}").write_bytes(content)
    meta = {
        "user_id": user_id, "school_id": school_id, "filename": Path(filename).name[:200], "suffix": suffix,
    }
    (folder / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def load_upload(directory: str | Path, token: str, user_id: int, school_id: int) -> tuple[str, bytes]:
    """The (filename, content) saved under ``token`` by this person for this School.

    Raises NotFound for a malformed, unknown or expired token, NotAllowed for someone else's.
    """
    gone = NotFound("That upload has expired or was already imported. Upload the file again.")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise gone
    folder = Path(directory)
    try:
        meta = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        suffix = meta["suffix"]
        if suffix not in UPLOAD_SUFFIXES:
            raise gone
        path = folder / f"{token}.{suffix}"
        if time.time() - path.stat().st_mtime > UPLOAD_LIFETIME.total_seconds():
            raise gone
        if meta["user_id"] != user_id or meta["school_id"] != school_id:
            raise NotAllowed("That upload belongs to someone else, or to another School.")
        return meta["filename"], path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError):
        raise gone from None


def discard_upload(directory: str | Path, token: str) -> None:
    """Remove an upload and its sidecar (nothing happens for a malformed or unknown token)."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return
    for path in Path(directory).glob(f"{token}.*"):
        if path.name.removeprefix(token) in (".json", *(f".{s}" for s in UPLOAD_SUFFIXES)):
            path.unlink(missing_ok=True)


def remove_abandoned_uploads(directory: str | Path, now: float | None = None) -> int:
    """Remove uploads previewed but never confirmed within ``UPLOAD_LIFETIME``; returns how many
    files went. (A confirmed upload moves into its import job at once.)"""
    folder = Path(directory)
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - UPLOAD_LIFETIME.total_seconds()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass  # another worker removed it first
    return removed


# --- Exporting the register -------------------------------------------------------------------


def export_filters(actor: User, filters: CatalogueFilters) -> CatalogueFilters:
    """Managers export their own Schools' registers only; admins export any. Retired and
    unbookable assets are included, as on the register page."""
    require_role(actor, Role.MANAGER)
    if filters.school_id is not None and not actor.manages(filters.school_id):
        raise NotAllowed("You can export only the registers of the Schools you manage.")
    filters = replace(filters, include_unbookable=True)
    if not actor.is_admin:
        filters = replace(filters, school_ids=frozenset(actor.managed_school_ids))
    return filters


def register_records(session: Session, actor: User, filters: CatalogueFilters) -> Iterator[list[Any]]:
    """The assets ``filters`` select, one list of typed values per asset in ``COLUMNS`` order.

    Checks the actor's scope at once (raising NotAllowed), before any row is produced."""
    filters = export_filters(actor, filters)
    query = catalogue_select(actor, filters).options(
        joinedload(Asset.contact), selectinload(Asset.bookable_hours)
    )
    return (_record(asset) for asset in session.scalars(query).unique())


def _record(asset: Asset) -> list[Any]:
    location = asset.location
    return [
        asset.tag,
        asset.name,
        asset.school.code,
        asset.category.name if asset.category else "",
        location.site if location else "",
        location.building if location else "",
        location.room if location else "",
        asset.manufacturer,
        asset.model,
        asset.serial_number,
        asset.description,
        asset.purchase_date,
        _pounds(asset.purchase_cost_pence),
        asset.funding_source,
        asset.contact.email if asset.contact else "",
        _pounds(asset.hourly_rate_pence),
        asset.status.value,
        asset.status_reason,
        *("yes" if getattr(asset, key) else "no" for key in BOOLEAN_KEYS),
        asset.min_notice_minutes,
        asset.max_booking_minutes,
        asset.turnaround_minutes,
        service.format_weekly_hours([(h.weekday, h.opens, h.closes) for h in asset.bookable_hours]),
    ]


def _pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else Decimal(pence) / 100


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise_cell(value)
    return str(value)


def write_csv(header: Iterable[str], records: Iterable[list[Any]]) -> str:
    """RFC 4180 CSV, every text cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise_cell(h) for h in header])
    for record in records:
        writer.writerow([_csv_cell(value) for value in record])
    return out.getvalue()


def register_csv(session: Session, actor: User, filters: CatalogueFilters) -> str:
    """The register ``filters`` select, as CSV in the import layout."""
    return write_csv(HEADERS, register_records(session, actor, filters))


_WIDTHS = {"Description": 50, "Name": 36, "Bookable hours": 60, "Status reason": 30, "Contact email": 30}
MONEY_FORMAT = '"£"#,##0.00'


def register_xlsx(session: Session, actor: User, filters: CatalogueFilters) -> bytes:
    """The register as an Excel workbook: one sheet "Register", bold header, real numbers and dates."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    records = register_records(session, actor, filters)  # refuses before anything is built
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Register")
    for index, header in enumerate(HEADERS, start=1):
        width = _WIDTHS.get(header, max(12, len(header) + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for header in HEADERS:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for record in records:
        cells: list[Any] = []
        for value in record:
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = MONEY_FORMAT
                cells.append(cell)
            elif isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            elif isinstance(value, str):
                # A neutralised formula is text: openpyxl would otherwise store "=..." as a formula.
                cell = WriteOnlyCell(sheet, value=neutralise_cell(value))
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Uniquip: equipment.data.ac.uk's layout ---------------------------------------------------

UNIQUIP_COLUMNS = (
    "Type", "Name", "Description", "Related Facility ID", "Technique", "Location", "Contact Name",
    "Contact Telephone", "Contact URL", "Contact Email", "Secondary Contact Name",
    "Secondary Contact Telephone", "Secondary Contact URL", "Secondary Contact Email", "ID", "Photo",
    "Department", "Site Location", "Building", "Service Level", "Web Address",
)
DEFAULT_SITE = "Main campus"


def uniquip_assets(session: Session) -> list[Asset]:
    """What the university offers to others: shareable, bookable assets that are not retired,
    of every School, ordered by School and name."""
    return list(
        session.scalars(
            select(Asset)
            .join(Asset.school)
            .options(
                joinedload(Asset.school), joinedload(Asset.category),
                joinedload(Asset.location), joinedload(Asset.contact),
            )
            .where(Asset.shareable.is_(True), Asset.bookable.is_(True), Asset.status.not_in(WITHDRAWN_STATUSES))
            .order_by(School.name, Asset.name, Asset.id)
        ).unique()
    )


def _first_managers(session: Session) -> dict[int, User]:
    """Each School's first active manager by name: the contact for assets without their own."""
    firsts: dict[int, User] = {}
    rows = session.execute(
        select(school_managers.c.school_id, User)
        .join(User, User.id == school_managers.c.user_id)
        .where(User.active.is_(True))
        .order_by(User.name, User.id)
    ).all()
    for school_id, user in rows:
        firsts.setdefault(school_id, user)
    return firsts


def uniquip_rows(
    session: Session,
    *,
    base_url: str,
    location_url: str = "",
    photo_url: Callable[[Asset], str] | None = None,
) -> list[list[str]]:
    """The shareable assets as Uniquip rows, in ``UNIQUIP_COLUMNS`` order.

    ``base_url`` is the public address (asset pages are ``<base_url>/assets/<id>``),
    ``location_url`` the Wikipedia page of the nearest town, and ``photo_url`` gives a photo's
    public address (None when photos are not published). The mapping is in docs/uniquip-mapping.md.
    """
    base_url = base_url.rstrip("/")
    managers = _first_managers(session)
    rows = []
    for asset in uniquip_assets(session):
        contact = asset.contact if asset.contact is not None and asset.contact.active else None
        contact = contact or managers.get(asset.school_id)
        page = f"{base_url}/assets/{asset.id}"
        location = asset.location
        rows.append([
            "equipment",
            asset.name,
            html.escape(asset.description),
            "",
            asset.category.name if asset.category else "",
            location_url,
            contact.name if contact else f"{asset.school.name} technical staff",
            "",
            page,
            contact.email if contact else "",
            "", "", "", "",
            asset.tag,
            photo_url(asset) if photo_url and asset.photo_filename else "",
            asset.school.name,
            (location.site if location and location.site else "") or DEFAULT_SITE,
            location.building if location else "",
            "",
            page,
        ])
    return rows


def uniquip_csv(
    session: Session,
    *,
    base_url: str,
    location_url: str = "",
    photo_url: Callable[[Asset], str] | None = None,
) -> str:
    """The Uniquip export as CSV, with the header row equipment.data.ac.uk expects."""
    return write_csv(
        UNIQUIP_COLUMNS,
        uniquip_rows(session, base_url=base_url, location_url=location_url, photo_url=photo_url),
    )


CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"


def _iri(value: str) -> str:
    return "<" + quote(value, safe=":/?#[]@!$&'()*+,;=%~-._") + ">"


def _literal(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def organisation_profile(
    *,
    base_url: str,
    organisation_name: str,
    download_url: str,
    contact_email: str,
    organisation_uri: str = "",
) -> str:
    """The Organisation Profile Document (Turtle) that points equipment.data.ac.uk's harvester at
    the Uniquip download, licensed CC0, with a contact and a corrections address."""
    base_url = base_url.rstrip("/")
    organisation = organisation_uri or f"{base_url}/.well-known/openorg#organisation"
    mailto = _iri(f"mailto:{contact_email}")
    return "\n".join([
        "@prefix oo: <http://purl.org/openorg/> .",
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix foaf: <http://xmlns.com/foaf/0.1/> .",
        "@prefix org: <http://www.w3.org/ns/org#> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "",
        "<> a oo:OrganizationProfileDocument ;",
        f"    dcterms:license {_iri(CC0)} ;",
        f"    foaf:primaryTopic {_iri(organisation)} .",
        "",
        f"{_iri(organisation)} a org:FormalOrganization ;",
        f"    skos:prefLabel {_literal(organisation_name)} ;",
        f"    foaf:homepage {_iri(base_url + '/')} .",
        "",
        f"{_iri(download_url)} a dcat:Download ;",
        f"    oo:organization {_iri(organisation)} ;",
        "    dcterms:subject <http://purl.org/openorg/theme/Equipment> ;",
        "    dcterms:conformsTo <http://equipment.data.ac.uk/uniquip> ;",
        f"    dcterms:license {_iri(CC0)} ;",
        '    dcat:mediaType "text/csv" ;',
        f"    oo:contact {mailto} ;",
        f"    oo:corrections {mailto} .",
        "",
    ])
