"""Issue 16, point 9: an .xlsx upload is bounded before it is parsed.

A 97 KB workbook whose one shared string is 100 million characters took a worker from 254 MB to
643 MB (300 million: 1.75 GB). Now the archive is checked first (each part's declared size, its
real size counted as it unpacks, rows, cells, a cell's length, no DTD, well-formed XML, dates that
are dates), and every such file is refused on the import page with a message, using less than
100 MB above the worker's baseline. The hostile files are built here, with zipfile.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from accounts.models import Role, User
from inventory import import_jobs
from inventory.models import Asset, ImportJob, ImportState
from tests.conftest import change_settings, see_committed, sign_in
from tests.factories import make_school, make_user
from tests.inventory.test_transfer import problems_in, run_import_jobs

ROOT = Path(__file__).resolve().parents[2]
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
FRAME = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
        '<sheets><sheet name="Register" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}
#: Shared strings 0-3: the header and one asset.
STRINGS = ["Tag", "Name", "CHEM-0001", "Confocal microscope"]
HEADER_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
ASSET_ROW = '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row>'


def sheet(rows: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    return f'{prolog}<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'


def shared(strings: list[str], prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> str:
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    return f'{prolog}<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'


def workbook(sheet_xml: str = sheet(HEADER_ROW + ASSET_ROW), strings_xml: str = shared(STRINGS)) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in FRAME.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        archive.writestr("xl/sharedStrings.xml", strings_xml)
    return out.getvalue()


def one_huge_shared_string(characters: int) -> bytes:
    """The probe's file: the asset's name is one shared string of ``characters`` letters, written
    in pieces (compressed, 100 million letters are about 97 KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in FRAME.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet(HEADER_ROW + ASSET_ROW))
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(shared(STRINGS[:3]).removesuffix("</sst>").encode() + b"<si><t>")
            piece = b"a" * (1 << 20)
            for start in range(0, characters, len(piece)):
                part.write(piece[: min(len(piece), characters - start)])
            part.write(b"</t></si></sst>")
    return out.getvalue()


def declaring(content: bytes, part: str, size: int) -> bytes:
    """The same zip, but its directory and the part's own header say the part unpacks to ``size``."""
    data = bytearray(content)
    info = zipfile.ZipFile(io.BytesIO(content)).getinfo(part)
    assert info.file_size < 0xFFFFFFFF and not info.extra, (
        "a plain (not zip64) entry, so the size is in place"
    )
    data[info.header_offset + 22 : info.header_offset + 26] = size.to_bytes(4, "little")
    for found in re.finditer(re.escape(b"PK\x01\x02"), content):  # the part's entry in the zip's directory
        entry = found.start()
        name_length = int.from_bytes(content[entry + 28 : entry + 30], "little")
        if content[entry + 46 : entry + 46 + name_length] == part.encode():
            data[entry + 24 : entry + 28] = size.to_bytes(4, "little")
            return bytes(data)
    raise AssertionError(f"{part} is not in the zip's directory")


