"""Story 16.2: making an API token needs the password again; tokens expire and show their last use;
a person deactivated and reactivated does not get their old tokens or feed address back.

Tom Whitfield makes a token for a script on his profile. A session alone is not enough: he types
his password again, and chooses how long it works (a year unless he says otherwise). The list
shows when each token expires and when it was last used. An expired token gets 401. When Tom is
away for a term the admin deactivates his account and later reactivates it: his old token and
his old calendar-feed address stay dead, and he makes new ones.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy import select

from accounts.models import ApiToken
from core.db import utcnow
from core.timeutil import format_local
from tests.e2e.conftest import serious_accessibility_violations
from tests.stories.web_client import WebClient


def _api(demo, token: str) -> int:
    return WebClient(demo.url).get("/api/v1/bookings", headers={"Authorization": f"Bearer {token}"}).status


def _make_token(page, name: str, password: str, works_for: str | None = None):
    page.goto("/profile")
    page.get_by_label("Token name").fill(name)
    if works_for:
        page.get_by_label("Works for").select_option(label=works_for)
    page.get_by_label("Your password").fill(password)
    page.get_by_role("button", name="Create token").click()


def _new_token(page) -> str:
    return page.locator("#tokens-title ~ [role=status] code.token").inner_text().strip()


def _feed_path(page) -> str:
    page.goto("/profile")
    return urlsplit(page.locator("#calendar-feeds-title ~ dl code.token").inner_text().strip()).path


def test_a_token_needs_the_password_expires_when_chosen_and_shows_its_last_use(demo):
    page = demo.page(viewport="phone", sign_in="tom.whitfield")
    page.goto("/profile")
    assert page.get_by_label("Works for").input_value() == "365"  # a year unless chosen

    _make_token(page, "Timetable sync", "")
    assert page.get_by_role("alert").filter(has_text="Type your password to make a token.").is_visible()
    _make_token(page, "Timetable sync", "not my password at all")
    assert page.get_by_role("alert").filter(has_text="That is not your current password.").is_visible()
    assert serious_accessibility_violations(page) == []
    with demo.session() as session:
        assert session.scalar(select(ApiToken.id).where(ApiToken.name == "Timetable sync")) is None

    _make_token(page, "Timetable sync", demo.password, works_for="90 days")
    token = _new_token(page)
    row = page.locator("tr", has_text="Timetable sync")
    with demo.session() as session:
        expires_at = session.scalar(select(ApiToken.expires_at).where(ApiToken.name == "Timetable sync"))
    assert abs(expires_at - (utcnow() + dt.timedelta(days=90))) < dt.timedelta(minutes=5)
    assert page.get_by_role("columnheader").all_inner_texts()[3:5] == ["Expires", "Last used"]
    assert row.get_by_role("cell").nth(3).inner_text() == format_local(expires_at)
    assert row.get_by_role("cell").nth(4).inner_text() == "Never"  # not used yet
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    assert _api(demo, token) == 200
    page.goto("/profile")
    with demo.session() as session:
        last_used = session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "Timetable sync"))
    assert last_used is not None
    assert row.get_by_role("cell").nth(4).inner_text() == format_local(last_used)

    # Once it has expired the API refuses it, and the list says so.
    with demo.session() as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.name == "Timetable sync")).one()
        stored.expires_at = utcnow() - dt.timedelta(minutes=1)
        session.commit()
    assert _api(demo, token) == 401
    page.goto("/profile")
    assert row.get_by_text("Expired").is_visible()


def test_reactivating_a_person_does_not_revive_their_old_token_or_feed_address(demo):
    tom = demo.page(sign_in="tom.whitfield")
    _make_token(tom, "Notebook", demo.password)
    token = _new_token(tom)
    feed_path = _feed_path(tom)
    assert _api(demo, token) == 200
    assert WebClient(demo.url).get(feed_path).status == 200

    admin = demo.page(sign_in="admin")
    admin.goto("/admin/users")
    admin.get_by_role("link", name="Tom Whitfield").click()
    admin.get_by_label("Account is active (can sign in)").uncheck()
    admin.get_by_role("button", name="Save").click()
    admin.wait_for_url("**/admin/users")
    assert _api(demo, token) == 401
    admin.get_by_role("link", name="Tom Whitfield").click()
    admin.get_by_label("Account is active (can sign in)").check()
    admin.get_by_role("button", name="Save").click()
    admin.wait_for_url("**/admin/users")

    # Back, but with nothing from before: the old token and feed address still open nothing.
    assert _api(demo, token) == 401
    assert WebClient(demo.url).get(feed_path).status == 404
    tom = demo.page(sign_in="tom.whitfield")
    tom.goto("/profile")
    assert tom.locator("tr", has_text="Notebook").get_by_text("Revoked").is_visible()
    new_feed = _feed_path(tom)
    assert new_feed != feed_path and WebClient(demo.url).get(new_feed).status == 200
    _make_token(tom, "Notebook again", demo.password)
    assert _api(demo, _new_token(tom)) == 200
