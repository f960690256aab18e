"""Issue 18 point 1: profiles, and each part hidden beyond the person's School when they say so."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from people.models import Profile, Registration, RegistrationTitle, Specialism, Visibility
from tests.conftest import see_committed


def test_a_profile_shows_role_specialisms_registration_and_equipment_to_the_persons_school(people, as_person):
    page = as_person(people["otto"]).get(f"/people/{people['tess'].id}").get_data(as_text=True)
    assert "Senior Imaging Technician" in page
    assert "Confocal microscopy" in page and "Live-cell imaging" in page
    assert "RSciTech, since 01 May 2021" in page
    assert "Confocal microscope" in page and "NMR spectrometer" in page  # contact of one, named on the other


def test_a_part_hidden_beyond_the_school_is_absent_for_another_school(people, as_person):
    page = as_person(people["paul"]).get(f"/people/{people['tess'].id}").get_data(as_text=True)
    assert "Senior Imaging Technician" in page and "Confocal microscopy" in page  # shown to everyone
    assert "RSciTech" not in page and "Professional registration" not in page
    assert "CHEM-0001" not in page and "Equipment they look after" not in page
    assert "Contribution record" not in page  # the record is the School's by default


def test_the_schools_manager_and_an_admin_see_every_part(people, as_person):
    for viewer in ("mia", "ada"):
        page = as_person(people[viewer]).get(f"/people/{people['tess'].id}").get_data(as_text=True)
        assert "RSciTech" in page and "CHEM-0001" in page and "Contribution record" in page


def test_someone_edits_their_own_profile_and_chooses_who_sees_each_part(people, as_person, session):
    tess = people["tess"]
    response = as_person(tess).post(
        f"/people/{tess.id}/edit",
        data={
            "role_title": "Imaging Facility Manager",
            "specialisms": "Confocal microscopy, light-sheet microscopy\nconfocal MICROSCOPY",
            "add_specialism": "Super-resolution",
            "registration_rsci": "2024-02-01",
            "role_visibility": "school",
            "specialisms_visibility": "everyone",
            "registrations_visibility": "everyone",
            "assets_visibility": "everyone",
            "record_visibility": "school",
        },
    )
    assert response.status_code == 302
    see_committed(session)
    profile = session.get(Profile, tess.id)
    assert profile.role_title == "Imaging Facility Manager"
    assert profile.role_visibility == Visibility.SCHOOL
    tags = session.scalars(
        select(Specialism.name).where(Specialism.user_id == tess.id).order_by(Specialism.id)
    ).all()
    assert tags == ["Confocal microscopy", "light-sheet microscopy", "Super-resolution"]
    held = session.execute(
        select(Registration.title, Registration.registered_on).where(Registration.user_id == tess.id)
    ).all()
    assert held == [(RegistrationTitle.RSCI, dt.date(2024, 2, 1))]
    page = as_person(people["paul"]).get(f"/people/{tess.id}").get_data(as_text=True)
    assert "Imaging Facility Manager" not in page and "RSci" in page


def test_nobody_else_edits_a_profile_but_an_admin(people, as_person, session):
    tess = people["tess"]
    for viewer in ("otto", "mia", "paul"):
        response = as_person(people[viewer]).post(f"/people/{tess.id}/edit", data={"role_title": "Hijacked"})
        assert response.status_code == 403
    assert (
        as_person(people["ada"])
        .post(f"/people/{tess.id}/edit", data={"role_title": "By the admin"})
        .status_code
        == 302
    )
    see_committed(session)
    assert session.get(Profile, tess.id).role_title == "By the admin"


def test_bad_input_is_refused_with_a_message_and_changes_nothing(people, as_person, session):
    tess = people["tess"]
    response = as_person(tess).post(
        f"/people/{tess.id}/edit",
        data={"role_title": "x" * 300, "registration_csci": "not a date", "role_visibility": "the world"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a real date" in page and "Not a valid choice" in page
    see_committed(session)
    assert session.get(Profile, tess.id).role_title == "Senior Imaging Technician"


def test_the_asset_page_names_its_technicians_and_links_to_them(people, as_person):
    page = as_person(people["paul"]).get(f"/assets/{people['spectrometer'].id}").get_data(as_text=True)
    assert f'href="/people/{people["otto"].id}">Otto Operator</a>' in page
    assert f'href="/people/{people["tess"].id}">Tess Technician</a>' in page


def test_an_unknown_person_is_not_found(people, as_person):
    assert as_person(people["paul"]).get("/people/999999").status_code == 404
