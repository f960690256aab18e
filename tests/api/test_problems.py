"""Every API error is a problem document (RFC 9457) a program can act on, never an HTML page."""

import pytest

from tests.api.conftest import Api
from tests.api.world import token_for
from tests.conftest import settings_for_tests
from web.app import create_app

PROBLEM_MEMBERS = {"type", "title", "status", "detail"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert PROBLEM_MEMBERS <= body.keys()
    assert body["status"] == status
    assert body["type"] == f"/api/v1/problems/{slug}"
    return body


def test_an_unknown_api_address_is_a_404_problem_not_the_sites_page(carla):
    body = assert_problem(carla.get("/no-such-thing"), 404, "not-found")
    assert "/api/v1/docs" in body["detail"]


def test_a_method_the_address_does_not_take_is_a_405_problem(carla):
    response = carla.request("DELETE", "/assets/1")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"] and "PATCH" in response.headers["Allow"]


def test_a_body_that_is_not_json_is_malformed(carla):
    response = carla.post("/bookings", data="{not json", headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "malformed-request")


def test_a_json_array_body_is_malformed(carla):
    response = carla.post("/bookings", json=[1, 2])
    assert assert_problem(response, 400, "malformed-request")["detail"] == "The body must be a JSON object."


def test_a_non_integer_id_is_malformed(carla):
    body = assert_problem(carla.get("/bookings/first"), 400, "malformed-request")
    assert body["errors"] == {"booking_id": ["Give the id as a positive whole number."]}


def test_an_id_too_large_to_exist_is_not_found(carla):
    assert_problem(carla.get("/assets/99999999999"), 404, "not-found")


def test_a_wrong_type_names_the_field(carla):
    response = carla.post(
        "/bookings", json={"asset_id": "one", "start": "soon", "end": "2030-01-09T11:00", "purpose": "x"}
    )
    body = assert_problem(response, 400, "malformed-request")
    assert set(body["errors"]) == {"asset_id", "start"}
    assert "ISO 8601" in body["errors"]["start"][0]


def test_text_with_a_nul_character_is_malformed(carla):
    response = carla.get("/assets", query_string={"q": "micro\x00scope"})
    assert assert_problem(response, 400, "malformed-request")["errors"]["q"] == [
        "Text cannot contain NUL characters."
    ]


def test_a_rule_broken_in_a_form_field_is_422_with_the_fields_errors(carla):
    body = assert_problem(
        carla.post("/assets", json={"school_id": 1, "tag": "CHEM-0001", "name": "Second microscope"}),
        422,
        "invalid-input",
    )
    assert body["errors"] == {"tag": ["The tag CHEM-0001 is already used by Confocal microscope (CHEM)."]}


def test_a_clash_with_another_booking_is_409_with_conflicts_and_suggestions(carla):
    response = carla.post(
        "/bookings",
        json={"asset_id": 1, "start": "2030-01-08T10:30", "end": "2030-01-08T11:30", "purpose": "Check"},
    )
    body = assert_problem(response, 409, "booking-conflict")
    assert body["violations"] == [
        {"code": "overlap", "message": "It overlaps another booking (with 30 minutes turnaround)."}
    ]
    assert body["conflicts"] == [
        {
            "kind": "booking",
            "start": "2030-01-08T10:00:00Z",
            "start_local": "2030-01-08T10:00:00+00:00",
            "end": "2030-01-08T11:30:00Z",
            "end_local": "2030-01-08T11:30:00+00:00",
            "booking_id": 2,
            "holder": "Carla Chem-Manager",
        }
    ]
    assert [s["start"] for s in body["suggestions"]] == [
        "2030-01-08T11:30:00Z",
        "2030-01-08T13:00:00Z",
        "2030-01-08T14:30:00Z",
    ]


def test_a_broken_rule_is_422_listing_every_rule(carla):
    """Saturday, and in the past-notice sense fine: outside hours and too long at once."""
    carla.patch("/assets/1", json={"max_booking_minutes": 60})
    response = carla.post(
        "/bookings",
        json={"asset_id": 1, "start": "2030-01-12T10:00", "end": "2030-01-12T12:00", "purpose": "Imaging"},
    )
    body = assert_problem(response, 422, "booking-refused")
    assert {v["code"] for v in body["violations"]} == {"outside_hours", "max_length"}
    assert body["conflicts"] == []


def test_a_clash_mixed_with_a_broken_rule_is_422(carla):
    carla.patch("/assets/1", json={"max_booking_minutes": 30})
    response = carla.post(
        "/bookings",
        json={"asset_id": 1, "start": "2030-01-08T10:30", "end": "2030-01-08T11:30", "purpose": "Check"},
    )
    body = assert_problem(response, 422, "booking-refused")
    assert {v["code"] for v in body["violations"]} == {"overlap", "max_length"}
    assert body["conflicts"][0]["booking_id"] == 2


def test_another_persons_booking_in_the_way_does_not_name_them(pavel):
    """Pavel manages PHYS, not CHEM: he learns the time is taken, not by whom."""
    response = pavel.post(
        "/bookings",
        json={"asset_id": 1, "start": "2030-01-08T10:30", "end": "2030-01-08T11:30", "purpose": "Check"},
    )
    assert assert_problem(response, 409, "booking-conflict")["conflicts"][0]["holder"] is None


def test_a_refused_series_lists_each_occurrence(carla):
    response = carla.post(
        "/bookings",
        json={
            "asset_id": 1,
            "start": "2030-01-01T10:30",
            "end": "2030-01-01T11:30",
            "purpose": "Weekly check",
            "recurrence": {"frequency": "weekly", "count": 3},
        },
    )
    body = assert_problem(response, 409, "series-conflict")
    assert [o["start"] for o in body["occurrences"]] == [
        "2030-01-01T10:30:00Z",
        "2030-01-08T10:30:00Z",
        "2030-01-15T10:30:00Z",
    ]
    assert [[v["code"] for v in o["violations"]] for o in body["occurrences"]] == [[], ["overlap"], []]


def test_every_problem_type_has_a_page_on_the_reference(anonymous):
    response = anonymous.get("/problems/booking-refused")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/api/v1/docs#problem-booking-refused")
    assert 'id="problem-booking-refused"' in anonymous.get("/docs").text


def test_an_unknown_problem_type_is_not_found(anonymous):
    assert_problem(anonymous.get("/problems/no-such-type"), 404, "not-found")


# --- Rate limiting ----------------------------------------------------------------------------


@pytest.fixture
def limited_app(app, database_url):
    """The application with a small rate limit per token."""
    return create_app(settings_for_tests(database_url, KITSHARE_API_RATE_LIMIT="3/minute"))


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(limited_app, world, session):
    api = Api(limited_app.test_client(), token_for(session, world["carla"]))
    for _ in range(3):
        assert api.get("/schools").status_code == 200
    response = api.get("/assets/1")
    body = assert_problem(response, 429, "rate-limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 61  # the window, rounded up
    assert "3 per 1 minute" in body["detail"]


def test_the_rate_limit_is_per_token(limited_app, world, session):
    client = limited_app.test_client()
    first, second = (
        Api(client, token_for(session, world["carla"])),
        Api(client, token_for(session, world["carla"])),
    )
    for _ in range(3):
        first.get("/schools")
    assert first.get("/schools").status_code == 429
    assert second.get("/schools").status_code == 200


def test_an_unusable_rate_limit_setting_stops_the_app_starting(database_url):
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="KITSHARE_API_RATE_LIMIT"):
        create_app(settings_for_tests(database_url, KITSHARE_API_RATE_LIMIT="lots"))


def test_an_unexpected_failure_is_a_500_problem_not_the_sites_page(
    app, database_url, world, session, monkeypatch
):
    from inventory import service

    def broken(_session):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(service, "list_schools", broken)
    production_like = create_app(settings_for_tests(database_url, PROPAGATE_EXCEPTIONS=False))
    response = Api(production_like.test_client(), token_for(session, world["carla"])).get("/schools")
    body = assert_problem(response, 500, "server-error")
    assert "nothing was changed" in body["detail"] and "fire" not in body["detail"]


def test_every_answer_says_how_much_of_the_rate_limit_is_left(limited_app, world, session):
    api = Api(limited_app.test_client(), token_for(session, world["carla"]))
    response = api.get("/schools")
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "2"
