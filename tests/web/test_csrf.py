"""Every form is protected against cross-site request forgery."""

import re

import pytest

from tests.conftest import PASSWORD, settings_for_tests
from tests.factories import make_school, make_user
from web.app import create_app


@pytest.fixture
def csrf_client(app, database_url, session):
    csrf_app = create_app(settings_for_tests(database_url, WTF_CSRF_ENABLED=True))
    return csrf_app.test_client()


def _token(page_html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page_html) or re.search(
        r'name="csrf_token" value="([^"]+)"', page_html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_sign_in_without_its_token_is_refused(csrf_client, session):
    user = make_user(session, make_school(session))
    response = csrf_client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.text
    assert csrf_client.get("/").status_code == 302  # not signed in


def test_sign_in_with_its_token_works(csrf_client, session):
    user = make_user(session, make_school(session))
    token = _token(csrf_client.get("/sign-in").text)
    response = csrf_client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert csrf_client.get("/").status_code == 200


def test_every_form_route_refuses_a_post_without_its_token(csrf_client, session):
    """Signed in as an admin (who may post everywhere), no POST route accepts a missing token."""
    from accounts.models import Role

    admin = make_user(session, make_school(session), Role.ADMIN)
    token = _token(csrf_client.get("/sign-in").text)
    csrf_client.post("/sign-in", data={"email": admin.email, "password": PASSWORD, "csrf_token": token})
    app = csrf_client.application
    # The JSON API is token-authenticated and never reads cookies, so it is exempt by design
    # (tests/api/test_auth.py shows a browser session does not authenticate it).
    post_rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.endpoint.startswith("api_v1.")
    ]
    assert len(post_rules) >= 5
    for rule in post_rules:
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        response = csrf_client.post(url, data={})
        assert response.status_code == 400, rule.rule
        assert "security token" in response.text, rule.rule
