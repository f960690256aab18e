"""Issue 15, point 10: money on pages and charts to the pound, hours to one decimal; the
downloads keep pence and two-decimal hours.

The hand-built week (tests/reports/conftest.py), with two changes:

* the Confocal's rate is £33.33 an hour: 7 h booked -> 23,331 p = £233.31, "£233" on the page;
* the Balance (BIO, £5.00 an hour) is booked Thu 22 Oct 10:00-11:20: 1 h 20 min = 1.333... h,
  "1.33" in the files and "1.3" on the page; 1.333 h x 500 p = 666.67 p -> 667 p = £6.67, "£7".

Cost recovery in all: 23,331 + 47,500 (the Plotter) + 667 = 71,498 p = £714.98, "£715".
"""

from __future__ import annotations

import pytest
import time_machine

from bookings.models import BookingStatus
from core.money import format_hours, format_short_pounds, format_whole_pounds
from tests.conftest import sign_in
from tests.factories import make_booking
from tests.reports.conftest import AFTER, bst
from tests.reports.helpers import csv_sections, page_tables, xlsx_sheets

WEEK = "from=2026-10-19&to=2026-10-25"


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


@pytest.fixture
def priced_week(session, week):
    week.confocal.hourly_rate_pence = 3333
    make_booking(session, week.balance, week.biologist, bst(22, 10), 4 / 3, BookingStatus.COMPLETED)
    session.commit()
    return week


def test_the_helpers_round_money_to_the_pound_and_hours_to_one_decimal():
    assert format_whole_pounds(155_848_215) == "£1,558,482"
    assert format_whole_pounds(155_848_250) == "£1,558,483"  # half a pound up
    assert format_whole_pounds(49) == "£0"
    assert format_short_pounds(155_848_215) == "£1.56m"
    assert format_short_pounds(1_200_000) == "£12k"
    assert format_short_pounds(95_000) == "£950"
    assert format_short_pounds(99_960_000) == "£1.00m"  # not "£1000k"
    assert format_hours(1234.56) == "1,234.6"
    assert format_hours(0.05) == "0.1"


def test_the_summary_and_tables_show_pounds_and_one_decimal(client, priced_week, finance):
    sign_in(client, finance.email)
    html = client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True)
    summary = html[html.index('id="summary-title"') : html.index('id="top-idle-title"')]
    assert "£715" in summary and "£714.98" not in summary
    tables = page_tables(html)
    assets = {row[0]: row for row in tables["table-assets"]}
    headings = tables["table-assets"][0]
    assert assets["CHEM-A"][headings.index("Cost recovery")] == "£233"
    assert assets["CHEM-A"][headings.index("Hourly rate")] == "£33.33"  # a rate keeps its pence
    assert assets["BIO-D"][headings.index("Booked hours")] == "1.3"
    assert assets["BIO-D"][headings.index("Cost recovery")] == "£7"
    schools = {row[0]: row for row in tables["table-schools"]}
    assert schools["All"][tables["table-schools"][0].index("Cost recovery")] == "£715"


def test_the_downloads_keep_pence_and_two_decimal_hours(client, priced_week, finance):
    sign_in(client, finance.email)
    sections = csv_sections(client.get(f"/reports/utilisation.csv?{WEEK}").get_data(as_text=True))
    assets = {row[0]: row for row in sections["By asset"]}
    headings = sections["By asset"][0]
    assert assets["CHEM-A"][headings.index("Cost recovery (£)")] == "233.31"
    assert assets["BIO-D"][headings.index("Booked hours")] == "1.33"
    assert assets["BIO-D"][headings.index("Cost recovery (£)")] == "6.67"
    assert dict((row[0], row[1]) for row in sections["Summary"])["Cost recovery (£)"] == "714.98"
    sheet = xlsx_sheets(client.get(f"/reports/utilisation.xlsx?{WEEK}").data)["By asset"]
    row = next(row for row in sheet if row[0] == "BIO-D")
    assert row[sheet[0].index("Booked hours")] == 1.33
    assert float(row[sheet[0].index("Cost recovery")]) == 6.67
    api = client.get(f"/reports/utilisation.json?{WEEK}").get_json()
    assert api["totals"]["cost_recovery_pence"] == 71_498


def test_charts_label_money_short(client, session, finance):
    from planning.charts import replacement_by_year
    from planning.forecast import Forecast

    class Year:
        def __init__(self, label, pence):
            self.label, self.year = label, object()
            self.total = type("Total", (), {"replacement_pence": pence, "assets": [1, 2]})()

    forecast = Forecast.__new__(Forecast)
    object.__setattr__(forecast, "years", [Year("2026/27", 155_848_215), Year("2027/28", 1_200_000)])
    svg = str(replacement_by_year(forecast))
    assert ">£1.56m<" in svg and ">£12k<" in svg
    assert "2026/27: £1,558,482 for 2 assets" in svg  # the description, to the pound
