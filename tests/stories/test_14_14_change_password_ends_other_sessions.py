"""Story 14.14: a person changes their password, and every other copy of their sign-in stops working.

Tom Whitfield (a CHEM technician) is signed in on two browsers, one kept signed in for two
weeks (remember-me). He has an API token for a script and subscribes to his calendar feed. He
changes his password on the profile page: the browser he changed it in stays signed in; the
other browser, every copy of the cookies saved before (session and remember-me, replayed over
plain HTTP), the old API token and the old feed address all stop working. Signing out and an
e-mailed password reset end sessions on the server in the same way.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from sqlalchemy import select

from accounts import service
from accounts.models import ApiToken
from tests.e2e.conftest import serious_accessibility_violations
from tests.stories.conftest import DEMO_PASSWORD

NEW_PASSWORD = "a long new passphrase 2026"
SESSION_COOKIE = "kitshare_session"
REMEMBER_COOKIE = "kitshare_remember"
REMEMBER_LABEL = "Keep me signed in on this device for two weeks"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, *, cookies: dict[str, str] | None = None, token: str | None = None) -> tuple[int, str]:
    """One plain HTTP GET, as a script or a thief replaying saved cookies would send it: the
    status and the Location it redirects to (redirects are not followed)."""
    request = urllib.request.Request(url)
    if cookies:
        request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()))
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _saved_cookies(page) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def _opens_profile(demo, cookies: dict[str, str]) -> bool:
    status, location = _get(demo.url + "/profile", cookies=cookies)
    if status == 200:
        return True
    assert status == 302 and "/sign-in" in location, (status, location)
    return False


def _sign_in_remembered(demo, email: str, password: str):
    page = demo.page()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label(REMEMBER_LABEL).check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    return page


def _make_api_token(page, name: str) -> str:
    page.goto("/profile")
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Your password").fill(DEMO_PASSWORD)  # issue 16: a token needs the password again
    page.get_by_role("button", name="Create token").click()
    return page.locator("#tokens-title ~ [role=status] code.token").inner_text().strip()


def _feed_path(page) -> str:
    """The path of the person's calendar feed as the profile shows it (the shown host is the
    configured base URL, not this test's server)."""
    page.goto("/profile")
    shown = page.locator("#calendar-feeds-title ~ dl code.token").inner_text().strip()
    return urlsplit(shown).path


def _redirected_to_sign_in(page) -> bool:
    page.goto("/profile")
    return "/sign-in" in page.url


def test_changing_the_password_signs_out_everywhere_else_and_revokes_tokens_and_feed_links(demo):
    email = demo.email("tom.whitfield")
    changing = demo.page(sign_in="tom.whitfield")
    other = _sign_in_remembered(demo, email, demo.password)
    token = _make_api_token(changing, "Timetable sync")
    feed_path = _feed_path(changing)
    changing_before, other_before = _saved_cookies(changing), _saved_cookies(other)
    assert REMEMBER_COOKIE in other_before
    # Before the change every copy works: the replays below test the server, not the cookies.
    assert _opens_profile(demo, {SESSION_COOKIE: other_before[SESSION_COOKIE]})
    assert _opens_profile(demo, {REMEMBER_COOKIE: other_before[REMEMBER_COOKIE]})
    assert _get(demo.url + "/api/v1/bookings", token=token)[0] == 200
    assert _get(demo.url + feed_path)[0] == 200

    changing.goto("/profile")
    changing.get_by_role("link", name="Change your password").click()
    changing.wait_for_url("**/profile/password")
    assert changing.get_by_role("heading", name="Change your password").is_visible()
    assert serious_accessibility_violations(changing) == []
    changing.get_by_label("Current password").fill("not my password at all")
    changing.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    changing.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    changing.get_by_role("button", name="Change password").click()
    assert changing.get_by_role("alert").filter(has_text="That is not your current password.").is_visible()
    assert "/profile/password" in changing.url

    changing.get_by_label("Current password").fill(demo.password)
    changing.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    changing.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    changing.get_by_role("button", name="Change password").click()
    changing.wait_for_url("**/profile")
    message = changing.get_by_role("status").filter(has_text="Your password was changed.")
    assert message.inner_text().strip() == (
        "Your password was changed. You were signed out everywhere else, and your 1 API token and "
        "calendar links were revoked — make new ones on your profile."
    )

    # The browser that changed it stays signed in, and on its next visit too.
    assert not _redirected_to_sign_in(changing)
    assert _opens_profile(demo, _saved_cookies(changing))
    # Everything else is signed out: the other browser, and every copy saved before the change.
    assert _redirected_to_sign_in(other)
    assert not _opens_profile(demo, {SESSION_COOKIE: other_before[SESSION_COOKIE]})
    assert not _opens_profile(demo, {REMEMBER_COOKIE: other_before[REMEMBER_COOKIE]})
    assert not _opens_profile(demo, {SESSION_COOKIE: changing_before[SESSION_COOKIE]})
    # The old token and the old feed address no longer open anything.
    status, _ = _get(demo.url + "/api/v1/bookings", token=token)
    assert status == 401
    assert _get(demo.url + feed_path)[0] == 404
    # The profile shows the token as revoked and a new feed address that works.
    new_feed_path = _feed_path(changing)
    assert new_feed_path != feed_path and _get(demo.url + new_feed_path)[0] == 200
    assert changing.get_by_role("cell", name="Timetable sync").is_visible()
    assert changing.locator("tr", has_text="Timetable sync").get_by_text("Revoked").is_visible()
    # The new password signs in; the old one no longer does.
    fresh = demo.page()
    fresh.goto("/sign-in")
    fresh.get_by_label("Email address").fill(email)
    fresh.get_by_label("Password").fill(demo.password)
    fresh.get_by_role("button", name="Sign in").click()
    assert fresh.get_by_role("alert").filter(has_text=service.SIGN_IN_FAILED).is_visible()
    fresh.get_by_label("Password").fill(NEW_PASSWORD)
    fresh.get_by_role("button", name="Sign in").click()
    fresh.wait_for_url("**/")


