"""Browser tests: Playwright for Python driving Debian's Chromium against the live app.

The browser is never downloaded: it is /usr/bin/chromium (``apt-get install chromium``; .ci/run
installs it). Without it these tests skip on a developer's machine and fail in CI.
Screenshots of each main page, on a desktop and a 390 px phone, go to test-output/screenshots/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home on a closed network
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def new_page(browser, live_server):
    """Open pages in a fresh browser context: ``new_page()`` for a desktop, ``new_page("phone")``."""
    contexts = []

    def open_page(viewport: str = "desktop"):
        # bypass_csp lets axe-core be injected; the app's own pages run under the real policy.
        # A UK browser: dates and times show as people at the university see them.
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            base_url=live_server,
            bypass_csp=True,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in_as(page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


def serious_accessibility_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the current page, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    _record_axe(page, results.response["violations"])
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _record_axe(page, violations: list[dict]) -> None:
    """Keep every page's axe findings, of any impact, in test-output/axe-results.jsonl: the
    record behind the per-page accessibility results (the assertion only stops on serious ones)."""
    impacts: dict[str, int] = {}
    for violation in violations:
        impacts[violation["impact"]] = impacts.get(violation["impact"], 0) + len(violation["nodes"])
    entry = {
        "page": urlsplit(page.url).path,
        "width": page.viewport_size["width"],
        "violations": impacts,
        "rules": sorted({violation["id"] for violation in violations}),
    }
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS.parent / "axe-results.jsonl").open("a") as out:
        out.write(json.dumps(entry) + "\n")


@pytest.fixture(scope="session", autouse=True)
def _fresh_axe_record() -> Iterator[None]:
    """Each run's axe record starts empty."""
    (SCREENSHOTS.parent / "axe-results.jsonl").unlink(missing_ok=True)
    yield
