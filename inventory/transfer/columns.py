"""The register's column layout, shared by import and export, so an exported register re-imports
unchanged; and the limits of an upload (rows, file kinds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
HEADER_OF = {column.key: column.header for column in COLUMNS}
BOOLEAN_KEYS = (
    "bookable",
    "shareable",
    "requires_approval",
    "training_required",
    "block_when_inspection_overdue",
)

#: Where each AssetInput field's problems are reported.
COLUMN_FOR_FIELD = {
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


def header_key(text: str) -> str:
    """'  Purchase COST (£) ' and 'purchase_cost' both -> 'purchase cost'."""
    text = re.sub(r"[\s_]+", " ", text).strip().lower()
    return re.sub(r"\s*\([^)]*\)$", "", text)


COLUMN_BY_HEADER = {header_key(column.header): column for column in COLUMNS}
