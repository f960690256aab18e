"""Utilisation and sharing figures through the API: the report page's figures, for those who may see them."""

import pytest

from accounts.models import Role
from tests.api.conftest import Api
from tests.api.world import token_for
from tests.factories import make_user

JANUARY = "from=2030-01-01&to=2030-01-31"


@pytest.fixture
def finance(world, session, client) -> Api:
    return Api(client, token_for(session, make_user(session, world["phys"], Role.FINANCE)))


def test_a_manager_sees_their_schools_utilisation_by_school(carla):
    response = carla.get(f"/reports/utilisation?{JANUARY}&group_by=school")
    assert response.status_code == 200
    body = response.json
    assert body["scope"]["label"] == "CHEM"
    assert [(row["code"], row["booked_hours"], row["available_hours"]) for row in body["rows"]] == [
        ("CHEM", 66.0, 552.0)
    ]
    assert body["totals"]["utilisation"] == pytest.approx(66 / 552)
    assert "Available hours" in [d["term"] for d in body["definitions"]]


def test_finance_sees_every_school_by_asset(finance):
    body = finance.get(f"/reports/utilisation?{JANUARY}&group_by=asset").json
    assert body["scope"]["label"] == "All Schools"
    assert {row["tag"] for row in body["rows"]} == {"CHEM-0001", "CHEM-0002", "CHEM-0003", "PHYS-0001"}


def test_figures_by_category(finance):
    body = finance.get(f"/reports/utilisation?{JANUARY}&group_by=category").json
    assert [row["name"] for row in body["rows"]] == ["Microscopy", "Spectroscopy"]


def test_several_schools_are_asked_for_by_repeating_school(finance):
    body = finance.get(f"/reports/utilisation?{JANUARY}&school=1&school=2").json
    assert body["scope"]["school_ids"] == [1, 2]


def test_people_without_a_reporting_role_are_refused(priya):
    assert priya.get(f"/reports/utilisation?{JANUARY}").status_code == 403
    assert priya.get(f"/reports/sharing?{JANUARY}").status_code == 403


def test_a_manager_cannot_see_another_schools_figures(carla):
    response = carla.get(f"/reports/utilisation?{JANUARY}&school=2")
    assert response.status_code == 403
    assert response.json["detail"] == "You can see reports only for the Schools you manage."


def test_a_period_that_runs_backwards_breaks_the_rule(carla):
    response = carla.get("/reports/utilisation?from=2030-01-31&to=2030-01-01")
    assert response.status_code == 422
    assert response.json["errors"] == {"period_to": ["The last day must be on or after the first day."]}


def test_a_period_needs_both_dates_as_dates(carla):
    response = carla.get("/reports/sharing?from=January")
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"from", "to"}


def test_an_unknown_grouping_is_malformed(carla):
    assert carla.get(f"/reports/utilisation?{JANUARY}&group_by=person").status_code == 400


def test_sharing_shows_booked_hours_by_borrowing_school(finance):
    body = finance.get(f"/reports/sharing?{JANUARY}").json
    assert body["title"] == "Sharing between Schools, 1–31 Jan 2030"
    cells = {(c["owner_id"], c["borrower_id"]): c["hours"] for c in body["cells"]}
    assert cells == {(1, 1): 1.0, (1, 2): 65.0}
    assert [s["code"] for s in body["borrowers"]] == ["CHEM", "PHYS"]
