"""Waitlists: wait for a taken slot, be offered it when it frees, accept it or let it pass on."""

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from bookings import loans, service, waitlist
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from bookings.rules import BookingRefused
from core.db import atomic
from core.errors import InvalidInput
from notifications.models import Notification
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_booking

OFFER = dt.timedelta(minutes=waitlist.DEFAULT_OFFER_MINUTES)


def join(session, user, asset, start, end, now=NOW):
    with atomic(session, user):
        return waitlist.join_waitlist(session, user, asset.id, start, end, "Imaging", now)


def cancel(session, user, booking, now=NOW):
    with atomic(session, user):
        service.cancel(session, user, booking.id, now=now)


def entry(session, entry_id):
    see_committed(session)
    return session.get(WaitlistEntry, entry_id)


@pytest.fixture
def taken(session, world):
    """Chloe holds the microscope on Monday 10:00 to 12:00."""
    return make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10), hours=2)


def test_a_free_time_is_booked_not_waited_for(session, world):
    with pytest.raises(InvalidInput, match="That time is free: book it instead of waiting."):
        join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))


def test_a_taken_time_can_be_waited_for_once(session, world, taken):
    first = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert entry(session, first.id).status == WaitlistStatus.WAITING
    with pytest.raises(InvalidInput, match="already on the waitlist"):
        join(session, world["chemist2"], world["scope"], at(MONDAY, 11), at(MONDAY, 12))


def test_waiting_is_refused_when_another_rule_would_refuse_the_booking(session, world, taken):
    world["scope"].training_required = True
    session.commit()
    with pytest.raises(InvalidInput, match="Waiting would not help: .*needs training"):
        join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))


def test_nobody_waits_for_their_own_booking(session, world, taken):
    with pytest.raises(InvalidInput, match="You have booked that time yourself."):
        join(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))


def test_a_cancelled_slot_is_offered_to_the_first_person_waiting_only(session, world, taken):
    first = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12), NOW)
    second = join(
        session,
        world["physicist"],
        world["scope"],
        at(MONDAY, 10),
        at(MONDAY, 11),
        NOW + dt.timedelta(minutes=1),
    )
    cancel(session, world["chemist"], taken, NOW + dt.timedelta(hours=1))
    offered = entry(session, first.id)
    assert offered.status == WaitlistStatus.OFFERED
    assert offered.offer_expires_at == NOW + dt.timedelta(hours=1) + OFFER
    assert entry(session, second.id).status == WaitlistStatus.WAITING  # the time is held for the first
    [notice] = session.scalars(select(Notification).where(Notification.event == "waitlist_offer")).all()
    assert notice.user_id == world["chemist2"].id
    assert notice.title == "Confocal microscope is free for the time you wanted"
    assert notice.link.endswith("/waitlist")


def test_an_accepted_offer_is_booked_under_the_usual_rules(session, world, taken):
    waiting = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["chemist"], taken)
    booking = waitlist.accept_offer(session, world["chemist2"], waiting.id, NOW + dt.timedelta(minutes=30))
    assert booking.status == BookingStatus.CONFIRMED
    assert (booking.start_at, booking.end_at, booking.purpose) == (at(MONDAY, 10), at(MONDAY, 12), "Imaging")
    accepted = entry(session, waiting.id)
    assert accepted.status == WaitlistStatus.ACCEPTED and accepted.booking_id == booking.id


def test_an_offer_accepted_for_another_schools_asset_is_a_request(session, world):
    printer_taken = make_booking(session, world["printer"], world["physicist"], at(MONDAY, 10), hours=2)
    waiting = join(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["physicist"], printer_taken)
    booking = waitlist.accept_offer(session, world["chemist"], waiting.id, NOW)
    assert booking.status == BookingStatus.PENDING


def test_an_offer_that_times_out_passes_to_the_next_person(session, world, taken):
    first = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12), NOW)
    second = join(
        session,
        world["physicist"],
        world["scope"],
        at(MONDAY, 10),
        at(MONDAY, 12),
        NOW + dt.timedelta(minutes=1),
    )
    cancel(session, world["chemist"], taken, NOW)
    with atomic(session):
        assert waitlist.expire_offers(session, NOW + OFFER - dt.timedelta(minutes=1)) == 0
    assert entry(session, first.id).status == WaitlistStatus.OFFERED
    with atomic(session):
        assert waitlist.expire_offers(session, NOW + OFFER) == 1
    assert entry(session, first.id).status == WaitlistStatus.EXPIRED
    passed_on = entry(session, second.id)
    assert passed_on.status == WaitlistStatus.OFFERED and passed_on.offer_expires_at == NOW + 2 * OFFER
    with pytest.raises(InvalidInput, match="no open offer"):
        waitlist.accept_offer(session, world["chemist2"], first.id, NOW + OFFER + dt.timedelta(minutes=1))
    assert waitlist.accept_offer(
        session, world["physicist"], second.id, NOW + OFFER + dt.timedelta(minutes=5)
    ).id


