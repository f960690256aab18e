"""Bulk import and export of a School's register, and the public Uniquip feed."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from accounts.models import Role
from core.audit import AuditEntry
from core.errors import InvalidInput
from inventory.models import Asset, AssetStatus, Category, Location
from inventory.transfer.applying import apply_import
from inventory.transfer.columns import HEADERS
from inventory.transfer.formula_guard import neutralise_cell, restore_cell
from inventory.transfer.planning import plan_import
from inventory.transfer.turtle import organisation_profile
from tests.conftest import change_settings, see_committed, settings_of, sign_in
from tests.factories import make_asset, make_school, make_user

HEADER = ",".join(HEADERS)


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path, monkeypatch):
    """Keep uploads waiting for confirmation out of the real instance folder."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def world(session):
    school = make_school(session, code="CHEM", name="School of Chemistry")
    manager = make_user(session, school, Role.MANAGER, email="manager@chem.ac.uk", name="Mary Manager")
    contact = make_user(session, school, email="tech@chem.ac.uk", name="Tom Technician")
    session.add_all([Category(name="Microscopy"), Category(name="Spectroscopy")])
    session.commit()
    return {"school": school, "manager": manager, "contact": contact}


def full_row(tag="CHEM-0001", name="Confocal microscope", **overrides: str) -> dict[str, str]:
    row = {
        "Tag": tag,
        "Name": name,
        "School": "CHEM",
        "Category": "Microscopy",
        "Site": "North campus",
        "Building": "Dalton",
        "Room": "1.04",
        "Manufacturer": "Zeiss",
        "Model": "LSM 980",
        "Serial number": "SN-42",
        "Description": "Four lasers, <b>Airyscan</b>.",
        "Purchase date": "2021-03-31",
        "Purchase cost (GBP)": "250000.50",
        "Funding source": "EPSRC EP/X000001/1",
        "Contact email": "tech@chem.ac.uk",
        "Hourly rate (GBP)": "45.00",
        "Status": "maintenance",
        "Status reason": "Laser alignment",
        "Bookable": "yes",
        "Shareable": "no",
        "Requires approval": "true",
        "Training required": "y",
        "Block when inspection overdue": "1",
        "Minimum notice (minutes)": "1440",
        "Maximum booking (minutes)": "480",
        "Turnaround (minutes)": "30",
        "Bookable hours": "Mon 09:00-17:00; Wed 10:00-12:00; Wed 13:00-16:00",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict[str, str]], headers: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=headers or list(HEADERS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(client, school, content: bytes, filename: str = "assets.csv"):
    return client.post(
        f"/schools/{school.id}/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', response.text) or re.search(
        r'name="token" value="([^"]+)"', response.text
    )
    assert match, "the preview offers no confirmation"
    return match.group(1)


def run_import_jobs(app) -> None:
    """What the scheduler does every few seconds: run the confirmed imports."""
    from core.db import db
    from scheduler import run_imports

    with app.app_context():
        try:
            run_imports()
        finally:
            db.session.remove()


def confirm(client, school, token: str):
    """Confirm an upload: it is queued as a job; the scheduler runs it; the job page has the outcome."""
    response = client.post(f"/schools/{school.id}/import/confirm", data={"token": token})
    if response.status_code != 303:
        return response
    assert re.search(rf"/schools/{school.id}/import/jobs/\d+$", response.headers["Location"])
    run_import_jobs(client.application)
    return client.get(response.headers["Location"])


def import_file(client, school, content: bytes, filename: str = "assets.csv"):
    preview = upload(client, school, content, filename)
    assert preview.status_code == 200, preview.text
    response = confirm(client, school, token_of(preview))
    assert response.status_code == 200
    assert "flash-success" in response.text, response.text
    return response


def summary_of(preview) -> tuple[int, int, int]:
    """(to add, to update, unchanged) as the preview states them."""
    numbers = [
        int(re.search(rf"<dt>{label}</dt><dd>([\d,]+)</dd>", preview.text).group(1).replace(",", ""))
        for label in ("Assets to add", "Assets to update", "Unchanged")
    ]
    return numbers[0], numbers[1], numbers[2]


def problems_in(response) -> set[tuple[int, str]]:
    cells = re.findall(
        r'<tr><td class="num"[^>]*>(\d+)</td><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>', response.text
    )
    return {(int(line), html.unescape(column)) for line, column, _ in cells}


def count(session, model) -> int:
    see_committed(session)
    return session.scalar(select(func.count()).select_from(model)) or 0


def asset_by_tag(session, tag: str) -> Asset:
    see_committed(session)
    return session.scalars(select(Asset).where(Asset.tag == tag)).one()


# --- Preview and refusal ----------------------------------------------------------------------


def test_a_preview_lists_every_problem_with_its_line_and_column_and_writes_nothing(client, session, world):
    other = make_school(session, code="PHYS")
    make_asset(session, other, tag="PHYS-0001")
    rows = [
        full_row("CHEM-0001", Category="Lasers"),
        full_row("CHEM-0002", **{"Purchase date": "31 March", "Purchase cost (GBP)": "12.345"}),
        full_row("CHEM-0003", **{"Contact email": "nobody@chem.ac.uk", "Bookable": "perhaps"}),
        full_row("CHEM-0001", name="Second of the same tag"),
        full_row("PHYS-0001"),
        full_row(
            "CHEM-0006",
            **{"Bookable hours": "Mon 9-5", "Status": "broken", "Minimum notice (minutes)": "a day"},
        ),
        full_row("CHEM-0007", name=""),
    ]
    sign_in(client, world["manager"].email)
    response = upload(client, world["school"], csv_bytes(rows))
    assert response.status_code == 400
    assert problems_in(response) == {
        (2, "Category"),
        (3, "Purchase date"),
        (3, "Purchase cost (GBP)"),
        (4, "Contact email"),
        (4, "Bookable"),
        (5, "Tag"),
        (6, "Tag"),
        (7, "Bookable hours"),
        (7, "Status"),
        (7, "Minimum notice (minutes)"),
        (8, "Name"),
    }
    known = r"no category called Lasers\. The categories are: [^<]*Microscopy, Spectroscopy"
    assert re.search(known, response.text)
    assert 'name="token"' not in response.text
    assert count(session, Asset) == 1  # PHYS-0001 only
    assert count(session, Location) == 1


def test_lines_are_numbered_as_the_spreadsheet_shows_them(client, session, world):
    sign_in(client, world["manager"].email)
    content = b'Tag,Name,Description,Category\nCHEM-1,Oven,"Two\nlines",\n\nCHEM-2,Kiln,,Pottery\n'
    assert problems_in(upload(client, world["school"], content)) == {(4, "Category")}
    workbook = openpyxl.Workbook()
    workbook.active.append(["Tag", "Name", "Category"])
    workbook.active.append(["CHEM-1", "Oven", None])
    workbook.active.append([])
    workbook.active.append(["CHEM-2", "Kiln", "Pottery"])
    out = io.BytesIO()
    workbook.save(out)
    assert problems_in(upload(client, world["school"], out.getvalue(), "assets.xlsx")) == {(4, "Category")}


def test_unknown_and_missing_headers_are_reported_on_line_1(client, session, world):
    sign_in(client, world["manager"].email)
    response = upload(client, world["school"], b"Tag,Colour,Model\nCHEM-1,red,X\n")
    assert response.status_code == 400
    assert problems_in(response) == {(1, "Colour"), (1, "Name")}


def test_confirm_checks_the_file_again_and_imports_nothing_when_it_no_longer_fits(client, session, world):
    sign_in(client, world["manager"].email)
    preview = upload(client, world["school"], csv_bytes([full_row("CHEM-0001"), full_row("CHEM-0002")]))
    token = token_of(preview)
    # Between the preview and the confirmation, another School registers one of the tags.
    make_asset(session, make_school(session, code="PHYS"), tag="CHEM-0002")
    response = confirm(client, world["school"], token)
    assert "Nothing was imported: checked again, assets.csv has 1 problem" in response.text
    assert problems_in(response) == {(3, "Tag")}
    assert count(session, Asset) == 1
    assert session.scalar(select(Location).where(Location.building == "Dalton")) is None


def test_the_import_page_explains_the_columns_and_asks_for_a_file(client, session, world):
    sign_in(client, world["manager"].email)
    page = client.get(f"/schools/{world['school'].id}/import")
    assert page.status_code == 200
    assert "Block when inspection overdue" in page.text
    response = client.post(
        f"/schools/{world['school'].id}/import", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Choose a .csv or .xlsx file to upload." in response.text


def test_the_service_refuses_to_apply_a_plan_with_problems(session, world):
    plan = plan_import(session, world["manager"], world["school"], "bad.csv", b"Tag,Name\nCHEM-1,\n")
    assert [(p.line, p.column) for p in plan.problems] == [(2, "Name")]
    with pytest.raises(InvalidInput):
        list(apply_import(session, world["manager"], world["school"], plan))
    assert count(session, Asset) == 0


def test_a_file_that_is_not_a_spreadsheet_gets_a_clear_message(client, session, world):
    sign_in(client, world["manager"].email)
    response = upload(client, world["school"], b"%PDF-1.4", "register.pdf")
    assert response.status_code == 400
    assert "is not a .csv or .xlsx file" in response.text


def test_a_file_of_more_than_20000_rows_is_refused(client, session, world):
    content = ("Tag,Name\n" + "".join(f"T{i},Thing {i}\n" for i in range(20_001))).encode()
    sign_in(client, world["manager"].email)
    response = upload(client, world["school"], content)
    assert response.status_code == 400
    assert "more than 20,000 rows" in response.text
    assert count(session, Asset) == 0


# --- Importing --------------------------------------------------------------------------------


def test_a_good_csv_import_creates_the_assets_with_every_field(client, session, world):
    sign_in(client, world["manager"].email)
    preview = upload(client, world["school"], csv_bytes([full_row()]))
    assert "Will add the location Dalton, 1.04 (North campus)" in preview.text
    response = confirm(client, world["school"], token_of(preview))
    assert "Imported assets.csv: 1 added" in response.text
    assert response.text.rstrip().endswith("</html>")
    asset = asset_by_tag(session, "CHEM-0001")
    assert (asset.name, asset.school_id) == ("Confocal microscope", world["school"].id)
    assert asset.category.name == "Microscopy"
    location = asset.location
    assert (location.site, location.building, location.room) == ("North campus", "Dalton", "1.04")
    assert (asset.manufacturer, asset.model, asset.serial_number) == ("Zeiss", "LSM 980", "SN-42")
    assert asset.description == "Four lasers, <b>Airyscan</b>."
    assert asset.purchase_date == dt.date(2021, 3, 31)
    assert (asset.purchase_cost_pence, asset.hourly_rate_pence) == (25_000_050, 4500)
    assert asset.funding_source == "EPSRC EP/X000001/1"
    assert asset.contact_id == world["contact"].id
    assert (asset.status, asset.status_reason) == (AssetStatus.MAINTENANCE, "Laser alignment")
    assert (asset.bookable, asset.shareable, asset.requires_approval) == (True, False, True)
    assert (asset.training_required, asset.block_when_inspection_overdue) == (True, True)
    assert (asset.min_notice_minutes, asset.max_booking_minutes, asset.turnaround_minutes) == (1440, 480, 30)
    assert [(h.weekday, h.opens, h.closes) for h in asset.bookable_hours] == [
        (0, dt.time(9), dt.time(17)),
        (2, dt.time(10), dt.time(12)),
        (2, dt.time(13), dt.time(16)),
    ]


def test_an_import_that_fails_part_way_imports_nothing(client, session, world, monkeypatch):
    from inventory import service

    real_create = service.create_asset
    calls = []

    def create_then_fail(session_, actor, school, data):
        calls.append(data.tag)
        if len(calls) == 3:
            raise InvalidInput(field_errors={"name": ["Refused for the test."]})
        return real_create(session_, actor, school, data)

    monkeypatch.setattr(service, "create_asset", create_then_fail)
    sign_in(client, world["manager"].email)
    preview = upload(client, world["school"], csv_bytes([full_row(f"CHEM-{n}") for n in range(5)]))
    response = confirm(client, world["school"], token_of(preview))
    assert "Nothing was imported. Line 4 (CHEM-2): Name: Refused for the test.</div>" in response.text
    assert response.text.rstrip().endswith("</html>")
    assert count(session, Asset) == 0
    assert count(session, Location) == 0


def test_missing_columns_get_the_defaults_and_a_status_without_reason_names_the_file(client, session, world):
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], b"tag , NAME,status\nCHEM-9,Balance,retired\n", "balances.csv")
    asset = asset_by_tag(session, "CHEM-9")
    assert (asset.bookable, asset.shareable, asset.min_notice_minutes) == (True, True, 0)
    assert asset.location_id is None
    assert len(asset.bookable_hours) == 5  # Monday to Friday, the default
    assert (asset.status, asset.status_reason) == (AssetStatus.RETIRED, "Imported from balances.csv")


