"""Issue 14, point 1: importing new assets works on a served app.

Chemistry's manager uploads a small spreadsheet of new kit (one row in a building and room the
School has not registered yet), checks the preview, confirms, and follows the import until it says
what it added; the new assets are on the register. Before, the confirmation always answered
"Nothing was imported: something went wrong" (the streamed import ran outside the request's
session: "Can't attach instance <Location>").
"""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from inventory.models import Asset, ImportJob, ImportState, Location
from tests.e2e.conftest import serious_accessibility_violations
from tests.stories.imports import _uploads_in_tmp, chemistry, run_the_schedulers_import_job  # noqa: F401  (a fixture)


def test_a_manager_imports_new_assets_and_finds_them_on_the_register(demo, tmp_path):
    school = chemistry(demo)
    sheet = tmp_path / "new-kit.csv"
    sheet.write_text(
        "Tag,Name,Building,Room\n"
        "CHEM-NEW-001,Rotary evaporator Buchi R-300,Dalton,B.17\n"
        "CHEM-NEW-002,Glovebox MBraun LABstar,,\n",
        encoding="utf-8",
    )
    page = demo.page(sign_in="manager.chem")
    page.goto(f"/schools/{school.id}/import")
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("The file has no problems. Nothing has been saved yet.")).to_be_visible()
    expect(page.get_by_text("Will add the location Dalton, B.17 (Main campus)")).to_be_visible()

    page.get_by_role("button", name="Import 2 rows").click()
    page.wait_for_url(f"**/schools/{school.id}/import/jobs/*")
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    assert serious_accessibility_violations(page) == []

    run_the_schedulers_import_job(demo.app)
    # The page follows the job by itself and shows the outcome once the import has finished.
    outcome = page.get_by_role("status").filter(has_text="Imported new-kit.csv")
    expect(outcome).to_have_text(
        "Imported new-kit.csv: 2 added, 0 updated, 0 unchanged; 1 new location. See School of Chemistry's register"
    )
    assert serious_accessibility_violations(page) == []
    outcome.get_by_role("link", name="See School of Chemistry's register").click()
    page.wait_for_url(f"**/register?school={school.id}")
    page.goto(f"/register?school={school.id}&q=CHEM-NEW")  # the register has 30-odd pages of kit
    expect(page.get_by_role("link", name="Rotary evaporator Buchi R-300")).to_be_visible()
    expect(page.get_by_role("link", name="Glovebox MBraun LABstar")).to_be_visible()

    with demo.session() as session:
        evaporator = session.scalars(select(Asset).where(Asset.tag == "CHEM-NEW-001")).one()
        assert evaporator.school_id == school.id
        location = session.get(Location, evaporator.location_id)
        assert (location.building, location.room, location.school_id) == ("Dalton", "B.17", school.id)
        job = session.scalars(select(ImportJob)).one()
        assert (job.state, job.rows_done, job.rows_total, job.content) == (ImportState.DONE, 2, 2, None)


def test_the_progress_page_updates_itself_without_javascript(demo, tmp_path, browser):
    school = chemistry(demo)
    sheet = tmp_path / "two.csv"
    sheet.write_text("Tag,Name\nCHEM-NEW-101,Balance\nCHEM-NEW-102,Hotplate stirrer\n", encoding="utf-8")
    context = browser.new_context(base_url=demo.url, java_script_enabled=False, locale="en-GB")
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(demo.email("manager.chem"))
        page.get_by_label("Password").fill(demo.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/")
        page.goto(f"/schools/{school.id}/import")
        page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
        page.get_by_role("button", name="Check the file").click()
        page.get_by_role("button", name="Import 2 rows").click()
        expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
        run_the_schedulers_import_job(demo.app)
        expect(page.get_by_text("Imported two.csv: 2 added")).to_be_visible()
    finally:
        context.close()