def test_an_offer_cannot_be_accepted_after_it_runs_out(session, world, taken):
    waiting = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["chemist"], taken)
    with pytest.raises(InvalidInput, match="This offer ran out"):
        waitlist.accept_offer(session, world["chemist2"], waiting.id, NOW + OFFER)


def test_declining_an_offer_passes_it_on(session, world, taken):
    first = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12), NOW)
    second = join(
        session,
        world["physicist"],
        world["scope"],
        at(MONDAY, 10),
        at(MONDAY, 12),
        NOW + dt.timedelta(minutes=1),
    )
    cancel(session, world["chemist"], taken)
    with atomic(session, world["chemist2"]):
        waitlist.leave_waitlist(session, world["chemist2"], first.id, NOW)
    assert entry(session, first.id).status == WaitlistStatus.CANCELLED
    assert entry(session, second.id).status == WaitlistStatus.OFFERED


def test_an_offer_taken_by_a_direct_booking_keeps_the_persons_place(session, world, taken):
    waiting = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["chemist"], taken)
    service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "Again", NOW
    )
    with pytest.raises(BookingRefused) as refusal:
        waitlist.accept_offer(session, world["chemist2"], waiting.id, NOW)
    assert refusal.value.codes == ["overlap"]
    kept = entry(session, waiting.id)
    assert kept.status == WaitlistStatus.WAITING and kept.offer_expires_at is None


def test_a_released_no_show_is_offered_from_now_to_its_end(session, world):
    bench = make_asset(
        session, world["chem"], name="Plate reader", checkin_required=True, no_show_release_minutes=15
    )
    make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    waiting = join(session, world["chemist2"], bench, at(MONDAY, 10), at(MONDAY, 12))
    with atomic(session):
        loans.release_no_shows(session, at(MONDAY, 10, 20))
    assert entry(session, waiting.id).status == WaitlistStatus.OFFERED
    booking = waitlist.accept_offer(session, world["chemist2"], waiting.id, at(MONDAY, 10, 25))
    assert (booking.start_at, booking.end_at) == (at(MONDAY, 10, 30), at(MONDAY, 12))


# --- Pages -----------------------------------------------------------------------------------


def test_a_clash_on_the_booking_form_offers_the_waitlist(client, session, world, taken):
    form = {
        "start": "2030-01-07T10:00",
        "end": "2030-01-07T12:00",
        "purpose": "Imaging zebrafish",
        "repeat": "none",
    }
    with time_machine.travel(NOW, tick=False):
        sign_in(client, world["chemist2"].email)
        refused = client.post(f"/assets/{world['scope'].id}/book", data=form)
        assert refused.status_code == 409 and "Join the waitlist for this time" in refused.text
        joined = client.post(f"/assets/{world['scope'].id}/waitlist", data=form, follow_redirects=True)
    assert "You are on the waitlist for Confocal microscope" in joined.text
    assert "Mon 07 Jan 2030, 10:00 to 12:00" in joined.text
    see_committed(session)
    assert session.scalars(select(WaitlistEntry)).one().user_id == world["chemist2"].id


def test_accepting_an_offer_on_my_waitlist_page(client, session, world, taken):
    waiting = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["chemist"], taken)
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        sign_in(client, world["chemist2"].email)
        page = client.get("/waitlist").text
        assert "Offered to you" in page and "Fri 28 Dec 2029, 14:00" in page  # accept by
        response = client.post(f"/waitlist/{waiting.id}/accept", follow_redirects=True)
    assert "Your booking of Confocal microscope is confirmed." in response.text
    see_committed(session)
    assert (
        session.scalars(select(Booking).where(Booking.requester_id == world["chemist2"].id)).one().status
        == BookingStatus.CONFIRMED
    )


def test_nobody_accepts_someone_elses_offer(client, session, world, taken):
    waiting = join(session, world["chemist2"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    cancel(session, world["chemist"], taken)
    with time_machine.travel(NOW, tick=False):
        sign_in(client, world["physicist"].email)
        assert client.post(f"/waitlist/{waiting.id}/accept").status_code == 404
