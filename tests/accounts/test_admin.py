"""Admins manage people and their roles."""

from sqlalchemy import select

from accounts.models import Role, User
from tests.conftest import see_committed, sign_in
from tests.factories import make_school, make_user


def _admin_client(client, session):
    school = make_school(session, "CHEM", "School of Chemistry")
    admin = make_user(session, school, Role.ADMIN)
    sign_in(client, admin.email)
    return admin, school


def test_an_admin_adds_a_manager_who_can_then_sign_in(client, session):
    admin, school = _admin_client(client, session)
    response = client.post(
        "/admin/users/new",
        data={
            "name": "Rosalind Franklin",
            "email": "r.franklin@test.ac.uk",
            "home_school": school.id,
            "managed_schools": [school.id],
            "active": "y",
            "password": "x-ray diffraction",
        },
    )
    assert response.status_code == 302
    person = session.scalar(select(User).where(User.email == "r.franklin@test.ac.uk"))
    assert person.roles == [Role.TECHNICIAN, Role.MANAGER]
    assert person.managed_school_ids == {school.id}
    client.post("/sign-out")
    assert sign_in(client, "r.franklin@test.ac.uk", "x-ray diffraction").status_code == 302


def test_the_people_list_shows_everyone_with_their_roles(client, session):
    admin, school = _admin_client(client, session)
    make_user(session, school, Role.FINANCE, name="Fiona Finance")
    page = client.get("/admin/users").text
    assert "Fiona Finance" in page
    assert "Technician, Finance" in page


def test_a_duplicate_email_in_another_case_is_refused_on_the_form(client, session):
    admin, school = _admin_client(client, session)
    make_user(session, school, email="taken@test.ac.uk")
    response = client.post(
        "/admin/users/new",
        data={"name": "Someone", "email": "TAKEN@test.ac.uk", "home_school": 0, "password": "long enough pw"},
    )
    assert response.status_code == 400
    assert "already has an account" in response.text


def test_an_admin_changes_roles_and_deactivates_a_person(client, session):
    admin, school = _admin_client(client, session)
    person = make_user(session, school, Role.MANAGER)
    response = client.post(
        f"/admin/users/{person.id}",
        data={"name": person.name, "email": person.email, "home_school": school.id, "is_finance": "y"},
    )
    assert response.status_code == 302
    see_committed(session)
    person = session.get(User, person.id)
    assert person.roles == [Role.TECHNICIAN, Role.FINANCE]
    assert person.active is False


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(client, session):
    admin, school = _admin_client(client, session)
    response = client.post(
        f"/admin/users/{admin.id}", data={"name": admin.name, "email": admin.email, "home_school": school.id}
    )
    assert response.status_code == 400
    assert "cannot remove your own admin role" in response.text
    assert "cannot deactivate your own account" in response.text
    see_committed(session)
    assert session.get(User, admin.id).is_admin


def test_editing_someone_who_does_not_exist_is_a_404(client, session):
    _admin_client(client, session)
    assert client.get("/admin/users/424242").status_code == 404


def test_an_admin_adds_a_school(client, session):
    _admin_client(client, session)
    response = client.post("/schools", data={"code": "phys", "name": "School of Physics"})
    assert response.status_code == 302
    assert "School of Physics" in client.get("/schools").text
    duplicate = client.post("/schools", data={"code": "PHYS", "name": "Another"})
    assert duplicate.status_code == 400
    assert "already a School with the code PHYS" in duplicate.text
