"""The twelve-month trend: utilisation month by month, per School and overall, so finance can see
whether use and sharing are rising.

It is the utilisation report (``reports.figures.utilisation_report``) over the twelve whole
calendar months before the current one, read month by month: the same rule for every figure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from reports.periods import add_months, first_of_month

#: How many whole months the trend covers.
TREND_MONTHS = 12


def trend_period(today: dt.date, months: int = TREND_MONTHS) -> tuple[dt.date, dt.date]:
    """The ``months`` whole calendar months before the one ``today`` is in: on 6 Dec 2026,
    1 Dec 2025 to 30 Nov 2026."""
    this_month = first_of_month(today)
    return add_months(this_month, -months), this_month - dt.timedelta(days=1)


@dataclass(frozen=True)
class TrendCell:
    utilisation: float | None
    booked_hours: float
    available_hours: float


@dataclass
class Trend:
    period_from: dt.date
    period_to: dt.date
    months: list[dict[str, Any]]  # each month's key, label, first and last day
    series: list[tuple[str, str, list[TrendCell]]]  # (code, name, a cell a month); "All" last
    figures: dict[str, Any]


def twelve_month_trend(
    session: Session,
    school_ids: set[int] | None,
    today: dt.date,
    settings: ReportSettings | None = None,
    readers: int = 1,
) -> Trend:
    """Utilisation by month over the twelve whole months before ``today``'s, for each School in
    ``school_ids`` (None: every School; check who may see it with ``report_scope_for``) that had
    assets in service, and for all of them together. ``readers``: as ``utilisation_report``'s."""
    first, last = trend_period(today)
    figures = report_to_json(utilisation_report(session, first, last, school_ids, settings, readers=readers))

    def cells(months: list[dict[str, Any]]) -> list[TrendCell]:
        return [TrendCell(m["utilisation"], m["booked_hours"], m["available_hours"]) for m in months]

    series = [(s["code"], s["name"], cells(s["months"])) for s in figures["schools"]]
    series.append(("All", "All Schools in the report", cells(figures["totals"]["months"])))
    months = [{k: m[k] for k in ("month", "label", "from", "to")} for m in figures["totals"]["months"]]
    return Trend(first, last, months, series, figures)
