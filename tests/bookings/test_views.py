"""The booking pages, as the people using them see them."""

import datetime as dt

import time_machine
from sqlalchemy import select

from bookings import service
from bookings.models import Booking, BookingStatus
from tests.bookings.conftest import MONDAY, NOW, at
from tests.conftest import see_committed, sign_in

FORM = {
    "start": "2030-01-07T10:00",
    "end": "2030-01-07T12:00",
    "purpose": "Imaging zebrafish",
    "repeat": "none",
}


def test_booking_form_shows_the_rules_and_free_slots(client, session, world):
    sign_in(client, world["chemist"].email)
    page = client.get(f"/assets/{world['scope'].id}/book").text
    assert "Rules for this asset" in page and "Mon 09:00–17:00" in page
    assert "30 minutes kept free after each booking" in page
    assert "Next free hours" in page and 'href="/assets/' in page
    assert "Your booking is confirmed as soon as you submit it." in page


def test_booking_through_the_form_confirms_and_shows_the_booking(client, session, world):
    sign_in(client, world["chemist"].email)
    response = client.post(f"/assets/{world['scope'].id}/book", data=FORM, follow_redirects=True)
    assert "Your booking of Confocal microscope is confirmed." in response.text
    assert "Mon 07 Jan 2030, 10:00 to Mon 07 Jan 2030, 12:00" in response.text
    mine = client.get("/bookings").text
    assert "Confocal microscope" in mine and "Mon 07 Jan 2030, 10:00 to 12:00" in mine


def test_a_loan_request_through_the_form_is_pending(client, session, world):
    sign_in(client, world["chemist"].email)
    page = client.get(f"/assets/{world['printer'].id}/book").text
    assert "This will be a request" in page
    response = client.post(f"/assets/{world['printer'].id}/book", data=FORM, follow_redirects=True)
    assert "a manager of PHYS will approve or reject it" in response.text