def test_the_form_explains_a_mismatch_and_a_short_password_and_changes_nothing(demo):
    page = demo.page(viewport="phone", sign_in="tom.whitfield")
    page.goto("/profile/password")
    page.get_by_label("Current password").fill(demo.password)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_role("alert").filter(has_text="Use at least 10 characters.").is_visible()
    page.get_by_label("Current password").fill(demo.password)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_role("alert").filter(has_text="The two new passwords differ.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Nothing changed: the old password still signs in elsewhere.
    assert demo.page(sign_in="tom.whitfield").url.endswith("/")


def test_signing_out_ends_the_session_on_the_server(demo):
    page = _sign_in_remembered(demo, demo.email("tom.whitfield"), demo.password)
    saved = _saved_cookies(page)
    assert _opens_profile(demo, {SESSION_COOKIE: saved[SESSION_COOKIE]})
    assert _opens_profile(demo, {REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")

    assert not _opens_profile(demo, {SESSION_COOKIE: saved[SESSION_COOKIE]})
    assert not _opens_profile(demo, {REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})
    assert not _opens_profile(demo, saved)
    # A copy replayed in a whole new browser opens nothing either.
    replay = demo.page()
    replay.context.add_cookies(
        [{"name": name, "value": value, "url": demo.url} for name, value in saved.items()]
    )
    assert _redirected_to_sign_in(replay)


def test_resetting_the_password_by_email_ends_sessions_and_revokes_tokens_and_feed_links(demo):
    email = demo.email("tom.whitfield")
    signed_in = _sign_in_remembered(demo, email, demo.password)
    token = _make_api_token(signed_in, "Notebook")
    feed_path = _feed_path(signed_in)
    saved = _saved_cookies(signed_in)
    with demo.session() as session:
        user = service.find_user_by_email(session, email)
        reset_link = f"/password-reset/{service.password_reset_token(demo.app.config['SECRET_KEY'], user)}"

    resetting = demo.page()
    resetting.goto(reset_link)
    resetting.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    resetting.get_by_label("New password again").fill(NEW_PASSWORD)
    resetting.get_by_role("button", name="Set new password").click()
    resetting.wait_for_url("**/sign-in")
    assert (
        resetting.get_by_role("status")
        .filter(
            has_text="Your password was changed. You were signed out everywhere, and your 1 API token and "
            "calendar links were revoked"
        )
        .is_visible()
    )

    assert _redirected_to_sign_in(signed_in)
    assert not _opens_profile(demo, {SESSION_COOKIE: saved[SESSION_COOKIE]})
    assert not _opens_profile(demo, {REMEMBER_COOKIE: saved[REMEMBER_COOKIE]})
    assert _get(demo.url + "/api/v1/bookings", token=token)[0] == 401
    assert _get(demo.url + feed_path)[0] == 404
    with demo.session() as session:
        revoked = session.scalars(select(ApiToken.revoked_at).where(ApiToken.name == "Notebook")).all()
        assert len(revoked) == 1 and revoked[0] is not None
    # The link worked once; the new password signs in.
    resetting.goto(reset_link)
    assert "/password-reset" in resetting.url and "/password-reset/" not in resetting.url
    resetting.get_by_label("Email address").is_visible()
    fresh = demo.page()
    fresh.goto("/sign-in")
    fresh.get_by_label("Email address").fill(email)
    fresh.get_by_label("Password").fill(NEW_PASSWORD)
    fresh.get_by_role("button", name="Sign in").click()
    fresh.wait_for_url("**/")
