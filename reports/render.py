"""The report's tables, and the CSV and XLSX files made from them.

Every renderer reads the same figures (``reports.figures_json.report_to_json``) through the same
table definitions (``report_tables``), so the page, the CSV, the XLSX and a stored snapshot show
the same numbers under the same headings. Only the formatting differs:

============  ===================  ===================  ==============================
kind          page                 CSV                  XLSX cell
============  ===================  ===================  ==============================
hours         1,234.5              1234.50              1234.5, format #,##0.00
ratio         42.5%                42.5  (header "%")   0.425, format 0.0%
pence         £1,235 (to the £)    1234.50 (header £)   1234.5, format "£"#,##0.00
price         £12.50 (a rate)      12.50 (header £)     12.5, format "£"#,##0.00
actual        2.1% and coverage    2.1 (header "%")     0.021, format 0.0%
count         12                   12                   12, format 0
text          as is                neutralised          neutralised (no formulas)
============  ===================  ===================  ==============================

Pages show money to the pound and hours to one decimal (``money.format_whole_pounds``,
``money.format_hours``); the files keep pence and two-decimal hours. A ratio with no value
(nothing available) is "–" on the page and an empty cell in the files. Actual utilisation
(``Coverage``) says beside it how many assets record use and how many hours they had, or that
none does.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.money import format_hours, format_pounds, format_whole_pounds
from inventory.transfer.formula_guard import neutralise_cell

HOURS, RATIO, PENCE, PRICE, ACTUAL, COUNT, TEXT = (
    "hours",
    "ratio",
    "pence",
    "price",
    "actual",
    "count",
    "text",
)
MONEY = (PENCE, PRICE)
NO_VALUE = "–"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT

    @property
    def file_header(self) -> str:
        """The heading in the CSV, which carries the unit its plain numbers are in."""
        if self.kind in (RATIO, ACTUAL):
            return f"{self.header} (%)"
        if self.kind in MONEY:
            return f"{self.header} (£)"
        return self.header

    @property
    def numeric(self) -> bool:
        return self.kind != TEXT


@dataclass
class Table:
    key: str  # the sheet's name, the CSV section, the page's anchor
    title: str
    caption: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None  # a totals row, shown last


# --- Formatting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """Actual utilisation with what it covers: only assets that record use (check-in or
    hand-over) have actual hours, so a group's ratio is over those assets' available hours."""

    ratio: float | None
    assets: int  # assets that record use
    actual_hours: float
    available_hours: float  # the available hours of those assets

    def describe(self) -> str:
        """'2.1% — 12 assets that record use: 40.0 of 913.0 available hours'."""
        if not self.assets:
            return (
                "No asset in these figures records use (check-in or hand-over): no actual utilisation to show"
            )
        if self.ratio is None:
            return f"{self.assets} asset{'s' if self.assets != 1 else ''} that record use, with no available hours"
        return (
            f"{percent(self.ratio)} — {self.assets} asset{'s' if self.assets != 1 else ''} that record"
            f"{'s' if self.assets == 1 else ''} use: {format_hours(self.actual_hours)} of "
            f"{format_hours(self.available_hours)} available hours"
        )


def coverage_of(group: dict[str, Any], assets: Iterable[dict[str, Any]]) -> Coverage:
    """The coverage of a group's (or the whole report's) actual utilisation, from its assets."""
    recording = sum(1 for asset in assets if asset.get("tracks_actual_use"))
    return Coverage(
        group["actual_utilisation"],
        recording,
        group.get("actual_hours", 0.0),
        group.get("actual_available_hours", 0.0),
    )


def format_cell(value: Any, kind: str) -> str:
    """A value as the page shows it: money to the pound, hours to one decimal."""
    if kind == ACTUAL and isinstance(value, Coverage):
        if not value.assets:
            return "Not recorded"
        if value.ratio is None:
            return NO_VALUE
        return (
            f"{percent(value.ratio)} ({value.assets} asset{'s' if value.assets != 1 else ''}: "
            f"{format_hours(value.actual_hours)} of {format_hours(value.available_hours)} h)"
        )
    if value is None:
        return NO_VALUE if kind in (RATIO, ACTUAL) else ""
    if kind == HOURS:
        return format_hours(value)
    if kind in (RATIO, ACTUAL):
        return f"{value * 100:.1f}%"
    if kind == PENCE:
        return format_whole_pounds(value)
    if kind == PRICE:
        return format_pounds(value)
    if kind == COUNT:
        return f"{value:,}"
    return str(value)


def file_cell(value: Any, kind: str) -> str:
    """A value as the CSV holds it: plain numbers in the heading's unit, text made safe."""
    if isinstance(value, Coverage):
        value = value.ratio
    if value is None:
        return ""
    if kind == HOURS:
        return f"{value:.2f}"
    if kind in (RATIO, ACTUAL):
        return f"{value * 100:.1f}"
    if kind in MONEY:
        return format_pounds(value, symbol=False)
    if kind == COUNT:
        return str(value)
    return neutralise_cell(str(value))


