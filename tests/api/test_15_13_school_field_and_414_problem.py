"""Issue 15, point 13: a 422 about ``school`` names the field ``school``, and a URL too long for
the server gets a problem document the OpenAPI document declares, never a server's bare 414 page.

Before: an unknown School in a report was ``errors: {"schools": [...]}``, though the parameter is
``school``. A long URL reached the app untouched up to the server's own limit (gunicorn's request
line: 4094 bytes by default; the development server's: 65536), past which the server answered
with its own undocumented HTML 414. Now the app answers every URL longer than 4,000 characters
itself: a problem document on /api/, a plain page elsewhere; and gunicorn.conf.py raises
gunicorn's limit to 8190 so the app answers URLs up to about 8 KB under gunicorn too.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts.models import Role
from tests.api.conftest import Api
from tests.api.test_openapi import DOCUMENT
from tests.api.world import token_for
from tests.conftest import TEST_SECRET
from tests.factories import make_user

PROJECT = Path(__file__).resolve().parents[2]
REQUIRED = {"from": "2030-01-01", "to": "2030-01-31"}
WITH_SCHOOL = [
    pytest.param(path, operation, id=operation["operationId"])
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method == "get"
    and any(p["name"] == "school" and p["in"] == "query" for p in operation.get("parameters", []))
]


@pytest.fixture
def admin(world, session, client) -> Api:
    return Api(client, token_for(session, make_user(session, world["chem"], Role.ADMIN)))


# --- 422 about school -------------------------------------------------------------------------


def test_a_report_for_an_unknown_school_names_the_field_school(admin):
    response = admin.get("/reports/utilisation", query_string={**REQUIRED, "school": 999})
    assert response.status_code == 422
    assert response.json["errors"] == {"school": ["There is no such School."]}
    assert response.json["detail"] == "school: There is no such School."


def test_the_capital_plan_for_an_unknown_school_names_the_field_school(admin):
    response = admin.get("/planning/forecast", query_string={"school": 999})
    assert response.status_code == 422
    assert response.json["errors"] == {"school": ["Choose a School from the list."]}


def test_every_operation_taking_school_is_among_those_checked():
    assert sorted(p.id for p in WITH_SCHOOL) == [
        "findExperts",
        "getPlanningForecast",
        "getPlanningRecommendations",
        "getSharingReport",
        "getUtilisationReport",
        "listAssets",
        "listBookings",
    ]


@pytest.mark.parametrize("path, operation", WITH_SCHOOL)
def test_every_operation_taking_school_names_school_when_it_refuses_one(admin, path, operation):
    """An unknown School either filters to nothing (the lists) or is refused naming ``school``."""
    required = {p["name"]: REQUIRED[p["name"]] for p in operation["parameters"] if p.get("required")}
    response = admin.get(path, query_string={**required, "school": 999})
    assert response.status_code in (200, 422), response.json
    if response.status_code == 422:
        assert set(response.json["errors"]) == {"school"}
    else:
        assert path in ("/assets", "/bookings", "/people")
        assert response.json["total"] == 0


def test_the_report_page_still_shows_the_unknown_school_beside_its_field(client, world, session):
    from tests.conftest import sign_in

    make_user(session, world["chem"], Role.FINANCE, email="fin@example.ac.uk")
    sign_in(client, "fin@example.ac.uk")
    page = client.get("/reports/utilisation?from=2030-01-01&to=2030-01-31&school=999")
    assert page.status_code == 400
    assert "There is no such School." in page.get_data(as_text=True)


# --- 414 ---------------------------------------------------------------------------------------


def fetch(base: str, target: str) -> http.client.HTTPResponse:
    """GET ``target`` exactly as written (no client-side checks or rewriting)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    connection.request("GET", target)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    connection.close()
    return response


def long_target(path: str, length: int) -> str:
    """``path`` with a query string that makes the whole target ``length`` characters long."""
    start = f"{path}?from=2030-01-01&to=2030-01-31&q="
    return start + "a" * (length - len(start))


def test_an_over_long_api_url_gets_a_414_problem_from_a_served_app(live_server):
    target = long_target("/api/v1/reports/utilisation", 5000)
    response = fetch(live_server, target)
    assert response.status == 414
    assert response.getheader("Content-Type") == "application/problem+json"
    import json

    problem = json.loads(response.body)  # type: ignore[attr-defined]
    assert problem == {
        "type": "/api/v1/problems/uri-too-long",
        "title": "URI too long",
        "status": 414,
        "detail": "The URL (path and query string) is 5,000 characters long; Kitshare accepts at most 4,000. "
        "Send fewer or shorter parameters.",
        "instance": "/api/v1/reports/utilisation",
    }


def test_an_over_long_api_url_at_an_unknown_address_gets_the_same_problem(live_server):
    response = fetch(live_server, long_target("/api/v1/no-such-thing", 4001))
    assert response.status == 414
    assert response.getheader("Content-Type") == "application/problem+json"


def test_a_url_of_exactly_the_limit_is_answered_as_usual(live_server):
    response = fetch(live_server, long_target("/api/v1/reports/utilisation", 4000))
    assert response.status == 401  # no token: the request got through to the API


def test_an_over_long_page_url_gets_a_plain_accessible_page(live_server):
    response = fetch(live_server, long_target("/catalogue", 6000))
    assert response.status == 414
    assert response.getheader("Content-Type").startswith("text/html")
    page = response.body.decode()  # type: ignore[attr-defined]
    assert '<html lang="en-GB">' in page
    assert "<title>The address is too long – Kitshare</title>" in page
    assert "<h1>The address is too long</h1>" in page
    assert "longer than Kitshare accepts (4,000 characters)" in page
    assert '<a href="/">Start again from the home page</a>' in page
    assert "aaaaaaaaaa" not in page  # the address is not offered again


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    """gunicorn as production runs it (from the project folder, so it reads gunicorn.conf.py)."""
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KITSHARE_ENV": "development",
        "SECRET_KEY": TEST_SECRET,
        "MAIL_OUTBOX_DIR": "",
    }
    log = (tmp_path / "gunicorn.log").open("ab")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=PROJECT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()[-2000:]
            try:
                if fetch(base, "/healthz").status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_under_gunicorn_the_app_answers_urls_longer_than_gunicorns_default_limit(gunicorn):
    # 6,000 characters: past gunicorn's default request line (4094 bytes), within gunicorn.conf.py's 8190.
    response = fetch(gunicorn, long_target("/api/v1/planning/forecast", 6000))
    assert response.status == 414
    assert response.getheader("Content-Type") == "application/problem+json"


# --- The document declares it ------------------------------------------------------------------


def test_every_operation_declares_414_as_a_problem():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            response = operation["responses"].get("414")
            assert response is not None, f"{method} {path}"
            assert list(response["content"]) == ["application/problem+json"]
            assert response["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }
    assert {"type": "/api/v1/problems/uri-too-long", "status": 414, "title": "URI too long"}.items() <= next(
        p for p in DOCUMENT["x-problem-types"] if p["status"] == 414
    ).items()
    assert "longer than 4,000 characters" in DOCUMENT["info"]["description"]
