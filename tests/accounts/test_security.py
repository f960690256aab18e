"""Sign-in lockout, password reset by e-mail, single sign-on, the health check, structured logs."""

import datetime as dt
import json
import re

import pytest
import time_machine
from sqlalchemy import select

from accounts import service
from core.db import utcnow
from notifications.models import OutboxMessage
from notifications.password_resets import mail_password_resets
from tests.conftest import PASSWORD, TEST_SECRET, see_committed, settings_for_tests, sign_in
from tests.factories import make_school, make_user
from web.app import create_app


def test_five_failures_lock_an_address_with_the_same_message_whether_or_not_it_exists(client, session):
    user = make_user(session, make_school(session))
    for email in (user.email, "nobody@test.ac.uk"):
        for _ in range(service.MAX_FAILURES_PER_EMAIL):
            assert sign_in(client, email, "wrong password").status_code == 400
        locked = sign_in(client, email, PASSWORD if email == user.email else "x")
        assert locked.status_code == 429
        assert "Too many failed sign-ins. Wait 15 minutes" in locked.text
    assert client.get("/").status_code == 302  # the right password did not get in while locked


def test_the_lock_lifts_after_the_window(client, session):
    user = make_user(session, make_school(session))
    with time_machine.travel(dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC), tick=False) as clock:
        for _ in range(service.MAX_FAILURES_PER_EMAIL):
            sign_in(client, user.email, "wrong password")
        assert sign_in(client, user.email).status_code == 429
        clock.shift(service.LOCKOUT_WINDOW + dt.timedelta(seconds=1))
        assert sign_in(client, user.email).status_code == 302


def test_a_successful_sign_in_clears_earlier_failures(client, session):
    user = make_user(session, make_school(session))
    for _ in range(service.MAX_FAILURES_PER_EMAIL - 1):
        sign_in(client, user.email, "wrong password")
    assert sign_in(client, user.email).status_code == 302
    client.post("/sign-out")
    for _ in range(service.MAX_FAILURES_PER_EMAIL - 1):
        sign_in(client, user.email, "wrong password")
    assert sign_in(client, user.email).status_code == 302


def mail_reset_requests(session) -> int:
    """Run the outbox job's first step, which writes the reset e-mails the form recorded."""
    see_committed(session)
    queued = mail_password_resets(session, TEST_SECRET, "http://kitshare.test", utcnow())
    session.commit()
    return queued


def _reset_link(session, email):
    mail_reset_requests(session)
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == email)).one()
    return re.search(r"http://\S+/password-reset/(\S+)", message.body_text).group(1)


def test_password_reset_by_email_works_once(client, session):
    user = make_user(session, make_school(session))
    response = client.post("/password-reset", data={"email": user.email.upper()}, follow_redirects=True)
    assert "If an account has that address" in response.text
    token = _reset_link(session, user.email)
    assert (
        client.post(
            f"/password-reset/{token}", data={"password": "a new passphrase", "confirm": "a new passphrase"}
        ).status_code
        == 302
    )
    assert sign_in(client, user.email, "a new passphrase").status_code == 302
    client.post("/sign-out")
    reused = client.post(
        f"/password-reset/{token}",
        data={"password": "another one!!", "confirm": "another one!!"},
        follow_redirects=True,
    )
    assert "expired or has been used" in reused.text
    assert sign_in(client, user.email, "another one!!").status_code == 400


def test_a_reset_link_expires_after_an_hour(client, session):
    user = make_user(session, make_school(session))
    with time_machine.travel(dt.datetime(2030, 1, 7, 10, tzinfo=dt.UTC), tick=False) as clock:
        client.post("/password-reset", data={"email": user.email})
        token = _reset_link(session, user.email)
        clock.shift(dt.timedelta(hours=1, minutes=1))
        response = client.get(f"/password-reset/{token}", follow_redirects=True)
        assert "expired or has been used" in response.text


def test_asking_for_an_unknown_address_says_the_same_and_sends_nothing(client, session):
    response = client.post("/password-reset", data={"email": "ghost@test.ac.uk"}, follow_redirects=True)
    assert "If an account has that address" in response.text
    assert mail_reset_requests(session) == 0
    assert session.scalar(select(OutboxMessage.id)) is None


def test_a_forged_reset_token_is_refused(client, session):
    response = client.get("/password-reset/not-a-real-token", follow_redirects=True)
    assert "expired or has been used" in response.text


@pytest.fixture
def sso_client(database_url, app):
    sso_app = create_app(
        settings_for_tests(
            database_url, KITSHARE_SSO_HEADER="X-Remote-User", KITSHARE_SSO_TRUSTED_PROXIES="10.0.0.5/32"
        )
    )
    return sso_app.test_client()


def test_single_sign_on_trusts_the_header_only_from_the_configured_proxy(sso_client, session):
    make_user(session, make_school(session), email="jo.bloggs@test.ac.uk", name="Jo Bloggs")
    trusted = sso_client.get(
        "/", headers={"X-Remote-User": "jo.bloggs@test.ac.uk"}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    )
    assert trusted.status_code == 200 and "Hello, Jo Bloggs" in trusted.text
    spoofed = sso_client.get(
        "/", headers={"X-Remote-User": "jo.bloggs@test.ac.uk"}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert spoofed.status_code == 302
    unknown = sso_client.get(
        "/", headers={"X-Remote-User": "stranger@test.ac.uk"}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    )
    assert unknown.status_code == 302


def test_single_sign_on_is_off_unless_configured(client, session):
    make_user(session, make_school(session), email="jo.bloggs@test.ac.uk")
    assert client.get("/", headers={"X-Remote-User": "jo.bloggs@test.ac.uk"}).status_code == 302


def test_the_health_check_answers_when_the_database_does(client, session):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_requests_are_logged_as_json_lines_in_production_format(database_url, app, capsys):
    json_app = create_app(settings_for_tests(database_url, KITSHARE_LOG_FORMAT="json"))
    json_app.test_client().get("/sign-in")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    request_line = next(line for line in lines if line.get("path") == "/sign-in")
    assert request_line["status"] == 200 and request_line["method"] == "GET" and "ms" in request_line
