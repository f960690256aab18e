"""More journeys in a real browser: a spreadsheet import fixed from its error list, the utilisation
report downloaded as a workbook, and the personal calendar feed read by a calendar program."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import icalendar
import openpyxl
from playwright.sync_api import expect

from accounts.models import Role
from inventory.models import Category
from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot, serious_accessibility_violations, sign_in_as
from tests.factories import make_asset, make_booking, make_school, make_user

HEADER = "Tag,Name,Category,Purchase cost (GBP)\n"
GOOD_ROW = "IMP-001,Confocal microscope Zeiss LSM 980,Microscopy,125000.00\n"


def test_a_manager_imports_a_spreadsheet_and_fixes_a_bad_row_from_the_error_list(
    new_page, app, session, tmp_path, monkeypatch
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))  # uploads out of the checkout
    school = make_school(session, "BIO", "School of Biology")
    session.add(Category(name="Microscopy"))
    session.commit()
    manager = make_user(session, school, Role.MANAGER, manages=[school], name="Mia Manager")
    sheet = tmp_path / "register.csv"
    sheet.write_text(HEADER + GOOD_ROW + "IMP-002,Spin coater,Microscopy,twelve pounds\n", encoding="utf-8")

    page = new_page()
    sign_in_as(page, manager.email, PASSWORD)
    page.goto(f"/schools/{school.id}/import")
    screenshot(page, "import")
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="1 problem found: nothing has been imported")).to_be_visible()
    problem = page.locator("table tbody tr").first.locator("td")
    assert problem.nth(0).inner_text() == "3"
    assert problem.nth(1).inner_text() == "Purchase cost (GBP)"
    screenshot(page, "import-problems")

    sheet.write_text(HEADER + GOOD_ROW + "IMP-002,Spin coater,Microscopy,12.50\n", encoding="utf-8")
    page.get_by_role("link", name="Upload another file").click()
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("The file has no problems. Nothing has been saved yet.")).to_be_visible()
    screenshot(page, "import-preview")
    assert serious_accessibility_violations(page) == []
    page.get_by_role("button", name="Import 2 rows").click()
    # The import is a job of the scheduler: its page waits for it, then shows the outcome.
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    with app.app_context():
        from core.db import db
        from scheduler import run_imports

        run_imports()
        db.session.remove()
    expect(page.get_by_text("Imported register.csv: 2 added, 0 updated, 0 unchanged")).to_be_visible()

    page.goto("/catalogue?q=confocal")
    expect(page.get_by_role("link", name="Confocal microscope Zeiss LSM 980")).to_have_count(1)


def test_the_import_pages_work_on_a_phone_without_serious_accessibility_violations(
    new_page, app, session, tmp_path, monkeypatch
):
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))  # uploads out of the checkout
    school = make_school(session, "BIO", "School of Biology")
    session.add(Category(name="Microscopy"))
    session.commit()
    manager = make_user(session, school, Role.MANAGER, manages=[school])
    sheet = tmp_path / "register.csv"
    sheet.write_text(HEADER + GOOD_ROW, encoding="utf-8")

    page = new_page("phone")
    sign_in_as(page, manager.email, PASSWORD)
    page.goto(f"/schools/{school.id}/import")
    screenshot(page, "import")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("button", name="Import 1 row")).to_be_visible()
    screenshot(page, "import-preview")
    assert serious_accessibility_violations(page) == []


def test_finance_changes_the_report_period_and_downloads_the_workbook(new_page, session, tmp_path):
    school = make_school(session, "ENG", "School of Engineering")
    finance = make_user(session, school, Role.FINANCE, name="Fin Ance")

    for viewport in ("desktop", "phone"):
        page = new_page(viewport)
        sign_in_as(page, finance.email, PASSWORD)
        page.goto("/reports/utilisation")
        page.get_by_text("Another period or other Schools").click()  # the form is folded once a report shows
        page.get_by_label("From", exact=True).fill("2026-10-01")
        page.get_by_label("To (included)").fill("2026-10-31")
        page.get_by_role("button", name="Show report").click()
        page.wait_for_url("**/reports/utilisation?*from=2026-10-01*")
        query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
        assert query["from"] == ["2026-10-01"] and query["to"] == ["2026-10-31"]
        screenshot(page, "utilisation-october")
        assert serious_accessibility_violations(page) == []

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX), one sheet per table").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.suffix == ".xlsx"
    workbook = openpyxl.load_workbook(saved, read_only=True)
    assert workbook.sheetnames
    cells = " ".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    assert "Utilisation, 1–31 Oct 2026" in cells  # the workbook is for the period picked


def test_the_technician_reads_their_booking_from_the_calendar_feed_on_their_profile(new_page, session):
    school = make_school(session, "GEO", "School of Geosciences")
    technician = make_user(session, school, name="Tess Technician")
    asset = make_asset(session, school, name="Field spectrometer ASD FieldSpec 4")
    booking = make_booking(session, asset, technician, dt.datetime(2030, 1, 8, 10, tzinfo=dt.UTC), hours=2)

    page = new_page()
    sign_in_as(page, technician.email, PASSWORD)
    page.goto("/profile")
    screenshot(page, "profile")
    feed_url = page.locator("code.token").first.inner_text().strip()
    assert feed_url.endswith(".ics")
    response = page.context.request.get(urllib.parse.urlparse(feed_url).path)  # the feed needs no cookie
    assert response.status == 200

    calendar = icalendar.Calendar.from_ical(response.body())
    events = [event for event in calendar.walk("VEVENT")]
    starts = [event.decoded("DTSTART") for event in events]
    assert booking.start_at in starts
    assert any("Field spectrometer ASD FieldSpec 4" in str(event.get("SUMMARY")) for event in events)
