"""Book value and end of life of assets bought on given dates, read back through the plan.

The rule (planning.lifecycle): end of life = purchase date + useful life in years (29 February
becomes 28 February in a year without one); book value = cost x (1 - days since purchase / days
in life), never below 0, rounded half up to the penny.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from planning import service
from planning.lifecycle import inflate
from tests.planning.conftest import CONFIG, NOW, TODAY, asset


def lifecycle_of(session, people, tag: str, valued_on: dt.date | None = None):
    plan = service.build_plan(
        session,
        people.finance,
        school_id=None,
        category_id=None,
        years=5,
        config=CONFIG,
        today=TODAY,
        valued_on=valued_on,
        now=NOW,
    )
    return next(item.lifecycle for item in plan.evidence.assets if item.asset.tag == tag)


def test_a_leap_day_purchase_ends_its_life_on_28_february_and_depreciates_by_the_day(session, people):
    # 29 Feb 2024 + 5 years = 28 Feb 2029: 1,826 days. On 28 Feb 2026, 730 days have passed:
    # £10,000.00 x (1 - 730 / 1826) = 600,219.06 p -> £6,002.19.
    asset(
        session,
        people.chem,
        tag="LEAP-5",
        category=people.microscopes,
        useful_life_years=5,
        purchase_date=dt.date(2024, 2, 29),
        purchase_cost_pence=1_000_000,
    )
    life = lifecycle_of(session, people, "LEAP-5", valued_on=dt.date(2026, 2, 28))
    assert life.end_of_life == dt.date(2029, 2, 28)
    assert life.end_year.label == "2028/29"
    assert life.book_value_pence == 600_219


def test_a_leap_day_purchase_keeps_29_february_when_its_last_year_is_a_leap_year(session, people):
    asset(
        session,
        people.chem,
        tag="LEAP-4",
        category=people.microscopes,
        useful_life_years=4,
        purchase_date=dt.date(2024, 2, 29),
        purchase_cost_pence=1_000_000,
    )
    assert lifecycle_of(session, people, "LEAP-4").end_of_life == dt.date(2028, 2, 29)


def test_half_a_penny_of_book_value_rounds_up(session, people):
    # £9.13 over 1,826 days; on 27 Feb 2029 one day is left: 913 / 1826 = 0.5 p -> 1 p.
    asset(
        session,
        people.chem,
        tag="HALF",
        category=people.microscopes,
        useful_life_years=5,
        purchase_date=dt.date(2024, 2, 29),
        purchase_cost_pence=913,
    )
    assert lifecycle_of(session, people, "HALF", valued_on=dt.date(2029, 2, 27)).book_value_pence == 1


def test_31_july_and_1_august_purchases_end_their_lives_in_different_financial_years(session, people):
    asset(
        session,
        people.chem,
        tag="JULY",
        category=people.centrifuges,
        useful_life_years=5,
        purchase_date=dt.date(2021, 7, 31),
        purchase_cost_pence=600_000,
    )
    asset(
        session,
        people.chem,
        tag="AUGUST",
        category=people.centrifuges,
        useful_life_years=5,
        purchase_date=dt.date(2021, 8, 1),
        purchase_cost_pence=600_000,
    )
    july, august = lifecycle_of(session, people, "JULY"), lifecycle_of(session, people, "AUGUST")
    assert (july.end_of_life, july.end_year.label) == (dt.date(2026, 7, 31), "2025/26")
    assert (august.end_of_life, august.end_year.label) == (dt.date(2026, 8, 1), "2026/27")


def test_book_value_is_nothing_from_the_end_of_life_and_a_days_worth_the_day_before(session, people):
    # 1 Aug 2021 to 1 Aug 2026 is 1,826 days; on 31 Jul 2026 one is left: 600,000 / 1826 = 328.59 p.
    asset(
        session,
        people.chem,
        tag="JULY",
        category=people.centrifuges,
        useful_life_years=5,
        purchase_date=dt.date(2021, 7, 31),
        purchase_cost_pence=600_000,
    )
    asset(
        session,
        people.chem,
        tag="AUGUST",
        category=people.centrifuges,
        useful_life_years=5,
        purchase_date=dt.date(2021, 8, 1),
        purchase_cost_pence=600_000,
    )
    on = dt.date(2026, 7, 31)
    assert lifecycle_of(session, people, "JULY", valued_on=on).book_value_pence == 0
    assert lifecycle_of(session, people, "AUGUST", valued_on=on).book_value_pence == 329
    assert lifecycle_of(session, people, "AUGUST", valued_on=dt.date(2030, 1, 1)).book_value_pence == 0


def test_book_value_is_the_full_cost_on_the_purchase_date(session, people):
    asset(
        session,
        people.chem,
        tag="NEW",
        category=people.centrifuges,
        purchase_date=dt.date(2025, 9, 1),
        purchase_cost_pence=123_456,
    )
    assert lifecycle_of(session, people, "NEW", valued_on=dt.date(2025, 9, 1)).book_value_pence == 123_456


def test_the_useful_life_is_the_assets_own_else_its_categorys_else_the_default(session, people):
    asset(
        session,
        people.chem,
        tag="OWN",
        category=people.centrifuges,
        useful_life_years=3,
        purchase_date=dt.date(2020, 1, 15),
    )
    asset(
        session, people.chem, tag="CATEGORY", category=people.centrifuges, purchase_date=dt.date(2020, 1, 15)
    )
    asset(session, people.chem, tag="DEFAULT", category=people.printers, purchase_date=dt.date(2020, 1, 15))
    assert lifecycle_of(session, people, "OWN").end_of_life == dt.date(2023, 1, 15)
    assert lifecycle_of(session, people, "CATEGORY").end_of_life == dt.date(2028, 1, 15)
    assert lifecycle_of(session, people, "DEFAULT").end_of_life == dt.date(2030, 1, 15)


def test_inflation_compounds_yearly_and_rounds_half_a_penny_up():
    assert inflate(150, Decimal("0.03"), 1) == 155  # 154.5 p: half up, not to even
    assert inflate(400_000, Decimal("0.03"), 3) == 437_091  # 400,000 x 1.092727 = 437,090.8


def test_the_page_shows_book_values_on_the_date_asked_for(client, session, people, on_today):
    from tests.conftest import sign_in
    from tests.reports.helpers import page_tables

    asset(
        session,
        people.chem,
        tag="AUGUST",
        category=people.centrifuges,
        useful_life_years=5,
        purchase_date=dt.date(2021, 8, 1),
        purchase_cost_pence=600_000,
    )
    sign_in(client, people.finance.email)
    rows = page_tables(client.get("/planning?on=2026-07-31").get_data(as_text=True))["table-assets"]
    headings, august = rows[0], rows[1]
    assert august[headings.index("Book value on 2026-07-31")] == "£3"  # the page, to the pound
    from tests.reports.helpers import csv_sections

    files = csv_sections(client.get("/planning.csv?on=2026-07-31").get_data(as_text=True))["Assets"]
    assert files[1][files[0].index("Book value on 2026-07-31 (£)")] == "3.29"  # the download, to the penny
    assert august[headings.index("End of life")] == "2026-08-01"
