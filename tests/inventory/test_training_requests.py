"""Training requests: a person asks to be trained on equipment that needs it; its School decides.

And the catalogue's "Only equipment I can book" leaves out equipment needing training the person lacks.
"""

import datetime as dt

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from bookings import asset_changes
from core.db import atomic
from core.errors import InvalidInput, NotAllowed
from inventory import training, training_requests
from inventory.catalogue import CatalogueFilters, search
from inventory.models import Category, TrainingAuthorisation, TrainingRequest, TrainingRequestStatus
from notifications.models import Notification, OutboxMessage
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_school, make_user

TODAY = dt.date(2030, 6, 15)


@pytest.fixture
def world(session):
    """CHEM with two managers and a technician; a CHEM asset needing training; PHYS with a manager."""
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    microscopes = Category(name="Microscopes")
    session.add(microscopes)
    session.commit()
    return {
        "chem": chem,
        "phys": phys,
        "microscopes": microscopes,
        "ada": make_user(session, chem, Role.MANAGER, name="Ada Manager"),
        "alf": make_user(session, chem, Role.MANAGER, name="Alf Manager"),
        "ben": make_user(session, phys, Role.MANAGER, name="Ben Manager"),
        "tess": make_user(session, chem, name="Tess Technician"),
        "paul": make_user(session, phys, name="Paul Physicist"),
        "sem": make_asset(
            session,
            chem,
            name="Scanning electron microscope",
            tag="CHEM-0001",
            category=microscopes,
            training_required=True,
        ),
        "confocal": make_asset(
            session,
            chem,
            name="Confocal microscope",
            tag="CHEM-0002",
            category=microscopes,
            training_required=True,
        ),
        "balance": make_asset(session, chem, name="Balance", tag="CHEM-0003"),
    }


def _ask(session, world, person="tess", asset="sem", message=""):
    with atomic(session, world[person]):
        return training_requests.request_training(
            session, world[person], world[asset], message, today=TODAY, base_url="https://kit.example.ac.uk"
        )


def _notices(session, user, event):
    return session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.event == event)
    ).all()


# --- Asking -------------------------------------------------------------------------------------


def test_a_person_lacking_training_is_told_before_booking(session, world):
    need = training_requests.training_need(session, world["tess"], world["sem"], TODAY)
    assert need is not None and need.open_request is None
    assert training_requests.training_need(session, world["tess"], world["balance"], TODAY) is None


def test_asking_for_training_tells_every_manager_of_the_owning_school(session, world):
    training_request, told = _ask(session, world, message="I used one in my PhD.")
    assert told == 2
    assert (
        training_request.status == TrainingRequestStatus.OPEN
        and training_request.message == "I used one in my PhD."
    )
    for manager in (world["ada"], world["alf"]):
        [notice] = _notices(session, manager, "training_requested")
        assert "Scanning electron microscope" in notice.title and "Tess Technician" in notice.title
        assert "I used one in my PhD." in notice.body
        assert notice.link == f"https://kit.example.ac.uk/assets/{world['sem'].id}/training#training-requests"
    assert _notices(session, world["ben"], "training_requested") == []
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert (
        training_requests.training_need(session, world["tess"], world["sem"], TODAY).open_request
        == training_request
    )


def test_nobody_asks_twice_while_a_request_is_open(session, world):
    _ask(session, world)
    with pytest.raises(InvalidInput, match="You asked for training on Scanning electron microscope"):
        _ask(session, world)
    assert session.scalar(select(func.count()).select_from(TrainingRequest)) == 1
    _ask(session, world, asset="confocal")  # another asset is another request


def test_the_database_keeps_one_open_request_per_person_and_asset(session, world):
    _ask(session, world)
    session.add(TrainingRequest(user_id=world["tess"].id, asset_id=world["sem"].id))
    with pytest.raises(Exception):
        session.commit()
    session.rollback()


def test_asking_is_refused_where_training_would_not_help(session, world):
    with pytest.raises(InvalidInput, match="needs no training"):
        _ask(session, world, asset="balance")
    world["sem"].shareable = False
    session.commit()
    with pytest.raises(InvalidInput, match="does not share"):
        _ask(session, world, person="paul")
    with atomic(session, world["ada"]):
        training.grant_training(
            session, world["ada"], world["tess"], asset=world["sem"], granted_on=TODAY, today=TODAY
        )
    with pytest.raises(InvalidInput, match="already authorised"):
        _ask(session, world)


def test_a_long_message_is_refused_on_its_field(session, world):
    with pytest.raises(InvalidInput) as excinfo:
        _ask(session, world, message="x" * 1001)
    assert "message" in excinfo.value.field_errors


