"""Issue 16, point 10: values that gave a 500 (or were stored and broke the asset later) are
refused as a form error or a 400/422 problem, and change nothing. On both databases: PostgreSQL
refuses NUL in text and numbers beyond its integer columns, SQLite stored them.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from flask import Flask

from inventory.models import Asset
from tests.conftest import see_committed
from tests.security.test_authorisation_matrix import Caller, build_world, db_digest

NUL = "\x00"
BIG_MINUTES = "99999999999"  # 99,999,999,999 minutes: stored by SQLite, then every booking 500'd
BIG_POUNDS = "99999999999.00"  # 9,999,999,999,900 pence: beyond an integer column


@pytest.fixture
def world(app: Flask, session):
    world = build_world(session)
    world["caller"] = Caller(app, world)
    return world


def _asset(world) -> int:
    return world["ids"]["A"]["asset_id"]


def _refused(app: Flask, before: str, response, *, statuses=(400, 422)) -> str:
    """The answer is a refusal (not a 500) and the database is as it was; returns the body."""
    assert response.status_code in statuses, (response.status_code, response.get_data(as_text=True)[:2000])
    assert db_digest(app) == before, "a refused request changed the database"
    return response.get_data(as_text=True)


def _problem(response) -> dict:
    assert response.mimetype == "application/problem+json", response.mimetype
    return response.get_json()


# --- The API --------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", ["²", "٣", "１", "߂"])
@pytest.mark.parametrize("name", ["page", "per_page", "school"])
def test_non_ascii_digits_in_api_query_numbers_are_a_400_problem(app, world, name, digit) -> None:
    before = db_digest(app)
    response = world["caller"].call("tech_a", "GET", f"/api/v1/assets?{name}={digit}")
    _refused(app, before, response, statuses=(400,))
    assert _problem(response)["errors"][name] == ["Give a whole number."]


@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_a_json_body_nested_100000_levels_is_a_400_problem(app, world, opening, closing) -> None:
    body = opening * 100_000 + "1" + closing * 100_000
    before = db_digest(app)
    client = world["caller"].api_client
    for method, path in (("POST", "/api/v1/bookings"), ("PATCH", f"/api/v1/assets/{_asset(world)}")):
        response = client.open(
            path,
            method=method,
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {world['tokens']['admin']}"},
        )
        _refused(app, before, response, statuses=(400,))
        assert "JSON" in _problem(response)["detail"]


def test_nul_in_an_api_text_field_is_a_400_problem(app, world) -> None:
    before = db_digest(app)
    response = world["caller"].call(
        "admin", "PATCH", f"/api/v1/assets/{_asset(world)}"
    )  # warm up: {} is fine
    assert response.status_code == 200
    before = db_digest(app)
    response = world["caller"].api_client.patch(
        f"/api/v1/assets/{_asset(world)}",
        json={"name": f"Micro{NUL}scope", "description": NUL},
        headers={"Authorization": f"Bearer {world['tokens']['admin']}"},
    )
    _refused(app, before, response, statuses=(400,))
    assert _problem(response)["errors"]["name"] == ["Text cannot contain NUL characters."]


# --- NUL in the web forms and the catalogue ----------------------------------------------------


NUL_MESSAGE = "contains a NUL character"


def _nul_cases(world) -> list[tuple[str, str, dict[str, str]]]:
    ids = world["ids"]["A"]
    monday = dt.date.today() + dt.timedelta(days=21 + (7 - dt.date.today().weekday()) % 7)
    return [
        (
            "tech_a",
            f"/assets/{ids['asset_id']}/book",
            {
                "start": f"{monday}T10:00",
                "end": f"{monday}T11:00",
                "purpose": f"PCR{NUL}run",
                "repeat": "none",
            },
        ),
        ("manager_a", f"/schools/{ids['school_id']}/locations", {"building": f"Dalton{NUL}", "room": "1.04"}),
        (
            "manager_a",
            f"/assets/{ids['asset_id']}/maintenance",
            {"start_at": f"{monday}T09:00", "end_at": f"{monday}T10:00", "reason": f"Service{NUL}"},
        ),
        ("tech_a", f"/assets/{ids['asset_id']}/training-request", {"message": f"Please{NUL}"}),
        ("admin", "/schools", {"code": "NEW", "name": f"School{NUL}of Nothing"}),
        ("tech_a", f"/bookings/{ids['booking_id']}/cancel", {"reason": f"Ill{NUL}"}),
        ("manager_a", f"/bookings/{ids['booking_id']}/reject", {"reason": f"No{NUL}"}),
    ]


def test_nul_in_a_web_form_text_field_is_a_form_error(app, world) -> None:
    for role, path, data in _nul_cases(world):
        before = db_digest(app)
        # Some forms answer 400 with the form; those on another page (the training request)
        # flash the error there.
        response = world["caller"].browsers[role].post(path, data=data, follow_redirects=True)
        body = _refused(app, before, response, statuses=(200, 400, 422))
        assert NUL_MESSAGE in body, f"{path}: {body[:3000]}"


def test_nul_in_the_asset_form_is_a_form_error(app, world) -> None:
    path = f"/assets/{_asset(world)}/edit"
    form = _asset_form(world, path)
    before = db_digest(app)
    response = world["caller"].browsers["manager_a"].post(path, data={**form, "name": f"Scope{NUL}"})
    assert NUL_MESSAGE in _refused(app, before, response)


def test_nul_in_the_catalogue_search_is_said_and_searches_nothing(app, world) -> None:
    for args in (
        {"q": f"Instr{NUL}ument"},
        {"free_from": f"2030-01-07T10:00{NUL}", "free_to": "2030-01-07T11:00"},
    ):
        response = world["caller"].browsers["tech_a"].get("/catalogue", query_string=args)
        assert response.status_code == 200, response.status_code  # the filter is left out, and it is said
        assert NUL_MESSAGE in response.get_data(as_text=True)


# --- Numbers and dates beyond their range -------------------------------------------------------


@pytest.mark.parametrize("name", ["page", "school", "category", "location", "per_page"])
@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "-2147483649", "²"])
def test_catalogue_numbers_beyond_integer_range_are_a_form_error(app, world, name, value) -> None:
    response = world["caller"].browsers["tech_a"].get("/catalogue", query_string={name: value})
    assert response.status_code == 200, response.status_code  # the filter is left out, and it is said
    assert "Give a whole number" in response.get_data(as_text=True)


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "2147483648-01-01", "²"])
def test_the_week_page_beyond_the_calendar_shows_this_week(app, world, start) -> None:
    response = (
        world["caller"].browsers["tech_a"].get(f"/assets/{_asset(world)}/week", query_string={"start": start})
    )
    assert response.status_code == 200


@pytest.mark.parametrize("year", ["9999", "0001", "1969", "3000"])
def test_the_booking_form_refuses_a_year_beyond_the_calendar(app, world, year) -> None:
    before = db_digest(app)
    response = (
        world["caller"]
        .browsers["tech_a"]
        .post(
            f"/assets/{_asset(world)}/book",
            data={
                "start": f"{year}-12-31T10:00",
                "end": f"{year}-12-31T11:00",
                "purpose": "Far away",
                "repeat": "none",
            },
        )
    )
    body = _refused(app, before, response)
    assert "Enter a date between the years 1970 and 2999." in body


def test_the_booking_form_refuses_an_until_date_beyond_the_calendar(app, world) -> None:
    before = db_digest(app)
    response = (
        world["caller"]
        .browsers["tech_a"]
        .post(
            f"/assets/{_asset(world)}/book",
            data={
                "start": "2030-01-07T10:00",
                "end": "2030-01-07T11:00",
                "purpose": "Often",
                "repeat": "daily",
                "until": "9999-12-31",
            },
        )
    )
    assert "Enter a date between the years" in _refused(app, before, response)


def _asset_form(world, path: str) -> dict[str, str]:
    """The asset form as the edit page fills it in (every field the browser would send)."""
    page = world["caller"].browsers["manager_a"].get(path).get_data(as_text=True)
    form: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        form[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        form[name] = body.strip()
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        form[name] = chosen.group(1) if chosen else ""
    return form


ASSET_FORM_CASES = [
    ("turnaround_minutes", BIG_MINUTES, "That number is far too large."),
    ("turnaround_minutes", "2147483647", "Use at most 527,040 minutes (a year)."),
    ("turnaround_minutes", "527041", "Use at most 527,040 minutes (a year)."),
    ("min_notice_minutes", BIG_MINUTES, "That number is far too large."),
    ("min_notice_minutes", "600000", "Use at most 527,040 minutes (a year)."),
    ("max_booking_minutes", BIG_MINUTES, "That number is far too large."),
    ("max_booking_minutes", "600000", "Use at most 527,040 minutes (a year)."),
    ("purchase_cost", BIG_POUNDS, "Enter at most £21,474,836.47"),
    ("hourly_rate", BIG_POUNDS, "Enter at most £21,474,836.47"),
    ("replacement_cost", BIG_POUNDS, "Enter at most £21,474,836.47"),
    ("useful_life_years", "99999999999999999999", "That number is far too large."),
    ("no_show_release_minutes", "2147483648", "That number is far too large."),
    ("purchase_date", "0001-01-01", "Enter a date between the years 1900 and 2999"),
    ("purchase_date", "9999-12-31", "Enter a date between the years 1900 and 2999"),
]


@pytest.mark.parametrize(
    "field, value, message", ASSET_FORM_CASES, ids=[f"{f}={v}" for f, v, _ in ASSET_FORM_CASES]
)
def test_the_asset_form_refuses_numbers_beyond_the_column(app, world, session, field, value, message) -> None:
    path = f"/assets/{_asset(world)}/edit"
    form = _asset_form(world, path)
    before = db_digest(app)
    response = world["caller"].browsers["manager_a"].post(path, data={**form, field: value})
    assert message in _refused(app, before, response)


def test_the_new_asset_form_refuses_a_turnaround_beyond_the_column(app, world) -> None:
    path = f"/schools/{world['ids']['A']['school_id']}/assets/new"
    form = {
        **_asset_form(world, path),
        "tag": "A-NEW-1",
        "name": "New scope",
        "turnaround_minutes": BIG_MINUTES,
    }
    before = db_digest(app)
    response = world["caller"].browsers["manager_a"].post(path, data=form)
    assert "That number is far too large." in _refused(app, before, response)


def test_a_turnaround_beyond_the_column_through_the_api_is_refused_and_bookings_still_work(
    app, world, session
) -> None:
    before = db_digest(app)
    api = world["caller"].api_client
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    for minutes in (99_999_999_999, 2_147_483_647, 527_041):
        response = api.patch(
            f"/api/v1/assets/{_asset(world)}", json={"turnaround_minutes": minutes}, headers=headers
        )
        _refused(app, before, response)
    see_committed(session)
    assert session.get(Asset, _asset(world)).turnaround_minutes == 0
    assert world["caller"].browsers["tech_a"].get(f"/assets/{_asset(world)}/book").status_code == 200


def test_a_year_of_turnaround_is_still_accepted(app, world, session) -> None:
    api = world["caller"].api_client
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    response = api.patch(
        f"/api/v1/assets/{_asset(world)}", json={"turnaround_minutes": 527_040}, headers=headers
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("cost", BIG_POUNDS, "Enter at most £21,474,836.47"),
        ("start_at", "9999-12-31T10:00", "Enter a date between the years 1970 and 2999"),
        ("end_at", "0001-01-01T10:00", "Enter a date between the years 1970 and 2999"),
    ],
)
def test_the_maintenance_form_refuses_values_beyond_the_column(app, world, field, value, message) -> None:
    data = {"start_at": "2030-01-07T09:00", "end_at": "2030-01-07T10:00", "reason": "Service", field: value}
    before = db_digest(app)
    response = world["caller"].browsers["manager_a"].post(f"/assets/{_asset(world)}/maintenance", data=data)
    assert message in _refused(app, before, response)


def test_the_inspection_form_refuses_a_cost_beyond_the_column(app, world) -> None:
    path = f"/assets/{_asset(world)}/inspections/{world['ids']['A']['schedule_id']}/record"
    prefix = f"record-{world['ids']['A']['schedule_id']}-"
    data = {
        f"{prefix}{name}": value
        for name, value in (
            ("done_on", "2026-01-05"),
            ("performed_by", "Acme"),
            ("outcome", "pass"),
            ("cost", BIG_POUNDS),
        )
    }
    before = db_digest(app)
    response = world["caller"].browsers["manager_a"].post(path, data=data)
    assert "Enter at most £21,474,836.47" in _refused(app, before, response)


# --- The import ------------------------------------------------------------------------------


@pytest.fixture
def uploads_in_tmp(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


def test_an_import_of_1e300_minutes_is_a_problem_in_the_preview(app, world, uploads_in_tmp) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Tag", "Name", "Turnaround (minutes)", "Minimum notice (minutes)", "Purchase cost (GBP)"])
    sheet.append(["A-IMP-1", "Huge turnaround", 1e300, 30, 1])
    sheet.append(["A-IMP-2", "Huge notice", 30, 1e300, 1])
    sheet.append(["A-IMP-3", "Huge cost", 30, 30, 1e300])
    sheet.append(["A-IMP-4", "Fine", 30, 30, 1])
    content = io.BytesIO()
    workbook.save(content)
    before = db_digest(app)
    response = (
        world["caller"]
        .browsers["manager_a"]
        .post(
            f"/schools/{world['ids']['A']['school_id']}/import",
            data={"file": (io.BytesIO(content.getvalue()), "register.xlsx")},
            content_type="multipart/form-data",
        )
    )
    body = _refused(app, before, response)
    assert 'name="token"' not in body  # nothing to confirm
    problems = {
        (int(line), column)
        for line, column in re.findall(r'<tr><td class="num"[^>]*>(\d+)</td><td[^>]*>(.*?)</td>', body)
    }
    assert problems == {
        (2, "Turnaround (minutes)"),
        (3, "Minimum notice (minutes)"),
        (4, "Purchase cost (GBP)"),
    }, body


@pytest.mark.parametrize("kind", ["user", "asset"])
def test_nul_in_a_calendar_feed_address_is_not_found(app, world, kind) -> None:
    token = "a" * 30 + "%00" + "b" * 10
    response = world["caller"].api_client.get(f"/calendar/{kind}/{token}.ics")
    assert response.status_code == 404
