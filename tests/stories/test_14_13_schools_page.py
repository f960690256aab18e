"""Issue 14, point 13: the Schools page shows each School's assets, managers and waiting requests.

Anyone signed in reads, for each School, how many assets it has, who manages it (to write to)
and how many booking requests wait for its managers, as a table that also reads on a phone. A
manager follows the count to her queue, filtered to that School.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from accounts.models import User, school_managers
from bookings.models import Booking, BookingStatus
from core.db import utcnow
from inventory.models import Asset, AssetStatus, School
from tests.e2e.conftest import screenshot, serious_accessibility_violations


def _expected(session) -> dict[str, tuple[int, list[str], int]]:
    """School code -> (assets not retired, managers' names, requests waiting), from the database."""
    expected = {}
    for school in session.scalars(select(School)):
        assets = session.scalar(
            select(func.count(Asset.id)).where(
                Asset.school_id == school.id, Asset.status != AssetStatus.RETIRED
            )
        )
        managers = session.scalars(
            select(User.name)
            .join(school_managers, school_managers.c.user_id == User.id)
            .where(school_managers.c.school_id == school.id, User.active.is_(True))
            .order_by(User.name)
        ).all()
        waiting = session.scalar(
            select(func.count(Booking.id))
            .join(Booking.asset)
            .where(
                Asset.school_id == school.id,
                Booking.status == BookingStatus.PENDING,
                Booking.end_at > utcnow(),
            )
        )
        expected[school.code] = (assets, list(managers), waiting)
    return expected


def _row(page, code: str):
    return page.locator("table tbody tr", has=page.get_by_role("rowheader", name=re.compile(rf"\b{code}\b")))


def _number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


def test_a_technician_reads_each_schools_assets_managers_and_waiting_requests(demo):
    session = demo.session()
    expected = _expected(session)
    page = demo.page(sign_in="tom.whitfield")
    page.goto("/schools")
    headers = page.locator("table thead th").all_inner_texts()
    assert headers == ["School", "Assets", "Managers", "Requests waiting"]
    assert page.locator("table tbody tr").count() == len(expected) == 6
    for code, (assets, managers, waiting) in expected.items():
        cells = _row(page, code).locator("td")
        assert _number(cells.nth(0).inner_text()) == assets
        assert cells.nth(1).inner_text() == ", ".join(managers)
        assert _number(cells.nth(2).inner_text()) == waiting
    assert expected["BIOS"][1] == ["Dr Ruth Campbell", "Ngozi Eze"]
    assert expected["CHEM"][2] > 0
    # A technician decides nothing: the counts are not links to a queue.
    assert _row(page, "CHEM").locator("td").nth(2).get_by_role("link").count() == 0
    # The managers can be written to.
    assert _row(page, "CHEM").get_by_role("link", name="Dr Helen Marsh").get_attribute("href") == (
        f"mailto:{demo.email('manager.chem')}"
    )
    assert serious_accessibility_violations(page) == []


def test_a_manager_goes_from_the_count_to_her_queue_for_that_school(demo):
    session = demo.session()
    expected = _expected(session)
    page = demo.page(sign_in="facilities.manager")  # manages ENG and PHYS
    page.goto("/schools")
    assert _row(page, "CHEM").locator("td").nth(2).get_by_role("link").count() == 0
    _row(page, "PHYS").get_by_role("link", name=re.compile("requests waiting for PHYS")).click()
    page.wait_for_url(re.compile(r"/approvals\?owner=\d+$"))
    assert f"{expected['PHYS'][2]} requests are waiting" in page.get_by_role("status").first.inner_text()


def test_the_schools_page_reads_on_a_phone(demo):
    session = demo.session()
    expected = _expected(session)
    page = demo.page(viewport="phone", sign_in="tom.whitfield")
    page.goto("/schools")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Each row says what each number is, as the column headers are out of sight: the cells stack
    # under the School's name, each labelled.
    row = _row(page, "CHEM")
    labels = row.locator("td").evaluate_all(
        "cells => cells.map(td => getComputedStyle(td, '::before').content)"
    )
    # (the label is decoration to screen readers: they hear the column header instead)
    assert labels == ['"Assets" / ""', '"Managers" / ""', '"Requests waiting" / ""']
    assert (
        row.locator("td").evaluate_all("cells => cells.map(td => getComputedStyle(td).display)")
        == ["flow-root"] * 3
    )
    assets, managers, waiting = expected["CHEM"]
    assert row.inner_text().split("\n") == [
        "School of Chemistry CHEM",
        str(assets),
        ", ".join(managers),
        str(waiting),
    ]
    screenshot(page, "story-14-13-schools")
    assert serious_accessibility_violations(page) == []
