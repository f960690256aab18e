"""Issue 15, point 12: the API says what the pages say.

``/reports/utilisation`` carries unmet demand by reason on every row at every ``group_by`` (and
in the totals); ``/reports/sharing`` carries the matrix's row and column totals, its grand total
and each owning School's share lent to others; the capital plan is readable as JSON
(``/planning/forecast`` and ``/planning/recommendations``, with ``school``, ``category`` and
``years``), for the people the capital-planning page is for.

The world, built by hand. Winter, so local time is UTC; "now" is Sunday 20 January 2030, noon.
Schools ECS and CHEM, every asset open Monday to Friday 09:00-17:00, on Kitshare since 2028.

- ECS-0001 laser (Lasers, shared), bought 1 Jun 2022 for £20,000. In the week of 7 January 2030
  Eve (ECS) booked it 4 h and Colin (CHEM) 6 h: ECS booked 10 h, 6 of them lent to CHEM: 0.6.
  Eve was refused 3 h for training, and 1 h for too little notice and outside the hours (one
  request under both reasons).
- ECS-0002 fume cupboard (Lasers, not bookable), bought 1 Jan 2019 for £8,000: its life ended on
  1 Jan 2029 (the backlog); its latest inspection, on 10 Jan 2030, failed: replace it.
- CHEM-0001 microscope (Microscopy, not shared), bought 1 Jan 2025 for £50,000: Colin booked it
  2 h; Eve (ECS) was refused 2 h because it is not shared: idle, and wanted elsewhere: share it.
- CHEM-0002 microscope (Microscopy, shared), bought 1 Mar 2021 for £10,000: never booked and
  nobody turned away all year: dispose of it or redeploy it.

The evidence year is 20 Jan 2029 to 19 Jan 2030: 260 weekdays, 2,080 bookable hours per asset.
Replacement estimates rise 3% a financial year (August to July) from the year of purchase.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from bookings.models import DemandSource, UnmetDemand
from core.db import atomic
from inventory.models import Category, InspectionKind, InspectionOutcome, InspectionRecord, InspectionSchedule
from planning import service as planning_service
from tests.api.conftest import Api
from tests.api.test_openapi import DOCUMENT, conforms
from tests.api.world import token_for
from tests.conftest import settings_of
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
NOW = dt.datetime(2030, 1, 20, 12, tzinfo=UTC)
WEEK = "from=2030-01-07&to=2030-01-11"
ON_KITSHARE_SINCE = dt.datetime(2028, 1, 1, 9, tzinfo=UTC)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2030, 1, day, hour, tzinfo=UTC)


def turned_away(session, asset, person, day: int, hour: int, hours: int, reasons: list[str]) -> None:
    session.add(
        UnmetDemand(
            asset_id=asset.id,
            requester_id=person.id,
            requester_school_id=person.home_school_id,
            start_at=at(day, hour),
            end_at=at(day, hour + hours),
            minutes=hours * 60,
            source=DemandSource.REFUSED,
            reasons=reasons,
        )
    )
    session.commit()


class World:
    pass


@pytest.fixture
def world(session):
    with time_machine.travel(NOW, tick=False):
        w = World()
        w.ecs = make_school(session, "ECS", "School of Electronics and Computer Science")
        w.chem = make_school(session, "CHEM", "School of Chemistry")
        w.lasers, w.microscopy = Category(name="Lasers"), Category(name="Microscopy")
        session.add_all([w.lasers, w.microscopy])
        session.commit()
        w.finance = make_user(session, w.ecs, Role.FINANCE, name="Fiona Finance")
        w.ecs_manager = make_user(session, w.ecs, Role.MANAGER, name="Erin ECS-Manager")
        w.chem_manager = make_user(session, w.chem, Role.MANAGER, name="Carl CHEM-Manager")
        w.technician = make_user(session, w.ecs, Role.TECHNICIAN, name="Ted Technician")
        w.eve = make_user(session, w.ecs, name="Eve ECS")
        w.colin = make_user(session, w.chem, name="Colin CHEM")
        w.laser = make_asset(
            session,
            w.ecs,
            tag="ECS-0001",
            name="Laser",
            category=w.lasers,
            shareable=True,
            purchase_date=dt.date(2022, 6, 1),
            purchase_cost_pence=2_000_000,
            created_at=ON_KITSHARE_SINCE,
        )
        w.cupboard = make_asset(
            session,
            w.ecs,
            tag="ECS-0002",
            name="Fume cupboard",
            category=w.lasers,
            bookable=False,
            purchase_date=dt.date(2019, 1, 1),
            purchase_cost_pence=800_000,
            created_at=ON_KITSHARE_SINCE,
        )
        w.scope1 = make_asset(
            session,
            w.chem,
            tag="CHEM-0001",
            name="Microscope one",
            category=w.microscopy,
            shareable=False,
            purchase_date=dt.date(2025, 1, 1),
            purchase_cost_pence=5_000_000,
            created_at=ON_KITSHARE_SINCE,
        )
        w.scope2 = make_asset(
            session,
            w.chem,
            tag="CHEM-0002",
            name="Microscope two",
            category=w.microscopy,
            shareable=True,
            purchase_date=dt.date(2021, 3, 1),
            purchase_cost_pence=1_000_000,
            created_at=ON_KITSHARE_SINCE,
        )
        make_booking(session, w.laser, w.eve, at(7, 9), hours=4)
        make_booking(session, w.laser, w.colin, at(8, 9), hours=6)
        make_booking(session, w.scope1, w.colin, at(9, 10), hours=2)
        turned_away(session, w.laser, w.eve, 10, 9, 3, ["training"])
        turned_away(session, w.laser, w.eve, 11, 16, 1, ["min_notice", "outside_hours"])
        turned_away(session, w.scope1, w.eve, 10, 13, 2, ["not_shared"])
        schedule = InspectionSchedule(
            asset_id=w.cupboard.id,
            kind=InspectionKind.FUME_CUPBOARD,
            interval_days=365,
            last_done_on=dt.date(2030, 1, 10),
            next_due_on=dt.date(2031, 1, 10),
        )
        schedule.records = [
            InspectionRecord(
                done_on=dt.date(2030, 1, 10), performed_by="Contractor", outcome=InspectionOutcome.FAIL
            ),
        ]
        session.add(schedule)
        session.commit()
    return w


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def caller(client, session, person) -> Api:
    return Api(client, token_for(session, person))


@pytest.fixture
def finance(world, session, client, now) -> Api:
    return caller(client, session, world.finance)


def matches_the_document(body: dict, path: str) -> None:
    schema = DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert conforms(body, schema) == []


# --- Unmet demand by reason at every group_by ---------------------------------------------------

LASER_REASONS = [
    {"reason": "training", "label": "Training needed", "requests": 1, "hours": 3.0},
    {"reason": "min_notice", "label": "Too little notice", "requests": 1, "hours": 1.0},
    {"reason": "outside_hours", "label": "Outside bookable hours", "requests": 1, "hours": 1.0},
]
NOT_SHARED = [{"reason": "not_shared", "label": "Not shared with other Schools", "requests": 1, "hours": 2.0}]


def test_unmet_demand_by_reason_on_every_school_row(finance):
    body = finance.get(f"/reports/utilisation?{WEEK}&group_by=school").json
    rows = {row["code"]: row for row in body["rows"]}
    assert rows["ECS"]["unmet_by_reason"] == LASER_REASONS
    assert rows["CHEM"]["unmet_by_reason"] == NOT_SHARED
    # Three requests in all; the one refused for two reasons counts once in unmet_requests.
    assert (rows["ECS"]["unmet_requests"], rows["ECS"]["unmet_hours"]) == (2, 4.0)
    matches_the_document(body, "/reports/utilisation")


def test_unmet_demand_by_reason_on_every_category_row(finance):
    body = finance.get(f"/reports/utilisation?{WEEK}&group_by=category").json
    rows = {row["name"]: row for row in body["rows"]}
    assert rows["Lasers"]["unmet_by_reason"] == LASER_REASONS
    assert rows["Microscopy"]["unmet_by_reason"] == NOT_SHARED
    matches_the_document(body, "/reports/utilisation")


def test_unmet_demand_by_reason_on_every_asset_row_and_in_the_totals(finance):
    body = finance.get(f"/reports/utilisation?{WEEK}&group_by=asset").json
    rows = {row["tag"]: row for row in body["rows"]}
    assert rows["ECS-0001"]["unmet_by_reason"] == LASER_REASONS
    assert rows["CHEM-0001"]["unmet_by_reason"] == NOT_SHARED
    assert rows["CHEM-0002"]["unmet_by_reason"] == []
    assert body["totals"]["unmet_by_reason"] == [
        {"reason": "training", "label": "Training needed", "requests": 1, "hours": 3.0},
        {"reason": "not_shared", "label": "Not shared with other Schools", "requests": 1, "hours": 2.0},
        {"reason": "min_notice", "label": "Too little notice", "requests": 1, "hours": 1.0},
        {"reason": "outside_hours", "label": "Outside bookable hours", "requests": 1, "hours": 1.0},
    ]
    matches_the_document(body, "/reports/utilisation")


# --- Sharing: row, column and grand totals, and the share lent ----------------------------------


def test_sharing_has_row_column_and_grand_totals_and_each_schools_share_lent(finance, world):
    body = finance.get(f"/reports/sharing?{WEEK}").json
    ecs, chem = world.ecs.id, world.chem.id
    assert [o["code"] for o in body["owners"]] == ["CHEM", "ECS"]
    assert {(c["owner_id"], c["borrower_id"]): c["hours"] for c in body["cells"]} == {
        (chem, chem): 2.0,
        (ecs, ecs): 4.0,
        (ecs, chem): 6.0,
    }
    assert body["owner_totals"] == [
        {"owner_id": chem, "hours": 2.0, "lent_to_others_hours": 0.0, "share_lent_to_others": 0.0},
        {"owner_id": ecs, "hours": 10.0, "lent_to_others_hours": 6.0, "share_lent_to_others": 0.6},
    ]
    assert body["borrower_totals"] == [
        {"borrower_id": chem, "hours": 8.0},
        {"borrower_id": ecs, "hours": 4.0},
    ]
    assert body["total_hours"] == 12.0
    matches_the_document(body, "/reports/sharing")


def test_a_managers_sharing_totals_cover_their_schools_assets(world, session, client, now):
    body = caller(client, session, world.ecs_manager).get(f"/reports/sharing?{WEEK}").json
    assert body["owner_totals"] == [
        {"owner_id": world.ecs.id, "hours": 10.0, "lent_to_others_hours": 6.0, "share_lent_to_others": 0.6}
    ]
    assert body["borrower_totals"] == [
        {"borrower_id": world.chem.id, "hours": 6.0},
        {"borrower_id": world.ecs.id, "hours": 4.0},
    ]
    assert body["total_hours"] == 10.0


# --- The replacement forecast -------------------------------------------------------------------


def test_the_forecast_for_every_school_puts_each_asset_in_the_year_its_life_ends(finance, world):
    body = finance.get("/planning/forecast").json
    assert body["today"] == "2030-01-20"
    assert body["evidence_period"] == {"from": "2029-01-20", "to": "2030-01-19"}
    assert body["scope"] == {"school_ids": None, "schools": None, "category": None, "label": "All Schools"}
    years = {year["key"]: year for year in body["financial_years"]}
    assert list(years) == ["backlog", "2029", "2030", "2031", "2032", "2033"]
    assert (years["2029"]["label"], years["2029"]["from"], years["2029"]["to"]) == (
        "2029/30",
        "2029-08-01",
        "2030-07-31",
    )
    # The fume cupboard's life ended on 1 Jan 2029: replaced this year, at £8,000 x 1.03^11.
    assert years["backlog"]["total"]["asset_ids"] == [world.cupboard.id]
    assert years["backlog"]["total"]["replacement_pence"] == 1_107_387
    # Microscope two ends 1 Mar 2031 (2030/31): £10,000 x 1.03^10; the laser 1 Jun 2032 (2031/32).
    assert [
        (g["school_code"], g["category"], g["asset_ids"], g["replacement_pence"])
        for g in years["2030"]["groups"]
    ] == [("CHEM", "Microscopy", [world.scope2.id], 1_343_916)]
    assert [
        (g["school_code"], g["category"], g["asset_ids"], g["replacement_pence"])
        for g in years["2031"]["groups"]
    ] == [("ECS", "Lasers", [world.laser.id], 2_687_833)]
    assert years["2031"]["groups"][0]["booked_hours"] == 10.0
    assert years["2031"]["groups"][0]["available_hours"] == 2080.0
    assert body["total"]["replacement_pence"] == 1_107_387 + 1_343_916 + 2_687_833
    assets = {a["tag"]: a for a in body["assets"]}
    assert {tag: a["forecast_year"] for tag, a in assets.items()} == {
        "ECS-0001": "2031",
        "ECS-0002": "backlog",
        "CHEM-0001": "later",
        "CHEM-0002": "2030",
    }
    scope2 = assets["CHEM-0002"]
    assert (scope2["end_of_life"], scope2["useful_life_years"], scope2["useful_life_from"]) == (
        "2031-03-01",
        10,
        "default",
    )
    # £10,000 x (1 - 3,247 days since purchase / 3,652 days of life), to the penny.
    assert scope2["book_value_pence"] == 110_898
    assert scope2["annual_depreciation_pence"] == 100_000
    for money in (
        "book_value_pence",
        "replacement_estimate_pence",
        "purchase_cost_pence",
        "annual_depreciation_pence",
    ):
        assert isinstance(scope2[money], int)
    matches_the_document(body, "/planning/forecast")


def test_the_forecast_filtered_by_school_category_and_years(finance, world):
    body = finance.get(
        f"/planning/forecast?school={world.chem.id}&category={world.microscopy.id}&years=2"
    ).json
    assert body["scope"]["label"] == "CHEM; Microscopy"
    assert body["scope"]["category"] == {"id": world.microscopy.id, "name": "Microscopy"}
    assert body["years"] == 2
    assert [year["key"] for year in body["financial_years"]] == ["backlog", "2029", "2030"]
    assert [(a["tag"], a["forecast_year"]) for a in body["assets"]] == [
        ("CHEM-0001", "later"),
        ("CHEM-0002", "2030"),
    ]
    assert body["total"]["asset_ids"] == [world.scope2.id]
    matches_the_document(body, "/planning/forecast")


def test_a_manager_sees_the_forecast_of_their_schools_only(world, session, client, now):
    erin = caller(client, session, world.ecs_manager)
    body = erin.get("/planning/forecast").json
    assert [a["tag"] for a in body["assets"]] == ["ECS-0001", "ECS-0002"]
    refused = erin.get(f"/planning/forecast?school={world.chem.id}")
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert refused.json["detail"] == "You can see capital planning only for the Schools you manage."


# --- Recommendations ---------------------------------------------------------------------------


def test_every_recommendation_with_its_kind_asset_reasons_and_evidence(finance, world):
    body = finance.get("/planning/recommendations").json
    assert body["counts"] == {"replace": 1, "invest": 0, "share": 1, "dispose": 1}
    assert [(r["kind"], r["asset"]["tag"]) for r in body["recommendations"]] == [
        ("replace", "ECS-0002"),
        ("share", "CHEM-0001"),
        ("dispose", "CHEM-0002"),
    ]
    replace, share, dispose = body["recommendations"]
    assert replace["label"] == "Replace"
    assert replace["asset"] == {
        "id": world.cupboard.id,
        "tag": "ECS-0002",
        "name": "Fume cupboard",
        "school": {"id": world.ecs.id, "code": "ECS", "name": "School of Electronics and Computer Science"},
        "category": {"id": world.lasers.id, "name": "Lasers"},
    }
    assert replace["reasons"] == [
        "Failing inspections: Fume-cupboard examination failed on 10 Jan 2030 (not passed since)"
    ]
    assert replace["figures"]["utilisation"] is None  # not bookable: no figures
    assert replace["figures"]["replacement_estimate_pence"] == 1_107_387
    assert share["reasons"] == [
        "Idle in CHEM (0.1% utilisation, under 10.0%) but in demand elsewhere: ECS 2.0 h turned away",
        "Idle (0.1% utilisation, under 10.0%) and could be shared, but is not yet open to other Schools",
    ]
    evidence = {line["term"]: line["text"] for line in share["evidence"]}
    assert evidence["Utilisation"] == "0.1%: 2.0 h booked of 2,080.0 h available"
    assert evidence["Used by other Schools"] == "None: not open to other Schools"
    assert dispose["reasons"] == [
        "Idle for the whole year: 0.0% utilisation (under 10.0%), 0.0 h booked of 2,080.0 h, and no unmet demand"
    ]
    assert dispose["figures"]["book_value_pence"] == 110_898
    assert all(r["decision"] is None and r["decisions"] == [] for r in body["recommendations"])
    matches_the_document(body, "/planning/recommendations")


def test_recommendations_filtered_by_school_and_by_category(finance, world):
    by_school = finance.get(f"/planning/recommendations?school={world.chem.id}").json
    assert [(r["kind"], r["asset"]["tag"]) for r in by_school["recommendations"]] == [
        ("share", "CHEM-0001"),
        ("dispose", "CHEM-0002"),
    ]
    by_category = finance.get(f"/planning/recommendations?category={world.lasers.id}").json
    assert [(r["kind"], r["asset"]["tag"]) for r in by_category["recommendations"]] == [
        ("replace", "ECS-0002")
    ]
    assert by_category["counts"] == {"replace": 1, "invest": 0, "share": 0, "dispose": 0}


def test_a_recorded_decision_comes_with_its_recommendation(world, session, client, now, app):
    with app.app_context(), atomic(session, world.chem_manager):
        planning_service.record_decision(
            session,
            world.chem_manager,
            asset_id=world.scope2.id,
            recommendation="dispose",
            outcome="deferred",
            note="Wait for the new lab",
            config=settings_of(app),
            now=NOW,
        )
    body = caller(client, session, world.chem_manager).get("/planning/recommendations").json
    dispose = next(r for r in body["recommendations"] if r["kind"] == "dispose")
    assert dispose["decision"] == {
        "outcome": "deferred",
        "label": "Deferred",
        "note": "Wait for the new lab",
        "decided_by": {"id": world.chem_manager.id, "name": "Carl CHEM-Manager"},
        "decided_at": "2030-01-20T12:00:00Z",
        "decided_at_local": "2030-01-20T12:00:00+00:00",
    }
    assert dispose["decisions"] == [dispose["decision"]]
    matches_the_document(body, "/planning/recommendations")


@pytest.mark.parametrize("path", ["/planning/forecast", "/planning/recommendations"])
def test_a_technician_is_refused_the_capital_plan(world, session, client, now, path):
    response = caller(client, session, world.technician).get(path)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert (
        response.json["detail"]
        == "Capital planning is for finance staff, administrators and School managers."
    )


def test_the_planning_operations_are_documented_with_their_filters():
    for path in ("/planning/forecast", "/planning/recommendations"):
        operation = DOCUMENT["paths"][path]["get"]
        assert [p["name"] for p in operation["parameters"]] == ["school", "category", "years"]
        assert {"200", "400", "401", "403", "414", "422", "429"} <= operation["responses"].keys()
        assert operation["tags"] == ["Planning"]
