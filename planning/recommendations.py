"""Buy, share or dispose: what the evidence recommends for each asset, and why.

Each rule is checked on its own, so an asset may have more than one recommendation (an idle
asset not yet open to other Schools, idle all year, may be shared or disposed of: the manager
decides which). Every recommendation carries the figures that made it, never a bare verdict.
The evidence is the year to yesterday (``planning.evidence``); the thresholds are settings.

* **Replace**: its life ends within KITSHARE_PLANNING_NEAR_END_MONTHS months (12), or has
  ended, and it is well used (utilisation at least KITSHARE_PLANNING_WELL_USED, 50 %); or it is
  failing inspections: its latest inspection of some kind failed, or it failed at least
  KITSHARE_PLANNING_FAILED_INSPECTIONS (2) inspections in the year.
* **Invest** (a second unit or a shared facility): it is saturated (the report's rule,
  ``reports.figures.classify``: utilisation at or above KITSHARE_SATURATED_THRESHOLD, or at least
  KITSHARE_SATURATED_MIN_UNMET_HOURS of demand turned away for want of free time from at least
  KITSHARE_SATURATED_MIN_PEOPLE people) and people of at least KITSHARE_PLANNING_INVEST_SCHOOLS
  (2) Schools were turned away for want of free time: refused because the time was already
  booked, or waitlisted and never served. A manager's rejection, requests not decided in time,
  and refusals for training, notice, length, sharing or quotas say nothing about capacity: the
  evidence lists them apart, as not counted.
* **Share**: it is idle (utilisation under KITSHARE_IDLE_THRESHOLD) and not saturated, and
  either people of other Schools asked for it and were turned away (in demand elsewhere), or
  it could be shared but is not yet: bookable, but not open to other Schools.
* **Dispose or redeploy**: idle for the whole year (in service, and on Kitshare's register, all
  of it: use before an asset was added is not known) and no unmet demand at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.money import format_whole_pounds
from core.timeutil import to_local
from inventory.models import School
from planning.evidence import AssetEvidence, Refusals
from planning.lifecycle import PlanningSettings, add_months, add_years, describe_months
from planning.models import PlanningDecision, Recommendation
from reports.figures import ReportSettings, percent, reason_label, why_listed

LABELS = {
    Recommendation.REPLACE: "Replace",
    Recommendation.INVEST: "Invest: a second unit or a shared facility",
    Recommendation.SHARE: "Share",
    Recommendation.DISPOSE: "Dispose or redeploy",
}
SHORT_LABELS = {
    Recommendation.REPLACE: "Replace",
    Recommendation.INVEST: "Invest",
    Recommendation.SHARE: "Share",
    Recommendation.DISPOSE: "Dispose or redeploy",
}
ORDER = [Recommendation.REPLACE, Recommendation.INVEST, Recommendation.SHARE, Recommendation.DISPOSE]


def hours(seconds: int) -> str:
    return f"{seconds / 3600:,.1f} h"  # one decimal, like the pages (the exports keep more)


def _one_decimal(seconds: int) -> str:
    return f"{seconds / 3600:,.1f} h"


#: How the evidence names the reasons of refusals (the report's labels, in a sentence).
_REASON_WORDS = {"overlap": "already booked", "waitlisted": "waitlisted, never served"}


def _reason_words(reasons: tuple[str, ...]) -> str:
    return " and ".join(_REASON_WORDS.get(code, reason_label(code).lower()) for code in reasons)


def _requests(n: int) -> str:
    return f"{n:,} request{'' if n == 1 else 's'}"


def describe_refusals(refusals: list[Refusals], code) -> str:
    """ "6 requests, 14.0 h — already booked 4 (ECS 8.0 h, CHEM 2.0 h); waitlisted, never served 2
    (ECS 4.0 h)": the requests behind some unmet demand, by reason and the requester's School
    (``code`` names a School id)."""
    if not refusals:
        return "None"
    total_requests = sum(r.requests for r in refusals)
    total_seconds = sum(r.seconds for r in refusals)
    parts = []
    for refusal in refusals:
        schools = ", ".join(
            f"{code(school)} {_one_decimal(seconds)}"
            for school, seconds in sorted(
                refusal.by_school.items(), key=lambda item: (-item[1], code(item[0]))
            )
        )
        parts.append(f"{_reason_words(refusal.reasons)} {refusal.requests:,} ({schools})")
    return f"{_requests(total_requests)}, {_one_decimal(total_seconds)} — " + "; ".join(parts)


@dataclass
class RecommendationItem:
    """One recommendation for one asset: why (the rule that holds, with its figures), the
    evidence beside it, and the decisions recorded against it (newest first)."""

    evidence: AssetEvidence
    kind: Recommendation
    reasons: list[str]
    decisions: list[PlanningDecision] = field(default_factory=list)

    @property
    def asset(self):
        return self.evidence.asset

    @property
    def key(self) -> str:
        """Unique on a page: the asset and the recommendation."""
        return f"{self.evidence.asset.id}-{self.kind.value}"

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def short_label(self) -> str:
        return SHORT_LABELS[self.kind]

    @property
    def current(self) -> PlanningDecision | None:
        return self.decisions[0] if self.decisions else None

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def whole_year(evidence: AssetEvidence, today: dt.date, period_from: dt.date, period_to: dt.date) -> bool:
    """In service on every day of the evidence year, and on Kitshare's register all that time
    (its use before it was added is not known, so it cannot be shown to have been idle)."""
    figures = evidence.figures
    return (
        figures is not None
        and period_from == add_years(today, -1)  # the evidence covers a whole year
        and figures.in_service_from <= period_from
        and figures.service_days == (period_to - period_from).days + 1
        and to_local(evidence.asset.created_at).date() <= period_from
    )


def recommend(
    evidence: AssetEvidence,
    settings: PlanningSettings,
    report_settings: ReportSettings,
    today: dt.date,
    period_from: dt.date,
    period_to: dt.date,
    schools_by_id: dict[int, School],
) -> list[tuple[Recommendation, list[str]]]:
    """The recommendations the rules make for one asset, each with the reasons that hold."""
    asset, figures, life = evidence.asset, evidence.figures, evidence.lifecycle
    utilisation = evidence.utilisation
    found: list[tuple[Recommendation, list[str]]] = []

    def code(school_id: int | None) -> str:
        return schools_by_id[school_id].code if school_id in schools_by_id else "no School"

    # Replace
    reasons = []
    horizon = add_months(today, settings.near_end_months)
    if (
        life.end_of_life is not None
        and life.end_of_life <= horizon
        and utilisation is not None
        and utilisation >= settings.well_used
    ):
        when = (
            f"Its life ended on {life.end_of_life:%d %b %Y}"
            if life.ended
            else f"Its life ends on {life.end_of_life:%d %b %Y}, within {settings.near_end_months} months"
        )
        reasons.append(
            f"{when}, and it is well used: {percent(utilisation)} utilisation "
            f"(at least {percent(settings.well_used)})"
        )
    latest_failures = [f for f in evidence.failures if f.latest]
    year_failures = [f for f in evidence.failures if period_from <= f.done_on <= period_to]
    if latest_failures:
        reasons.append("Failing inspections: " + "; ".join(f.described for f in latest_failures))
    elif len(year_failures) >= settings.failed_inspections:
        reasons.append(
            f"Failing inspections: {len(year_failures)} failed in the year "
            f"(at least {settings.failed_inspections}): " + "; ".join(f.described for f in year_failures)
        )
    if reasons:
        found.append((Recommendation.REPLACE, reasons))

    if figures is None:
        return found

    # Invest
    asking = sorted((s for s in evidence.capacity_unmet_by_school if s is not None), key=code)
    if figures.saturated and len(asking) >= settings.invest_schools:
        found.append(
            (
                Recommendation.INVEST,
                [
                    "Saturated: " + why_listed(figures, report_settings),
                    f"Turned away for want of free time, people of {len(asking)} Schools (at least {settings.invest_schools}): "
                    + describe_refusals(evidence.capacity_refusals, code),
                ],
            )
        )

    idle = figures.idle and not figures.saturated
    # Share
    if idle:
        reasons = []
        others = sorted(
            (s for s in evidence.unmet_by_school if s is not None and s != asset.school_id), key=code
        )
        if others:
            reasons.append(
                f"Idle in {code(asset.school_id)} ({percent(utilisation)} utilisation, under "
                f"{percent(report_settings.idle_threshold)}) but in demand elsewhere: "
                + ", ".join(f"{code(s)} {hours(evidence.unmet_by_school[s])} turned away" for s in others)
            )
        if not asset.shareable:
            reasons.append(
                f"Idle ({percent(utilisation)} utilisation, under {percent(report_settings.idle_threshold)}) "
                "and could be shared, but is not yet open to other Schools"
            )
        if reasons:
            found.append((Recommendation.SHARE, reasons))

    # Dispose or redeploy
    if idle and whole_year(evidence, today, period_from, period_to) and figures.unmet_seconds == 0:
        found.append(
            (
                Recommendation.DISPOSE,
                [
                    f"Idle for the whole year: {percent(utilisation)} utilisation (under "
                    f"{percent(report_settings.idle_threshold)}), {hours(figures.booked_seconds)} booked of "
                    f"{hours(figures.available_seconds)}, and no unmet demand"
                ],
            )
        )
    return found


def evidence_lines(
    evidence: AssetEvidence, schools_by_id: dict[int, School], today: dt.date
) -> list[tuple[str, str]]:
    """The figures shown beside every recommendation, as (term, text): the same for each kind,
    so people can compare them."""
    asset, figures, life = evidence.asset, evidence.figures, evidence.lifecycle

    def code(school_id: int | None) -> str:
        return schools_by_id[school_id].code if school_id in schools_by_id else "no School"

    lines = []
    if figures is None:
        lines.append(("Utilisation", "Not booked through Kitshare in the year: no figures"))
    else:
        value = percent(figures.utilisation) if figures.utilisation is not None else "no hours available"
        lines.append(
            (
                "Utilisation",
                f"{value}: {hours(figures.booked_seconds)} booked of {hours(figures.available_seconds)} available",
            )
        )
        others = evidence.booked_by_others_seconds
        lines.append(
            (
                "Used by other Schools",
                f"{hours(others)} of the booked time"
                if others
                else ("None" + ("" if asset.shareable else ": not open to other Schools")),
            )
        )
    if evidence.unmet_by_school:
        parts = [
            f"{code(s)} {hours(seconds)}"
            for s, seconds in sorted(
                evidence.unmet_by_school.items(), key=lambda item: (-item[1], code(item[0]))
            )
        ]
        total = figures.unmet_seconds if figures else sum(evidence.unmet_by_school.values())
        lines.append(("Unmet demand", f"{hours(total)}, from " + ", ".join(parts)))
    else:
        lines.append(("Unmet demand", "None"))
    lines.append(
        (
            "Turned away for want of free time (counted as capacity demand)",
            describe_refusals(evidence.capacity_refusals, code),
        )
    )
    lines.append(
        (
            "Other unmet demand (not counted as capacity demand)",
            describe_refusals(evidence.other_refusals, code),
        )
    )
    if life.purchase_date is None:
        lines.append(("Age", "Purchase date not recorded: no end of life"))
    else:
        age = describe_months(life.age_months or 0)
        if life.ended:
            remaining = (
                f"life ended on {life.end_of_life:%d %b %Y}, {describe_months(-(life.months_left or 0))} ago"
            )
        else:
            remaining = f"{describe_months(life.months_left or 0)} left, to {life.end_of_life:%d %b %Y}"
        lines.append(
            (
                "Age and remaining life",
                f"Bought {life.purchase_date:%d %b %Y}, {age} old; useful life {life.life.described}; {remaining}",
            )
        )
    lines.append(("Failed inspections", "; ".join(f.described for f in evidence.failures) or "None"))
    if figures is not None:
        lines.append(("Cost recovery", _pounds(figures.cost_recovery_pence)))
    lines.append(
        (
            "Maintenance and inspection costs",
            f"{_pounds(evidence.maintenance_year_pence)} in the year, "
            f"{_pounds(evidence.maintenance_total_pence)} since bought",
        )
    )
    if life.replacement_estimate_pence is not None and life.replacement_year is not None:
        lines.append(
            (
                "Replacement estimate",
                f"{_pounds(life.replacement_estimate_pence)} in {life.replacement_year.label}",
            )
        )
    else:
        lines.append(("Replacement estimate", "Unknown: no purchase or replacement cost recorded"))
    return lines


def _pounds(pence: int) -> str:

    return format_whole_pounds(pence)  # to the pound in summaries; the CSV and XLSX keep the pence
