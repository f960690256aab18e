"""Issue 15, point 5 (display): actual utilisation is shown beside what it covers.

Only assets that record use (check-in, or hand-over for loans) have actual hours. On the hand-built
week (tests/reports/conftest.py) two of the four assets in the report record use, both CHEM's:

    Confocal (needs check-in)  actual 5.75 h of 38 h available
    Plotter (lent out)         actual 36 h of 169 h available
    together                   41.75 of 207 h = 20.169...% -> "20.2%", "41.8 of 207.0"

PHYS's and BIO's assets record nothing: their actual utilisation is "Not recorded", never "–" or
"0.0%", and a report of PHYS alone says in its summary that no asset records use.
"""

from __future__ import annotations

import pytest
import time_machine

from tests.conftest import sign_in
from tests.reports.conftest import AFTER
from tests.reports.helpers import csv_sections, page_tables

WEEK = "from=2026-10-19&to=2026-10-25"


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


def test_the_summary_gives_actual_utilisation_with_its_coverage(client, week, finance):
    sign_in(client, finance.email)
    html = client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True)
    summary = html[html.index('id="summary-title"') : html.index('id="top-idle-title"')]
    assert "Actual utilisation" in summary
    assert "20.2%" in summary
    assert "2 assets that record use: 41.8 of 207.0 available hours" in summary


def test_each_school_row_gives_its_coverage_and_says_when_nothing_is_recorded(client, week, finance):
    sign_in(client, finance.email)
    rows = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))["table-schools"]
    column = rows[0].index("Actual utilisation")
    actual = {row[0]: row[column] for row in rows[1:]}
    assert actual == {
        "BIO": "Not recorded",
        "CHEM": "20.2% (2 assets: 41.8 of 207.0 h)",
        "PHYS": "Not recorded",
        "All": "20.2% (2 assets: 41.8 of 207.0 h)",
    }
    assets = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))["table-assets"]
    column = assets[0].index("Actual utilisation")
    by_tag = {row[0]: row[column] for row in assets[1:]}
    assert by_tag["CHEM-A"] == "15.1% (1 asset: 5.8 of 38.0 h)"  # 5.75 / 38
    assert by_tag["PHYS-C"] == "Not recorded"


def test_a_report_where_no_asset_records_use_says_so(client, week, finance):
    sign_in(client, finance.email)
    html = client.get(f"/reports/utilisation?{WEEK}&school={week.phys.id}").get_data(as_text=True)
    summary = html[html.index('id="summary-title"') : html.index('id="top-idle-title"')]
    assert "No asset in these figures records use (check-in or hand-over)" in summary
    assert "0.0%" not in summary.split("Actual utilisation", 1)[1].split("Unmet demand", 1)[0]


def test_the_downloads_keep_the_plain_ratio(client, week, finance):
    sign_in(client, finance.email)
    sections = csv_sections(client.get(f"/reports/utilisation.csv?{WEEK}").get_data(as_text=True))
    schools = sections["By School"]
    column = schools[0].index("Actual utilisation (%)")
    assert {row[0]: row[column] for row in schools[1:]} == {
        "BIO": "",
        "CHEM": "20.2",
        "PHYS": "",
        "All": "20.2",
    }