def test_reimporting_the_same_file_changes_nothing(client, session, world):
    content = csv_bytes([full_row("CHEM-0001"), full_row("CHEM-0002", Building="Hooke", Room="G.12")])
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], content)
    audit_rows = count(session, AuditEntry)
    preview = upload(client, world["school"], content)
    assert summary_of(preview) == (0, 0, 2)
    confirm(client, world["school"], token_of(preview))
    assert count(session, Asset) == 2
    assert count(session, Location) == 2
    assert count(session, AuditEntry) == audit_rows


def test_an_edited_reimport_updates_the_assets_by_tag(client, session, world):
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], csv_bytes([full_row("CHEM-0001"), full_row("CHEM-0002")]))
    edited = csv_bytes([full_row("chem-0001", Model="LSM 990", Status="available", **{"Status reason": ""})])
    preview = upload(client, world["school"], edited)
    assert summary_of(preview)[:2] == (0, 1)
    confirm(client, world["school"], token_of(preview))
    assert count(session, Asset) == 2
    asset = asset_by_tag(session, "chem-0001")
    assert (asset.model, asset.status, asset.status_reason) == ("LSM 990", AssetStatus.AVAILABLE, "")
    assert asset_by_tag(session, "CHEM-0002").model == "LSM 980"


def test_leaving_out_a_column_keeps_each_assets_value(client, session, world):
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], csv_bytes([full_row()]))
    import_file(client, world["school"], b"Tag,Name\nCHEM-0001,Renamed microscope\n")
    asset = asset_by_tag(session, "CHEM-0001")
    assert (asset.name, asset.model) == ("Renamed microscope", "LSM 980")
    assert asset.status == AssetStatus.MAINTENANCE
    assert len(asset.bookable_hours) == 3


