"""Issue 15, point 11: every CSV download starts with a UTF-8 byte-order mark, so Excel reads it
as UTF-8 and shows "£" and "–" in the headings; read with ``utf-8-sig`` it parses as before.

The downloads: the utilisation report, a kept copy of it, the capital plan, and the register
export. (The Uniquip feed is for equipment.data.ac.uk's harvester, not a download for Excel: it
stays plain UTF-8, as its specification's examples are.)
"""

from __future__ import annotations

import csv
import io

import pytest
import time_machine
from sqlalchemy import select

from accounts.models import Role
from reports.models import ReportSnapshot
from tests.conftest import see_committed, sign_in
from tests.factories import make_user
from tests.reports.conftest import AFTER

WEEK = "from=2026-10-19&to=2026-10-25"
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def after_the_week():
    with time_machine.travel(AFTER, tick=False):
        yield


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_report_csv_starts_with_a_bom_and_still_parses(client, week, finance):
    sign_in(client, finance.email)
    response = client.get(f"/reports/utilisation.csv?{WEEK}")
    assert response.data.startswith(BOM)
    assert not response.data[3:].startswith(BOM)  # once
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = _rows(response.data)
    assert rows[0] == ["Report", "Utilisation, 19–25 Oct 2026"]  # the en dash, read back whole
    assert ["Cost recovery (£)", "685.00"] in rows


def test_a_kept_copy_downloads_with_a_bom(client, session, week, finance):
    sign_in(client, finance.email)
    client.post(f"/reports/utilisation/snapshot?{WEEK}")
    see_committed(session)
    snapshot = session.scalars(select(ReportSnapshot)).one()
    response = client.get(f"/reports/snapshots/{snapshot.id}.csv")
    assert response.data.startswith(BOM)
    assert _rows(response.data)[0][0] == "Report"


def test_the_capital_plan_csv_starts_with_a_bom(client, week, finance):
    sign_in(client, finance.email)
    response = client.get("/planning.csv")
    assert response.status_code == 200
    assert response.data.startswith(BOM)
    rows = _rows(response.data)
    assert rows[0] == ["Capital plan", "All Schools"]
    assert any("Replacement cost (£)" in row for row in rows)


def test_the_register_export_starts_with_a_bom(client, session, week):
    manager = make_user(session, week.chem, Role.MANAGER, name="Chem Manager")
    sign_in(client, manager.email)
    response = client.get("/register/export.csv")
    assert response.status_code == 200
    assert response.data.startswith(BOM)
    rows = _rows(response.data)
    assert rows[0][0] == "Tag" and {row[0] for row in rows[1:]} >= {"CHEM-A", "CHEM-B"}