def test_a_clash_shows_the_conflict_and_offers_free_slots(client, session, world):
    service.request_booking(
        session, world["chemist2"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chemist"].email)
    response = client.post(f"/assets/{world['scope'].id}/book", data=FORM)
    assert response.status_code == 409
    assert "This booking cannot be made" in response.text
    assert "It overlaps another booking (with 30 minutes turnaround)." in response.text
    assert "Booked, Mon 07 Jan 2030, 10:00 to 12:30" in response.text
    assert (
        'form="booking-form" formnovalidate name="use_slot" value="2030-01-07T12:30/2030-01-07T14:30"'
        in response.text
    )
    prefilled = client.get(
        f"/assets/{world['scope'].id}/book?start=2030-01-07T12:30:00&end=2030-01-07T14:30:00"
    ).text
    assert 'value="2030-01-07T12:30"' in prefilled


def test_choosing_a_free_slot_keeps_what_was_typed_and_books_nothing(client, session, world):
    sign_in(client, world["chemist"].email)
    typed = {**FORM, "repeat": "weekly", "count": "4", "purpose": "Imaging zebrafish, batch 7"}
    response = client.post(
        f"/assets/{world['scope'].id}/book", data={**typed, "use_slot": "2030-01-07T12:30/2030-01-07T14:30"}
    )
    assert response.status_code == 200
    page = response.text
    assert 'value="2030-01-07T12:30"' in page and 'value="2030-01-07T14:30"' in page
    assert "Imaging zebrafish, batch 7</textarea>" in page
    assert 'checked id="repeat-2" name="repeat" type="radio" value="weekly"' in page
    assert 'name="count" type="number" value="4"' in page or 'name="count" type="text" value="4"' in page
    assert "Start and end now read Mon 07 Jan 2030, 12:30 to 14:30." in page
    see_committed(session)
    assert session.scalar(select(Booking.id)) is None


def test_a_free_slot_that_cannot_be_read_books_nothing(client, session, world):
    sign_in(client, world["chemist"].email)
    response = client.post(f"/assets/{world['scope'].id}/book", data={**FORM, "use_slot": "tomorrow/later"})
    assert response.status_code == 400
    assert "That free time could not be read" in response.text
    see_committed(session)
    assert session.scalar(select(Booking.id)) is None


def test_form_errors_are_shown_beside_their_fields(client, session, world):
    sign_in(client, world["chemist"].email)
    response = client.post(
        f"/assets/{world['scope'].id}/book", data={**FORM, "end": "2030-01-07T09:00", "purpose": ""}
    )
    assert response.status_code == 400
    assert "The booking must end after it starts." in response.text
    assert "Say what the booking is for." in response.text


def test_a_time_that_does_not_exist_is_refused_clearly(client, session, world):
    sign_in(client, world["chemist"].email)
    response = client.post(
        f"/assets/{world['scope'].id}/book",
        data={**FORM, "start": "2030-03-31T01:30", "end": "2030-03-31T03:00"},
    )
    assert response.status_code == 400
    assert "the clocks go forward" in response.text


def test_a_recurring_series_with_a_clash_reports_each_occurrence(client, session, world):
    service.request_booking(
        session,
        world["chemist2"],
        world["scope"].id,
        at(MONDAY + dt.timedelta(weeks=1), 10),
        at(MONDAY + dt.timedelta(weeks=1), 11),
        "x",
        NOW,
    )
    sign_in(client, world["chemist"].email)
    response = client.post(
        f"/assets/{world['scope'].id}/book", data={**FORM, "repeat": "weekly", "count": "3"}
    )
    assert response.status_code == 409
    assert "1 of the 3 bookings in this series cannot be made" in response.text
    assert response.text.count("Free</td>") == 2
    see_committed(session)
    assert len(session.scalars(select(Booking)).all()) == 1


def test_approval_by_the_owning_schools_manager_through_the_pages(client, session, world):
    chosen = service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "Print A", NOW
    )
    clash = service.request_booking(
        session, world["chemist2"], world["printer"].id, at(MONDAY, 11), at(MONDAY, 13), "Print B", NOW
    )
    sign_in(client, world["phys_manager"].email)
    queue = client.get("/approvals").text
    assert "Print A" in queue and "Print B" in queue and "1 overlapping" in queue and "(loan)" in queue
    confirm = client.get(f"/bookings/{chosen.id}/approve").text
    assert "These requests overlap it" in confirm and "Charlie Chemist" in confirm
    response = client.post(
        f"/bookings/{chosen.id}/approve", data={"reject": [str(clash.id)], "rejection_reason": "Teaching"}
    )
    assert response.status_code == 302
    see_committed(session)
    assert session.get(Booking, chosen.id).status == BookingStatus.CONFIRMED
    assert session.get(Booking, clash.id).status == BookingStatus.REJECTED
    client.post("/sign-out")
    sign_in(client, world["chemist2"].email)
    assert "Teaching" in client.get(f"/bookings/{clash.id}").text


def test_a_manager_of_another_school_gets_403_on_approval_and_rejection(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chem_manager"].email)
    assert client.get(f"/bookings/{booking.id}/approve").status_code == 403
    assert client.post(f"/bookings/{booking.id}/approve", data={}).status_code == 403
    assert client.post(f"/bookings/{booking.id}/reject", data={"reason": "no"}).status_code == 403
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.PENDING


def test_technicians_cannot_open_the_approval_queue(client, session, world):
    sign_in(client, world["chemist"].email)
    assert client.get("/approvals").status_code == 403


def test_someone_elses_booking_is_not_found(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["physicist"].email)
    assert client.get(f"/bookings/{booking.id}").status_code == 404
    assert client.get(f"/bookings/{booking.id}/cancel").status_code == 404
    assert client.post(f"/bookings/{booking.id}/cancel").status_code == 404
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_cancel_from_my_bookings_asks_once_then_cancels(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chemist"].email)
    assert f'href="/bookings/{booking.id}/cancel?next=/bookings"' in client.get("/bookings").text
    question = client.get(f"/bookings/{booking.id}/cancel?next=/bookings")
    assert question.status_code == 200
    assert "Cancel your booking of Confocal microscope on Mon 07 Jan 2030, 10:00?" in question.text
    assert 'name="next" type="hidden" value="/bookings"' in question.text
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CONFIRMED  # asking cancels nothing
    response = client.post(f"/bookings/{booking.id}/cancel", data={"next": "/bookings"})
    assert response.status_code == 302 and response.headers["Location"] == "/bookings"
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CANCELLED


def test_my_bookings_lists_requests_first_then_upcoming_and_past_a_page_at_a_time(session, world):
    chemist = world["chemist"]
    held = [
        service.request_booking(
            session,
            chemist,
            world["scope"].id,
            at(MONDAY + dt.timedelta(days=7 * week), 10),
            at(MONDAY + dt.timedelta(days=7 * week), 11),
            "x",
            NOW,
        )
        for week in range(5)
    ]
    request = service.request_booking(
        session, chemist, world["printer"].id, at(MONDAY, 14), at(MONDAY, 15), "x", NOW
    )
    later = at(MONDAY + dt.timedelta(days=15), 12)  # the first three are over by then

    first = service.my_bookings(session, chemist, NOW, per_page=2)
    assert first.pending == [request]
    assert first.upcoming.items == held[:2] and first.upcoming.total == 5 and first.upcoming.pages == 3
    assert service.my_bookings(session, chemist, NOW, upcoming_page=3, per_page=2).upcoming.items == held[4:]
    # A page beyond the last shows the last one.
    assert service.my_bookings(session, chemist, NOW, upcoming_page=99, per_page=2).upcoming.page == 3

    mine = service.my_bookings(session, chemist, later, per_page=2)
    assert mine.upcoming.items == held[3:]
    assert (
        mine.past.items == [held[2], held[1]] and mine.past.total == 4
    )  # latest first; the request's time passed
    assert service.my_bookings(session, chemist, later, past_page=2, per_page=2).past.items == [
        request,
        held[0],
    ]


def test_my_bookings_page_shows_requests_first_and_keeps_bad_page_numbers_harmless(client, session, world):
    service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 14), at(MONDAY, 15), "x", NOW
    )
    sign_in(client, world["chemist"].email)
    for query in ("", "?page=2", "?page=%C2%B2", "?past_page=99999999999999", "?page=-1"):
        page = client.get(f"/bookings{query}")
        assert page.status_code == 200
        assert (
            page.text.index("Waiting for approval") < page.text.index("Upcoming") < page.text.index("Past,")
        )


def test_after_cancelling_next_is_followed_only_to_a_path_on_this_site(client, session, world):
    sign_in(client, world["chemist"].email)
    for elsewhere in (
        "https://evil.example.com/",
        "//evil.example.com",
        "/\\evil.example.com",
        "javascript:alert(1)",
    ):
        booking = service.request_booking(
            session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
        )
        session.commit()
        assert (
            'name="next" type="hidden" value=""'
            in client.get(f"/bookings/{booking.id}/cancel", query_string={"next": elsewhere}).text
        )
        response = client.post(f"/bookings/{booking.id}/cancel", data={"next": elsewhere})
        assert response.headers["Location"] == "/bookings"
        see_committed(session)


def test_a_manager_cancelling_someone_elses_booking_is_asked_for_a_reason(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chem_manager"].email)
    question = client.get(f"/bookings/{booking.id}/cancel").text
    assert "Cancel Chloe Chemist&#39;s booking of Confocal microscope on Mon 07 Jan 2030, 10:00?" in question
    assert 'name="reason"' in question
    response = client.post(f"/bookings/{booking.id}/cancel", data={"reason": "  "})
    assert response.status_code == 400
    assert "Tell the requester why their booking is cancelled." in response.text
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_a_booking_that_cannot_be_cancelled_is_not_asked_about(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chemist"].email)
    client.post(f"/bookings/{booking.id}/cancel")
    response = client.get(f"/bookings/{booking.id}/cancel", follow_redirects=True)
    assert response.request.path == f"/bookings/{booking.id}"
    assert "This booking is cancelled, so it cannot be cancelled." in response.text


def test_the_booking_page_cancel_action_goes_through_the_question(client, session, world):
    booking = service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["chemist"].email)
    page = client.get(f"/bookings/{booking.id}").text
    assert f'href="/bookings/{booking.id}/cancel">Cancel this booking…</a>' in page
    assert f'action="/bookings/{booking.id}/cancel"' not in page


def test_the_week_calendar_shows_free_and_busy_time(client, session, world):
    service.request_booking(
        session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "x", NOW
    )
    sign_in(client, world["physicist"].email)
    page = client.get(f"/assets/{world['scope'].id}/week?start=2030-01-09").text
    assert "week of 07 Jan 2030" in page
    assert "Busy 10:00–12:00: Booked" in page
    assert "Chloe Chemist" not in page
    assert page.count("Free all day") == 4 and page.count("Not bookable") == 2


def test_the_managers_home_page_lists_waiting_requests_and_todays_bookings(client, session, world):
    service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "Print A", NOW
    )
    sign_in(client, world["phys_manager"].email)
    page = client.get("/").text
    assert "1 request</a> for PHYS equipment" in page
    assert "Overdue inspections" in page


def test_a_refused_series_offers_times_at_which_the_whole_series_is_free(client, session, world):
    next_monday = MONDAY + dt.timedelta(days=7)
    service.request_booking(
        session, world["chemist2"], world["scope"].id, at(next_monday, 10), at(next_monday, 12), "x", NOW
    )
    with time_machine.travel(NOW, tick=False):
        sign_in(client, world["chemist"].email)
        response = client.post(
            f"/assets/{world['scope'].id}/book", data={**FORM, "repeat": "weekly", "count": "2"}
        )
    assert response.status_code == 409
    assert "The whole series is free at these times instead" in response.text
    # 12:00 is free on the first Monday but not the second (booked to 12:00, then 30 minutes kept free).
    assert 'value="2030-01-07T12:30/2030-01-07T14:30"' in response.text
    series_free = response.text.split("The whole series is free at these times instead")[1].split("</div>")[0]
    assert "2030-01-07T12:00/" not in series_free
