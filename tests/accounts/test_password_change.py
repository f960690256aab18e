"""A person changes their own password; a new password (changed, reset or set by an admin) and
signing out end sessions on the server, and revoke API tokens and the calendar-feed address."""

import datetime as dt

from sqlalchemy import func, select

from accounts import service
from accounts.models import ApiToken, Role, User
from core.db import utcnow
from tests.conftest import PASSWORD, see_committed, sign_in
from tests.factories import make_school, make_user

NEW = "a long new passphrase"


def _change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/profile/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def test_the_profile_links_to_the_change_password_page(client, session):
    sign_in(client, make_user(session, make_school(session)).email)
    assert 'href="/profile/password"' in client.get("/profile").text
    page = client.get("/profile/password").text
    for label in ("Current password", "New password", "Confirm new password"):
        assert f">{label}</label>" in page


def test_a_wrong_current_password_is_refused_and_counts_as_a_failed_sign_in(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    response = _change(client, current="not my password")
    assert response.status_code == 400
    assert service.WRONG_CURRENT_PASSWORD in response.text
    see_committed(session)
    assert service.authenticate(session, user.email, PASSWORD) is not None
    assert service.attempts_counted(session, user.email) == 1


def test_after_too_many_wrong_current_passwords_even_the_right_one_waits(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    for _ in range(service.MAX_FAILURES_PER_EMAIL):
        _change(client, current="a wrong guess")
    response = _change(client)
    assert response.status_code == 400 and "Too many wrong passwords. Wait 15 minutes" in response.text
    see_committed(session)
    assert service.authenticate(session, user.email, PASSWORD) is not None


def test_a_short_new_password_and_a_mismatch_are_refused(client, session):
    sign_in(client, make_user(session, make_school(session)).email)
    short = _change(client, new="short")
    assert (
        short.status_code == 400 and f"Use at least {service.MIN_PASSWORD_LENGTH} characters." in short.text
    )
    mismatch = _change(client, confirm=NEW + "!")
    assert mismatch.status_code == 400 and "The two new passwords differ." in mismatch.text


def test_the_browser_that_changed_it_stays_signed_in_and_every_other_session_ends(app, client, session):
    user = make_user(session, make_school(session))
    other = app.test_client()
    sign_in(client, user.email)
    sign_in(other, user.email, remember=True)
    response = _change(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile")
    assert "Your password was changed. You were signed out everywhere else" in client.get("/profile").text
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert sign_in(app.test_client(), user.email, NEW).status_code == 302


def test_a_remembered_browser_stays_remembered_after_its_own_change(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email, remember=True)
    before = client.get_cookie("kitshare_remember").value
    _change(client)
    after = client.get_cookie("kitshare_remember")
    assert after is not None and after.value != before
    client.delete_cookie("kitshare_session")  # the browser closed; the remember-me cookie brings it back
    assert client.get("/").status_code == 200


def test_a_new_password_revokes_api_tokens_and_the_calendar_feed_address(client, session):
    user = make_user(session, make_school(session))
    now = utcnow()
    service.create_api_token(session, user, "Script")
    service.create_api_token(session, user, "Old", expires_at=now - dt.timedelta(days=1))
    _, revoked_before = service.create_api_token(session, user, "Revoked")
    service.revoke_api_token(session, user, service.find_api_token(session, revoked_before, now).id)
    feed = user.calendar_token
    session.commit()
    sign_in(client, user.email)
    _change(client)
    assert "your 1 API token and calendar links were revoked" in client.get("/profile").text
    see_committed(session)
    assert (
        session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))) == 0
    )
    assert session.get(User, user.id).calendar_token != feed
    assert client.get(f"/calendar/user/{feed}.ics").status_code == 404


def test_tokens_made_after_the_change_work(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    _change(client)
    client.post("/profile", data={"name": "New script", "password": NEW, "lifetime_days": "365"})
    see_committed(session)
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "New script")) is None


def test_a_person_without_a_password_is_sent_to_single_sign_on(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    session.get(User, user.id).password_hash = None
    session.commit()
    page = client.get("/profile/password").text
    assert "single sign-on" in page and 'name="current_password"' not in page
    assert _change(client).status_code == 400


def test_an_admin_setting_a_password_revokes_the_persons_tokens(client, session):
    school = make_school(session)
    admin, person = make_user(session, school, Role.ADMIN), make_user(session, school)
    service.create_api_token(session, person, "Script")
    session.commit()
    sign_in(client, admin.email)
    form = client.get(f"/admin/users/{person.id}")
    assert form.status_code == 200
    response = client.post(
        f"/admin/users/{person.id}",
        data={
            "email": person.email,
            "name": person.name,
            "home_school": school.id,
            "active": "y",
            "password": NEW,
        },
    )
    assert response.status_code == 302
    see_committed(session)
    assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == person.id)) is not None


def test_an_admin_who_sets_their_own_password_stays_signed_in(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.ADMIN)
    sign_in(client, admin.email)
    response = client.post(
        f"/admin/users/{admin.id}",
        data={
            "email": admin.email,
            "name": admin.name,
            "home_school": school.id,
            "active": "y",
            "is_admin": "y",
            "password": NEW,
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_cookie_saved_before_sign_out_opens_nothing(app, client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email, remember=True)
    saved_session = client.get_cookie("kitshare_session").value
    saved_remember = client.get_cookie("kitshare_remember").value
    client.post("/sign-out")
    for name, value in (("kitshare_session", saved_session), ("kitshare_remember", saved_remember)):
        replay = app.test_client()
        replay.set_cookie(name, value)
        assert replay.get("/profile").status_code == 302, name


def test_the_new_user_page_points_at_the_change_password_page(client, session):
    sign_in(client, make_user(session, make_school(session), Role.ADMIN).email)
    assert "/profile/password" in client.get("/admin/users/new").text
