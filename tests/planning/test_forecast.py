"""The replacement forecast on a hand-worked register.

Today is 18 March 2026: financial year 2025/26 (1 Aug 2025 - 31 Jul 2026). Inflation 3 % a year,
three years shown: 2025/26, 2026/27, 2027/28. Microscopes last 10 years, centrifuges 8.

tag       School category     bought       life  ends         year     estimate
CHEM-M1   CHEM   Microscopes  2016-05-01   10    2026-05-01   2025/26  replacement £12,000 (today's prices), 0 years: £12,000.00
CHEM-M2   CHEM   Microscopes  2016-08-01   10    2026-08-01   2026/27  replacement £10,000, 1 year: £10,300.00
CHEM-C1   CHEM   Centrifuges  2018-07-31    8    2026-07-31   2025/26  replacement £2,000, 0 years: £2,000.00
PHYS-M3   PHYS   Microscopes  2024-08-01    3*   2027-08-01   2027/28  purchase £4,000 of 2024/25, 3 years:
                                                                         400,000 x 1.03^3 = 437,090.8 -> £4,370.91
PHYS-C2   PHYS   Centrifuges  2019-01-10    8    2027-01-10   2026/27  replacement £5,000, 1 year: £5,150.00
CHEM-OLD  CHEM   Microscopes  2010-01-01   10    2020-01-01   backlog  replacement £1,500, priced for 2025/26: £1,500.00
CHEM-NEW  CHEM   Microscopes  2025-01-01   10    2035-01-01   later: not in the three years
CHEM-GONE CHEM   Microscopes  2016-06-01   10    retired: not in the forecast
CHEM-UND  CHEM   Microscopes  no purchase date: listed as undated
(* its own life)

Totals: backlog £1,500.00 (1 asset); 2025/26 £14,000.00 (2); 2026/27 £15,450.00 (2);
2027/28 £4,370.91 (1). All: £35,320.91 for 6 assets.
"""

from __future__ import annotations

import datetime as dt

import pytest

from inventory.models import AssetStatus
from planning import service
from tests.conftest import sign_in
from tests.planning.conftest import CONFIG, NOW, TODAY, asset
from tests.reports.helpers import page_tables


@pytest.fixture
def register(session, people):
    p = people

    def add(school, tag, category, bought, **fields):
        return asset(session, school, tag=tag, name=tag, category=category, purchase_date=bought, **fields)

    add(
        p.chem,
        "CHEM-M1",
        p.microscopes,
        dt.date(2016, 5, 1),
        purchase_cost_pence=1_000_000,
        replacement_cost_pence=1_200_000,
    )
    add(
        p.chem,
        "CHEM-M2",
        p.microscopes,
        dt.date(2016, 8, 1),
        purchase_cost_pence=900_000,
        replacement_cost_pence=1_000_000,
    )
    add(
        p.chem,
        "CHEM-C1",
        p.centrifuges,
        dt.date(2018, 7, 31),
        purchase_cost_pence=300_000,
        replacement_cost_pence=200_000,
    )
    add(
        p.phys,
        "PHYS-M3",
        p.microscopes,
        dt.date(2024, 8, 1),
        purchase_cost_pence=400_000,
        useful_life_years=3,
    )
    add(
        p.phys,
        "PHYS-C2",
        p.centrifuges,
        dt.date(2019, 1, 10),
        purchase_cost_pence=500_000,
        replacement_cost_pence=500_000,
    )
    add(
        p.chem,
        "CHEM-OLD",
        p.microscopes,
        dt.date(2010, 1, 1),
        purchase_cost_pence=100_000,
        replacement_cost_pence=150_000,
    )
    add(p.chem, "CHEM-NEW", p.microscopes, dt.date(2025, 1, 1), purchase_cost_pence=100_000)
    add(
        p.chem,
        "CHEM-GONE",
        p.microscopes,
        dt.date(2016, 6, 1),
        purchase_cost_pence=100_000,
        status=AssetStatus.RETIRED,
        retired_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
    )
    add(p.chem, "CHEM-UND", p.microscopes, None, purchase_cost_pence=100_000)
    return p


