"""Issue 14, point 2: big imports run as a background job with progress the page follows.

The documented limit is 20,000 rows. Confirming such a file answers at once with the job's
progress page (before anything is imported); the scheduler's job imports the file in one
transaction while the page shows how far it has got, and ends with the outcome and a link to the
register. A job that fails imports nothing and says why; two schedulers never run one job twice;
an upload previewed but never confirmed is removed by the scheduler.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from inventory.models import Asset, ImportJob, ImportState, Location, School
from inventory.transfer.columns import MAX_ROWS
from inventory.transfer.upload_stash import UPLOAD_LIFETIME, upload_folder
from tests.factories import make_asset
from tests.stories.imports import _uploads_in_tmp, chemistry, run_the_schedulers_import_job  # noqa: F401  (a fixture)

ROWS = MAX_ROWS  # 20,000


def assets_tagged(demo, prefix: str) -> int:
    with demo.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Asset).where(Asset.tag.like(prefix + "%"))) or 0
        )


def preview(page, school: School, sheet: Path, rows: int) -> None:
    page.goto(f"/schools/{school.id}/import")
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    # The preview checks every row while the person waits, as before (20,000 rows: some seconds).
    page.get_by_role("button", name="Check the file").click(timeout=120_000)
    expect(page.get_by_role("button", name=f"Import {rows:,} row{'' if rows == 1 else 's'}")).to_be_visible(
        timeout=120_000
    )


def test_a_20000_row_import_is_queued_at_once_and_the_page_follows_it_to_the_end(demo, tmp_path):
    school = chemistry(demo)
    sheet = tmp_path / "whole-register.csv"
    sheet.write_text(
        "Tag,Name,Manufacturer,Building,Room\n"
        + "".join(f"BIG-{n:05d},Instrument {n},Maker {n % 17},Dalton,R{n % 40}\n" for n in range(ROWS)),
        encoding="utf-8",
    )
    page = demo.page(sign_in="manager.chem")
    preview(page, school, sheet, ROWS)

    with page.expect_response(lambda response: response.url.endswith("/import/confirm")) as confirmed:
        page.get_by_role("button", name="Import 20,000 rows").click()
    # The confirmation only queues the job: a redirect to its page, before any row is imported.
    assert confirmed.value.status == 303
    page.wait_for_url(f"**/schools/{school.id}/import/jobs/*")
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    with demo.session() as session:
        job = session.scalars(select(ImportJob)).one()
        assert (job.state, job.rows_done, job.filename) == (ImportState.QUEUED, 0, "whole-register.csv")
    assert assets_tagged(demo, "BIG-") == 0
    assert not list(upload_folder(demo.app.instance_path).glob("*.csv")), "the upload moved into the job"

    progress_url = f"/schools/{school.id}/import/jobs/{job.id}/progress.json"
    seen: list[tuple[str, int, int | None]] = []
    scheduler = threading.Thread(target=run_the_schedulers_import_job, args=(demo.app,))
    scheduler.start()
    while scheduler.is_alive():
        progress = page.request.get(progress_url).json()
        seen.append((progress["state"], progress["rows_done"], progress["rows_total"]))
        time.sleep(0.25)
    scheduler.join()

    # While the import's one transaction ran, the page could read how far it had got.
    assert any(state == "running" and total == ROWS and 0 < done < ROWS for state, done, total in seen), seen[
        -5:
    ]
    outcome = page.get_by_role("status").filter(has_text="Imported whole-register.csv")
    expect(outcome).to_contain_text("20,000 added, 0 updated, 0 unchanged; 40 new locations.")
    expect(outcome.get_by_role("link", name="See School of Chemistry's register")).to_be_visible()
    assert assets_tagged(demo, "BIG-") == ROWS
    with demo.session() as session:
        job = session.get(ImportJob, job.id)
        assert (job.state, job.rows_done, job.rows_total, job.content) == (ImportState.DONE, ROWS, ROWS, None)


def test_a_job_that_fails_imports_nothing_and_says_why(demo, tmp_path):
    school = chemistry(demo)
    sheet = tmp_path / "new-rooms.csv"
    sheet.write_text(
        "Tag,Name,Building,Room\n"
        + "".join(f"FAIL-{n:03d},Centrifuge {n},Hooke,G.{n}\n" for n in range(300)),
        encoding="utf-8",
    )
    page = demo.page(sign_in="manager.chem")
    preview(page, school, sheet, 300)
    page.get_by_role("button", name="Import 300 rows").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()
    # Before the scheduler gets to it, Physics registers one of the file's tags.
    with demo.session() as session:
        physics = session.scalars(select(School).where(School.code == "PHYS")).one()
        make_asset(session, physics, tag="FAIL-150", name="Physics' own centrifuge")

    run_the_schedulers_import_job(demo.app)
    expect(page.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Nothing was imported: checked again, new-rooms.csv has 1 problem"
    )
    problem = page.get_by_role("table", name="Problems in new-rooms.csv").locator("tbody tr")
    expect(problem).to_have_count(1)
    expect(problem.locator("td").nth(0)).to_have_text("152")  # the spreadsheet's row: the header is 1
    expect(problem.locator("td").nth(1)).to_have_text("Tag")
    expect(problem.locator("td").nth(2)).to_contain_text(
        "Physics' own centrifuge, not to School of Chemistry."
    )
    assert assets_tagged(demo, "FAIL-") == 1  # Physics' one, none of the file's
    with demo.session() as session:
        assert session.scalar(select(Location).where(Location.building == "Hooke")) is None
        job = session.scalars(select(ImportJob)).one()
        assert (job.state, job.content) == (ImportState.FAILED, None)


def test_two_schedulers_cannot_both_run_one_job(demo, tmp_path):
    school = chemistry(demo)
    sheet = tmp_path / "once.csv"
    sheet.write_text(
        "Tag,Name\n" + "".join(f"ONCE-{n:03d},Pipette {n}\n" for n in range(500)), encoding="utf-8"
    )
    page = demo.page(sign_in="manager.chem")
    preview(page, school, sheet, 500)
    page.get_by_role("button", name="Import 500 rows").click()
    expect(page.get_by_role("heading", name="Waiting to start")).to_be_visible()

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def scheduler() -> None:
        try:
            start.wait()
            run_the_schedulers_import_job(demo.app)
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    schedulers = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join(timeout=120)
    assert errors == []
    expect(page.get_by_role("status").filter(has_text="Imported once.csv")).to_contain_text("500 added")
    assert assets_tagged(demo, "ONCE-") == 500
    with demo.session() as session:
        job = session.scalars(select(ImportJob)).one()
        assert job.state == ImportState.DONE


def test_an_upload_previewed_but_never_confirmed_is_removed_by_the_scheduler(demo, tmp_path):
    from scheduler import remove_abandoned_uploads

    school = chemistry(demo)
    sheet = tmp_path / "forgotten.csv"
    sheet.write_text("Tag,Name\nCHEM-LOST-1,Forgotten balance\n", encoding="utf-8")
    page = demo.page(sign_in="manager.chem")
    preview(page, school, sheet, 1)
    token = page.locator("input[name=token]").get_attribute("value")
    folder = upload_folder(demo.app.instance_path)
    kept = sorted(folder.glob(f"{token}.*"))
    assert [path.suffix for path in kept] == [".csv", ".json"]

    with demo.app.app_context():
        remove_abandoned_uploads()
    assert all(path.exists() for path in kept), "a fresh upload waits for its confirmation"
    long_ago = time.time() - UPLOAD_LIFETIME.total_seconds() - 60
    for path in kept:
        os.utime(path, (long_ago, long_ago))
    with demo.app.app_context():
        remove_abandoned_uploads()
    assert not any(path.exists() for path in kept)

    page.get_by_role("button", name="Import 1 row").click()
    expect(
        page.get_by_text("That upload has expired or was already imported. Upload the file again.")
    ).to_be_visible()
    assert assets_tagged(demo, "CHEM-LOST-") == 0