def lying_about_its_size() -> bytes:
    """100 million characters whose zip entry says they unpack to 4,000 bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in FRAME.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet(HEADER_ROW + ASSET_ROW))
        archive.writestr("xl/sharedStrings.xml", shared([*STRINGS[:3], "a" * 100_000_000]))
    return declaring(out.getvalue(), "xl/sharedStrings.xml", 4_000)


def too_many_rows(rows: int = 100_001) -> bytes:
    body = "".join(f'<row r="{n}"><c r="A{n}" t="s"><v>2</v></c></row>' for n in range(2, rows + 1))
    return workbook(sheet(HEADER_ROW + body))


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY lol "lololololololololololol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">' for n in range(1, 10))
    + "]>"
)


def with_entities() -> bytes:
    return workbook(strings_xml=shared([*STRINGS[:3], "&lol9;"], prolog=BILLION_LAUGHS))


def malformed() -> bytes:
    return workbook(sheet(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>2</v></row>'))


def bad_date() -> bytes:
    return workbook(
        sheet(
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="inlineStr"><is><t>Purchase date</t></is></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="d"><v>2026-13-45</v></c></row>'
        )
    )


# --- Through the import page ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _uploads_in_tmp(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def chemistry(session, client):
    school = make_school(session, code="CHEM", name="School of Chemistry")
    make_user(session, school, Role.MANAGER, email="manager@chem.ac.uk")
    sign_in(client, "manager@chem.ac.uk")
    return school


def upload(client, school, content: bytes, filename: str = "register.xlsx"):
    return client.post(
        f"/schools/{school.id}/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def refused(client, session, school, content: bytes) -> str:
    """Upload a file that must be refused: the import form again, 400, its message; nothing imported."""
    response = upload(client, school, content)
    assert response.status_code == 400, response.text[:500]
    assert "Check the file" in response.text, "the upload form is shown again"
    assert session.scalar(select(func.count()).select_from(Asset)) == 0
    return " ".join(html.unescape(response.text).split())


def test_a_well_formed_workbook_with_shared_strings_and_a_date_is_previewed(client, session, chemistry):
    content = workbook(
        sheet(
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
            '<c r="C1" t="inlineStr"><is><t>Purchase date</t></is></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="d"><v>2021-03-31</v></c></row>'
        )
    )
    response = upload(client, chemistry, content)
    assert response.status_code == 200, response.text[:2000]
    assert "Import 1 row" in response.text


def test_one_shared_string_of_100_million_characters_is_refused_by_its_declared_size(
    client, session, chemistry
):
    content = one_huge_shared_string(100_000_000)
    assert len(content) < 150_000
    page = refused(client, session, chemistry, content)
    assert (
        "register.xlsx is too big to import: its part xl/sharedStrings.xml unpacks to more than 50 MB, "
        "the most Kitshare reads of one part." in page
    )


def test_a_part_that_lies_about_its_size_is_refused_as_damaged(client, session, chemistry):
    page = refused(client, session, chemistry, lying_about_its_size())
    assert (
        "register.xlsx is damaged: xl/sharedStrings.xml does not unpack to what the file says it holds."
        in page
    )


def test_the_parts_together_are_limited_too(client, session, chemistry, app, monkeypatch):
    content = workbook()
    unpacked = sum(part.file_size for part in zipfile.ZipFile(io.BytesIO(content)).infolist())
    change_settings(app, monkeypatch, KITSHARE_XLSX_MAX_TOTAL_BYTES=unpacked - 1)
    page = refused(client, session, chemistry, content)
    assert (
        f"register.xlsx is too big to import: it unpacks to more than {unpacked - 1:,} bytes in all" in page
    )


def test_a_zip_of_more_parts_than_allowed_is_refused_before_its_directory_is_read(
    client, session, chemistry, app, monkeypatch
):
    change_settings(app, monkeypatch, KITSHARE_XLSX_MAX_PARTS=5)  # the workbook has 6
    page = refused(client, session, chemistry, workbook())
    assert "register.xlsx has more than 5 parts inside, far more than a spreadsheet needs." in page


def test_a_cell_longer_than_excel_allows_is_refused(client, session, chemistry):
    page = refused(client, session, chemistry, workbook(strings_xml=shared([*STRINGS[:3], "a" * 32_768])))
    assert "A text in register.xlsx (xl/sharedStrings.xml) holds more than 32,767 characters" in page
    inline = sheet(
        HEADER_ROW
        + f'<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>{"a" * 32_768}</t></is></c></row>'
    )
    page = refused(client, session, chemistry, workbook(inline))
    assert "Cell B2 of register.xlsx holds more than 32,767 characters" in page


def test_a_cell_of_exactly_32767_characters_is_read(client, session, chemistry):
    response = upload(client, chemistry, workbook(strings_xml=shared([*STRINGS[:3], "a" * 32_767])))
    # Read, then refused by the asset rules (a name is at most 200 characters), not by the reader.
    assert response.status_code == 400
    assert problems_in(response) == {(2, "Name")}


def test_a_sheet_with_more_than_100000_rows_is_refused(client, session, chemistry):
    page = refused(client, session, chemistry, too_many_rows())
    assert "register.xlsx goes on past row 100,000 of its sheet (empty rows count too)." in page


def test_a_row_numbered_beyond_the_limit_is_refused_before_openpyxl_fills_the_gap(client, session, chemistry):
    page = refused(client, session, chemistry, workbook(sheet(HEADER_ROW + ASSET_ROW + '<row r="1048576"/>')))
    assert "goes on past row 100,000 of its sheet" in page


def test_too_many_cells_are_refused(client, session, chemistry, app, monkeypatch):
    change_settings(app, monkeypatch, KITSHARE_XLSX_MAX_CELLS=5)
    rows = (
        HEADER_ROW + ASSET_ROW + '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3" t="s"><v>3</v></c></row>'
    )
    page = refused(client, session, chemistry, workbook(sheet(rows)))
    assert "register.xlsx has more than 5 cells (formatted empty cells count too)." in page


def test_a_dtd_with_entities_is_refused_unexpanded(client, session, chemistry):
    page = refused(client, session, chemistry, with_entities())
    assert "register.xlsx contains a document type declaration (DTD) in xl/sharedStrings.xml" in page


def test_malformed_sheet_xml_is_refused(client, session, chemistry):
    page = refused(client, session, chemistry, malformed())
    assert (
        "register.xlsx is damaged: xl/worksheets/sheet1.xml is not well-formed XML (mismatched tag at line 1"
        in page
    )


def test_a_date_cell_that_is_no_date_is_refused(client, session, chemistry):
    page = refused(client, session, chemistry, bad_date())
    assert "Cell C2 of register.xlsx is marked as a date but holds '2026-13-45', which is not a date." in page


def test_a_number_cell_that_is_no_number_is_refused_not_a_500(client, session, chemistry):
    content = workbook(
        sheet(HEADER_ROW + '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="n"><v>lots</v></c></row>')
    )
    page = refused(client, session, chemistry, content)
    assert (
        "register.xlsx could not be read near row 2: a cell there holds a value its type does not allow."
        in page
    )


def test_a_queued_job_whose_file_is_hostile_fails_with_the_same_message(app, session, chemistry):
    # A job's file is checked again when the scheduler runs it, with the same limits.
    actor = session.scalars(select(User).where(User.email == "manager@chem.ac.uk")).one()
    job = import_jobs.queue_import(session, actor, chemistry, "register.xlsx", with_entities())
    session.commit()
    run_import_jobs(app)
    see_committed(session)
    job = session.get(ImportJob, job.id)
    assert job.state == ImportState.FAILED
    assert "contains a document type declaration (DTD) in xl/sharedStrings.xml" in job.message


# --- Memory: the refusal in a process of its own ----------------------------------------------

#: Run in a fresh interpreter: a worker signs in and previews a small good workbook (its
#: baseline), then uploads the hostile file; prints the status, the message and the peak resident
#: memory before and after. The peak is the process's VmHWM: resource.getrusage's ru_maxrss would
#: do, but on Linux a child starts with its parent's (pytest's) high-water mark.
WORKER = r"""
import html, io, json, sys
root, database_url, school_id, email, path, warm_path, instance = sys.argv[1:8]
sys.path.insert(0, root)
from web.app import create_app
from tests.conftest import PASSWORD, settings_for_tests