def plan_for(session, people, **filters):
    return service.build_plan(
        session,
        people.finance,
        school_id=filters.get("school_id"),
        category_id=filters.get("category_id"),
        years=filters.get("years", 3),
        config=CONFIG,
        today=TODAY,
        now=NOW,
    )


def test_the_yearly_totals_match_the_hand_worked_forecast(session, register):
    forecast = plan_for(session, register).forecast
    totals = {year.label: (len(year.total.assets), year.total.replacement_pence) for year in forecast.years}
    assert totals == {
        "Past end of life (before 2025/26)": (1, 150_000),
        "2025/26": (2, 1_400_000),
        "2026/27": (2, 1_545_000),
        "2027/28": (1, 437_091),
    }


def test_each_year_is_grouped_by_school_and_category(session, register):
    forecast = plan_for(session, register).forecast
    groups = {
        year.label: [(g.school_code, g.category, len(g.assets), g.replacement_pence) for g in year.groups]
        for year in forecast.financial_years
    }
    assert groups == {
        "2025/26": [("CHEM", "Centrifuges", 1, 200_000), ("CHEM", "Microscopes", 1, 1_200_000)],
        "2026/27": [("CHEM", "Microscopes", 1, 1_030_000), ("PHYS", "Centrifuges", 1, 515_000)],
        "2027/28": [("PHYS", "Microscopes", 1, 437_091)],
    }


def test_retired_later_and_undated_assets_are_kept_out_of_the_years(session, register):
    forecast = plan_for(session, register).forecast
    in_years = {item.asset.tag for item in forecast.assets}
    assert "CHEM-GONE" not in in_years and "CHEM-NEW" not in in_years and "CHEM-UND" not in in_years
    assert [item.asset.tag for item in forecast.later] == ["CHEM-NEW"]
    assert [item.asset.tag for item in forecast.undated] == ["CHEM-UND"]


def test_filters_by_school_and_category_narrow_the_totals(session, register):
    phys = plan_for(session, register, school_id=register.phys.id).forecast
    assert [year.total.replacement_pence for year in phys.years] == [0, 0, 515_000, 437_091]
    centrifuges = plan_for(session, register, category_id=register.centrifuges.id).forecast
    assert [year.total.replacement_pence for year in centrifuges.years] == [0, 200_000, 515_000, 0]


def test_the_page_shows_the_yearly_totals_in_a_table_and_an_svg_chart(client, register, on_today):
    sign_in(client, register.finance.email)
    html = client.get("/planning?years=3").get_data(as_text=True)
    totals = page_tables(html)["table-totals"]
    assert totals[0][:4] == ["Financial year", "From", "To", "Assets"]
    assert [row[0] for row in totals[1:]] == [
        "Past end of life (before 2025/26)",
        "2025/26",
        "2026/27",
        "2027/28",
        "Total",
    ]
    assert [row[4] for row in totals[1:]] == [
        "£1,500",
        "£14,000",
        "£15,450",
        "£4,371",
        "£35,321",
    ]  # to the pound
    assert totals[2][1:3] == ["2025-08-01", "2026-07-31"]
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert '<title id="chart-forecast-title">Replacement cost by financial year</title>' in html
    assert "2026/27: £15,450 for 2 assets" in html  # the chart's description, for screen readers


def test_the_scheduled_reports_summary_gives_each_years_total(session, register):
    lines = service.forecast_summary(session, register.finance, [], CONFIG, now=NOW)
    assert lines[0] == "Capital planning: replacement forecast"
    assert "  Past end of life (before 2025/26): 1 asset, £1,500" in lines  # to the pound (issue 15.10)
    assert "  2026/27: 2 assets, £15,450" in lines
    assert lines[-1].startswith("Recommendations awaiting a decision: ")
