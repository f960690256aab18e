"""Issue 18, point 3: a technical manager opens her own profile from her account page, picks a
period, reads her contribution record, and downloads it as CSV and as Excel for her appraisal;
the counts in both are the page's and the database's. The profile and edit pages pass axe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from accounts.models import User
from core.db import utcnow
from core.timeutil import to_local
from people.contribution import KINDS, contribution_record
from tests.e2e.conftest import screenshot, serious_accessibility_violations


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_manager_downloads_her_contribution_record(demo, viewport, tmp_path):
    session = demo.session()
    helen = session.scalars(select(User).where(func.lower(User.email) == demo.email("manager.chem"))).one()
    today = to_local(utcnow()).date()
    period_from, period_to = today - dt.timedelta(days=180), today
    expected = contribution_record(session, helen, helen.id, period_from, period_to).counts
    assert sum(expected.values()) - expected["assets"] > 0, "the demo should give her a record"

    page = demo.page(viewport=viewport, sign_in="manager.chem")
    page.goto("/profile")
    page.get_by_role("link", name="Your profile as others see it").click()
    page.wait_for_url(f"**/people/{helen.id}")
    assert serious_accessibility_violations(page) == []
    page.get_by_label("From").fill(period_from.isoformat())
    page.get_by_label("To (included)").fill(period_to.isoformat())
    page.get_by_role("button", name="Show the record").click()
    page.wait_for_url(re.compile(r"from=\d{4}-\d\d-\d\d&to="))
    shown = {
        kind: int(page.locator(f"#record-summary td[data-kind='{kind}']").inner_text()) for kind in KINDS
    }
    assert shown == expected
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert serious_accessibility_violations(page) == []
    screenshot(page, "story-18-06-record")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the record (CSV)").click()
    path = tmp_path / "record.csv"
    download.value.save_as(path)
    assert download.value.suggested_filename.startswith(f"contribution-{helen.id}-")
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert {row[0]: int(row[1]) for row in rows[2 : 2 + len(KINDS)]} == {
        KINDS[k]: n for k, n in expected.items()
    }
    assert len(rows) - (4 + len(KINDS)) == sum(expected.values())

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the record (Excel)").click()
    path = tmp_path / "record.xlsx"
    download.value.save_as(path)
    summary = load_workbook(path)["Summary"]
    assert {row[0]: row[1] for row in summary.iter_rows(min_row=3, values_only=True)} == {
        KINDS[k]: n for k, n in expected.items()
    }


def test_the_edit_page_and_the_team_page_pass_axe_and_fit_a_phone(demo):
    session = demo.session()
    helen = session.scalars(select(User).where(func.lower(User.email) == demo.email("manager.chem"))).one()
    page = demo.page(viewport="phone", sign_in="manager.chem")
    page.goto(f"/people/{helen.id}/edit")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Edit profile")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
    page.get_by_label("Role title").fill("Technical Manager, Chemistry")
    page.get_by_role("group", name="Role title").get_by_label("Only my School").check()
    page.get_by_role("button", name="Save profile").click()
    page.wait_for_url(f"**/people/{helen.id}")
    assert "Technical Manager, Chemistry" in page.locator("dl.facts").inner_text()
    page.goto(f"/schools/{helen.home_school_id}/team")
    assert page.locator("table#coverage tbody tr").count() > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
    screenshot(page, "story-18-06-team")