def test_a_tag_of_another_schools_asset_is_refused(client, session, world):
    physics = make_school(session, code="PHYS", name="School of Physics")
    make_asset(session, physics, tag="PHYS-0001", name="Cryostat")
    sign_in(client, world["manager"].email)
    response = upload(client, world["school"], csv_bytes([full_row("PHYS-0001", name="Taken over")]))
    assert problems_in(response) == {(2, "Tag")}
    assert "belongs to School of Physics" in response.text
    assert asset_by_tag(session, "PHYS-0001").name == "Cryostat"


def test_a_manager_of_another_school_gets_403_on_both_import_routes(client, session, world):
    physics = make_school(session, code="PHYS")
    outsider = make_user(session, physics, Role.MANAGER)
    sign_in(client, outsider.email)
    school = world["school"]
    assert client.get(f"/schools/{school.id}/import").status_code == 403
    assert upload(client, school, csv_bytes([full_row()])).status_code == 403
    assert confirm(client, school, "x" * 32).status_code == 403
    assert count(session, Asset) == 0


def test_only_the_uploader_can_confirm_an_upload(client, app, session, world):
    colleague = make_user(session, world["school"], Role.MANAGER)
    sign_in(client, world["manager"].email)
    token = token_of(upload(client, world["school"], csv_bytes([full_row()])))
    other_client = app.test_client()
    sign_in(other_client, colleague.email)
    assert confirm(other_client, world["school"], token).status_code == 403
    assert confirm(other_client, world["school"], "../../etc/passwd").status_code == 404
    assert count(session, Asset) == 0


