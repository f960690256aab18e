"""Issue 15, point 8: the report page leads with a summary, then its tables folded or paged.

On the hand-built week (Mon 19 to Sun 25 October 2026, tests/reports/conftest.py):

* this week: 255 h available, 47 h booked, 18.4% utilisation.
* the week before (12 to 18 October, the period of the same length before): Confocal 5 x 8 = 40 h,
  Plotter 7 x 24 = 168 h, Old centrifuge 5 x 8 = 40 h (retired only on the 22nd), Balance not yet
  bought: 248 h available. Booked: only the Plotter's loan, from Sat 17 12:00 to the end of Sunday
  18: 36 h. Utilisation 36 / 248 = 14.5%; the change is 18.43 - 14.52 = +3.9 points.
  Booked +11.0 h (47 - 36), available +7.0 h (255 - 248).
* idle (under 10%): Balance 0.0%, Old centrifuge 8.3%, least used first.
"""

from __future__ import annotations

import re

import pytest
import time_machine

import reports.paging
from tests.conftest import sign_in
from tests.reports.conftest import AFTER
from tests.reports.helpers import csv_sections, page_tables

WEEK = "from=2026-10-19&to=2026-10-25"


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


def _page(client, finance, query: str = WEEK) -> str:
    sign_in(client, finance.email)
    response = client.get(f"/reports/utilisation?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def test_the_summary_comes_before_every_table(client, week, finance):
    html = _page(client, finance)
    summary = html.index('id="summary-title"')
    assert summary < html.index('id="top-idle-title"') < html.index('id="table-schools"')
    assert summary < html.index('id="table-assets"')


def test_the_headlines_give_the_change_on_the_week_before(client, week, finance):
    html = _page(client, finance)
    summary = _text(html[html.index('id="summary-title"') : html.index('id="top-idle-title"')])
    assert "19–25 Oct 2026: All Schools" in summary
    assert "Utilisation 18.4% booked of available hours +3.9 points on 12–18 Oct 2026" in summary
    assert "Booked hours 47.0 +11.0 h on 12–18 Oct 2026" in summary
    assert "Available hours 255.0 4 assets +7.0 h on 12–18 Oct 2026" in summary
    assert "Unmet demand 5.0 h 2 requests refused or rejected" in summary
    assert "Cost recovery £685" in summary  # 21,000 p + 47,500 p, to the pound


def test_the_previous_period_of_a_whole_month_is_the_month_before(client, week, finance):
    html = _page(client, finance, "from=2026-11-01&to=2026-11-30")
    assert "on 1–31 Oct 2026" in html  # 31 days before a 30-day November: still "the month before"


def test_the_most_idle_assets_are_named_with_why(client, week, finance):
    html = _page(client, finance)
    idle = _text(html[html.index('id="top-idle-title"') : html.index('id="top-saturated-title"')])
    assert idle.index("Balance (BIO-D, BIO): 0.0%") < idle.index("Old centrifuge (PHYS-C, PHYS): 8.3%")
    assert idle.count("booked (under 10.0%)") == 2
    assert "All 2 idle assets" in idle


def test_the_most_saturated_are_the_reports_own_first_five_with_why(client, week, finance):
    html = _page(client, finance)
    figures = client.get(f"/reports/utilisation.json?{WEEK}").get_json()
    saturated = _text(html[html.index('id="top-saturated-title"') : html.index('id="definitions"')])
    for asset in figures["saturated"][:5]:
        assert asset["name"] in saturated and asset["why"] in saturated
    if not figures["saturated"]:
        assert "No asset was saturated in this period." in saturated


def test_the_tables_are_folded_under_headings_with_their_counts(client, week, finance):
    html = _page(client, finance)
    for key, title, count in (
        ("assets", "By asset", "4"),
        ("idle", "Idle assets", "2"),
        ("categories", "By category", "3 categories"),
    ):
        fold = re.search(
            rf'<details class="fold" id="{key}"( open)?>\s*<summary><h2[^>]*>{title} '
            rf'<span class="count">\({count}\)</span>',
            html,
        )
        assert fold, key
        assert fold.group(1) is None  # folded until opened (plain <details>: no JavaScript needed)


def test_the_assets_table_is_paged_with_links_that_keep_the_query(client, week, finance, monkeypatch):
    monkeypatch.setattr(reports.paging, "PER_PAGE", 3)
    query = f"{WEEK}&school={week.chem.id}&school={week.phys.id}&school={week.bio.id}"
    first = _page(client, finance, query)
    assert [row[0] for row in page_tables(first)["table-assets"]] == ["Tag", "BIO-D", "CHEM-A", "CHEM-B"]
    assert "Assets 1–3 of 4" in first
    link = f"from=2026-10-19&amp;to=2026-10-25&amp;school={week.chem.id}&amp;school={week.phys.id}&amp;school={week.bio.id}&amp;assets_page=2#assets"
    assert link in first
    second = client.get(f"/reports/utilisation?{query}&assets_page=2").get_data(as_text=True)
    assert [row[0] for row in page_tables(second)["table-assets"]] == ["Tag", "PHYS-C"]
    assert '<details class="fold" id="assets" open>' in second  # the page asked for is shown open
    assert "Assets 4–4 of 4" in second


def test_the_downloads_keep_every_row(client, week, finance, monkeypatch):
    monkeypatch.setattr(reports.paging, "PER_PAGE", 1)
    sign_in(client, finance.email)
    sections = csv_sections(client.get(f"/reports/utilisation.csv?{WEEK}").get_data(as_text=True))
    assert [row[0] for row in sections["By asset"]] == ["Tag", "BIO-D", "CHEM-A", "CHEM-B", "PHYS-C"]


def test_the_headlines_compare_with_the_same_figures_as_the_whole_previous_report(session, week):
    """The page builds only what the headlines read of the period before (``headline_json``):
    they come out as from that period's whole report."""
    import datetime as dt

    from reports.figures import utilisation_report
    from reports.figures_json import headline_json, report_to_json
    from reports.summary import headline_figures

    current = report_to_json(utilisation_report(session, dt.date(2026, 10, 19), dt.date(2026, 10, 25), None))
    before = utilisation_report(session, dt.date(2026, 10, 12), dt.date(2026, 10, 18), None)
    whole = headline_figures(current, report_to_json(before))
    assert headline_figures(current, headline_json(before)) == whole
    assert any("+3.9 points" in headline.change for headline in whole)
