"""Role and School guards: a refused request is a 403 (or the sign-in page), never a 500."""

import pytest

from accounts.models import Role
from accounts.permissions import require_role, require_school_manager
from core.errors import NotAllowed
from inventory.models import Location
from tests.conftest import sign_in
from tests.factories import make_school, make_user


def test_require_role_admits_the_role_and_admins_only(session):
    school = make_school(session)
    finance = make_user(session, school, Role.FINANCE)
    admin = make_user(session, school, Role.ADMIN)
    technician = make_user(session, school)
    require_role(finance, Role.FINANCE)
    require_role(admin, Role.FINANCE)
    with pytest.raises(NotAllowed):
        require_role(technician, Role.FINANCE)


def test_require_school_manager_is_scoped_to_the_managed_school(session):
    school_a, school_b = make_school(session), make_school(session)
    manager_a = make_user(session, school_a, Role.MANAGER)
    admin = make_user(session, school_b, Role.ADMIN)
    require_school_manager(manager_a, school_a.id)
    require_school_manager(admin, school_a.id)
    with pytest.raises(NotAllowed):
        require_school_manager(manager_a, school_b.id)


def test_a_manager_of_two_schools_manages_both(session):
    school_a, school_b, school_c = make_school(session), make_school(session), make_school(session)
    manager = make_user(session, school_a, Role.MANAGER, manages=[school_a, school_b])
    assert manager.manages(school_a.id) and manager.manages(school_b.id)
    assert not manager.manages(school_c.id)


@pytest.mark.parametrize("role", [None, Role.MANAGER, Role.FINANCE])
def test_admin_pages_are_forbidden_to_everyone_but_admins(client, session, role):
    school = make_school(session)
    person = make_user(session, school, *([role] if role else []))
    sign_in(client, person.email)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/users/new").status_code == 403
    assert client.post("/admin/users/new", data={"email": "x@test.ac.uk", "name": "X"}).status_code == 403
    assert client.post("/schools", data={"code": "NEW", "name": "New School"}).status_code == 403


def test_admin_pages_redirect_to_sign_in_when_signed_out(client, session):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_manager_cannot_change_another_schools_locations(client, session):
    school_a, school_b = make_school(session), make_school(session)
    manager_a = make_user(session, school_a, Role.MANAGER)
    sign_in(client, manager_a.email)
    page_b = client.get(f"/schools/{school_b.id}")
    assert page_b.status_code == 200
    assert "Add a location" not in page_b.text  # no form shown for School B
    response = client.post(f"/schools/{school_b.id}/locations", data={"building": "Hack", "room": "1"})
    assert response.status_code == 403
    assert session.query(Location).filter_by(school_id=school_b.id).count() == 0


def test_a_manager_adds_a_location_to_their_own_school(client, session):
    school = make_school(session)
    manager = make_user(session, school, Role.MANAGER)
    sign_in(client, manager.email)
    assert "Add a location" in client.get(f"/schools/{school.id}").text
    response = client.post(
        f"/schools/{school.id}/locations", data={"site": "Main campus", "building": "Dalton", "room": "1.04"}
    )
    assert response.status_code == 302
    location = session.query(Location).filter_by(school_id=school.id).one()
    assert (location.building, location.room) == ("Dalton", "1.04")


def test_a_duplicate_location_is_refused_with_a_message(client, session):
    school = make_school(session)
    manager = make_user(session, school, Role.MANAGER)
    sign_in(client, manager.email)
    client.post(f"/schools/{school.id}/locations", data={"building": "Dalton", "room": "1.04"})
    response = client.post(f"/schools/{school.id}/locations", data={"building": "dalton", "room": "1.04"})
    assert response.status_code == 400
    assert "already one of this School" in response.text


def test_an_unknown_school_is_a_404_not_a_500(client, session):
    sign_in(client, make_user(session, make_school(session)).email)
    assert client.get("/schools/999999").status_code == 404
    assert client.post("/schools/999999/locations", data={}).status_code == 404
