"""Issue 16, point 8: an edit made against an older version of an asset is refused with what
changed, on the page (the form kept) and in the API (ETag, If-Match, 412).

Before: a manager's edit form, opened before an admin's API change, silently undid it (the
approval requirement and the hourly rate went back).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from inventory.models import Asset
from tests.stories.asset_changes import api, api_token, chem_asset, see_committed


def _request(demo, token: str, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        demo.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def test_a_form_opened_before_an_api_change_does_not_undo_it(demo):
    session = demo.session()
    asset = chem_asset(session)
    asset.requires_approval, asset.hourly_rate_pence = False, 1200
    session.commit()
    page = demo.page(sign_in="manager.chem")
    page.goto(f"/assets/{asset.id}/edit")  # the manager opens the form ...

    status, body = api(
        demo,
        api_token(demo, "admin"),
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"requires_approval": True, "hourly_rate_pence": 1500},
    )  # ... the admin changes it ...
    assert status == 200, body

    page.get_by_label("Description").fill("Recalibrated in December.")  # ... the manager saves
    page.get_by_role("button", name="Save asset").click()

    text = page.locator(".error-summary").inner_text()
    assert "Somebody changed this asset after you opened this form, so nothing was saved." in text
    assert "Needs approval: no → yes" in text
    assert "Hourly rate: £12.00 → £15.00" in text
    assert page.get_by_label("Description").input_value() == "Recalibrated in December."  # the form is kept
    see_committed(session)
    saved = session.get(Asset, asset.id)
    assert (saved.requires_approval, saved.hourly_rate_pence) == (True, 1500)
    assert saved.description != "Recalibrated in December."

    # Saving again is a knowing choice, and now goes through.
    page.get_by_label("Every booking needs a manager's approval").check()
    page.get_by_label("Hourly rate for cost recovery (£)").fill("15.00")
    page.get_by_role("button", name="Save asset").click()
    page.wait_for_url(f"**/assets/{asset.id}")
    see_committed(session)
    saved = session.get(Asset, asset.id)
    assert (saved.requires_approval, saved.hourly_rate_pence, saved.description) == (
        True,
        1500,
        "Recalibrated in December.",
    )


def test_the_api_sends_an_etag_and_refuses_a_stale_if_match_with_412(demo):
    session = demo.session()
    asset = chem_asset(session)
    token = api_token(demo, "manager.chem")
    status, headers, first = _request(demo, token, "GET", f"/api/v1/assets/{asset.id}")
    assert status == 200
    tag = headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')

    # Someone else changes it (hours only: that is a change of the asset too).
    status, _, _ = _request(
        demo,
        api_token(demo, "admin"),
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"weekly_hours": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]},
    )
    assert status == 200
    status, headers, problem = _request(
        demo, token, "PATCH", f"/api/v1/assets/{asset.id}", {"hourly_rate_pence": 99}, {"If-Match": tag}
    )
    assert status == 412
    assert headers["Content-Type"] == "application/problem+json"
    assert problem["type"].endswith("stale-version") and problem["status"] == 412
    see_committed(session)
    assert session.get(Asset, asset.id).hourly_rate_pence != 99

    status, headers, _ = _request(demo, token, "GET", f"/api/v1/assets/{asset.id}")
    status, after, body = _request(
        demo,
        token,
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"hourly_rate_pence": 99},
        {"If-Match": headers["ETag"]},
    )
    assert status == 200, body
    assert after["ETag"] != headers["ETag"]
    see_committed(session)
    assert session.get(Asset, asset.id).hourly_rate_pence == 99