def percent(value: float | None) -> str:
    return format_cell(value, RATIO)


# --- Definitions, in words -----------------------------------------------------------------------


def definitions(figures: dict[str, Any]) -> list[tuple[str, str]]:
    """What each figure means, as the page, the XLSX and the e-mail state it."""
    settings = figures["settings"]
    idle = percent(settings["idle_threshold"])
    saturated = percent(settings["saturated_threshold"])
    # (Snapshots stored before these settings existed were made under the defaults' older rule.)
    min_hours = settings.get("saturated_min_unmet_hours", 8.0)
    min_people = settings.get("saturated_min_people", 2)
    notice = settings["late_cancel_hours"]
    return [
        (
            "Available hours",
            "The asset's weekly bookable hours in force on each day of the period (the hours it had then, if they have "
            "changed since) on which it was in service (from its purchase "
            "date, or the date it was added to Kitshare when that is unknown, until the day before it was retired), less "
            "its maintenance windows. Hours are clock hours in local time: 09:00 to 17:00 is 8 hours on either side of a "
            "clock change, and a day open around the clock has 23 or 25 hours when the clocks change. Assets that are not "
            "bookable in Kitshare are left out.",
        ),
        (
            "Booked hours",
            "Confirmed, checked-out and completed bookings, each clipped to the period and to the asset's days in service, "
            "less any time under maintenance. Pending, rejected, cancelled and no-show bookings do not count. Bookings can "
            "only be made inside bookable hours; if an asset's hours were cut after bookings were made, its booked hours in "
            "a month are capped at its available hours.",
        ),
        (
            "Utilisation",
            "Booked hours divided by available hours. There is no value (–) where no hours were available.",
        ),
        (
            "Bookings outside hours",
            "Confirmed, checked-out and completed bookings in the period that are not wholly inside the bookable hours in "
            "force on their days: made before the asset's hours were changed. Their hours count as booked; the assets that "
            "have them are flagged.",
        ),
        (
            "Actual utilisation",
            "Hours actually used divided by available hours: from check-in (or the booked start, if checked in early) to "
            "the booked end, and for loans from hand-over to return (or now, while still out), clipped the same way. Shown "
            "for assets that need check-in, are lent out, or had a check-in or hand-over in the period; rollups include only "
            "those assets.",
        ),
        (
            "No-show rate",
            "Bookings released or marked as a no-show, divided by bookings due: confirmed, checked-out, completed and no-show "
            "bookings that started in the period, up to now.",
        ),
        (
            "Late-cancellation rate",
            f"Bookings cancelled less than {notice} working hours (Monday to Friday; 24 hours is one working day) before their "
            "start, or after it, divided by the bookings that started in the period and were confirmed, used, a no-show or "
            "cancelled. With 24 hours, a booking for Monday 10:00 cancelled after Friday 10:00 is late.",
        ),
        (
            "Schools, categories and totals",
            "The sums of booked and available hours over their assets, then the ratio: weighted by hours, never an average of "
            "percentages. Distinct users are counted once however many assets they booked.",
        ),
        (
            "Bookings and users",
            "Bookings whose booked hours count in the period, and the distinct people who made them.",
        ),
        (
            "Sharing matrix",
            "Booked hours of each owning School's assets, by the School of the person who booked (their home School when they "
            "asked).",
        ),
        (
            "Unmet demand",
            "Hours of requests the booking rules refused, requests a manager rejected, waitlist places whose time passed "
            "without the person getting a booking (“waitlisted, never served”) and requests whose start passed "
            "with no decision (“not decided in time”), clipped to the period. A request refused for several "
            "reasons counts under each reason, and once in an asset's total.",
        ),
        (
            "Cost recovery",
            "Booked hours times the asset's hourly charge-out rate (full economic costing), rounded to the penny.",
        ),
        (
            "Idle",
            f"Utilisation under {idle}, and not saturated: candidates for sharing more widely, or for disposal. "
            "No asset is both idle and saturated.",
        ),
        (
            "Saturated",
            f"Utilisation at or above {saturated}; or demand turned away for want of free time (requests refused only "
            "because the time was already booked, and waitlist places never served) of at least "
            f"{min_hours:g} hours in the period from at least {min_people} different "
            f"{'person' if min_people == 1 else 'people'}: candidates for investment. A manager's rejection, maintenance, "
            "missing training, sharing, notice, length and quota rules, and requests not decided in time are unmet demand "
            "by reason, but do not make an asset saturated. Each listed asset says why it is there.",
        ),
        (
            "Month by month",
            "The same hours for each calendar month of the period (a part month where the period starts or "
            "ends in it).",
        ),
    ]