def test_a_manager_asking_is_not_told_of_their_own_request(session, world):
    ada = world["ada"]
    _, told = _ask(session, world, person="ada")
    assert told == 1 and _notices(session, ada, "training_requested") == []


# --- Deciding -----------------------------------------------------------------------------------


def test_granting_a_request_authorises_the_person_and_tells_them(session, world):
    training_request, _ = _ask(session, world)
    with atomic(session, world["alf"]):
        grant = training_requests.grant_training_request(session, world["alf"], training_request, today=TODAY)
    assert (grant.user_id, grant.asset_id, grant.granted_on, grant.granted_by_id) == (
        world["tess"].id,
        world["sem"].id,
        TODAY,
        world["alf"].id,
    )
    assert training.has_current_training(session, world["tess"], world["sem"], TODAY)
    assert (
        training_request.status == TrainingRequestStatus.GRANTED and training_request.authorisation == grant
    )
    assert training_request.decided_by_id == world["alf"].id
    [notice] = _notices(session, world["tess"], "training_decided")
    assert notice.title.startswith("Training granted: Scanning electron microscope")
    assert training_requests.open_training_requests(session, asset=world["sem"]) == []


def test_a_category_grant_closes_every_request_it_covers(session, world):
    sem, _ = _ask(session, world)
    confocal, _ = _ask(session, world, asset="confocal")
    with atomic(session, world["ada"]):
        grant = training_requests.grant_training_request(
            session, world["ada"], sem, scope="category", today=TODAY
        )
    assert (grant.category_id, grant.school_id, grant.asset_id) == (
        world["microscopes"].id,
        world["chem"].id,
        None,
    )
    assert sem.status == confocal.status == TrainingRequestStatus.GRANTED
    assert len(_notices(session, world["tess"], "training_decided")) == 2


def test_training_granted_the_usual_way_closes_the_open_request(session, world):
    training_request, _ = _ask(session, world)
    with atomic(session, world["ada"]):
        training.grant_training(
            session, world["ada"], world["tess"], asset=world["sem"], granted_on=TODAY, today=TODAY
        )
    assert training_request.status == TrainingRequestStatus.GRANTED


def test_declining_tells_the_person_why_and_they_may_ask_again(session, world):
    training_request, _ = _ask(session, world)
    with atomic(session, world["ada"]):
        training_requests.decline_training_request(
            session, world["ada"], training_request, "Next induction is in July."
        )
    assert training_request.status == TrainingRequestStatus.DECLINED
    [notice] = _notices(session, world["tess"], "training_decided")
    assert "declined" in notice.title.lower() and "Next induction is in July." in notice.body
    need = training_requests.training_need(session, world["tess"], world["sem"], TODAY)
    assert need.open_request is None and need.last_declined == training_request
    again, _ = _ask(session, world)
    assert again.status == TrainingRequestStatus.OPEN


def test_a_decided_request_cannot_be_decided_again(session, world):
    training_request, _ = _ask(session, world)
    with atomic(session, world["ada"]):
        training_requests.decline_training_request(session, world["ada"], training_request)
    with pytest.raises(InvalidInput, match="already declined"):
        training_requests.grant_training_request(session, world["alf"], training_request, today=TODAY)


def test_only_managers_of_the_owning_school_decide(session, world):
    training_request, _ = _ask(session, world)
    for outsider in (world["ben"], world["paul"], world["tess"]):
        with pytest.raises(NotAllowed):
            training_requests.grant_training_request(session, outsider, training_request, today=TODAY)
        with pytest.raises(NotAllowed):
            training_requests.decline_training_request(session, outsider, training_request)


# --- The catalogue ------------------------------------------------------------------------------


def _names(session, user):
    return {
        asset.name
        for asset in search(session, user, CatalogueFilters(shareable_with_me=True, per_page=100)).items
    }


def test_only_equipment_i_can_book_leaves_out_training_i_lack(session, world):
    assert _names(session, world["tess"]) == {"Balance"}
    assert "Scanning electron microscope" in {
        a.name for a in search(session, world["tess"], CatalogueFilters()).items
    }


def test_only_equipment_i_can_book_includes_training_held_by_asset_or_category(session, world):
    with atomic(session, world["ada"]):
        training.grant_training(
            session, world["ada"], world["tess"], asset=world["sem"], granted_on=dt.date(2025, 1, 10)
        )
    assert _names(session, world["tess"]) == {"Balance", "Scanning electron microscope"}
    with atomic(session, world["ada"]):
        training.grant_training(
            session,
            world["ada"],
            world["tess"],
            category=world["microscopes"],
            school=world["chem"],
            granted_on=dt.date(2025, 1, 10),
        )
    assert _names(session, world["tess"]) == {
        "Balance",
        "Scanning electron microscope",
        "Confocal microscope",
    }


