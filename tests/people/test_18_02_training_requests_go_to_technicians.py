"""Issue 18, point 2: "the 'request training' action goes to them" - the technicians who look
after the asset (its contact and named technicians) are told of a training request, beside the
School's managers who grant it; the person asking sees whom it goes to."""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import Role
from core.db import atomic
from inventory import training_requests
from inventory.models import AssetTechnician
from notifications.models import Notification
from tests.conftest import sign_in
from tests.factories import make_asset, make_school, make_user
from tests.inventory.test_training_requests import TODAY


def notices(session, user):
    return session.scalars(
        select(Notification).where(
            Notification.user_id == user.id, Notification.event == "training_requested"
        )
    ).all()


def world(session):
    chem = make_school(session, "CHEM")
    manager = make_user(session, chem, Role.MANAGER, name="Ada Manager")
    contact = make_user(session, chem, name="Cal Contact")
    tech = make_user(session, chem, name="Tia Technician")
    asker = make_user(session, chem, name="Sam Student")
    asset = make_asset(session, chem, name="Confocal microscope", tag="CHEM-0009", training_required=True)
    asset.contact = contact
    session.add(AssetTechnician(asset_id=asset.id, user_id=tech.id))
    session.commit()
    return chem, manager, contact, tech, asker, asset


def test_the_request_reaches_the_assets_technicians_and_the_managers(session):
    chem, manager, contact, tech, asker, asset = world(session)
    with atomic(session, asker):
        request, told = training_requests.request_training(
            session, asker, asset, "Before the course", today=TODAY, base_url="https://kit.example.ac.uk"
        )
    assert told == 3
    for technician in (contact, tech):
        [notice] = notices(session, technician)
        assert "Sam Student" in notice.title and "Before the course" in notice.body
        assert "You look after Confocal microscope" in notice.body
        assert notice.link == f"https://kit.example.ac.uk/assets/{asset.id}"
    [notice] = notices(session, manager)
    assert "Grant or decline it" in notice.body and notice.link.endswith("/training#training-requests")
    assert notices(session, asker) == []


def test_a_technician_who_manages_the_school_is_told_once_and_nobody_of_their_own_request(session):
    chem, manager, contact, tech, asker, asset = world(session)
    session.add(AssetTechnician(asset_id=asset.id, user_id=manager.id))
    session.commit()
    with atomic(session, tech):
        _, told = training_requests.request_training(session, tech, asset, today=TODAY)
    assert told == 2  # the manager (once, as a manager) and the contact; not Tia herself
    assert len(notices(session, manager)) == 1 and "Grant or decline" in notices(session, manager)[0].body
    assert notices(session, tech) == []


def test_the_person_asking_sees_who_looks_after_it_and_is_told_where_it_went(client, session):
    chem, manager, contact, tech, asker, asset = world(session)
    sign_in(client, asker.email)
    page = client.get(f"/assets/{asset.id}").text
    assert "A request goes to the people who look after it" in page
    assert f'href="/people/{contact.id}"' in page and f'href="/people/{tech.id}"' in page
    response = client.post(
        f"/assets/{asset.id}/training-request", data={"message": "Please"}, follow_redirects=True
    )
    assert "is sent to the people who look after it and the managers of CHEM" in response.text
