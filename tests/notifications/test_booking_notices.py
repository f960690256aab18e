"""Who is told when a booking is requested, decided or cancelled (bookings.notices)."""

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from bookings import service
from bookings.models import Booking, BookingStatus
from core.db import atomic
from notifications.models import Notification, OutboxMessage
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed
from tests.factories import make_user
from tests.notifications.conftest import mails, notices


def loan_request(session, world, requester="chemist"):
    """A chemist asks for the physics printer: a request for PHYS's managers."""
    return service.request_booking(
        session,
        world[requester],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "Prints for a project",
        NOW,
    )


def test_a_request_tells_the_managers_of_the_owning_school_only(session, world, base_url):
    booking = loan_request(session, world)
    assert notices(session, world["phys_manager"]) == [
        ("booking_requested", "Request to approve: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00")
    ]
    (mail,) = mails(session, world["phys_manager"])
    assert mail.subject == "Kitshare: Request to approve: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00"
    assert "Priya" not in mail.body_text and "Chloe Chemist asks for Ultimaker S5" in mail.body_text
    assert f"{base_url}/bookings/{booking.id}" in mail.body_text
    assert notices(session, world["chem_manager"]) == []
    assert notices(session, world["chemist"]) == []


def test_an_inactive_manager_is_not_told(session, world):
    retired = make_user(session, world["phys"], manages=[world["phys"]])
    retired.active = False
    session.commit()
    loan_request(session, world)
    assert notices(session, retired) == [] and mails(session, retired) == []
    assert len(notices(session, world["phys_manager"])) == 1


def test_the_only_managers_own_request_goes_to_the_admins(session, world):
    admin = make_user(session, None, Role.ADMIN, name="Ada Admin")
    world["printer"].requires_approval = True
    session.commit()
    service.request_booking(
        session,
        world["phys_manager"],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "My own prints",
        NOW,
    )
    # Nobody decides their own request: PHYS has no other manager, so the admins are asked.
    assert notices(session, world["phys_manager"]) == []
    assert notices(session, admin) == [
        ("booking_requested", "Request to approve: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00")
    ]


def test_admins_are_not_asked_when_another_manager_can_decide(session, world):
    admin = make_user(session, None, Role.ADMIN)
    colleague = make_user(session, world["phys"], Role.MANAGER)
    world["printer"].requires_approval = True
    session.commit()
    service.request_booking(
        session,
        world["phys_manager"],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "My own prints",
        NOW,
    )
    assert len(notices(session, colleague)) == 1
    assert notices(session, admin) == [] and notices(session, world["phys_manager"]) == []


def test_a_booking_confirmed_at_once_tells_nobody(session, world):
    service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Imaging", NOW
    )
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(Notification)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_recurring_request_is_one_notice_per_manager(session, world):
    service.request_series(
        session,
        world["chemist"],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "Weekly prints",
        service.Recurrence("weekly", count=4),
        NOW,
    )
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(Booking)) == 4
    assert notices(session, world["phys_manager"]) == [
        ("booking_requested", "Recurring request to approve: Ultimaker S5, weekly, 4 times")
    ]
    assert len(mails(session, world["phys_manager"])) == 1


def test_approval_tells_the_requester(session, world):
    booking = loan_request(session, world)
    service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert notices(session, world["chemist"]) == [
        ("booking_decided", "Approved: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00")
    ]
    (mail,) = mails(session, world["chemist"])
    assert "Pavel Phys-Manager approved your request" in mail.body_text


def test_rejection_tells_the_requester_why(session, world):
    booking = loan_request(session, world)
    with atomic(session, world["phys_manager"]):
        service.reject(session, world["phys_manager"], booking.id, "The printer is booked for teaching", NOW)
    assert notices(session, world["chemist"]) == [
        ("booking_decided", "Rejected: Ultimaker S5, Mon 07 Jan 2030, 10:00 to 12:00")
    ]
    (mail,) = mails(session, world["chemist"])
    assert "Reason: The printer is booked for teaching" in mail.body_text


def test_rejecting_overlapping_requests_while_approving_tells_each_requester(session, world):
    chosen = loan_request(session, world, "chemist")
    service.request_booking(
        session, world["chemist2"], world["printer"].id, at(MONDAY, 11), at(MONDAY, 13), "More prints", NOW
    )
    clash = session.scalars(select(Booking).where(Booking.requester_id == world["chemist2"].id)).one()
    service.approve(session, world["phys_manager"], chosen.id, [clash.id], "Needed for a class", now=NOW)
    assert [event for event, _ in notices(session, world["chemist"])] == ["booking_decided"]
    assert notices(session, world["chemist2"]) == [
        ("booking_decided", "Rejected: Ultimaker S5, Mon 07 Jan 2030, 11:00 to 13:00")
    ]


def test_a_manager_cancelling_tells_the_requester_why(session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Imaging", NOW
    )
    with atomic(session, world["chem_manager"]):
        service.cancel(session, world["chem_manager"], booking.id, "The laser is being replaced", NOW)
    assert notices(session, world["chemist"]) == [
        ("booking_cancelled", "Cancelled: Confocal microscope, Mon 07 Jan 2030, 10:00 to 11:00")
    ]
    (mail,) = mails(session, world["chemist"])
    assert "Carla Chem-Manager cancelled your booking" in mail.body_text
    assert "Reason: The laser is being replaced" in mail.body_text


def test_cancelling_ones_own_booking_tells_nobody(session, world):
    booking = loan_request(session, world)
    before = session.scalar(select(func.count()).select_from(Notification))
    with atomic(session, world["chemist"]):
        service.cancel(session, world["chemist"], booking.id, "", NOW)
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CANCELLED
    assert session.scalar(select(func.count()).select_from(Notification)) == before
    assert notices(session, world["chemist"]) == []


def test_a_change_that_is_rolled_back_tells_nobody(session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Imaging", NOW
    )
    with pytest.raises(RuntimeError):
        with atomic(session, world["chem_manager"]):
            service.cancel(session, world["chem_manager"], booking.id, "Laser replaced", NOW)
            session.flush()
            raise RuntimeError("something later in the same unit failed")
    assert notices(session, world["chemist"]) == [] and mails(session, world["chemist"]) == []


def test_no_shows_check_outs_and_completions_are_left_to_their_own_code(session, world):
    first = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Imaging", NOW
    )
    second = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 13), at(MONDAY, 14), "Imaging", NOW
    )
    with atomic(session):
        service.change_status(
            session.get(Booking, first.id), BookingStatus.NO_SHOW, None, "Not checked in", at(MONDAY, 10, 30)
        )
        service.change_status(
            session.get(Booking, second.id),
            BookingStatus.CHECKED_OUT,
            world["chem_manager"],
            "",
            at(MONDAY, 13),
        )
    with atomic(session):
        service.change_status(
            session.get(Booking, second.id),
            BookingStatus.COMPLETED,
            None,
            "Booking time ended.",
            at(MONDAY, 14),
        )
    assert notices(session, world["chemist"]) == []


def test_every_email_says_where_to_choose_which_emails_to_get(session, world, base_url):
    loan_request(session, world)
    (mail,) = mails(session, world["phys_manager"])
    assert mail.body_text.endswith(
        f"Choose which e-mails Kitshare sends you: {base_url}/notifications/preferences"
    )
