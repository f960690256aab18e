"""Exporting the register as CSV or XLSX, in the import's column layout."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import Role, User
from accounts.permissions import require_role
from core.errors import NotAllowed
from inventory import service
from inventory.catalogue import CatalogueFilters, catalogue_select
from inventory.models import Asset
from inventory.transfer.columns import BOOLEAN_KEYS, HEADERS
from inventory.transfer.formula_guard import neutralise_cell


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
    # openpyxl (~0.1 s to import) is loaded only when a workbook is read or written, so no worker or
    # command pays for it otherwise: every openpyxl import in Kitshare is local for that reason.
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
