"""Issue 16, sessions and tokens: tokens expire and need the password, reactivation revives nothing,
form tokens rotate at sign-in, local redirects only, password-reset limits, lockout counting."""

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import select

from accounts import service
from accounts.models import ApiToken, PasswordResetRequest, Role, User
from core.db import utcnow
from notifications.password_resets import mail_password_resets
from tests.api.conftest import Api
from tests.conftest import PASSWORD, TEST_SECRET, see_committed, sign_in
from tests.factories import make_school, make_user
from web.responses import safe_next


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
        "",
        None,
    ],
)
def test_safe_next_refuses_anything_but_a_local_path(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", ["/bookings", "/assets/3?week=2030-01-07#today", "/a?next=//x"])
def test_safe_next_follows_a_local_path(target):
    assert safe_next(target, "/fallback") == target


def test_a_token_made_without_a_lifetime_expires_in_a_year(session):
    user = make_user(session, make_school(session))
    token, _ = service.create_api_token(session, user, "Script")
    assert abs(token.expires_at - (utcnow() + dt.timedelta(days=365))) < dt.timedelta(minutes=1)


def test_the_command_line_token_expires_in_the_days_asked(app, session):
    user = make_user(session, make_school(session))
    result = app.test_cli_runner().invoke(args=["create-token", user.email, "--days", "30"])
    assert result.exit_code == 0, result.output
    see_committed(session)
    expires_at = session.scalar(select(ApiToken.expires_at))
    assert abs(expires_at - (utcnow() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)


def test_an_expired_token_gets_401(client, session):
    user = make_user(session, make_school(session))
    _, secret = service.create_api_token(session, user, "Old", expires_at=utcnow() + dt.timedelta(days=1))
    session.commit()
    assert Api(client, secret).get("/bookings").status_code == 200
    with time_machine.travel(utcnow() + dt.timedelta(days=1, seconds=1)):
        response = Api(client, secret).get("/bookings")
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_making_a_token_on_the_profile_needs_the_right_password_and_a_listed_lifetime(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    for data, message in (
        ({"name": "Script", "lifetime_days": "365"}, "Type your password to make a token."),
        ({"name": "Script", "lifetime_days": "365", "password": "wrong"}, service.WRONG_CURRENT_PASSWORD),
        ({"name": "Script", "lifetime_days": "9999", "password": PASSWORD}, "Not a valid choice"),
    ):
        response = client.post("/profile", data=data)
        assert response.status_code == 400 and message in response.text
    see_committed(session)
    assert session.scalar(select(ApiToken.id)) is None
    assert (
        client.post(
            "/profile", data={"name": "Script", "lifetime_days": "30", "password": PASSWORD}
        ).status_code
        == 200
    )
    see_committed(session)
    assert session.scalar(select(ApiToken.expires_at)) - utcnow() < dt.timedelta(days=30, minutes=1)


def test_wrong_passwords_on_the_token_form_count_towards_the_lockout(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    for _ in range(service.MAX_FAILURES_PER_EMAIL):
        client.post("/profile", data={"name": "x", "lifetime_days": "365", "password": "guess"})
    response = client.post("/profile", data={"name": "x", "lifetime_days": "365", "password": PASSWORD})
    assert response.status_code == 400 and "Too many wrong passwords." in response.text


@pytest.mark.parametrize("deactivated_before", [True, False], ids=["deactivated-now", "deactivated-long-ago"])
def test_reactivating_a_person_does_not_revive_their_tokens_or_feed(client, session, deactivated_before):
    admin = make_user(session, make_school(session), Role.ADMIN)
    person = make_user(session, admin.home_school)
    _, secret = service.create_api_token(session, person, "Script")
    feed = person.calendar_token
    if not deactivated_before:  # deactivated by an older Kitshare, which revoked nothing
        person.active = False
    session.commit()
    sign_in(client, admin.email)
    form = {"email": person.email, "name": person.name, "home_school": person.home_school_id}
    if deactivated_before:
        client.post(f"/admin/users/{person.id}", data=form)  # unticked: deactivated
    client.post(f"/admin/users/{person.id}", data={**form, "active": "y"})
    see_committed(session)
    person = session.get(User, person.id)
    assert person.active
    assert service.find_api_token(session, secret, utcnow()) is None
    assert person.calendar_token != feed
    assert client.get(f"/calendar/user/{feed}.ics").status_code == 404


def _csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_text).group(1)


def test_the_form_token_changes_at_sign_in_and_sign_out(app, session):
    from tests.conftest import settings_for_tests
    from web.app import create_app

    user = make_user(session, make_school(session))
    csrf_app = create_app(settings_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True))
    browser = csrf_app.test_client()
    before = _csrf(browser.get("/sign-in").text)
    with browser.session_transaction() as cookie:
        secret_before = cookie["csrf_token"]
    browser.post("/sign-in", data={"csrf_token": before, "email": user.email, "password": PASSWORD})
    with browser.session_transaction() as cookie:
        assert "csrf_token" not in cookie or cookie["csrf_token"] != secret_before
    assert browser.post("/profile/calendar-token/reset", data={"csrf_token": before}).status_code == 400
    signed_in = _csrf(browser.get("/profile").text)
    browser.post("/sign-out", data={"csrf_token": signed_in})
    with browser.session_transaction() as cookie:
        assert "csrf_token" not in cookie


def test_the_reset_form_records_every_address_alike_and_the_job_mails_only_accounts(client, session):
    user = make_user(session, make_school(session))
    for email in (user.email, "ghost@test.ac.uk"):
        assert client.post("/password-reset", data={"email": email}).status_code == 302
    see_committed(session)
    assert sorted(session.scalars(select(PasswordResetRequest.email))) == sorted(
        [user.email.lower(), "ghost@test.ac.uk"]
    )
    assert mail_password_resets(session, TEST_SECRET, "http://k.test", utcnow()) == 1
    assert mail_password_resets(session, TEST_SECRET, "http://k.test", utcnow()) == 0  # each once


def test_reset_limits_per_address_and_per_client_reveal_nothing(session):
    user = make_user(session, make_school(session))
    now = utcnow()
    for _ in range(service.MAX_RESETS_PER_EMAIL + 1):
        service.request_password_reset(session, user.email, "10.0.0.1", now)
    assert mail_password_resets(session, TEST_SECRET, "http://k.test", now) == service.MAX_RESETS_PER_EMAIL
    for n in range(service.MAX_RESETS_PER_IP - service.MAX_RESETS_PER_EMAIL - 1):
        service.request_password_reset(session, f"x{n}@test.ac.uk", "10.0.0.1", now)
    with pytest.raises(service.TooManyResetRequests):
        service.request_password_reset(session, "y@test.ac.uk", "10.0.0.1", now)
    service.request_password_reset(session, "y@test.ac.uk", "10.0.0.2", now)  # another client may
    with time_machine.travel(now + service.RESET_LIMIT_WINDOW + dt.timedelta(seconds=1), tick=False):
        service.request_password_reset(session, "y@test.ac.uk", "10.0.0.1", utcnow())  # an hour on, again


def test_attempts_are_counted_before_the_password_is_checked_and_a_success_gives_its_back(session):
    now = utcnow()
    email = "someone@test.ac.uk"
    for n in range(1, service.MAX_FAILURES_PER_EMAIL + 1):
        assert service.count_sign_in_attempt(session, email, "10.0.0.1", now) is None
        assert service.attempts_counted(session, email) == n
    locked = service.count_sign_in_attempt(session, email.upper(), "10.0.0.1", now + dt.timedelta(minutes=5))
    assert locked == service.LOCKOUT_WINDOW - dt.timedelta(minutes=5)
    service.forget_sign_in_attempts(session, email, "10.0.0.1")
    assert service.attempts_counted(session, email) == 0
    later = now + service.LOCKOUT_WINDOW
    assert service.count_sign_in_attempt(session, "other@test.ac.uk", "10.0.0.1", later) is None
    assert service.attempts_counted(session, "other@test.ac.uk") == 1
