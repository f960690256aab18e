"""An asset's life in money: useful life, end of life, book value, replacement cost, financial years.

The rules, as the capital-planning page states them (``planning.render.definitions``):

* **Useful life**: the asset's own figure if it has one, else its category's default, else the
  setting KITSHARE_DEFAULT_USEFUL_LIFE_YEARS (10 years).
* **End of life**: the purchase date plus the useful life in calendar years. An asset bought on
  29 February reaches the end of its life on 28 February when that year is not a leap year
  (29 February 2024 + 5 years = 28 February 2029; + 4 years = 29 February 2028).
* **Book value** on a date: straight-line from the purchase cost on the purchase date to nothing
  at the end of life, by the day: cost x (1 - days since purchase / days from purchase to end of
  life), never below 0 (and the full cost before the purchase date), rounded half up to the
  penny.
* **Replacement cost estimate**: the asset's replacement cost if one is recorded (in today's
  prices, so inflated from today), else its purchase cost (in the prices of its purchase date, so
  inflated from then), raised by KITSHARE_INFLATION_RATE once for every financial year from the
  year of that date to the year it is replaced (compounding yearly), rounded half up to the
  penny. An asset is replaced in the financial year its life ends, or this year if that is past.
* **Financial year**: from KITSHARE_FINANCIAL_YEAR_START (1 August by default) to the day before
  the next one; "2026/27" runs from 1 August 2026 to 31 July 2027.

Money is integer pence, worked in ``Decimal`` with explicit rounding; never a float.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.config import Config
from inventory.models import Asset


def _month_day(text: str) -> tuple[int, int]:
    """KITSHARE_FINANCIAL_YEAR_START's month and day ("08-01": 8, 1; core.config checks it)."""
    month, day = (int(part) for part in text.strip().split("-"))
    return month, day


_DEFAULT_YEAR_START = _month_day(Config.KITSHARE_FINANCIAL_YEAR_START)


@dataclass(frozen=True)
class PlanningSettings:
    """The capital-planning settings (config.py documents each)."""

    # The defaults are Config's (core/config.py), where each lives once.
    year_start_month: int = _DEFAULT_YEAR_START[0]
    year_start_day: int = _DEFAULT_YEAR_START[1]
    inflation_rate: Decimal = Decimal(Config.KITSHARE_INFLATION_RATE)
    default_useful_life_years: int = Config.KITSHARE_DEFAULT_USEFUL_LIFE_YEARS
    # "near end of life": the life ends within this many months
    near_end_months: int = Config.KITSHARE_PLANNING_NEAR_END_MONTHS
    well_used: float = Config.KITSHARE_PLANNING_WELL_USED  # "well used": utilisation of at least this
    # "invest": unmet demand from at least this many Schools
    invest_schools: int = Config.KITSHARE_PLANNING_INVEST_SCHOOLS
    # "failing inspections": the latest failed, or this many in the year
    failed_inspections: int = Config.KITSHARE_PLANNING_FAILED_INSPECTIONS

    @classmethod
    def from_config(cls, config: Config) -> PlanningSettings:
        month, day = _month_day(config.KITSHARE_FINANCIAL_YEAR_START)
        return cls(
            year_start_month=month,
            year_start_day=day,
            inflation_rate=Decimal(str(config.KITSHARE_INFLATION_RATE).strip()),
            default_useful_life_years=config.KITSHARE_DEFAULT_USEFUL_LIFE_YEARS,
            near_end_months=config.KITSHARE_PLANNING_NEAR_END_MONTHS,
            well_used=config.KITSHARE_PLANNING_WELL_USED,
            invest_schools=config.KITSHARE_PLANNING_INVEST_SCHOOLS,
            failed_inspections=config.KITSHARE_PLANNING_FAILED_INSPECTIONS,
        )


# --- Dates ----------------------------------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (or earlier); 29 February becomes 28 February in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan + 1 = 28 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def whole_months_between(first: dt.date, last: dt.date) -> int:
    """Whole months from ``first`` to ``last`` (negative when ``last`` is earlier)."""
    if last < first:
        return -whole_months_between(last, first)
    months = (last.year - first.year) * 12 + last.month - first.month
    if add_months(first, months) > last:
        months -= 1
    return months


def describe_months(months: int) -> str:
    """14 -> '1 year 2 months'; 0 -> 'under a month'."""
    months = abs(months)
    if months == 0:
        return "under a month"
    years, rest = divmod(months, 12)
    parts = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in ((years, "year"), (rest, "month")) if n]
    return " ".join(parts)


@dataclass(frozen=True, order=True)
class FinancialYear:
    """A financial year, named by the calendar year it starts in."""

    start_year: int
    first_day: dt.date
    last_day: dt.date

    @property
    def label(self) -> str:
        """'2026/27'; a year that starts on 1 January is just '2026'."""
        if self.first_day.month == 1 and self.first_day.day == 1:
            return str(self.start_year)
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


def financial_year(settings: PlanningSettings, start_year: int) -> FinancialYear:
    first = dt.date(start_year, settings.year_start_month, settings.year_start_day)
    following = dt.date(start_year + 1, settings.year_start_month, settings.year_start_day)
    return FinancialYear(start_year, first, following - dt.timedelta(days=1))


