"""Personal tokens are the API's only key: no cookies in, none out, no CSRF."""

import datetime as dt
import logging
import re

import pytest
from sqlalchemy import select

from accounts.models import ApiToken
from accounts.service import revoke_api_token
from tests.api.conftest import Api
from tests.api.world import NOW, token_for
from tests.conftest import PASSWORD, see_committed, settings_for_tests, sign_in
from web.app import create_app


def test_a_request_without_a_token_is_refused_with_a_bearer_challenge(anonymous, world):
    response = anonymous.get("/assets")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Kitshare API"'
    assert response.json["type"] == "/api/v1/problems/unauthenticated"
    assert "Authorization: Bearer" in response.json["detail"]


def test_a_token_from_the_command_line_works(app, client, world):
    result = app.test_cli_runner().invoke(
        args=["create-token", "carla@example.ac.uk", "--name", "Timetabling"]
    )
    assert result.exit_code == 0
    assert Api(client, result.output.strip()).get("/bookings").status_code == 200


def test_a_token_from_the_profile_page_works(client, world):
    sign_in(client, world["carla"].email)
    page = client.post(
        "/profile", data={"name": "Finance dashboard", "password": PASSWORD, "lifetime_days": "365"}
    ).text
    token = re.search(r'<code class="token">(ks_[^<]+)</code>', page).group(1)
    client.post("/sign-out")
    assert Api(client, token).get("/bookings").status_code == 200


def test_an_unknown_token_is_refused_as_invalid(anonymous, world):
    response = anonymous.as_("ks_not-a-real-token").get("/assets")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_another_scheme_than_bearer_is_refused(client, world, session):
    token = token_for(session, world["carla"])
    response = client.get("/api/v1/assets", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401


def test_a_revoked_token_stops_working(carla, world, session):
    assert carla.get("/schools").status_code == 200
    token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == world["carla"].id))
    revoke_api_token(session, world["carla"], token_id)
    session.commit()
    assert carla.get("/schools").status_code == 401


def test_an_expired_token_stops_working(client, world, session):
    api = Api(client, token_for(session, world["carla"], expires_at=NOW - dt.timedelta(minutes=1)))
    assert api.get("/schools").status_code == 401


def test_a_deactivated_persons_token_stops_working(carla, world, session):
    world["carla"].active = False
    session.commit()
    assert carla.get("/schools").status_code == 401


def test_using_a_token_records_when_it_was_last_used(carla, world, session):
    carla.get("/schools")
    see_committed(session)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world["carla"].id))
    assert token.last_used_at == NOW


def test_a_tokens_last_use_is_recorded_to_the_minute_not_on_every_call(carla, world, session, clock):
    def last_used():
        see_committed(session)
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == world["carla"].id))

    assert carla.get("/schools").status_code == 200
    assert last_used() == NOW
    clock.shift(dt.timedelta(seconds=59))
    assert carla.get("/schools").status_code == 200
    assert last_used() == NOW  # a read within the minute writes nothing
    clock.shift(dt.timedelta(seconds=1))
    assert carla.get("/schools").status_code == 200
    assert last_used() == NOW + dt.timedelta(minutes=1)


def test_a_signed_in_browser_session_does_not_authenticate_api_calls(client, world):
    sign_in(client, world["carla"].email)
    assert client.get("/").status_code == 200  # signed in on the site
    assert client.get("/api/v1/assets").status_code == 401


def test_a_remember_me_cookie_does_not_authenticate_api_calls(client, world):
    sign_in(client, world["carla"].email, remember=True)
    assert client.get_cookie("kitshare_remember") is not None
    response = client.get("/api/v1/assets")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_the_request_log_names_the_tokens_user(carla, world, caplog):
    requests_log = logging.getLogger("kitshare.requests")
    requests_log.addHandler(caplog.handler)
    try:
        assert carla.get("/schools").status_code == 200
    finally:
        requests_log.removeHandler(caplog.handler)
    records = [r for r in caplog.records if r.name == "kitshare.requests"]
    assert records and {r.fields["user_id"] for r in records} == {world["carla"].id}


def test_api_responses_set_no_cookies_even_for_a_signed_in_browser(client, world, session):
    sign_in(client, world["carla"].email)
    api = Api(client, token_for(session, world["carla"]))
    for response in (
        api.get("/assets"),
        api.get("/nowhere"),
        api.post("/bookings", json={}),
        api.get("/docs"),
    ):
        assert "Set-Cookie" not in response.headers


def test_a_browser_cookie_from_another_browser_is_left_alone(client, world, session):
    """Flask-Login would mark such a session not fresh and send it back: the API never reads it."""
    client.post(
        "/sign-in",
        data={"email": world["carla"].email, "password": PASSWORD},
        headers={"User-Agent": "Browser"},
    )
    api = Api(client, token_for(session, world["carla"]))
    for response in (
        api.get("/assets", headers={"User-Agent": "Script"}),
        api.get("/nowhere", headers={"User-Agent": "Script"}),
    ):
        assert "Set-Cookie" not in response.headers


def test_a_token_acts_with_its_users_roles(priya, world):
    """Priya manages no School: she can read the register but not add to it."""
    assert priya.get("/assets/1").status_code == 200
    response = priya.post("/assets", json={"school_id": 1, "tag": "CHEM-0100", "name": "Centrifuge"})
    assert response.status_code == 403
    assert response.json["type"] == "/api/v1/problems/forbidden"


@pytest.fixture
def csrf_api(app, database_url, world, session):
    """The application with CSRF protection on, as in production."""
    csrf_app = create_app(settings_for_tests(database_url, WTF_CSRF_ENABLED=True))
    return Api(csrf_app.test_client(), token_for(session, world["carla"]))


def test_token_requests_need_no_csrf_token(csrf_api, session):
    response = csrf_api.post(
        "/bookings",
        json={"asset_id": 1, "start": "2030-01-09T10:00", "end": "2030-01-09T11:00", "purpose": "Imaging"},
    )
    assert response.status_code == 201


def test_the_site_keeps_its_csrf_protection(csrf_api, world):
    response = csrf_api.client.post("/sign-in", data={"email": world["carla"].email, "password": "x"})
    assert response.status_code == 400
    assert "security token" in response.text


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_the_reference_needs_no_token(anonymous, path):
    assert anonymous.get(path).status_code == 200
