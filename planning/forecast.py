"""The replacement forecast: which assets reach the end of their life in each financial year, what
replacing them will cost, and how much they are used now.

Assets are put in the financial year their life ends in (``planning.lifecycle``); those whose
life ended before this financial year began and that are still in service are the backlog, to
be replaced this year. For each year the assets are grouped by owning School and category, with
the sum of their replacement estimates (in that year's prices) and their figures for the year
to yesterday: utilisation (booked / available hours, summed first: weighted by hours), unmet
demand hours and cost recovery. Retired assets are not in the forecast; nor are assets with no
purchase date (the page lists them, as their life cannot be dated).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from planning.evidence import AssetEvidence, Evidence
from planning.lifecycle import FinancialYear, PlanningSettings, forecast_years

BACKLOG = "backlog"
NO_CATEGORY = "No category"


@dataclass
class Group:
    """Sums over some assets (a School and category in a year, or a whole year)."""

    school_code: str
    category: str
    assets: list[AssetEvidence] = field(default_factory=list)
    replacement_pence: int = 0
    unknown_cost: int = 0  # assets with no purchase or replacement cost: not in the sum
    booked_seconds: int = 0
    available_seconds: int = 0
    unmet_seconds: int = 0
    cost_recovery_pence: int = 0

    def add(self, item: AssetEvidence) -> None:
        self.assets.append(item)
        estimate = item.lifecycle.replacement_estimate_pence
        if estimate is None:
            self.unknown_cost += 1
        else:
            self.replacement_pence += estimate
        if item.figures is not None:
            self.booked_seconds += item.figures.booked_seconds
            self.available_seconds += item.figures.available_seconds
            self.unmet_seconds += item.figures.unmet_seconds
            self.cost_recovery_pence += item.figures.cost_recovery_pence

    @property
    def utilisation(self) -> float | None:
        return self.booked_seconds / self.available_seconds if self.available_seconds else None


@dataclass
class YearForecast:
    key: str  # "backlog", or the year the financial year starts in ("2026")
    label: str
    year: FinancialYear | None  # None for the backlog
    groups: list[Group]
    total: Group


@dataclass
class Forecast:
    years: list[YearForecast]  # the backlog first, then each financial year
    later: list[AssetEvidence]  # lives that end after the last year shown
    undated: list[AssetEvidence]  # no purchase date

    @property
    def backlog(self) -> YearForecast:
        return self.years[0]

    @property
    def financial_years(self) -> list[YearForecast]:
        return self.years[1:]

    @property
    def assets(self) -> list[AssetEvidence]:
        return [item for year in self.years for item in year.total.assets]


def build_forecast(evidence: Evidence, settings: PlanningSettings, years: int) -> Forecast:
    """The backlog and the next ``years`` financial years (this one first), grouped by School
    and category, with their totals."""
    horizon = forecast_years(settings, evidence.today, years)
    first, last = horizon[0], horizon[-1]
    buckets: dict[str, list[AssetEvidence]] = {BACKLOG: [], **{str(y.start_year): [] for y in horizon}}
    later: list[AssetEvidence] = []
    undated: list[AssetEvidence] = []
    for item in evidence.assets:
        end_year = item.lifecycle.end_year
        if end_year is None:
            undated.append(item)
        elif end_year < first:
            buckets[BACKLOG].append(item)
        elif end_year > last:
            later.append(item)
        else:
            buckets[str(end_year.start_year)].append(item)

    def year_forecast(key: str, label: str, year: FinancialYear | None) -> YearForecast:
        groups: dict[tuple[str, str], Group] = {}
        total = Group("All Schools", "All categories")
        for item in buckets[key]:
            school_code = evidence.schools_by_id[item.asset.school_id].code
            category = item.asset.category.name if item.asset.category else NO_CATEGORY
            group = groups.setdefault((school_code, category), Group(school_code, category))
            group.add(item)
            total.add(item)
        ordered = [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[1] == NO_CATEGORY, k[1].lower()))]
        return YearForecast(key, label, year, ordered, total)

    backlog_label = f"Past end of life (before {first.label})"
    return Forecast(
        years=[year_forecast(BACKLOG, backlog_label, None)]
        + [year_forecast(str(y.start_year), y.label, y) for y in horizon],
        later=later,
        undated=undated,
    )