def financial_year_of(settings: PlanningSettings, day: dt.date) -> FinancialYear:
    """The financial year ``day`` falls in: 31 July 2026 is in 2025/26, 1 August 2026 in 2026/27."""
    start = dt.date(day.year, settings.year_start_month, settings.year_start_day)
    return financial_year(settings, day.year if day >= start else day.year - 1)


def forecast_years(settings: PlanningSettings, today: dt.date, count: int) -> list[FinancialYear]:
    """This financial year and the ``count - 1`` after it."""
    first = financial_year_of(settings, today).start_year
    return [financial_year(settings, first + offset) for offset in range(count)]


# --- Money ----------------------------------------------------------------------------------------


def whole_pence(amount: Decimal) -> int:
    """Round to the penny, half a penny up (ROUND_HALF_UP)."""
    return int(amount.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class UsefulLife:
    years: int
    source: str  # "asset", "category" or "default"

    @property
    def described(self) -> str:
        origin = {"asset": "set for this asset", "category": "its category's", "default": "the default"}[
            self.source
        ]
        return f"{self.years} years ({origin})"


def useful_life(asset: Asset, settings: PlanningSettings) -> UsefulLife:
    """The asset's own useful life, else its category's default, else the setting's."""
    if asset.useful_life_years:
        return UsefulLife(asset.useful_life_years, "asset")
    if asset.category is not None and asset.category.default_useful_life_years:
        return UsefulLife(asset.category.default_useful_life_years, "category")
    return UsefulLife(settings.default_useful_life_years, "default")


def end_of_life(purchase_date: dt.date, life_years: int) -> dt.date:
    """The purchase date plus the useful life (29 February + 5 years = 28 February)."""
    return add_years(purchase_date, life_years)


def book_value(cost_pence: int, purchase_date: dt.date, end: dt.date, on: dt.date) -> int:
    """Straight-line by the day: cost x (1 - days elapsed / days in life), floored at 0, the
    full cost before the purchase date, rounded half up to the penny."""
    life_days = (end - purchase_date).days
    if on <= purchase_date:
        return cost_pence
    if on >= end or life_days <= 0:
        return 0
    elapsed = (on - purchase_date).days
    return whole_pence(Decimal(cost_pence) * (Decimal(1) - Decimal(elapsed) / Decimal(life_days)))


def annual_depreciation(cost_pence: int, life_years: int) -> int:
    """A year's straight-line charge: the cost over the useful life in years, to the penny."""
    return whole_pence(Decimal(cost_pence) / Decimal(life_years))


def inflate(pence: int, rate: Decimal, years: int) -> int:
    """``pence`` raised by ``rate`` once a year for ``years`` years (compounding), to the penny."""
    return whole_pence(Decimal(pence) * (Decimal(1) + rate) ** max(years, 0))


@dataclass(frozen=True)
class Lifecycle:
    """An asset's life in dates and money, as of ``today``."""

    life: UsefulLife
    purchase_date: dt.date | None
    end_of_life: dt.date | None  # None without a purchase date
    end_year: FinancialYear | None  # the financial year its life ends in
    replacement_year: FinancialYear | None  # that year, or this year if it is past
    cost_pence: int | None  # purchase cost
    book_value_pence: int | None  # on the chosen date
    annual_depreciation_pence: int | None
    replacement_base_pence: int | None  # the recorded replacement cost, else the purchase cost
    replacement_base: str  # "replacement" (today's prices) or "purchase" (its purchase date's)
    replacement_estimate_pence: int | None  # in the replacement year's prices
    months_left: int | None  # whole months from today to the end of life (negative: months since)
    age_months: int | None

    ended: bool  # the end of life is today or has passed


def lifecycle(
    asset: Asset, settings: PlanningSettings, today: dt.date, valued_on: dt.date | None = None
) -> Lifecycle:
    """Everything ``lifecycle`` rules say about one asset on ``today`` (book value on ``valued_on``,
    today by default). Needs the asset's category loaded."""
    life = useful_life(asset, settings)
    bought = asset.purchase_date
    valued_on = valued_on or today
    this_year = financial_year_of(settings, today)
    base = (
        asset.replacement_cost_pence
        if asset.replacement_cost_pence is not None
        else asset.purchase_cost_pence
    )
    base_kind = "replacement" if asset.replacement_cost_pence is not None else "purchase"
    if bought is None:
        return Lifecycle(
            life,
            None,
            None,
            None,
            None,
            asset.purchase_cost_pence,
            None,
            None,
            base,
            base_kind,
            None,
            None,
            None,
            False,
        )
    end = end_of_life(bought, life.years)
    end_year = financial_year_of(settings, end)
    replacement_year = max(end_year, this_year)
    estimate = None
    if base is not None:
        base_date = today if base_kind == "replacement" else bought
        years = replacement_year.start_year - financial_year_of(settings, base_date).start_year
        estimate = inflate(base, settings.inflation_rate, years)
    cost = asset.purchase_cost_pence
    return Lifecycle(
        life=life,
        purchase_date=bought,
        end_of_life=end,
        end_year=end_year,
        replacement_year=replacement_year,
        cost_pence=cost,
        book_value_pence=book_value(cost, bought, end, valued_on) if cost is not None else None,
        annual_depreciation_pence=annual_depreciation(cost, life.years) if cost is not None else None,
        replacement_base_pence=base,
        replacement_base=base_kind,
        replacement_estimate_pence=estimate,
        months_left=whole_months_between(today, end),
        age_months=max(whole_months_between(bought, today), 0),
        ended=end <= today,
    )