# --- The tables ----------------------------------------------------------------------------------

USAGE_COLUMNS = [
    Column("Available hours", HOURS),
    Column("Booked hours", HOURS),
    Column("Utilisation", RATIO),
    Column("Actual utilisation", ACTUAL),
    Column("Bookings", COUNT),
    Column("Users", COUNT),
    Column("No-show rate", RATIO),
    Column("Late-cancellation rate", RATIO),
    Column("Unmet demand hours", HOURS),
    Column("Cost recovery", PENCE),
    Column("Bookings outside hours", COUNT),
]


def _usage(row: dict[str, Any], coverage: Coverage | None = None) -> list[Any]:
    """A row's usage figures; ``coverage`` stands for its actual utilisation (a group's), or for
    an asset, whether it records use at all."""
    if coverage is None:  # an asset
        coverage = Coverage(
            row["actual_utilisation"],
            int(bool(row.get("tracks_actual_use"))),
            row.get("actual_hours", 0.0),
            row.get("actual_available_hours", 0.0),
        )
    return [
        row["available_hours"],
        row["booked_hours"],
        row["utilisation"],
        coverage,
        row["bookings"],
        row["users"],
        row["no_show_rate"],
        row["late_cancellation_rate"],
        row["unmet_hours"],
        row["cost_recovery_pence"],
        row.get("outside_hours_bookings"),  # absent from snapshots kept before it was counted
    ]


def report_tables(figures: dict[str, Any], per_asset_months: bool = True) -> list[Table]:
    """Every table of the report, in the order the page, the CSV and the XLSX show them (the page
    leaves out each asset's months: ``per_asset_months=False``)."""
    totals = figures["totals"]
    coverage = coverages(figures)
    tables = [
        Table(
            "schools",
            "By School",
            "Utilisation by owning School",
            [Column("School"), Column("Name"), Column("Assets", COUNT), *USAGE_COLUMNS],
            [
                [s["code"], s["name"], s["assets"], *_usage(s, coverage["schools"][s["code"]])]
                for s in figures["schools"]
            ],
            ["All", "", totals["assets"], *_usage(totals, coverage["total"])],
        ),
        Table(
            "categories",
            "By category",
            "Utilisation by equipment category",
            [Column("Category"), Column("Assets", COUNT), *USAGE_COLUMNS],
            [
                [c["name"], c["assets"], *_usage(c, coverage["categories"][c["id"]])]
                for c in figures["categories"]
            ],
            ["All", totals["assets"], *_usage(totals, coverage["total"])],
        ),
        Table(
            "assets",
            "By asset",
            "Utilisation of each asset",
            [
                Column("Tag"),
                Column("Asset"),
                Column("School"),
                Column("Category"),
                Column("Hourly rate", PRICE),
                Column("Days in service", COUNT),
                *USAGE_COLUMNS,
            ],
            [
                [
                    a["tag"],
                    a["name"],
                    a["school_code"],
                    a["category"],
                    a["hourly_rate_pence"],
                    a["service_days"],
                    *_usage(a),
                ]
                for a in figures["assets"]
            ],
        ),
    ]
    sharing = figures["sharing"]
    cells = {(c["owner_id"], c["borrower_id"]): c["hours"] for c in sharing["cells"]}
    borrowers = sharing["borrowers"]
    tables.append(
        Table(
            "sharing",
            "Sharing matrix",
            "Booked hours by owning School (rows) and the borrower's School (columns)",
            [
                Column("Owner School"),
                *[Column(b["code"] or b["name"], HOURS) for b in borrowers],
                Column("Other Schools' share", RATIO),
                Column("Total hours", HOURS),
            ],
            [
                [
                    owner["code"],
                    *[cells.get((owner["id"], b["id"]), 0.0) for b in borrowers],
                    _share_of_others(owner["id"], cells),
                    round(sum(hours for (o, _), hours in cells.items() if o == owner["id"]), 2),
                ]
                for owner in sharing["owners"]
            ],
        )
    )
    tables.append(
        Table(
            "asset_borrowers",
            "Hours by borrowing School, per asset",
            "Booked hours of each asset by the borrower's School",
            [
                Column("Tag"),
                Column("Asset"),
                Column("Owner School"),
                Column("Borrower School"),
                Column("Booked hours", HOURS),
            ],
            [
                [a["tag"], a["name"], a["school_code"], b["code"] or b["name"], b["hours"]]
                for a in figures["assets"]
                for b in a["by_borrower"]
            ],
        )
    )
    tables.append(
        Table(
            "unmet",
            "Unmet demand by reason",
            "Hours of refused and rejected requests, by reason",
            [Column("Reason"), Column("Requests", COUNT), Column("Hours", HOURS)],
            [[r["label"], r["requests"], r["hours"]] for r in figures["unmet_demand"]],
        )
    )
    flagged_columns = [
        Column("Tag"),
        Column("Asset"),
        Column("School"),
        Column("Available hours", HOURS),
        Column("Booked hours", HOURS),
        Column("Utilisation", RATIO),
        Column("Unmet demand hours", HOURS),
        Column("Why"),
    ]
    for key, title, caption in (
        ("idle", "Idle assets", "Candidates for sharing or disposal"),
        ("saturated", "Saturated assets", "Candidates for investment"),
    ):
        tables.append(
            Table(
                key,
                title,
                caption,
                flagged_columns,
                [
                    [
                        a["tag"],
                        a["name"],
                        a["school_code"],
                        a["available_hours"],
                        a["booked_hours"],
                        a["utilisation"],
                        a["unmet_hours"],
                        a["why"],
                    ]
                    for a in figures[key]
                ],
            )
        )
    trend_columns = [
        Column("Month"),
        Column("School"),
        Column("Available hours", HOURS),
        Column("Booked hours", HOURS),
        Column("Utilisation", RATIO),
    ]
    trend_rows = []
    for index, month in enumerate(totals["months"]):
        for school in figures["schools"]:
            m = school["months"][index]
            trend_rows.append(
                [month["label"], school["code"], m["available_hours"], m["booked_hours"], m["utilisation"]]
            )
        trend_rows.append(
            [month["label"], "All", month["available_hours"], month["booked_hours"], month["utilisation"]]
        )
    tables.append(
        Table("trend", "Month by month", "Utilisation by month and School", trend_columns, trend_rows)
    )
    if per_asset_months:
        tables.append(
            Table(
                "asset_trend",
                "Month by month, per asset",
                "Utilisation of each asset by month",
                [Column("Tag"), Column("Asset"), *trend_columns[:1], *trend_columns[2:]],
                [
                    [
                        a["tag"],
                        a["name"],
                        m["label"],
                        m["available_hours"],
                        m["booked_hours"],
                        m["utilisation"],
                    ]
                    for a in figures["assets"]
                    for m in a["months"]
                ],
            )
        )
    return tables


