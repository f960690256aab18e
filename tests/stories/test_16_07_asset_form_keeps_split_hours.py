"""Issue 16, point 7: the asset form edits every span of bookable hours.

Before: the form had one opens/closes pair a weekday, so saving it after changing only the
description silently deleted a day split in two (09:00-12:00 and 13:00-17:00, which the API
and the import accept). Now each day shows all its spans and an empty row to add one.
"""

from __future__ import annotations

from tests.stories.asset_changes import api, api_token, chem_asset, hours_body, hours_of, see_committed

SPLIT = [[0, "09:00", "12:00"], [0, "13:00", "17:00"], [1, "09:00", "17:00"]]


def test_saving_the_form_keeps_a_split_day_and_can_add_a_span(demo):
    session = demo.session()
    asset = chem_asset(session)
    status, body = api(
        demo,
        api_token(demo, "manager.chem"),
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"weekly_hours": hours_body(SPLIT)},
    )
    assert status == 200, body

    for viewport in ("desktop", "phone"):
        page = demo.page(viewport, sign_in="manager.chem")
        page.goto(f"/assets/{asset.id}/edit")
        # Monday shows both of its spans.
        assert page.locator("input[name='hours-0-opens']").input_value() == "09:00"
        assert page.locator("input[name='hours-0-closes']").input_value() == "12:00"
        assert page.locator("input[name='hours-0-extra-0-opens']").input_value() == "13:00"
        assert page.locator("input[name='hours-0-extra-0-closes']").input_value() == "17:00"
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
        page.close()

    page = demo.page(sign_in="manager.chem")
    page.goto(f"/assets/{asset.id}/edit")
    page.get_by_label("Description").fill("Only the description changed.")
    page.get_by_role("button", name="Save asset").click()
    page.wait_for_url(f"**/assets/{asset.id}")
    see_committed(session)
    assert hours_of(session, asset.id) == sorted(SPLIT)

    # Tuesday gets an evening span in the empty row under it.
    page.goto(f"/assets/{asset.id}/edit")
    page.locator("input[name='hours-1-extra-0-opens']").fill("18:00")
    page.locator("input[name='hours-1-extra-0-closes']").fill("20:00")
    page.get_by_role("button", name="Save asset").click()
    page.wait_for_url(f"**/assets/{asset.id}")
    see_committed(session)
    assert hours_of(session, asset.id) == sorted(SPLIT + [[1, "18:00", "20:00"]])

    # Overlapping spans are a form error, and nothing changes.
    page.goto(f"/assets/{asset.id}/edit")
    page.locator("input[name='hours-0-extra-0-opens']").fill("11:00")
    page.get_by_role("button", name="Save asset").click()
    assert "On Mon the bookable hours overlap." in page.content()
    see_committed(session)
    assert hours_of(session, asset.id) == sorted(SPLIT + [[1, "18:00", "20:00"]])
