"""What the report page leads with: the headline figures, the few assets most idle and most
saturated, and the change against the period of the same length before.

It reads the figures every renderer reads (``reports.figures_json.report_to_json``) and works nothing
out again: the idle and saturated lists and their reasons are the report's own, the previous
period is a report made by the same ``utilisation_report``. Money is shown to the pound and hours
to one decimal (``money``); the downloads keep every figure in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from core.money import format_hours, format_whole_pounds, whole_pounds
from reports.periods import describe_period
from reports.render import NO_VALUE, coverage_of, percent

#: How many of the most idle and the most saturated assets the summary names.
TOP_ASSETS = 5


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: str = ""  # what the value covers, in words
    change: str = ""  # '+2.1 points on 1–31 Oct 2026'; empty when there is nothing to compare


def _signed(value: float, text: str) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + text


def _points(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    points = round((now - before) * 100, 1)
    return _signed(points, f"{abs(points):.1f} points")


def _hours_change(now: float, before: float) -> str:
    difference = round(now - before, 1)
    return _signed(difference, f"{format_hours(abs(difference))} h")


def _pounds_change(now: int, before: int) -> str:
    difference = whole_pounds(now) - whole_pounds(before)
    return _signed(difference, format_whole_pounds(abs(difference) * 100))


def headline_figures(figures: dict[str, Any], previous: dict[str, Any] | None = None) -> list[Headline]:
    """The report's headline figures, each with its change against ``previous`` (the report of
    the period before, or None: no change shown)."""
    totals = figures["totals"]
    before = previous["totals"] if previous else None
    on = ""
    if previous:
        on = " on " + describe_period(
            dt.date.fromisoformat(previous["period"]["from"]), dt.date.fromisoformat(previous["period"]["to"])
        )

    def change(text: str | None) -> str:
        if before is None:
            return ""
        return f"{text}{on}" if text is not None else f"no figure to compare{on}"

    coverage = coverage_of(figures["totals"], figures["assets"])
    previous_coverage = coverage_of(previous["totals"], previous["assets"]) if previous else None
    actual_value = (
        percent(coverage.ratio) if coverage.assets and coverage.ratio is not None else "Not recorded"
    )
    unmet_requests = totals.get("unmet_requests", 0)
    return [
        Headline(
            "Available hours",
            format_hours(totals["available_hours"]),
            f"{totals['assets']:,} assets",
            change(_hours_change(totals["available_hours"], before["available_hours"]) if before else None),
        ),
        Headline(
            "Booked hours",
            format_hours(totals["booked_hours"]),
            "",
            change(_hours_change(totals["booked_hours"], before["booked_hours"]) if before else None),
        ),
        Headline(
            "Utilisation",
            percent(totals["utilisation"]) if totals["utilisation"] is not None else NO_VALUE,
            "booked of available hours",
            change(_points(totals["utilisation"], before["utilisation"]) if before else None),
        ),
        Headline(
            "Actual utilisation",
            actual_value,
            coverage.describe().split(" — ", 1)[-1],
            change(
                _points(
                    coverage.ratio,
                    previous_coverage.ratio if previous_coverage and previous_coverage.assets else None,
                )
            )
            if coverage.assets and coverage.ratio is not None
            else "",
        ),
        Headline(
            "Unmet demand",
            f"{format_hours(totals['unmet_hours'])} h",
            f"{unmet_requests:,} request{'s' if unmet_requests != 1 else ''} refused or rejected",
            change(_hours_change(totals["unmet_hours"], before["unmet_hours"]) if before else None),
        ),
        Headline(
            "Cost recovery",
            format_whole_pounds(totals["cost_recovery_pence"]),
            "booked hours × hourly rates",
            change(
                _pounds_change(totals["cost_recovery_pence"], before["cost_recovery_pence"])
                if before
                else None
            ),
        ),
    ]


def top_assets(figures: dict[str, Any], top: int = TOP_ASSETS) -> dict[str, list[dict[str, Any]]]:
    """The first few of the report's idle list (least used first) and saturated list (most
    used, or most turned away, first), each with the line that says why it is there."""
    return {"idle": figures["idle"][:top], "saturated": figures["saturated"][:top]}