def test_the_upload_is_deleted_once_imported(client, app, session, world):
    sign_in(client, world["manager"].email)
    token = token_of(upload(client, world["school"], csv_bytes([full_row()])))
    assert confirm(client, world["school"], token).status_code == 200
    assert list((Path(app.instance_path) / "imports").iterdir()) == []
    assert confirm(client, world["school"], token).status_code == 404


def test_an_xlsx_workbook_imports(client, session, world):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        [
            "Tag",
            "Name",
            "Purchase date",
            "Purchase cost (GBP)",
            "Bookable",
            "Maximum booking (minutes)",
            "Serial number",
        ]
    )
    sheet.append(["CHEM-0100", "Fume cupboard", dt.datetime(2020, 1, 15), 1234.5, True, 120.0, 12345])
    content = io.BytesIO()
    workbook.save(content)
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], content.getvalue(), "register.xlsx")
    asset = asset_by_tag(session, "CHEM-0100")
    assert (asset.name, asset.purchase_date) == ("Fume cupboard", dt.date(2020, 1, 15))
    assert asset.purchase_cost_pence == 123450
    assert (asset.bookable, asset.max_booking_minutes, asset.serial_number) == (True, 120, "12345")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1252"])
def test_csv_in_utf8_with_or_without_bom_or_in_windows_encoding_imports(client, session, world, encoding):
    sign_in(client, world["manager"].email)
    import_file(client, world["school"], "Tag,Name\nCHEM-7,Pipette £5 – Gilson\n".encode(encoding))
    assert asset_by_tag(session, "CHEM-7").name == "Pipette £5 – Gilson"