app = create_app(settings_for_tests(database_url))
app.instance_path = instance
client = app.test_client()
client.post("/sign-in", data={"email": email, "password": PASSWORD})

def peak_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

def post(file_path):
    with open(file_path, "rb") as f:
        content = f.read()
    response = client.post(f"/schools/{school_id}/import", data={"file": (io.BytesIO(content), "register.xlsx")},
                           content_type="multipart/form-data")
    del content
    return response

warm = post(warm_path)
assert warm.status_code == 200, warm.status_code
baseline = peak_kb()
response = post(path)
peak = peak_kb()
text = " ".join(html.unescape(response.get_data(as_text=True)).split())
print(json.dumps({"status": response.status_code, "baseline_kb": baseline, "peak_kb": peak, "text": text}))
"""

HOSTILE = {
    "100 million characters": lambda: one_huge_shared_string(100_000_000),
    "300 million characters": lambda: one_huge_shared_string(300_000_000),
    "a part lying about its size": lying_about_its_size,
    "a DTD with entities": with_entities,
    "too many rows": too_many_rows,
}


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="measures memory with Linux's /proc")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_refusing_a_hostile_workbook_takes_less_than_100_mb_above_the_baseline(
    case, database_url, session, chemistry, tmp_path
):
    hostile = tmp_path / "hostile.xlsx"
    hostile.write_bytes(HOSTILE[case]())
    warm = tmp_path / "warm.xlsx"
    warm.write_bytes(workbook())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        [
            sys.executable,
            "-c",
            WORKER,
            str(ROOT),
            database_url,
            str(chemistry.id),
            "manager@chem.ac.uk",
            str(hostile),
            str(warm),
            str(tmp_path / "instance"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    growth_mb = (outcome["peak_kb"] - outcome["baseline_kb"]) / 1024
    print(
        f"{case}: {hostile.stat().st_size / 1024:,.0f} KB file, worker baseline "
        f"{outcome['baseline_kb'] / 1024:,.0f} MB, peak {outcome['peak_kb'] / 1024:,.0f} MB (+{growth_mb:,.0f} MB), "
        f"answer {outcome['status']}"
    )
    assert outcome["status"] == 400
    assert "register.xlsx" in outcome["text"] and "Check the file" in outcome["text"]
    assert growth_mb < 100
