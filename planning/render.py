"""The capital plan's tables, and the CSV and XLSX made from them.

The page, the CSV and the XLSX read the same tables (``plan_tables``), built with the report
package's table kinds (``reports.render``: hours, ratio, pence, count, text), so they show the
same numbers under the same headings; only the formatting differs (money: £1,234.50 on the page,
1234.50 in the CSV under a heading with (£), the number 1234.5 formatted "£"#,##0.00 in the XLSX;
text cells are neutralised so no spreadsheet runs them as formulas).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from planning.forecast import Group
from planning.lifecycle import PlanningSettings
from planning.recommendations import evidence_lines
from planning.service import OUTCOME_LABELS, Plan
from reports.render import (
    COUNT,
    HOURS,
    PENCE,
    RATIO,
    TEXT,
    Column,
    Table,
    file_cell,
    percent,
    xlsx_workbook,
)

LIFE_SOURCES = {"asset": "This asset", "category": "Its category", "default": "The default"}


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 2)


# --- Definitions, in words ------------------------------------------------------------------------


def definitions(plan: Plan) -> list[tuple[str, str]]:
    """What each figure and recommendation means, as the page and the XLSX state it."""
    s: PlanningSettings = plan.settings
    r = plan.report_settings
    start = plan.forecast.financial_years[0].year if plan.forecast.financial_years else None
    example = (
        f" ({start.label} runs from {start.first_day:%d %B %Y} to {start.last_day:%d %B %Y})" if start else ""
    )
    rate = f"{s.inflation_rate * 100:.2f}".rstrip("0").rstrip(".")
    return [
        (
            "Financial year",
            f"Starts on {start.first_day:%d %B} each year{example}." if start else "See the settings.",
        ),
        (
            "Useful life",
            f"The asset's own useful life if one is recorded, else its category's, else {s.default_useful_life_years} years.",
        ),
        (
            "End of life",
            "The purchase date plus the useful life in years. An asset bought on 29 February reaches the end of its life on "
            "28 February in a year that is not a leap year.",
        ),
        (
            "Depreciation a year",
            "The purchase cost divided by the useful life in years, rounded to the penny.",
        ),
        (
            "Book value",
            "Straight-line depreciation by the day, from the purchase cost on the purchase date to nothing at the end of "
            "life: cost × (1 − days since purchase ÷ days from purchase to end of life), never below £0.00, rounded to the "
            "penny (half a penny up).",
        ),
        (
            "Replacement cost estimate",
            f"The replacement cost recorded for the asset (in today's prices), or else its purchase cost (in the prices of "
            f"its purchase date), raised by {rate}% for every financial year from the year of that date to the year it is "
            f"replaced, compounding, rounded to the penny. An asset is replaced in the financial year its life ends; one "
            f"whose life has already ended, this financial year.",
        ),
        (
            "Past end of life",
            "Assets still in service whose life ended before this financial year began: the backlog, priced for this year.",
        ),
        (
            "Evidence period",
            f"{plan.evidence.period_from:%d %b %Y} to {plan.evidence.period_to:%d %b %Y}: the year to yesterday, or since "
            "Kitshare's records began (the day its first asset was added) if that is later, so that months before Kitshare "
            "was used do not count as months nobody used the kit. "
            "Utilisation, unmet demand and cost recovery follow the utilisation report's definitions; rollups sum the hours "
            "first (weighted by hours). Assets not booked through Kitshare have no figures.",
        ),
        (
            "Maintenance and inspection costs",
            "The costs recorded on maintenance windows (in the year they started) and on inspections.",
        ),
        (
            "Replace",
            f"Its life ends within {s.near_end_months} months (or has ended) and it is well used, with utilisation of at "
            f"least {percent(s.well_used)}; or it is failing inspections: its latest inspection of some kind failed, or "
            f"{s.failed_inspections} or more inspections failed in the year.",
        ),
        (
            "Invest",
            f"Saturated (utilisation at or above {percent(r.saturated_threshold)}, or at least "
            f"{r.saturated_min_unmet_hours:g} hours of demand turned away for want of free time from at least "
            f"{r.saturated_min_people} people) and people of {s.invest_schools} or more Schools were turned away for want "
            "of free time (refused because the time was already booked, or waitlisted and never served): a second unit or "
            "a shared facility. A manager's rejection, requests not decided in time, and refusals for training, notice, "
            "length, sharing or quotas are not counted: the evidence lists them apart.",
        ),
        (
            "Share",
            f"Idle (utilisation under {percent(r.idle_threshold)}) and not saturated, and either people of other Schools "
            "were turned away (in demand elsewhere), or it could be shared but is not yet open to other Schools.",
        ),
        (
            "Dispose or redeploy",
            f"Idle (utilisation under {percent(r.idle_threshold)}) for the whole year, with no unmet demand. The asset "
            "must have been in service, and on Kitshare's register, all year: its use before it was added is not known.",
        ),
        (
            "Decisions",
            "Managers decide for their Schools' assets, finance staff and administrators for every School. Each decision "
            "is kept; the latest is the current one.",
        ),
    ]


# --- The tables ----------------------------------------------------------------------------------

FIGURE_COLUMNS = [
    Column("Replacement cost", PENCE),
    Column("Cost unknown", COUNT),
    Column("Utilisation", RATIO),
    Column("Unmet demand hours", HOURS),
    Column("Cost recovery", PENCE),
]


def _figures(group: Group) -> list[Any]:
    return [
        group.replacement_pence,
        group.unknown_cost,
        group.utilisation,
        _hours(group.unmet_seconds),
        group.cost_recovery_pence,
    ]


def plan_tables(plan: Plan) -> list[Table]:
    """Every table of the plan, in the order the page, the CSV and the XLSX show them."""
    forecast = plan.forecast
    overall = Group("All", "All")
    for item in forecast.assets:
        overall.add(item)
    totals = Table(
        "totals",
        "Totals by year",
        "Replacement cost of the assets whose life ends in each financial year",
        [Column("Financial year"), Column("From"), Column("To"), Column("Assets", COUNT), *FIGURE_COLUMNS],
        [
            [
                year.label,
                year.year.first_day.isoformat() if year.year else "",
                year.year.last_day.isoformat() if year.year else "",
                len(year.total.assets),
                *_figures(year.total),
            ]
            for year in forecast.years
        ],
        ["Total", "", "", len(overall.assets), *_figures(overall)],
    )
    rows = []
    for year in forecast.years:
        for group in year.groups:
            rows.append([year.label, group.school_code, group.category, len(group.assets), *_figures(group)])
        rows.append(
            [year.label, "All Schools", "All categories", len(year.total.assets), *_figures(year.total)]
        )
    by_group = Table(
        "forecast",
        "Forecast",
        "Replacement forecast by financial year, School and category, with each year's total",
        [
            Column("Financial year"),
            Column("School"),
            Column("Category"),
            Column("Assets", COUNT),
            *FIGURE_COLUMNS,
        ],
        rows,
        ["Total", "", "", len(overall.assets), *_figures(overall)],
    )
    valued_on = plan.evidence.valued_on
    lifecycle_rows = []
    year_of = {id(item): year.label for year in forecast.years for item in year.total.assets}
    for item in plan.evidence.assets:
        asset, life, figures = item.asset, item.lifecycle, item.figures
        if life.end_year is None:
            when = "No purchase date"
        else:
            when = year_of.get(id(item), f"Later ({life.end_year.label})")
        lifecycle_rows.append(
            [
                asset.tag,
                asset.name,
                plan.evidence.schools_by_id[asset.school_id].code,
                asset.category.name if asset.category else "",
                life.purchase_date.isoformat() if life.purchase_date else "",
                life.cost_pence,
                life.life.years,
                LIFE_SOURCES[life.life.source],
                life.annual_depreciation_pence,
                life.end_of_life.isoformat() if life.end_of_life else "",
                when,
                life.book_value_pence,
                life.replacement_estimate_pence,
                figures.utilisation if figures else None,
                _hours(figures.unmet_seconds) if figures else None,
                figures.cost_recovery_pence if figures else None,
                item.maintenance_year_pence,
            ]
        )
    assets = Table(
        "assets",
        "Assets",
        "The life, value and use of each asset in service",
        [
            Column("Tag"),
            Column("Asset"),
            Column("School"),
            Column("Category"),
            Column("Purchase date"),
            Column("Purchase cost", PENCE),
            Column("Useful life (years)", COUNT),
            Column("Life from"),
            Column("Depreciation a year", PENCE),
            Column("End of life"),
            Column("Replaced in"),
            Column(f"Book value on {valued_on.isoformat()}", PENCE),
            Column("Replacement estimate", PENCE),
            Column("Utilisation", RATIO),
            Column("Unmet demand hours", HOURS),
            Column("Cost recovery", PENCE),
            Column("Maintenance cost (year)", PENCE),
        ],
        lifecycle_rows,
    )
    recommendation_rows = []
    for item in plan.recommendations:
        evidence = dict(evidence_lines(item.evidence, plan.evidence.schools_by_id, plan.today))
        current = item.current
        recommendation_rows.append(
            [
                item.asset.tag,
                item.asset.name,
                plan.evidence.schools_by_id[item.asset.school_id].code,
                item.short_label,
                item.why,
                item.evidence.utilisation,
                _hours(item.evidence.unmet_seconds),
                evidence["Unmet demand"],
                evidence.get("Age and remaining life", evidence.get("Age", "")),
                evidence["Failed inspections"],
                OUTCOME_LABELS[current.outcome] if current else "Not decided",
                (current.decided_by.name if current and current.decided_by else ""),
                current.decided_at.date().isoformat() if current else "",
                current.note if current else "",
            ]
        )
    recommendations = Table(
        "recommendations",
        "Recommendations",
        "Recommendations with their evidence and the current decision",
        [
            Column("Tag"),
            Column("Asset"),
            Column("School"),
            Column("Recommendation"),
            Column("Why"),
            Column("Utilisation", RATIO),
            Column("Unmet demand hours", HOURS),
            Column("Unmet demand from"),
            Column("Age and remaining life"),
            Column("Failed inspections"),
            Column("Decision"),
            Column("Decided by"),
            Column("Decided on"),
            Column("Note"),
        ],
        recommendation_rows,
    )
    return [totals, by_group, assets, recommendations]


def summary_rows(plan: Plan) -> list[tuple[str, Any, str]]:
    s = plan.settings
    return [
        ("Capital plan", plan.scope_label, TEXT),
        ("Today", plan.today.isoformat(), TEXT),
        ("Evidence from", plan.evidence.period_from.isoformat(), TEXT),
        ("Evidence to", plan.evidence.period_to.isoformat(), TEXT),
        ("Book values on", plan.evidence.valued_on.isoformat(), TEXT),
        ("Financial years", plan.years, COUNT),
        ("Inflation a year", float(s.inflation_rate), RATIO),
        ("Near end of life (months)", s.near_end_months, COUNT),
        ("Well used from", s.well_used, RATIO),
        ("Idle under", plan.report_settings.idle_threshold, RATIO),
        ("Saturated at or above", plan.report_settings.saturated_threshold, RATIO),
        (
            "Saturated by demand from (hours turned away)",
            plan.report_settings.saturated_min_unmet_hours,
            HOURS,
        ),
        ("Saturated by demand from (people)", plan.report_settings.saturated_min_people, COUNT),
    ]


# --- CSV -----------------------------------------------------------------------------------------


def render_csv(plan: Plan) -> str:
    """A summary, then each table as a section: its title on a line, its headings, its rows."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for label, value, kind in summary_rows(plan):
        writer.writerow([Column(label, kind).file_header, file_cell(value, kind)])
    for table in plan_tables(plan):
        writer.writerow([])
        writer.writerow([table.title])
        writer.writerow([c.file_header for c in table.columns])
        for row in [*table.rows, *([table.total] if table.total else [])]:
            writer.writerow([file_cell(value, column.kind) for value, column in zip(row, table.columns)])
    return out.getvalue()


# --- XLSX ----------------------------------------------------------------------------------------


def render_xlsx(plan: Plan) -> bytes:
    """A summary sheet with the definitions, then one sheet per table: numbers as numbers, money
    formatted in pounds, ratios as percentages."""
    return xlsx_workbook(
        summary_rows(plan), definitions(plan), plan_tables(plan), lambda title: title[:31], label_width=30
    )


def file_name(plan: Plan, extension: str) -> str:
    scope = plan.scope_label.replace(", ", "-").replace("; ", "-")
    safe = "".join(ch for ch in scope.replace(" ", "-") if ch.isalnum() or ch in "-_") or "schools"
    return f"capital-plan-{plan.today.isoformat()}-{safe}.{extension}"