def coverages(figures: dict[str, Any]) -> dict[str, Any]:
    """The coverage of actual utilisation for the whole report, each School (by code) and each
    category (by id)."""
    assets = figures["assets"]
    by_school: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_category: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for asset in assets:  # (one pass: 10,000 assets, dozens of groups)
        by_school[asset["school_code"]].append(asset)
        by_category[asset["category_id"]].append(asset)
    return {
        "total": coverage_of(figures["totals"], assets),
        "schools": {s["code"]: coverage_of(s, by_school[s["code"]]) for s in figures["schools"]},
        "categories": {c["id"]: coverage_of(c, by_category[c["id"]]) for c in figures["categories"]},
    }


def _share_of_others(owner_id: int, cells: dict[tuple[int, int | None], float]) -> float | None:
    total = sum(hours for (o, _), hours in cells.items() if o == owner_id)
    others = sum(hours for (o, b), hours in cells.items() if o == owner_id and b != owner_id)
    return others / total if total else None


def summary_rows(figures: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(label, value, kind) lines that head the files."""
    totals = figures["totals"]
    return [
        ("Report", figures["title"], TEXT),
        ("From", figures["period"]["from"], TEXT),
        ("To", figures["period"]["to"], TEXT),
        ("Schools", figures["scope"]["label"], TEXT),
        ("Generated (UTC)", figures["generated_at"], TEXT),
        ("Assets", totals["assets"], COUNT),
        ("Available hours", totals["available_hours"], HOURS),
        ("Booked hours", totals["booked_hours"], HOURS),
        ("Utilisation", totals["utilisation"], RATIO),
        ("Actual utilisation", totals["actual_utilisation"], RATIO),
        ("Cost recovery", totals["cost_recovery_pence"], PENCE),
        ("Bookings outside the hours in force", totals.get("outside_hours_bookings"), COUNT),
        ("Idle threshold", figures["settings"]["idle_threshold"], RATIO),
        ("Saturated threshold", figures["settings"]["saturated_threshold"], RATIO),
        ("Late cancellation notice (working hours)", figures["settings"]["late_cancel_hours"], COUNT),
    ] + [
        # Saturated by demand: at least these hours turned away for want of free time, from at least
        # these people (absent from snapshots stored before the rule existed).
        (label, figures["settings"][key], kind)
        for label, key, kind in (
            ("Saturated by demand from (hours turned away)", "saturated_min_unmet_hours", HOURS),
            ("Saturated by demand from (people)", "saturated_min_people", COUNT),
        )
        if key in figures["settings"]
    ]


# --- CSV -----------------------------------------------------------------------------------------


def render_csv(figures: dict[str, Any]) -> str:
    """The report as CSV: a summary, then each table as a section (its title on a line of its
    own, its headings, its rows), separated by blank lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for label, value, kind in summary_rows(figures):
        writer.writerow([Column(label, kind).file_header, file_cell(value, kind)])
    for table in report_tables(figures):
        writer.writerow([])
        writer.writerow([table.title])
        _write_table(writer, table)
    return out.getvalue()


def _write_table(writer: Any, table: Table) -> None:
    writer.writerow([c.file_header for c in table.columns])
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([file_cell(value, column.kind) for value, column in zip(row, table.columns)])


# --- XLSX ----------------------------------------------------------------------------------------

XLSX_FORMATS = {
    HOURS: "#,##0.00",
    RATIO: "0.0%",
    ACTUAL: "0.0%",
    PENCE: '"£"#,##0.00',
    PRICE: '"£"#,##0.00',
    COUNT: "0",
}
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_value(value: Any, kind: str) -> Any:
    if isinstance(value, Coverage):
        value = value.ratio
    if value is None:
        return None
    if kind in MONEY:
        return Decimal(value) / 100
    if kind == TEXT:
        return neutralise_cell(str(value))
    return value


def render_xlsx(figures: dict[str, Any]) -> bytes:
    """The report as an XLSX workbook: a summary sheet with the definitions, then one sheet per
    table. Numbers are numbers, with hours, percentage and money formats on the cells."""
    return xlsx_workbook(
        summary_rows(figures), definitions(figures), report_tables(figures), _sheet_title, label_width=38
    )


def xlsx_workbook(
    summary: Iterable[tuple[str, Any, str]],
    terms: Iterable[tuple[str, str]],
    tables: Iterable[Table],
    sheet_title: Callable[[str], str],
    label_width: int,
) -> bytes:
    """A workbook of a "Summary" sheet (label, value and its kind; then the definitions of the
    terms) and one sheet per table, with a bold header row (frozen) and total row: what the
    utilisation report and the capital plan both download."""
    # openpyxl (~0.1 s to import) is loaded only when a workbook is read or written, so no worker or
    # command pays for it otherwise: every openpyxl import in Kitshare is local for that reason.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Summary"
    for label, value, kind in summary:
        sheet.append([label, _xlsx_value(value, kind)])
        if kind in XLSX_FORMATS:
            sheet.cell(sheet.max_row, 2).number_format = XLSX_FORMATS[kind]
        sheet.cell(sheet.max_row, 1).font = bold
    sheet.append([])
    sheet.append(["Definitions"])
    sheet.cell(sheet.max_row, 1).font = bold
    for term, text in terms:
        sheet.append([term, text])
        sheet.cell(sheet.max_row, 1).font = bold
        sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = label_width
    sheet.column_dimensions["B"].width = 100

    for table in tables:
        sheet = workbook.create_sheet(sheet_title(table.title))
        sheet.append([c.header for c in table.columns])
        for cell in sheet[1]:
            cell.font = bold
        for row in [*table.rows, *([table.total] if table.total else [])]:
            sheet.append([_xlsx_value(value, column.kind) for value, column in zip(row, table.columns)])
            for index, column in enumerate(table.columns, start=1):
                if column.kind in XLSX_FORMATS:
                    sheet.cell(sheet.max_row, index).number_format = XLSX_FORMATS[column.kind]
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(
                12, min(40, len(column.header) + 4)
            )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    # Excel allows 31 characters and no []:*?/\ in a sheet's name.
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned.replace("Hours by borrowing School, per asset", "Asset borrowers")[:31]


def file_name(figures: dict[str, Any], extension: str) -> str:
    scope = figures["scope"]["label"].replace(", ", "-") if figures["scope"]["school_ids"] else "all"
    safe = "".join(ch for ch in scope if ch.isalnum() or ch in "-_") or "schools"
    return f"utilisation-{figures['period']['from']}-to-{figures['period']['to']}-{safe}.{extension}"