def test_expired_or_revoked_training_does_not_count_in_the_filter(session, world):
    with atomic(session, world["ada"]):
        grant = training.grant_training(
            session,
            world["ada"],
            world["tess"],
            asset=world["sem"],
            granted_on=dt.date(2020, 1, 1),
            expires_on=dt.date(2021, 1, 1),
        )
        revoked = training.grant_training(
            session, world["ada"], world["tess"], asset=world["confocal"], granted_on=dt.date(2020, 1, 1)
        )
        asset_changes.revoke_training(session, world["ada"], revoked, "Left the group")
    assert grant is not None
    assert _names(session, world["tess"]) == {"Balance"}


# --- The pages ----------------------------------------------------------------------------------


def test_the_asset_page_says_training_is_required_before_the_book_button(client, session, world):
    sign_in(client, world["tess"].email)
    page = client.get(f"/assets/{world['sem'].id}").text
    assert "Training required: you are not authorised to book this yet" in page
    assert f'href="/assets/{world["sem"].id}/book"' not in page
    assert "Request training" in page
    booking_form = client.get(f"/assets/{world['sem'].id}/book").text
    assert booking_form.index("Training required: you are not authorised") < booking_form.index(
        'name="purpose"'
    )
    assert "Training required" not in client.get(f"/assets/{world['balance'].id}").text


def test_requesting_training_on_the_page_records_it_once(client, session, world):
    sign_in(client, world["tess"].email)
    url = f"/assets/{world['sem'].id}/training-request"
    response = client.post(url, data={"message": "Please", "back": "book"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/assets/{world['sem'].id}/book"
    )
    page = client.get(response.headers["Location"]).text
    assert "is sent to the managers of CHEM" in page and "You asked for training on" in page
    response = client.post(url, data={"message": "Again"}, follow_redirects=True)
    assert "have not answered yet" in response.text
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(TrainingRequest)) == 1


def test_managers_grant_from_the_asset_training_page(client, session, world):
    training_request, _ = _ask(session, world, message="I used one in my PhD.")
    sign_in(client, world["ada"].email)
    page = client.get(f"/assets/{world['sem'].id}/training").text
    assert "Training requests (1)" in page and "Tess Technician" in page and "I used one in my PhD." in page
    response = client.post(
        f"/training-requests/{training_request.id}/grant",
        data={f"grant-{training_request.id}-scope": "asset"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/assets/{world['sem'].id}/training")
    assert (
        "Tess Technician is now authorised to use Scanning electron microscope"
        in client.get(response.headers["Location"]).text
    )
    see_committed(session)
    assert session.get(TrainingRequest, training_request.id).status == TrainingRequestStatus.GRANTED
    assert session.scalar(select(func.count()).select_from(TrainingAuthorisation)) == 1


def test_managers_decline_from_the_school_training_page(client, session, world):
    training_request, _ = _ask(session, world)
    sign_in(client, world["alf"].email)
    page = client.get(f"/schools/{world['chem'].id}/training").text
    assert "Training requests (1)" in page and "Scanning electron microscope" in page
    response = client.post(
        f"/training-requests/{training_request.id}/decline",
        data={f"decline-{training_request.id}-reason": "Full this term", "back": "school"},
    )
    assert response.headers["Location"].endswith(f"/schools/{world['chem'].id}/training")
    see_committed(session)
    declined = session.get(TrainingRequest, training_request.id)
    assert (declined.status, declined.decision_reason) == (TrainingRequestStatus.DECLINED, "Full this term")


def test_a_bad_expiry_date_shows_the_grant_form_again(client, session, world):
    training_request, _ = _ask(session, world)
    sign_in(client, world["ada"].email)
    response = client.post(
        f"/training-requests/{training_request.id}/grant",
        data={
            f"grant-{training_request.id}-scope": "asset",
            f"grant-{training_request.id}-expires_on": "2020-01-01",
        },
    )
    assert response.status_code == 400
    assert "The authorisation cannot expire before it was granted." in response.text
    response = client.post(
        f"/training-requests/{training_request.id}/grant",
        data={
            f"grant-{training_request.id}-scope": "everything",
        },
    )
    assert response.status_code == 400
    see_committed(session)
    assert session.get(TrainingRequest, training_request.id).status == TrainingRequestStatus.OPEN


def test_another_schools_manager_cannot_decide(client, session, world):
    training_request, _ = _ask(session, world)
    sign_in(client, world["ben"].email)
    assert client.post(f"/training-requests/{training_request.id}/grant", data={}).status_code == 403
    assert client.post(f"/training-requests/{training_request.id}/decline", data={}).status_code == 403
    assert client.post("/training-requests/999999/grant", data={}).status_code == 404
    see_committed(session)
    assert session.get(TrainingRequest, training_request.id).status == TrainingRequestStatus.OPEN
