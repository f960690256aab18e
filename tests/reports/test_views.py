"""The report page, its CSV and XLSX downloads, stored copies, and who may see what."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import func, select

from accounts.models import Role
from bookings.models import BookingStatus
from reports.models import ReportSnapshot
from tests.conftest import see_committed, sign_in
from tests.factories import make_booking, make_user
from tests.reports.conftest import AFTER, bst
from tests.reports.helpers import (
    csv_sections,
    page_tables,
    to_one_decimal,
    to_the_pound,
    xlsx_formats,
    xlsx_sheets,
)

WEEK = "from=2026-10-19&to=2026-10-25"


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


def as_finance(client, finance):
    sign_in(client, finance.email)
    return client


def number(text: str) -> float:
    return float(text.replace("£", "").replace(",", "").replace("%", ""))


def test_finance_sees_every_school_with_hour_weighted_rollups(client, week, finance):
    page = as_finance(client, finance).get(f"/reports/utilisation?{WEEK}")
    assert page.status_code == 200
    rows = {row[0]: row for row in page_tables(page.get_data(as_text=True))["table-schools"]}
    assert set(rows) == {"School", "BIO", "CHEM", "PHYS", "All"}
    assert rows["CHEM"][3:6] == ["207.0", "45.0", "21.7%"]  # 45 / 207, not the mean of 18.4 % and 22.5 %
    assert rows["All"][3:6] == ["255.0", "47.0", "18.4%"]


def test_long_per_asset_tables_are_paged_on_the_page_but_not_in_the_downloads(
    client, week, finance, monkeypatch
):
    import reports.paging

    as_finance(client, finance)
    full = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))["table-assets"]
    assert len(full) - 1 > 2  # a heading and more than two assets
    monkeypatch.setattr(reports.paging, "PER_PAGE", 2)
    html = client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True)
    assert page_tables(html)["table-assets"] == full[:3]  # the heading and the first two, in order
    assert f"Assets 1–2 of {len(full) - 1}" in html
    second = client.get(f"/reports/utilisation?{WEEK}&assets_page=2").get_data(as_text=True)
    assert page_tables(second)["table-assets"] == [full[0], *full[3:5]]
    csv_assets = csv_sections(client.get(f"/reports/utilisation.csv?{WEEK}").get_data(as_text=True))[
        "By asset"
    ]
    assert len(csv_assets) == len(full)


def test_the_page_states_the_definitions_in_words(client, week, finance):
    html = as_finance(client, finance).get(f"/reports/utilisation?{WEEK}").get_data(as_text=True)
    assert "What the figures mean" in html
    assert "less its maintenance windows" in html
    assert "weighted by hours, never an average of percentages" in html
    assert "less than 24 working hours (Monday to Friday" in html


def test_charts_are_svg_images_with_their_numbers_also_in_tables(client, week, finance):
    html = as_finance(client, finance).get(f"/reports/utilisation?{WEEK}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    assert '<title id="chart-schools-title">Utilisation by School</title>' in html
    assert "CHEM: 21.7%" in html  # the chart's description, for screen readers
    assert '<title id="chart-trend-title">Utilisation month by month</title>' in html
    trend = page_tables(html)["table-trend"]
    assert ["Oct 2026", "All", "255.0", "47.0", "18.4%"] in trend


def test_page_csv_and_xlsx_show_the_same_figures(client, week, finance):
    as_finance(client, finance)
    page = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))
    csv_response = client.get(f"/reports/utilisation.csv?{WEEK}")
    xlsx_response = client.get(f"/reports/utilisation.xlsx?{WEEK}")
    assert csv_response.mimetype == "text/csv"
    assert xlsx_response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sections = csv_sections(csv_response.get_data(as_text=True))
    sheets = xlsx_sheets(xlsx_response.data)
    for key, title in (
        ("schools", "By School"),
        ("categories", "By category"),
        ("assets", "By asset"),
        ("sharing", "Sharing matrix"),
        ("trend", "Month by month"),
    ):
        page_rows, csv_rows, xlsx_rows = page[f"table-{key}"], sections[title], sheets[title]
        assert len(page_rows) == len(csv_rows) == len(xlsx_rows) > 1, title
        headings = csv_rows[0]
        for page_row, csv_row, xlsx_row in zip(page_rows[1:], csv_rows[1:], xlsx_rows[1:]):
            for heading, shown, plain, stored in zip(headings, page_row, csv_row, xlsx_row):
                # The page rounds (money to the pound, hours to one decimal); the files keep it all.
                if heading.endswith("(%)"):
                    if shown in ("–", "Not recorded"):
                        assert plain == "" and stored is None
                    else:
                        assert number(shown.split(" (")[0]) == float(plain) == round(stored * 100, 1), (
                            title,
                            heading,
                        )
                elif heading.endswith("(£)"):
                    assert float(plain) == pytest.approx(float(stored)), (title, heading)
                    assert shown in (to_the_pound(plain), f"£{float(plain):,.2f}"), (
                        title,
                        heading,
                    )  # rates in pence
                elif (
                    isinstance(stored, float)
                    or ("hours" in heading.lower() and not heading.startswith("Bookings"))
                    or heading in {b for b in ("BIO", "CHEM", "PHYS")}
                ):
                    assert float(plain) == pytest.approx(float(stored)), (title, heading)
                    assert shown == to_one_decimal(plain), (title, heading)
                elif isinstance(stored, int):
                    assert number(shown) == float(plain) == stored, (title, heading)
                else:
                    assert shown == plain == (stored or ""), (title, heading)


def test_xlsx_cells_are_numbers_with_hour_percentage_and_money_formats(client, week, finance):
    data = as_finance(client, finance).get(f"/reports/utilisation.xlsx?{WEEK}").data
    sheet = xlsx_sheets(data)["By asset"]
    formats = xlsx_formats(data, "By asset")
    headings = sheet[0]
    confocal = next(row for row in sheet if row[0] == "CHEM-A")
    confocal_formats = formats[sheet.index(confocal)]
    column = {heading: index for index, heading in enumerate(headings)}
    assert confocal[column["Booked hours"]] == 7
    assert confocal_formats[column["Booked hours"]] == "#,##0.00"
    assert confocal[column["Utilisation"]] == pytest.approx(7 / 38)
    assert confocal_formats[column["Utilisation"]] == "0.0%"
    assert confocal[column["Cost recovery"]] == 210
    assert confocal_formats[column["Cost recovery"]] == '"£"#,##0.00'
    assert set(xlsx_sheets(data)) >= {
        "Summary",
        "By School",
        "By category",
        "By asset",
        "Sharing matrix",
        "Unmet demand by reason",
        "Idle assets",
        "Saturated assets",
        "Month by month",
    }


def test_text_that_a_spreadsheet_would_run_is_neutralised(client, session, week, finance):
    week.balance.name = '=HYPERLINK("http://evil")'
    session.commit()
    as_finance(client, finance)
    csv_text = client.get(f"/reports/utilisation.csv?{WEEK}").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text
    sheet = xlsx_sheets(client.get(f"/reports/utilisation.xlsx?{WEEK}").data)["By asset"]
    assert any(row[1] == '\'=HYPERLINK("http://evil")' for row in sheet)


def test_a_manager_sees_only_the_schools_they_manage(client, session, week):
    manager = make_user(session, week.phys, Role.MANAGER)
    sign_in(client, manager.email)
    rows = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))["table-schools"]
    assert [row[0] for row in rows] == ["School", "PHYS", "All"]
    other = f"{WEEK}&school={week.chem.id}"
    assert client.get(f"/reports/utilisation?{other}").status_code == 403
    assert client.get(f"/reports/utilisation.csv?{other}").status_code == 403
    assert client.get(f"/reports/utilisation.xlsx?{other}").status_code == 403


def test_a_technician_cannot_see_reports(client, session, week):
    sign_in(client, week.chemist.email)
    assert client.get(f"/reports/utilisation?{WEEK}").status_code == 403
    assert client.get(f"/reports/utilisation.csv?{WEEK}").status_code == 403
    assert client.get("/reports/subscriptions").status_code == 403


def test_a_bad_period_gets_a_clear_message_not_an_error(client, week, finance):
    as_finance(client, finance)
    backwards = client.get("/reports/utilisation?from=2026-10-25&to=2026-10-19")
    assert backwards.status_code == 400
    assert "The last day must be on or after the first day." in backwards.get_data(as_text=True)
    garbled = client.get("/reports/utilisation?from=2026-10-19&to=soon")
    assert garbled.status_code == 400
    assert "Enter a date such as 2026-09-01." in garbled.get_data(as_text=True)
    download = client.get("/reports/utilisation.csv?from=2026-10-25&to=2026-10-19")
    assert download.status_code == 400
    assert "on or after the first day" in download.get_data(as_text=True)


def test_the_page_opens_on_last_month_with_quick_links(client, week, finance):
    html = as_finance(client, finance).get("/reports/utilisation").get_data(as_text=True)
    assert 'value="2026-10-01"' in html and 'value="2026-10-31"' in html  # it is 2 November
    assert "from=2026-08-01&amp;to=2026-11-02" in html  # this academic year so far
    assert "from=2026-07-01&amp;to=2026-09-30" in html  # last quarter


def test_a_kept_copy_shows_the_figures_as_they_were(client, session, week, finance):
    as_finance(client, finance)
    kept = client.post(f"/reports/utilisation/snapshot?{WEEK}")
    assert kept.status_code == 302
    see_committed(session)
    snapshot = session.scalar(select(ReportSnapshot))
    assert kept.headers["Location"].endswith(f"/reports/snapshots/{snapshot.id}")
    make_booking(session, week.balance, week.chemist, bst(23, 9), hours=8, status=BookingStatus.COMPLETED)
    stored = page_tables(client.get(f"/reports/snapshots/{snapshot.id}").get_data(as_text=True))[
        "table-schools"
    ]
    live = page_tables(client.get(f"/reports/utilisation?{WEEK}").get_data(as_text=True))["table-schools"]
    assert stored[-1][3:6] == ["255.0", "47.0", "18.4%"]
    assert live[-1][3:6] == ["255.0", "55.0", "21.6%"]
    workbook = xlsx_sheets(client.get(f"/reports/snapshots/{snapshot.id}.xlsx").data)
    assert workbook["By School"][-1][4] == 47


def test_a_copy_of_every_schools_report_is_for_finance_and_admins_only(client, session, week, finance):
    as_finance(client, finance).post(f"/reports/utilisation/snapshot?{WEEK}")
    see_committed(session)
    snapshot_id = session.scalar(select(func.max(ReportSnapshot.id)))
    manager = make_user(session, week.chem, Role.MANAGER)
    client.post("/sign-out")
    sign_in(client, manager.email)
    assert client.get(f"/reports/snapshots/{snapshot_id}").status_code == 403
    assert client.get(f"/reports/snapshots/{snapshot_id}.xlsx").status_code == 403
    assert client.get("/reports/snapshots/999999").status_code == 404


def test_json_figures_match_the_page(client, week, finance):
    figures = as_finance(client, finance).get(f"/reports/utilisation.json?{WEEK}").get_json()
    assert figures["period"] == {"from": "2026-10-19", "to": "2026-10-25"}
    assert figures["totals"]["booked_hours"] == 47.0
    assert figures["totals"]["utilisation"] == pytest.approx(47 / 255)
    chem = next(s for s in figures["schools"] if s["code"] == "CHEM")
    assert chem["cost_recovery_pence"] == 68500
    assert [a["tag"] for a in figures["idle"]] == ["BIO-D", "PHYS-C"]
    assert dt.date.fromisoformat(figures["period"]["to"]) == dt.date(2026, 10, 25)


def test_a_report_with_no_assets_still_renders(client, session, finance):
    from tests.factories import make_school

    make_school(session, "EMPTY")
    response = as_finance(client, finance).get(f"/reports/utilisation?{WEEK}")
    assert response.status_code == 200
    assert "no hours available" in response.get_data(as_text=True)
    assert client.get(f"/reports/utilisation.xlsx?{WEEK}").status_code == 200


def test_an_unknown_school_is_a_clear_400(client, week, finance):
    response = as_finance(client, finance).get(f"/reports/utilisation?{WEEK}&school=999999")
    assert response.status_code == 400
    assert "There is no such School." in response.get_data(as_text=True)
