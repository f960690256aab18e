"""Issue 18, point 2: a researcher who needs help with a confocal microscope finds the
technicians who run one, in any School, from the menu or from the microscope's own page, on a
desktop and on a phone; the pages pass axe."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from accounts.models import User
from inventory.models import Asset
from people.service import ExpertQuery, find_experts
from tests.e2e.conftest import screenshot, serious_accessibility_violations


def _expected(demo, person: str, query: ExpertQuery) -> list[str]:
    session = demo.session()
    viewer = session.scalars(select(User).where(func.lower(User.email) == demo.email(person))).one()
    return [view.user.name for view in find_experts(session, viewer, query)]


def _names(page) -> list[str]:
    return page.locator("ul.results h3 a").all_inner_texts()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_a_researcher_finds_who_runs_a_confocal_microscope(demo, viewport):
    expected = _expected(demo, "tom.whitfield", ExpertQuery(technique="Confocal microscopy"))
    assert expected, "the demo should have confocal experts"
    page = demo.page(viewport=viewport, sign_in="tom.whitfield")
    if viewport == "phone":
        page.goto("/people")
    else:
        page.get_by_role("navigation").get_by_role("link", name="Find an expert").click()
        page.wait_for_url("**/people")
    page.get_by_label("Technique").fill("confocal microscopy")  # case does not matter
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"technique=confocal"))
    assert _names(page) == expected
    assert page.get_by_role(
        "heading", name=f"{len(expected)} {'person' if len(expected) == 1 else 'people'} found"
    ).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert serious_accessibility_violations(page) == []
    screenshot(page, "story-18-05-find-an-expert")

    page.get_by_role("link", name=expected[0]).first.click()
    page.wait_for_url(re.compile(r"/people/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == expected[0]
    specialisms = page.locator("section", has=page.get_by_role("heading", name="Specialisms and techniques"))
    assert specialisms.get_by_role("link", name="Confocal microscopy").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert serious_accessibility_violations(page) == []
    screenshot(page, "story-18-05-profile")


def test_the_microscope_page_names_its_technicians_and_finds_more(demo):
    session = demo.session()
    confocal = session.scalars(
        select(Asset)
        .where(Asset.name.ilike("%confocal microscope%"), Asset.contact_id.is_not(None))
        .order_by(Asset.id)
    ).first()
    page = demo.page(sign_in="tom.whitfield")
    page.goto(f"/assets/{confocal.id}")
    technicians = page.locator("dt:text-is('Technicians') + dd")
    names = technicians.get_by_role("link").all_inner_texts()
    assert confocal.contact.name == names[0]
    technicians.get_by_role("link", name="find experts on this equipment").click()
    page.wait_for_url(re.compile(rf"/people\?asset={confocal.id}$"))
    assert _names(page) == _expected(demo, "tom.whitfield", ExpertQuery(asset_id=confocal.id))
    assert set(names) <= set(_names(page)) | set(names)
    assert serious_accessibility_violations(page) == []
