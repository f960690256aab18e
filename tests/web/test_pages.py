"""The page furniture every page shares: security headers, skip link, navigation by role."""

from accounts.models import Role
from tests.conftest import sign_in
from tests.factories import make_school, make_user


def test_security_headers_are_on_every_response(client, session):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_a_skip_link_a_language_and_a_viewport(client, session):
    page = client.get("/sign-in").text
    assert '<html lang="en-GB">' in page
    assert 'href="#main"' in page and 'id="main"' in page
    assert 'name="viewport"' in page


def test_navigation_shows_only_what_the_role_may_use(client, session):
    school = make_school(session)
    technician = make_user(session, school)
    admin = make_user(session, school, Role.ADMIN)
    sign_in(client, technician.email)
    assert "/admin/users" not in client.get("/").text
    client.post("/sign-out")
    sign_in(client, admin.email)
    assert "/admin/users" in client.get("/").text


def test_an_unknown_page_is_a_friendly_404(client, session):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_user_supplied_text_is_escaped(client, session):
    school = make_school(session, name="<script>alert(1)</script> School")
    user = make_user(session, school, name="<b>Bold</b> Person")
    sign_in(client, user.email)
    page = client.get("/").text + client.get("/schools").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>Bold</b>" not in page