def test_5000_rows_import_in_one_go(client, session, world):
    rows = [
        full_row(
            f"CHEM-{n:05d}", f"Instrument {n}", Room=f"R{n % 40}", Status="available", **{"Status reason": ""}
        )
        for n in range(5000)
    ]
    sign_in(client, world["manager"].email)
    started = time.perf_counter()
    preview = upload(client, world["school"], csv_bytes(rows))
    assert summary_of(preview) == (5000, 0, 0)
    response = confirm(client, world["school"], token_of(preview))
    elapsed = time.perf_counter() - started
    print(f"5,000-row import (preview + confirm + job): {elapsed:.1f} s")
    assert "5,000 added" in response.text
    assert count(session, Asset) == 5000
    assert count(session, Location) == 40


# --- Exporting --------------------------------------------------------------------------------


def _export_csv(client, **args) -> list[dict[str, str]]:
    response = client.get("/register/export.csv", query_string=args)
    assert response.status_code == 200, response.text
    return list(
        csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))
    )  # as Excel reads it, BOM and all


def test_an_exported_csv_reimports_to_the_same_register(client, session, world):
    sign_in(client, world["manager"].email)
    rows = [full_row("CHEM-0001"), full_row("CHEM-0002", Status="retired")]
    import_file(client, world["school"], csv_bytes(rows))
    microscopy = session.scalars(select(Category).where(Category.name == "Microscopy")).one()
    make_asset(session, world["school"], tag="CHEM-0003", category=microscopy)
    response = client.get("/register/export.csv", query_string={"school": world["school"].id})
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="kitshare-register-\d{4}-\d{2}-\d{2}\.csv"', disposition)
    exported = response.data
    asset = asset_by_tag(session, "CHEM-0001")
    asset.model, asset.turnaround_minutes = "Changed in Kitshare", 0
    session.commit()
    preview = upload(client, world["school"], exported, "export.csv")
    assert summary_of(preview) == (0, 1, 2)
    confirm(client, world["school"], token_of(preview))
    restored = asset_by_tag(session, "CHEM-0001")
    assert (restored.model, restored.turnaround_minutes) == ("LSM 980", 30)


