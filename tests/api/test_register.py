"""The register through the API: Schools, categories, asset search, reading and changing assets."""

from sqlalchemy import select

from core.audit import AuditEntry
from inventory.models import Asset, AssetStatus
from tests.conftest import see_committed
from tests.factories import make_asset


def ids(response) -> list[int]:
    return [item["id"] for item in response.json["items"]]


# --- Schools and categories -------------------------------------------------------------------


def test_schools_are_listed_by_name_with_a_total(carla):
    response = carla.get("/schools")
    assert response.status_code == 200
    assert response.json == {
        "items": [
            {"id": 1, "code": "CHEM", "name": "School of Chemistry"},
            {"id": 2, "code": "PHYS", "name": "School of Physics"},
        ],
        "total": 2,
        "page": 1,
        "per_page": 20,
    }


def test_schools_are_paginated(carla):
    response = carla.get("/schools?per_page=1&page=2")
    assert ids(response) == [2]
    assert response.json["total"] == 2


def test_categories_are_listed_by_name(carla):
    assert [c["name"] for c in carla.get("/categories").json["items"]] == ["Microscopy", "Spectroscopy"]


def test_a_page_number_that_is_not_a_number_is_malformed(carla):
    response = carla.get("/categories?page=two")
    assert response.status_code == 400
    assert response.json["errors"] == {"page": ["Give a whole number."]}


# --- Searching assets -------------------------------------------------------------------------


def test_search_finds_assets_by_words(carla):
    response = carla.get("/assets?q=confocal")
    assert response.status_code == 200
    assert ids(response) == [1]
    assert response.json["total"] == 1


def test_search_filters_by_school_and_status(carla):
    carla.patch("/assets/3", json={"status": "maintenance", "status_reason": "Lamp replaced"})
    assert ids(carla.get("/assets?school=1&status=available")) == [1, 4]
    assert ids(carla.get("/assets?status=maintenance")) == [3]


def test_shareable_keeps_what_the_caller_may_book(carla, world, session):
    make_asset(session, world["phys"], name="Unshared laser", shareable=False)
    names = [a["name"] for a in carla.get("/assets?shareable=true&per_page=200").json["items"]]
    assert "Unshared laser" not in names and "X-ray diffractometer" in names


def test_free_from_and_to_leave_out_assets_booked_then(carla):
    response = carla.get("/assets?school=1&free_from=2030-01-08T10:00&free_to=2030-01-08T11:00")
    assert ids(response) == [3, 4]


def test_a_free_period_needs_both_ends(carla):
    response = carla.get("/assets?free_from=2030-01-08T10:00")
    assert response.status_code == 422
    assert "give both a start and an end" in response.json["detail"]


def test_an_unknown_status_is_malformed(carla):
    response = carla.get("/assets?status=broken")
    assert response.status_code == 400
    assert "status" in response.json["errors"]


def test_retired_assets_are_left_out_unless_asked_for(carla):
    carla.patch("/assets/4", json={"status": "retired", "status_reason": "Sensor failed"})
    assert 4 not in ids(carla.get("/assets"))
    assert 4 in ids(carla.get("/assets?include_unbookable=true"))


def test_pages_hold_at_most_200(carla, world, session):
    for n in range(201):
        session.add(Asset(school=world["chem"], tag=f"BULK-{n:03d}", name=f"Pipette {n:03d}"))
    session.commit()
    response = carla.get("/assets?q=pipette&per_page=200&page=2")
    assert response.json["total"] == 201
    assert [a["tag"] for a in response.json["items"]] == ["BULK-200"]
    too_many = carla.get("/assets?per_page=201")
    assert too_many.status_code == 400
    assert too_many.json["errors"] == {"per_page": ["Give a whole number from 1 to 200."]}


# --- Reading an asset -------------------------------------------------------------------------


def test_an_asset_has_its_rules_hours_and_links(priya):
    asset = priya.get("/assets/1").json
    assert asset["tag"] == "CHEM-0001" and asset["school"]["code"] == "CHEM"
    assert asset["turnaround_minutes"] == 30
    assert asset["weekly_hours"][0] == {"weekday": 0, "opens": "09:00", "closes": "17:00"}
    assert asset["needs_approval"] is True  # Priya is from PHYS
    assert asset["links"]["availability"] == "/api/v1/assets/1/availability"


