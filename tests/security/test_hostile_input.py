"""Hostile input: markup people type is shown as text everywhere, and search terms with SQL
metacharacters are matched as text."""

from __future__ import annotations

import html

import sqlalchemy as sa
from flask import Flask

from accounts.models import User
from bookings.models import Booking
from inventory.models import (
    Asset,
    Category,
    Location,
    MaintenanceWindow,
    TrainingAuthorisation,
    TrainingRequest,
)
from tests.conftest import see_committed, sign_in
from tests.security.test_authorisation_matrix import Caller, build_world, rule_cases, url_for_rule

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>"
ESCAPED = html.escape(PAYLOAD, quote=False)


def _plant_payload_everywhere(session, world) -> None:
    """Put the payload in every free-text field people can write, for both Schools."""
    for code in ("A", "B"):
        ids = world["ids"][code]
        asset = session.get(Asset, ids["asset_id"])
        for field in ("name", "description", "manufacturer", "model", "serial_number", "funding_source"):
            setattr(asset, field, f"{PAYLOAD} {field} {code}")
        location = session.get(Location, ids["location_id"])
        location.building = f"{PAYLOAD} building {code}"
        location.room = f"{PAYLOAD} room {code}"
        session.get(Category, ids["category_id"]).name = f"{PAYLOAD} category {code}"
        session.get(Booking, ids["booking_id"]).purpose = f"{PAYLOAD} purpose {code}"
        session.get(MaintenanceWindow, ids["window_id"]).reason = f"{PAYLOAD} maintenance {code}"
        session.get(TrainingAuthorisation, ids["authorisation_id"]).note = f"{PAYLOAD} training {code}"
        session.get(TrainingRequest, ids["request_id"]).message = f"{PAYLOAD} training request {code}"
        session.get(User, ids["user_id"]).name = f"{PAYLOAD} person {code}"
    session.commit()


def test_markup_in_every_text_field_is_never_rendered_raw_on_any_page(app: Flask, session) -> None:
    world = build_world(session)
    _plant_payload_everywhere(session, world)
    caller = Caller(app, world)
    shown_escaped = set()
    for rule_text, method, _ in rule_cases(app):
        if method != "GET":
            continue
        rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text and method in r.methods)
        for code in ("A", "B"):
            path = url_for_rule(rule, world["ids"][code])
            for role in ("admin", "manager_a", "tech_a"):
                response = caller.call(role, "GET", path)
                assert response.status_code < 500, f"{path} as {role}: {response.status_code}"
                if response.mimetype != "text/html":
                    continue
                body = response.get_data(as_text=True)
                assert "<script>alert(1)" not in body, f"{path} as {role} renders the script raw"
                assert "<img src=x onerror" not in body, f"{path} as {role} renders the img raw"
                if ESCAPED in body or html.escape(PAYLOAD) in body:
                    shown_escaped.add(rule_text)
    # The payload really reached the pages that show these fields, escaped.
    for page in (
        "/assets/<int:asset_id>",
        "/catalogue",
        "/bookings/<int:booking_id>",
        "/assets/<int:asset_id>/maintenance",
        "/assets/<int:asset_id>/training",
        "/schools/<int:school_id>/training",
    ):
        assert page in shown_escaped, f"{page} never showed the escaped payload"


def test_markup_typed_into_location_and_category_forms_is_shown_as_text(app: Flask, session, client) -> None:
    world = build_world(session)
    school_id = world["ids"]["A"]["school_id"]
    sign_in(client, "manager_a@test.ac.uk")
    client.post(f"/schools/{school_id}/locations", data={"building": PAYLOAD, "room": PAYLOAD})
    client.post("/categories", data={"name": PAYLOAD, "description": PAYLOAD})
    see_committed(session)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Location).where(Location.building == PAYLOAD))
        == 1
    )
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Category).where(Category.name == PAYLOAD)) == 1
    )
    body = client.get(f"/schools/{school_id}").get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert ESCAPED in body or html.escape(PAYLOAD) in body


def test_markup_in_api_responses_is_returned_as_data(app: Flask, session, client) -> None:
    world = build_world(session)
    _plant_payload_everywhere(session, world)
    asset_id = world["ids"]["A"]["asset_id"]
    response = client.get(
        f"/api/v1/assets/{asset_id}", headers={"Authorization": f"Bearer {world['tokens']['admin']}"}
    )
    assert response.status_code == 200
    assert response.mimetype.endswith("json")
    assert response.get_json()["name"] == f"{PAYLOAD} name A"


def _catalogue_names(client, term: str) -> tuple[int, str]:
    response = client.get("/catalogue", query_string={"q": term})
    return response.status_code, response.get_data(as_text=True)


def test_catalogue_search_treats_sql_metacharacters_as_text(app: Flask, session, client) -> None:
    world = build_world(session)
    asset_a = session.get(Asset, world["ids"]["A"]["asset_id"])
    asset_a.name = "Centrifuge 100% speed_max"
    session.commit()
    sign_in(client, "tech_a@test.ac.uk")
    for term in ("%", "_", "'; DROP TABLE assets; --", "\\", "%_%", "' OR '1'='1"):
        status, _ = _catalogue_names(client, term)
        assert status == 200, term
    see_committed(session)
    assert session.scalar(sa.select(sa.func.count()).select_from(Asset)) == 2  # nothing dropped
    # "%" and "_" match only names containing them, not everything.
    status, body = _catalogue_names(client, "%")
    assert "Centrifuge 100% speed_max" in body
    b_name = session.get(Asset, world["ids"]["B"]["asset_id"]).name
    assert b_name not in body
    status, body = _catalogue_names(client, "_")
    assert "Centrifuge 100% speed_max" in body
    assert b_name not in body
    status, body = _catalogue_names(client, "' OR '1'='1")
    assert b_name not in body and "Centrifuge" not in body
