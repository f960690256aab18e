"""The capital-planning pages in a real browser: no serious accessibility violations on a desktop
or a phone, and the forecast chart drawn without JavaScript. (Playwright runs in a thread of its
own, as in tests/reports/test_pages_e2e.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import VIEWPORTS, screenshot, serious_accessibility_violations, sign_in_as
from tests.planning.conftest import asset, turned_away
from tests.reports.test_pages_e2e import in_browser

PAGES = {
    "finance": ["/planning", "/planning?years=abc", "/planning/lives"],
    "manager": ["/planning"],
}


@pytest.fixture
def register(session, people):
    asset(
        session,
        people.chem,
        tag="CHEM-PRN",
        name="Chem printer",
        category=people.printers,
        purchase_date=dt.date(2019, 4, 1),
        purchase_cost_pence=250_000,
    )
    shy = asset(
        session,
        people.chem,
        tag="CHEM-CAM",
        name="Camera",
        category=people.printers,
        shareable=False,
        purchase_date=dt.date(2017, 5, 1),
        purchase_cost_pence=400_000,
    )
    turned_away(session, shy, people.physicist, dt.date(2025, 10, 6), 4, ["not_shared"])
    asset(
        session,
        people.phys,
        tag="PHYS-OLD",
        name="Old microscope",
        category=people.microscopes,
        purchase_date=dt.date(2016, 9, 1),
        purchase_cost_pence=1_000_000,
    )
    return people


def test_planning_pages_have_no_serious_accessibility_violations(live_server, session, register, on_today):
    people = {"finance": register.finance, "manager": register.chem_manager}

    def check(new_context):
        failures = {}
        for viewport in ("desktop", "phone"):
            for role, paths in PAGES.items():
                page = new_context(viewport=VIEWPORTS[viewport], bypass_csp=True).new_page()
                sign_in_as(page, people[role].email, PASSWORD)
                for number, path in enumerate(paths):
                    page.goto(path)
                    screenshot(page, f"{role}{path.split('?')[0].replace('/', '_')}-{number}")
                    violations = serious_accessibility_violations(page)
                    if violations:
                        failures[f"{viewport} {role} {path}"] = violations
        return failures

    assert in_browser(live_server, check) == {}


def test_the_forecast_chart_is_drawn_without_javascript(live_server, session, register, on_today):
    def check(new_context):
        page = new_context(java_script_enabled=False).new_page()
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(register.finance.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/planning")
        chart = page.get_by_role("img", name="Replacement cost by financial year")
        return chart.is_visible(), chart.bounding_box()["height"]

    visible, height = in_browser(live_server, check)
    assert visible and height > 100
