"""Issue 18 point 4: a School's team with specialisms, and its coverage flags, for its managers."""

from __future__ import annotations

import pytest

from core.errors import NotAllowed
from inventory.models import AssetStatus
from people.team import school_team
from tests.factories import make_asset


def test_coverage_flags_assets_with_no_named_technician_or_only_one(people, session):
    make_asset(
        session,
        people["chem"],
        name="Old centrifuge",
        tag="CHEM-0009",
        contact=people["tess"],
        status=AssetStatus.RETIRED,
    )  # withdrawn: not counted
    team = school_team(session, people["mia"], people["chem"].id)
    flags = {item.asset.tag: item.flag for item in team.coverage}
    assert flags == {"CHEM-0003": "none", "CHEM-0001": "one", "CHEM-0002": ""}
    assert [c.asset.tag for c in team.uncovered] == ["CHEM-0003"]
    assert [c.asset.tag for c in team.single] == ["CHEM-0001"]
    assert [c.asset.tag for c in team.coverage] == [
        "CHEM-0003",
        "CHEM-0001",
        "CHEM-0002",
    ]  # the least covered first


def test_an_inactive_technician_does_not_cover(people, session):
    people["otto"].active = False
    session.commit()
    flags = {
        item.asset.tag: item.flag for item in school_team(session, people["mia"], people["chem"].id).coverage
    }
    assert flags["CHEM-0002"] == "one"


def test_the_team_page_lists_the_team_with_specialisms_and_the_flags(people, as_person):
    page = as_person(people["mia"]).get(f"/schools/{people['chem'].id}/team").get_data(as_text=True)
    assert "Tess Technician" in page and "Confocal microscopy, Live-cell imaging" in page
    assert "Otto Operator" in page and "NMR spectroscopy" in page
    assert 'data-flag="none"' in page and "No named technician" in page and "Only one technician" in page


def test_only_the_schools_managers_and_admins_see_the_team(people, as_person, session):
    assert as_person(people["ada"]).get(f"/schools/{people['chem'].id}/team").status_code == 200
    for viewer in ("tess", "paul"):
        assert as_person(people[viewer]).get(f"/schools/{people['chem'].id}/team").status_code == 403
    with pytest.raises(NotAllowed):
        school_team(session, people["tess"], people["chem"].id)
    assert as_person(people["mia"]).get("/schools/999999/team").status_code == 404


def test_a_manager_names_a_second_technician_and_the_flag_clears(people, as_person, session):
    from inventory.models import AssetTechnician

    mia = as_person(people["mia"])
    confocal = people["confocal"]
    response = mia.post(
        f"/schools/{people['chem'].id}/team/technicians",
        data={"asset_id": confocal.id, "user_id": people["otto"].id},
    )
    assert response.status_code == 302
    session.expire_all()
    flags = {
        item.asset.tag: item.flag for item in school_team(session, people["mia"], people["chem"].id).coverage
    }
    assert flags["CHEM-0001"] == ""
    page = mia.get(f"/schools/{people['chem'].id}/team").get_data(as_text=True)
    assert 'Remove<span class="visually-hidden"> Otto Operator from Confocal microscope</span>' in page
    response = mia.post(
        f"/schools/{people['chem'].id}/team/technicians/remove",
        data={"asset_id": confocal.id, "user_id": people["otto"].id},
    )
    assert response.status_code == 302
    session.rollback()
    assert session.get(AssetTechnician, (confocal.id, people["otto"].id)) is None


def test_naming_is_refused_with_a_reason_and_only_for_the_schools_managers(people, as_person, session):
    from sqlalchemy import func, select

    from inventory.models import AssetTechnician

    count = session.scalar(select(func.count()).select_from(AssetTechnician))
    chem = people["chem"].id
    mia = as_person(people["mia"])
    # Tess is the confocal's contact already; the PHYS manager's School is not CHEM.
    response = mia.post(
        f"/schools/{chem}/team/technicians",
        data={"asset_id": people["confocal"].id, "user_id": people["tess"].id},
        headers={"Referer": f"/schools/{chem}/team"},
        follow_redirects=True,
    )
    assert "Tess Technician is already the contact of Confocal microscope." in response.get_data(as_text=True)
    response = mia.post(
        f"/schools/{chem}/team/technicians",
        data={"asset_id": "abc", "user_id": ""},
        headers={"Referer": f"/schools/{chem}/team"},
        follow_redirects=True,
    )
    assert "Choose from the list." in response.get_data(as_text=True)
    assert (
        as_person(people["tess"])
        .post(
            f"/schools/{chem}/team/technicians",
            data={"asset_id": people["balance"].id, "user_id": people["tess"].id},
        )
        .status_code
        == 403
    )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AssetTechnician)) == count