def test_purchase_details_are_for_the_owning_schools_managers_only(carla, priya):
    assert carla.get("/assets/1").json["purchase_cost_pence"] == 45000000
    seen_by_priya = priya.get("/assets/1").json
    assert "purchase_cost_pence" not in seen_by_priya and "funding_source" not in seen_by_priya


def test_an_unknown_asset_is_not_found(carla):
    response = carla.get("/assets/999")
    assert response.status_code == 404
    assert response.json["detail"] == "There is no such asset."


# --- Adding and changing assets ---------------------------------------------------------------

NEW = {
    "school_id": 1,
    "tag": "CHEM-0100",
    "name": "Benchtop centrifuge",
    "location_id": 1,
    "turnaround_minutes": 15,
}


def test_a_manager_adds_an_asset_to_their_school(carla, session):
    response = carla.post("/assets", json=NEW)
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/v1/assets/{response.json['id']}"
    assert response.json["status"] == "available" and response.json["turnaround_minutes"] == 15
    assert len(response.json["weekly_hours"]) == 5  # Monday to Friday by default
    see_committed(session)
    audit = session.scalar(
        select(AuditEntry).where(AuditEntry.object_id == response.json["id"], AuditEntry.action == "created")
    )
    assert audit.actor_id == 1  # Carla, through her token


def test_nobody_adds_assets_to_a_school_they_do_not_manage(carla, session):
    response = carla.post("/assets", json={**NEW, "school_id": 2})
    assert response.status_code == 403
    see_committed(session)
    assert session.scalar(select(Asset).where(Asset.tag == "CHEM-0100")) is None


def test_an_unknown_school_is_not_something_a_manager_can_probe(carla):
    assert carla.post("/assets", json={**NEW, "school_id": 99}).status_code == 403


def test_an_asset_breaking_the_registers_rules_is_refused_field_by_field(carla):
    response = carla.post("/assets", json={**NEW, "tag": "", "turnaround_minutes": -5, "location_id": 2})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"tag", "turnaround_minutes", "location_id"}


def test_an_asset_without_its_required_fields_is_malformed(carla):
    response = carla.post("/assets", json={"school_id": 1, "name": "No tag", "weekly_hours": "weekdays"})
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"tag", "weekly_hours"}


def test_a_patch_changes_only_the_fields_given(carla, session):
    response = carla.patch(
        "/assets/1",
        json={
            "name": "Confocal microscope (LSM 900)",
            "weekly_hours": [{"weekday": 5, "opens": "10:00", "closes": "14:00"}],
        },
    )
    assert response.status_code == 200
    assert response.json["name"] == "Confocal microscope (LSM 900)"
    assert response.json["weekly_hours"] == [{"weekday": 5, "opens": "10:00", "closes": "14:00"}]
    assert response.json["turnaround_minutes"] == 30 and response.json["model"] == "LSM 900"


def test_a_patch_puts_an_asset_out_of_service_with_a_reason(carla, session):
    response = carla.patch("/assets/1", json={"status": "out_of_service", "status_reason": "Laser failed"})
    assert response.json["status"] == "out_of_service"
    see_committed(session)
    assert session.get(Asset, 1).status == AssetStatus.OUT_OF_SERVICE


def test_a_status_change_needs_a_reason(carla):
    response = carla.patch("/assets/1", json={"status": "retired"})
    assert response.status_code == 422
    assert response.json["errors"] == {"status_reason": ["Say why the asset is retired."]}


def test_only_the_owning_schools_managers_change_an_asset(pavel, session):
    assert pavel.patch("/assets/1", json={"name": "Mine now"}).status_code == 403
    assert pavel.patch("/assets/1", json={}).status_code == 403
    see_committed(session)
    assert session.get(Asset, 1).name == "Confocal microscope"


def test_changing_an_unknown_asset_is_not_found(carla):
    assert carla.patch("/assets/999", json={"name": "Ghost"}).status_code == 404


def test_a_patch_with_a_wrong_type_is_malformed(carla):
    response = carla.patch("/assets/1", json={"bookable": "yes please"})
    assert response.status_code == 400
    assert response.json["errors"] == {"bookable": ["Give true or false."]}


def test_new_weekly_hours_may_keep_a_days_opening_time(carla):
    response = carla.patch(
        "/assets/1", json={"weekly_hours": [{"weekday": 0, "opens": "09:00", "closes": "12:00"}]}
    )
    assert response.json["weekly_hours"] == [{"weekday": 0, "opens": "09:00", "closes": "12:00"}]
