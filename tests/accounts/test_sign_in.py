"""Signing in and out."""

from sqlalchemy import select

from accounts import service
from accounts.models import Role, User
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_school, make_user


def test_sign_in_with_the_right_password_opens_the_home_page(client, session):
    user = make_user(session, make_school(session), name="Grace Hopper")
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Grace" in home.text


def test_sign_in_ignores_the_case_of_the_email(client, session):
    make_user(session, make_school(session), email="Mixed.Case@test.ac.uk")
    assert sign_in(client, "mixed.case@TEST.ac.uk").status_code == 302


def test_unknown_email_and_wrong_password_get_the_same_message(client, session):
    user = make_user(session, make_school(session))
    wrong_password = sign_in(client, user.email, "not the password")
    unknown_email = sign_in(client, "nobody@test.ac.uk", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 400
    assert service.SIGN_IN_FAILED in wrong_password.text
    assert service.SIGN_IN_FAILED in unknown_email.text
    assert client.get("/").status_code == 302  # still signed out


def test_a_deactivated_account_cannot_sign_in(client, session):
    user = make_user(session, make_school(session))
    user.active = False
    session.commit()
    response = sign_in(client, user.email)
    assert response.status_code == 400
    assert service.SIGN_IN_FAILED in response.text


def test_empty_fields_are_reported_beside_the_fields(client, session):
    response = client.post("/sign-in", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "Enter your email address." in response.text
    assert "Enter your password." in response.text
    assert 'aria-invalid="true"' in response.text


def test_pages_redirect_to_sign_in_when_signed_out(client, session):
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/sign-in?next=" in response.headers["Location"]


def test_sign_in_follows_next_only_within_the_site(client, session):
    user = make_user(session, make_school(session))
    ok = client.post("/sign-in?next=/profile", data={"email": user.email, "password": PASSWORD})
    assert ok.headers["Location"].endswith("/profile")
    client.post("/sign-out")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.post(f"/sign-in?next={target}", data={"email": user.email, "password": PASSWORD})
        assert "evil" not in response.headers["Location"] and "javascript" not in response.headers["Location"]
        client.post("/sign-out")


def test_sign_out_ends_the_session(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    assert client.get("/").status_code == 200
    response = client.post("/sign-out")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_out_is_not_possible_with_a_get(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    assert client.get("/sign-out").status_code == 405
    assert client.get("/").status_code == 200


def test_remember_me_sets_a_long_lived_http_only_cookie(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email, remember=True)
    cookie = client.get_cookie("kitshare_remember")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.expires is not None


def test_without_remember_me_there_is_no_remember_cookie(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    assert client.get_cookie("kitshare_remember") is None


def test_the_remember_cookie_alone_signs_the_person_back_in(client, session, app):
    user = make_user(session, make_school(session))
    sign_in(client, user.email, remember=True)
    client.delete_cookie("kitshare_session")
    assert client.get("/").status_code == 200


def test_a_new_password_signs_the_person_out_of_other_sessions(client, session, app):
    user = make_user(session, make_school(session))
    sign_in(client, user.email, remember=True)
    service.set_password(session, session.get(User, user.id), "a brand new password")
    session.commit()
    assert client.get("/").status_code == 302


def test_the_session_cookie_is_http_only(client, session):
    user = make_user(session, make_school(session))
    sign_in(client, user.email)
    cookie = client.get_cookie("kitshare_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_passwords_are_stored_as_argon2id_hashes(session):
    user = make_user(session, make_school(session))
    stored = session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_every_role_sees_its_own_home_page(client, session):
    school = make_school(session)
    people = {
        "technician": make_user(session, school),
        "manager": make_user(session, school, Role.MANAGER),
        "finance": make_user(session, school, Role.FINANCE),
        "admin": make_user(session, school, Role.ADMIN),
    }
    expected = {
        "technician": "Your next bookings",
        "manager": "Requests waiting for you",
        "finance": "Bookings this month by owning School",
        "admin": "Kitshare at a glance",
    }
    for role, person in people.items():
        sign_in(client, person.email)
        page = client.get("/").text
        assert expected[role] in page, role
        for other_role, heading in expected.items():
            if other_role not in (role, "technician") and not (role == "admin" and other_role == "finance"):
                assert heading not in page, (role, other_role)
        client.post("/sign-out")
