"""Issue 15, point 8 (with 5, 9, 10 and 11): finance reads the report and the capital plan from
their summaries.

On the demo university, on a desktop (1280 px) and a phone (390 px), finance signs in and opens the
report from the navigation: last month's summary is the first thing under the page's heading, with
utilisation and its change on the month before, actual utilisation with what it covers, and the
most idle and saturated assets. The page is a few screens, not the ~30,000 px it was: each table is
folded under its heading with its count. She opens the assets table (50 rows a page, with links to
the others), downloads the CSV (a byte-order mark first, for Excel, and every asset in it), and
opens the capital plan, which leads with its own summary.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import VIEWPORTS, screenshot

#: The old report page was ~30,000 px tall at 1280 px and the capital plan ~78,000 px.
MOST_PAGE_HEIGHT = 8_000


def _height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_finance_reads_the_summary_then_opens_the_tables_and_downloads(demo, viewport, tmp_path):
    page = demo.page(viewport, sign_in="finance")
    screen = VIEWPORTS[viewport]
    if viewport == "phone":
        page.goto("/reports/utilisation")
    else:
        page.get_by_role("navigation").get_by_role("link", name="Reports").click()
        page.wait_for_url("**/reports/utilisation")

    summary = page.get_by_role("heading", name=re.compile(r": All Schools$"))
    assert summary.is_visible()
    summary_title = summary.inner_text()
    assert summary.bounding_box()["y"] < screen["height"], "the summary is on the first screen"
    card = page.locator("section.report-summary")
    text = card.inner_text()
    assert re.search(r"Utilisation\s+\d+\.\d%", text)
    assert re.search(r"[+−±]\d+\.\d points on 1–31 Oct 2026", text), text
    assert "Actual utilisation" in text
    assert re.search(
        r"\d+ assets? that records? use: [\d,]+\.\d of [\d,]+\.\d available hours|No asset in these figures records use",
        text,
    )
    assert re.search(r"Cost recovery\s+£[\d,]+\s", text) and not re.search(
        r"£[\d,]+\.\d\d", text
    )  # to the pound
    idle = page.locator("section[aria-labelledby='top-idle-title'] li")
    assert 1 <= idle.count() <= 5
    assert "booked (under 10.0%)" in idle.first.inner_text()  # each says why it is there
    assert page.locator("section[aria-labelledby='top-saturated-title']").is_visible()
    screenshot(page, f"15-08-report-summary-{viewport}")
    assert _height(page) < MOST_PAGE_HEIGHT
    assert _width(page) <= screen["width"]

    # The assets table is folded under its heading with its count; it opens without JavaScript.
    fold = page.locator("details#assets")
    heading = fold.locator("summary")
    count = int(re.search(r"By asset \(([\d,]+)\)", heading.inner_text()).group(1).replace(",", ""))
    assert count > 100
    assert not page.locator("#table-assets").is_visible()
    heading.click()
    assert page.locator("#table-assets").is_visible()
    assert page.locator("#table-assets tbody tr").count() == 50
    assert f"Assets 1–50 of {count}" in fold.inner_text()
    fold.get_by_role("link", name="Next page of assets").click()
    page.wait_for_url(re.compile(r"assets_page=2"))
    assert page.get_by_role("heading", name=re.compile(r": All Schools$")).inner_text() == summary_title
    assert page.locator("#table-assets").is_visible()  # the page asked for comes open
    assert f"Assets 51–100 of {count}" in page.locator("details#assets").inner_text()
    assert _width(page) <= screen["width"]

    # The CSV has everything, and a byte-order mark for Excel.
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    path = tmp_path / "report.csv"
    download.value.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "Cost recovery (£)" in text
    by_asset = text.split("\r\nBy asset\r\n", 1)[1].split("\r\n\r\n", 1)[0].splitlines()
    assert len(by_asset) - 1 == count

    # The capital plan leads with its summary too.
    if viewport == "phone":
        page.goto("/planning")
    else:
        page.get_by_role("navigation").get_by_role("link", name="Capital planning").click()
        page.wait_for_url("**/planning")
    plan = page.locator("section.report-summary")
    assert plan.get_by_role("heading", name="All Schools").is_visible()
    plan_text = plan.inner_text()
    assert re.search(r"Replacement estimate\s+£[\d,]+\s", plan_text)
    assert "Decisions pending" in plan_text
    kinds = plan.locator(".kind-counts li").all_inner_texts()
    assert [re.sub(r": \d+.*$", "", k) for k in kinds] == [
        "Replace",
        "Invest: a second unit or a shared facility",
        "Share",
        "Dispose or redeploy",
    ]
    screenshot(page, f"15-08-plan-summary-{viewport}")
    assert _height(page) < MOST_PAGE_HEIGHT
    assert _width(page) <= screen["width"]
    # Each kind's list is folded with its count; opened, it shows a page of recommendations.
    first_kind = page.locator("details[id^='kind-']").first
    label = first_kind.locator("summary").inner_text()
    shown = int(re.search(r"\((\d+),", label).group(1))
    first_kind.locator("summary").click()
    assert first_kind.locator("article.recommendation").count() == min(shown, 10)