def test_an_exported_workbook_reimports_unchanged(client, session, world):
    sign_in(client, world["manager"].email)
    rows = [full_row("CHEM-0001"), full_row("CHEM-0002", **{"Purchase cost (GBP)": ""})]
    import_file(client, world["school"], csv_bytes(rows))
    response = client.get("/register/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["Register"]
    assert [cell.value for cell in sheet[1]] == list(HEADERS)
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 12
    cost = sheet.cell(row=2, column=HEADERS.index("Purchase cost (GBP)") + 1)
    bought = sheet.cell(row=2, column=HEADERS.index("Purchase date") + 1)
    assert (float(cost.value), "£" in cost.number_format) == (250000.5, True)
    assert bought.is_date
    preview = upload(client, world["school"], response.data, "export.xlsx")
    assert summary_of(preview) == (0, 0, 2)


def test_exports_neutralise_formulas_and_imports_restore_them(client, session, world):
    sign_in(client, world["manager"].email)
    formula = '=HYPERLINK("http://evil")'
    rows = [full_row("CHEM-0001", name=formula, Model="-40 freezer")]
    import_file(client, world["school"], csv_bytes(rows))
    [row] = _export_csv(client)
    assert (row["Name"], row["Model"]) == ("'" + formula, "'-40 freezer")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/register/export.xlsx").data))
    assert workbook["Register"]["B2"].value == "'" + formula
    assert workbook["Register"]["B2"].data_type == "s"
    exported = client.get("/register/export.csv").data
    asset = asset_by_tag(session, "CHEM-0001")
    asset.name = "Renamed"
    session.commit()
    import_file(client, world["school"], exported)
    assert asset_by_tag(session, "CHEM-0001").name == formula


def test_a_manager_exports_only_their_own_schools(client, session, world):
    physics = make_school(session, code="PHYS")
    make_asset(session, physics, tag="PHYS-0001")
    make_asset(session, world["school"], tag="CHEM-0001")
    sign_in(client, world["manager"].email)
    assert [row["Tag"] for row in _export_csv(client)] == ["CHEM-0001"]
    assert client.get("/register/export.csv", query_string={"school": physics.id}).status_code == 403
    assert client.get("/register/export.xlsx", query_string={"school": physics.id}).status_code == 403


def test_the_export_follows_the_register_filters(client, session, world):
    make_asset(session, world["school"], tag="CHEM-0001", name="Balance")
    make_asset(session, world["school"], tag="CHEM-0002", name="Microscope", status=AssetStatus.RETIRED)
    sign_in(client, world["manager"].email)
    assert [row["Tag"] for row in _export_csv(client, status="retired")] == ["CHEM-0002"]
    assert [row["Tag"] for row in _export_csv(client, q="balance")] == ["CHEM-0001"]


def test_a_technician_cannot_export_the_register(client, session, world):
    sign_in(client, world["contact"].email)
    assert client.get("/register/export.csv").status_code == 403


# --- Uniquip ----------------------------------------------------------------------------------


def test_the_uniquip_export_has_the_template_header_and_maps_each_field(client, app, session, world):
    school = world["school"]
    microscopy = session.scalars(select(Category).where(Category.name == "Microscopy")).one()
    location = Location(school=school, site="North campus", building="Dalton", room="1.04")
    asset = make_asset(
        session,
        school,
        tag="CHEM-0001",
        name="Confocal microscope",
        description="Lasers & <optics>",
        category=microscopy,
        location=location,
        contact=world["contact"],
    )
    make_asset(session, school, tag="CHEM-0002", shareable=False)
    make_asset(session, school, tag="CHEM-0003", bookable=False)
    make_asset(session, school, tag="CHEM-0004", status=AssetStatus.RETIRED)
    response = client.get("/equipment/uniquip.csv")  # nobody signed in
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert header == [
        "Type",
        "Name",
        "Description",
        "Related Facility ID",
        "Technique",
        "Location",
        "Contact Name",
        "Contact Telephone",
        "Contact URL",
        "Contact Email",
        "Secondary Contact Name",
        "Secondary Contact Telephone",
        "Secondary Contact URL",
        "Secondary Contact Email",
        "ID",
        "Photo",
        "Department",
        "Site Location",
        "Building",
        "Service Level",
        "Web Address",
    ]
    assert len(rows) == 1
    page = f"{settings_of(app).base_url}/assets/{asset.id}"
    assert dict(zip(header, rows[0])) == {
        "Type": "equipment",
        "Name": "Confocal microscope",
        "Description": "Lasers &amp; &lt;optics&gt;",
        "Related Facility ID": "",
        "Technique": "Microscopy",
        "Location": "",
        "Contact Name": "Tom Technician",
        "Contact Telephone": "",
        "Contact URL": page,
        "Contact Email": "tech@chem.ac.uk",
        "Secondary Contact Name": "",
        "Secondary Contact Telephone": "",
        "Secondary Contact URL": "",
        "Secondary Contact Email": "",
        "ID": "CHEM-0001",
        "Photo": "",
        "Department": "School of Chemistry",
        "Site Location": "North campus",
        "Building": "Dalton",
        "Service Level": "",
        "Web Address": page,
    }


def test_uniquip_falls_back_to_the_schools_manager_and_the_configured_town(
    client, app, session, world, monkeypatch
):
    town = "https://en.wikipedia.org/wiki/Manchester"
    change_settings(app, monkeypatch, KITSHARE_UNIQUIP_LOCATION_URL=town)
    make_asset(session, world["school"], tag="CHEM-0001", contact=None)
    [row] = list(csv.DictReader(io.StringIO(client.get("/equipment/uniquip.csv").text)))
    assert (row["Contact Name"], row["Contact Email"]) == ("Mary Manager", "manager@chem.ac.uk")
    assert row["Location"] == town
    assert row["Site Location"] == "Main campus"


def test_the_organisation_profile_points_harvesters_at_the_uniquip_feed(client, app, session):
    response = client.get("/.well-known/openorg")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    text = response.text
    base = settings_of(app).base_url
    assert "@prefix oo: <http://purl.org/openorg/> ." in text
    assert "<> a oo:OrganizationProfileDocument" in text
    assert f"<{base}/equipment/uniquip.csv> a dcat:Download" in text
    assert "dcterms:conformsTo <http://equipment.data.ac.uk/uniquip>" in text
    assert "dcterms:subject <http://purl.org/openorg/theme/Equipment>" in text
    assert "oo:corrections <mailto:kitshare@localhost>" in text
    # Turtle statements end with " ." and every IRI is closed.
    statements = [s for s in text.split(" .\n") if s.strip() and not s.startswith("@prefix")]
    assert len(statements) == 3
    assert text.count("<") == text.count(">")


def test_the_organisation_profile_escapes_the_university_name(app):
    text = organisation_profile(
        base_url="https://kit.example.ac.uk/",
        organisation_name='The "Best" University\\',
        download_url="https://kit.example.ac.uk/equipment/uniquip.csv",
        contact_email="data@example.ac.uk",
    )
    assert 'skos:prefLabel "The \\"Best\\" University\\\\" ;' in text
    assert "oo:contact <mailto:data@example.ac.uk>" in text


# --- Cells ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["=1+2", "+44 161", "-40 freezer", "@SUM(A1)", "\tx", "'quoted", "''=x", "plain", ""]
)
def test_neutralising_a_cell_is_undone_on_import(text):
    assert restore_cell(neutralise_cell(text)) == text
