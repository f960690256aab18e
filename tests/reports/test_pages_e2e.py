"""The report pages in a real browser: no serious accessibility violations on a desktop or a
phone, and the charts drawn without JavaScript.

Playwright runs in a thread of its own here, so these tests can share a run with tests/e2e,
whose session-wide browser keeps Playwright's event loop on the main thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    CHROMIUM,
    LAUNCH_ARGS,
    VIEWPORTS,
    screenshot,
    serious_accessibility_violations,
    sign_in_as,
)

PAGES = [
    "/reports/utilisation?from=2026-10-19&to=2026-10-25",
    "/reports/utilisation?from=2026-10-25&to=2026-10-19",  # with an error on the form
    "/reports/subscriptions",
]


def in_browser(live_server: str, test: Callable[[Any], Any]) -> Any:
    """Run ``test(new_context)`` with a fresh Chromium, in a thread of its own."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")

    def run() -> Any:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            try:

                def new_context(**options: Any) -> Any:
                    context = browser.new_context(base_url=live_server, **options)
                    context.set_default_timeout(15_000)
                    return context

                return test(new_context)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=300)


def test_report_pages_have_no_serious_accessibility_violations(live_server, session, week, finance):
    def check(new_context):
        failures = {}
        for viewport in ("desktop", "phone"):
            # bypass_csp lets axe-core be injected, as in tests/e2e.
            page = new_context(viewport=VIEWPORTS[viewport], bypass_csp=True).new_page()
            sign_in_as(page, finance.email, PASSWORD)
            for number, path in enumerate(PAGES):
                page.goto(path)
                screenshot(page, f"finance{path.split('?')[0].replace('/', '_')}-{number}")
                violations = serious_accessibility_violations(page)
                if violations:
                    failures[f"{viewport} {path}"] = violations
        return failures

    assert in_browser(live_server, check) == {}


def test_the_charts_are_drawn_without_javascript(live_server, session, week, finance):
    def check(new_context):
        page = new_context(java_script_enabled=False).new_page()
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(finance.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto("/reports/utilisation?from=2026-10-19&to=2026-10-25")
        chart = page.get_by_role("img", name="Utilisation by School")
        return chart.is_visible(), chart.bounding_box()["height"]

    visible, height = in_browser(live_server, check)
    assert visible and height > 100
