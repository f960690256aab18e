"""Nobody decides their own request: another manager of the owning School, or an admin, does."""

import pytest

from accounts.models import Role
from bookings import service
from bookings.models import Booking, BookingStatus
from core.errors import NotAllowed
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed
from tests.factories import make_user


@pytest.fixture
def own_request(session, world):
    """Carla, CHEM's manager, asks for CHEM's microscope, which needs approval."""
    world["scope"].requires_approval = True
    session.commit()
    booking = service.request_booking(
        session,
        world["chem_manager"],
        world["scope"].id,
        at(MONDAY, 10),
        at(MONDAY, 11),
        "My own samples",
        NOW,
    )
    assert booking.status == BookingStatus.PENDING
    return booking


def test_a_manager_cannot_approve_her_own_request(session, world, own_request):
    with pytest.raises(NotAllowed, match="Nobody decides their own request: an admin decides it"):
        service.approve(session, world["chem_manager"], own_request.id, now=NOW)
    see_committed(session)
    assert session.get(Booking, own_request.id).status == BookingStatus.PENDING


def test_a_manager_cannot_reject_her_own_request(session, world, own_request):
    with pytest.raises(NotAllowed):
        service.reject(session, world["chem_manager"], own_request.id, "Not needed", now=NOW)
    see_committed(session)
    assert session.get(Booking, own_request.id).status == BookingStatus.PENDING


def test_another_manager_of_the_school_approves_it(session, world, own_request):
    second = make_user(session, world["chem"], Role.MANAGER, name="Colin Co-Manager")
    with pytest.raises(NotAllowed, match=r"another manager of CHEM \(Colin Co-Manager\) or an admin"):
        service.approve(session, world["chem_manager"], own_request.id, now=NOW)
    approved = service.approve(session, second, own_request.id, now=NOW)
    assert approved.status == BookingStatus.CONFIRMED and approved.decided_by_id == second.id


def test_an_admin_approves_it(session, world, own_request):
    admin = make_user(session, None, Role.ADMIN)
    assert service.approve(session, admin, own_request.id, now=NOW).decided_by_id == admin.id


def test_an_admin_cannot_decide_their_own_request_either(session, world):
    admin = make_user(session, world["chem"], Role.ADMIN)
    world["scope"].requires_approval = True
    session.commit()
    booking = service.request_booking(
        session, admin, world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Mine", NOW
    )
    assert not service.may_decide(admin, booking)
    assert service.may_decide(world["chem_manager"], booking)
    with pytest.raises(NotAllowed):
        service.approve(session, admin, booking.id, now=NOW)
    assert (
        service.approve(session, world["chem_manager"], booking.id, now=NOW).status == BookingStatus.CONFIRMED
    )


def test_the_requester_is_not_among_those_who_decide(session, world, own_request):
    second = make_user(session, world["chem"], Role.MANAGER, name="Colin Co-Manager")
    assert service.other_deciders(session, own_request) == [second]
