"""Availability, booking and a booking's life through the API: the same rules as the pages."""

import datetime as dt

from sqlalchemy import select

from bookings.models import Booking, BookingStatus, UnmetDemand
from tests.conftest import see_committed
from tests.factories import make_booking

UTC = dt.UTC
WEDNESDAY = {"asset_id": 1, "start": "2030-01-09T10:00", "end": "2030-01-09T12:00", "purpose": "Imaging"}


# --- Availability -----------------------------------------------------------------------------


def test_availability_shows_busy_time_with_turnaround_and_the_free_time_around_it(carla):
    response = carla.get("/assets/1/availability?from=2030-01-08T00:00&to=2030-01-09T00:00")
    assert response.status_code == 200
    body = response.json
    assert [(b["start"], b["end"], b["booking_id"]) for b in body["busy"]] == [
        ("2030-01-08T10:00:00Z", "2030-01-08T11:30:00Z", 2)
    ]
    # A new booking must end 30 minutes (its turnaround) before the 10:00 one starts.
    assert [(f["start"], f["end"]) for f in body["free"]] == [
        ("2030-01-08T09:00:00Z", "2030-01-08T09:30:00Z"),
        ("2030-01-08T11:30:00Z", "2030-01-08T17:00:00Z"),
    ]


def test_availability_names_the_holder_only_for_those_who_may_know(carla, pavel):
    window = "/assets/1/availability?from=2030-01-08T00:00&to=2030-01-09T00:00"
    assert carla.get(window).json["busy"][0]["holder"] == "Carla Chem-Manager"
    assert pavel.get(window).json["busy"][0]["holder"] is None


def test_availability_in_summer_gives_local_times_beside_utc(carla):
    body = carla.get("/assets/1/availability?from=2030-07-01T00:00&to=2030-07-02T00:00").json
    assert body["free"] == [
        {
            "start": "2030-07-01T08:00:00Z",
            "start_local": "2030-07-01T09:00:00+01:00",
            "end": "2030-07-01T16:00:00Z",
            "end_local": "2030-07-01T17:00:00+01:00",
        }
    ]


def test_an_asset_out_of_service_has_no_free_time(carla):
    carla.patch("/assets/1", json={"status": "maintenance", "status_reason": "Service visit"})
    body = carla.get("/assets/1/availability?from=2030-01-08T00:00&to=2030-01-09T00:00").json
    assert body["bookable"] is False and body["free"] == []


def test_availability_defaults_to_the_next_week_from_now(carla):
    body = carla.get("/assets/1/availability").json
    assert body["from"] == "2029-12-28T12:00:00Z" and body["to"] == "2030-01-04T12:00:00Z"
    assert body["free"][0]["start"] == "2029-12-28T12:00:00Z"  # nothing before now


def test_availability_window_must_run_forwards_and_be_at_most_92_days(carla):
    backwards = carla.get("/assets/1/availability?from=2030-01-09T00:00&to=2030-01-08T00:00")
    assert backwards.status_code == 422 and "after its start" in backwards.json["errors"]["to"][0]
    assert carla.get("/assets/1/availability?from=2030-01-01T00:00&to=2030-06-01T00:00").status_code == 422


def test_availability_with_an_unreadable_time_is_malformed(carla):
    response = carla.get("/assets/1/availability?from=next+tuesday")
    assert response.status_code == 400 and "from" in response.json["errors"]


def test_availability_of_an_unknown_asset_is_not_found(carla):
    assert carla.get("/assets/999/availability").status_code == 404


# --- Listing and reading ----------------------------------------------------------------------


def test_the_list_is_the_callers_own_bookings_by_default(priya):
    response = priya.get("/bookings")
    assert [b["id"] for b in response.json["items"]] == [4, 3, 1]  # earliest first
    assert response.json["total"] == 3


def test_managers_list_their_schools_bookings_filtered_by_status(carla):
    response = carla.get("/bookings?scope=managed&status=pending")
    assert [b["id"] for b in response.json["items"]] == [1]
    assert response.json["items"][0]["requester"] == {"id": 2, "name": "Priya Physicist"}


def test_the_managed_list_is_limited_to_the_schools_managed(pavel):
    assert pavel.get("/bookings?scope=managed").json["total"] == 0


def test_only_managers_list_a_schools_bookings(priya, pavel):
    assert priya.get("/bookings?scope=managed").status_code == 403
    assert pavel.get("/bookings?scope=managed&school=1").status_code == 403


def test_bookings_are_filtered_by_time_and_paginated(priya):
    response = priya.get("/bookings?from=2029-12-28T14:00&per_page=1")
    assert [b["id"] for b in response.json["items"]] == [4]
    assert response.json["total"] == 3
    assert priya.get("/bookings?status=booked").status_code == 400


def test_a_booking_reads_with_utc_and_local_times(priya):
    booking = priya.get("/bookings/1").json
    assert (
        booking["start"] == "2030-01-07T10:00:00Z" and booking["start_local"] == "2030-01-07T10:00:00+00:00"
    )
    assert booking["blocked_until"] == "2030-01-07T12:30:00Z"
    assert booking["status"] == "pending" and booking["asset"]["tag"] == "CHEM-0001"


def test_someone_elses_booking_is_not_found(pavel):
    response = pavel.get("/bookings/2")
    assert response.status_code == 404
    assert response.json["type"] == "/api/v1/problems/not-found"


# --- Booking ----------------------------------------------------------------------------------


def test_booking_an_asset_of_ones_own_school_confirms_it(carla, session):
    response = carla.post("/bookings", json=WEDNESDAY)
    assert response.status_code == 201
    assert response.json["status"] == "confirmed"
    assert response.headers["Location"] == f"/api/v1/bookings/{response.json['id']}"
    see_committed(session)
    assert session.get(Booking, response.json["id"]).purpose == "Imaging"


def test_booking_another_schools_asset_is_a_pending_request(priya):
    response = priya.post("/bookings", json=WEDNESDAY)
    assert response.status_code == 201 and response.json["status"] == "pending"


def test_a_time_without_an_offset_is_read_in_the_universitys_zone(carla):
    """10:00 in London in July is 09:00 UTC."""
    response = carla.post(
        "/bookings", json={**WEDNESDAY, "start": "2030-07-01T10:00", "end": "2030-07-01T11:00"}
    )
    assert response.json["start"] == "2030-07-01T09:00:00Z"
    assert response.json["start_local"] == "2030-07-01T10:00:00+01:00"


def test_a_time_with_an_offset_is_taken_as_given(carla):
    response = carla.post(
        "/bookings", json={**WEDNESDAY, "start": "2030-01-09T11:00+01:00", "end": "2030-01-09T12:00:00Z"}
    )
    assert response.json["start"] == "2030-01-09T10:00:00Z"


def test_a_local_time_the_clocks_skip_is_refused(carla):
    response = carla.post(
        "/bookings", json={**WEDNESDAY, "start": "2030-03-31T01:30", "end": "2030-03-31T03:00"}
    )
    assert response.status_code == 422
    assert "does not exist" in response.json["errors"]["start"][0]


def test_a_refusal_is_kept_as_unmet_demand(carla, session):
    carla.post("/bookings", json={**WEDNESDAY, "start": "2030-01-08T10:30", "end": "2030-01-08T11:30"})
    see_committed(session)
    demand = session.scalar(select(UnmetDemand))
    assert demand.reasons == ["overlap"] and demand.requester_id == 1


def test_a_recurring_request_books_the_series(carla):
    response = carla.post("/bookings", json={**WEDNESDAY, "recurrence": {"frequency": "weekly", "count": 3}})
    assert response.status_code == 201
    assert response.json["series"]["description"] == "Weekly, 3 times"
    assert [b["start"] for b in response.json["bookings"]] == [
        "2030-01-09T10:00:00Z",
        "2030-01-16T10:00:00Z",
        "2030-01-23T10:00:00Z",
    ]


def test_a_recurrence_needs_a_count_or_an_end_date(carla):
    response = carla.post("/bookings", json={**WEDNESDAY, "recurrence": {"frequency": "daily"}})
    assert response.status_code == 422 and "count" in response.json["errors"]


def test_a_series_that_ends_before_it_starts_books_nothing(carla):
    before = carla.get("/bookings").json["total"]
    response = carla.post(
        "/bookings", json={**WEDNESDAY, "recurrence": {"frequency": "weekly", "until": "2030-01-08"}}
    )
    assert response.status_code == 422
    assert response.json["errors"] == {"until": ["The series ends before its first booking."]}
    assert carla.get("/bookings").json["total"] == before


def test_an_empty_purpose_breaks_the_rule(carla):
    response = carla.post("/bookings", json={**WEDNESDAY, "purpose": "  "})
    assert response.status_code == 422
    assert response.json["errors"] == {"purpose": ["Say what the booking is for."]}


def test_a_booking_without_its_times_is_malformed(carla):
    response = carla.post("/bookings", json={"asset_id": 1, "purpose": "Imaging"})
    assert response.status_code == 400 and set(response.json["errors"]) == {"start", "end"}


def test_booking_an_unknown_asset_is_not_found(carla):
    assert carla.post("/bookings", json={**WEDNESDAY, "asset_id": 999}).status_code == 404


# --- Decisions --------------------------------------------------------------------------------


def test_a_manager_approves_a_request(carla, session):
    response = carla.post("/bookings/1/approve", json={})
    assert response.status_code == 200
    assert response.json["status"] == "confirmed"
    assert response.json["decided_by"] == {"id": 1, "name": "Carla Chem-Manager"}


def test_approving_rechecks_the_rules(carla, world, session):
    make_booking(session, world["microscope"], world["carla"], dt.datetime(2030, 1, 7, 11, tzinfo=UTC))
    response = carla.post("/bookings/1/approve")
    assert response.status_code == 409
    assert response.json["violations"][0]["code"] == "overlap"


def test_approving_a_request_already_decided_is_refused(carla):
    carla.post("/bookings/1/approve")
    response = carla.post("/bookings/1/approve")
    assert response.status_code == 422 and response.json["detail"] == "This request is already confirmed."


def test_a_requester_cannot_approve_their_own_request(priya):
    assert priya.post("/bookings/1/approve").status_code == 403


def test_a_manager_of_another_school_does_not_find_the_request(pavel):
    assert pavel.post("/bookings/1/approve").status_code == 404
    assert pavel.post("/bookings/1/reject", json={"reason": "No"}).status_code == 404


def test_a_manager_rejects_a_request_with_a_reason(carla, session):
    response = carla.post("/bookings/1/reject", json={"reason": "Reserved for a course"})
    assert response.status_code == 200
    assert (
        response.json["status"] == "rejected" and response.json["decision_reason"] == "Reserved for a course"
    )


def test_a_rejection_needs_a_reason(carla, session):
    response = carla.post("/bookings/1/reject", json={})
    assert response.status_code == 422 and response.json["errors"] == {"reason": ["Tell the requester why."]}
    see_committed(session)
    assert session.get(Booking, 1).status == BookingStatus.PENDING


def test_a_requester_cannot_reject_their_request(priya):
    assert priya.post("/bookings/1/reject", json={"reason": "Changed my mind"}).status_code == 403


def test_a_requester_cancels_their_booking(priya):
    response = priya.post("/bookings/1/cancel")
    assert response.status_code == 200 and response.json["status"] == "cancelled"


def test_a_manager_cancelling_someone_elses_booking_gives_a_reason(carla):
    assert carla.post("/bookings/1/cancel", json={}).status_code == 422
    assert carla.post("/bookings/1/cancel", json={"reason": "Instrument fault"}).json["status"] == "cancelled"


def test_nobody_cancels_a_booking_they_cannot_see(pavel):
    assert pavel.post("/bookings/2/cancel", json={"reason": "x"}).status_code == 404


def test_an_action_with_a_wrong_type_is_malformed(carla):
    response = carla.post("/bookings/1/cancel", json={"reason": 42})
    assert response.status_code == 400 and response.json["errors"] == {"reason": ["Give text."]}


# --- Hand-over, check-in and return -----------------------------------------------------------


def test_a_manager_hands_a_loan_over_recording_its_condition(carla, session):
    response = carla.post("/bookings/3/checkout", json={"note": "Complete, with charger"})
    assert response.status_code == 200
    assert (
        response.json["status"] == "checked_out" and response.json["handed_over_at"] == "2029-12-28T12:00:00Z"
    )
    see_committed(session)
    assert session.get(Booking, 3).handover_condition == "Complete, with charger"


def test_a_hand_over_needs_the_condition(carla):
    response = carla.post("/bookings/3/checkout")
    assert response.status_code == 422 and "condition" in response.json["errors"]


def test_the_borrower_cannot_hand_a_loan_to_themselves(priya):
    assert priya.post("/bookings/3/checkout", json={"note": "Fine"}).status_code == 403


def test_the_holder_checks_in_to_bench_kit(carla, world, session, clock):
    world["microscope"].checkin_required = True
    session.commit()
    booking = carla.post(
        "/bookings", json={**WEDNESDAY, "start": "2029-12-28T14:00", "end": "2029-12-28T15:00"}
    ).json
    clock.move_to(dt.datetime(2029, 12, 28, 13, 50, tzinfo=UTC))
    response = carla.post(f"/bookings/{booking['id']}/checkout")
    assert response.status_code == 200
    assert response.json["checked_in_at"] == "2029-12-28T13:50:00Z"


def test_a_manager_takes_a_loan_back(carla):
    response = carla.post("/bookings/4/return", json={"note": "Fine", "damaged": False})
    assert response.status_code == 200
    assert response.json["status"] == "completed" and response.json["returned_at"] == "2029-12-28T12:00:00Z"


def test_a_damaged_return_flags_the_asset(carla, session):
    carla.post("/bookings/4/return", json={"note": "Cracked lens", "damaged": True})
    see_committed(session)
    assert session.get(Booking, 4).returned_damaged is True
    assert session.get(Booking, 4).asset.damage_note == "Cracked lens"


def test_only_a_handed_over_loan_can_be_returned(carla):
    response = carla.post("/bookings/3/return", json={"note": "Fine"})
    assert response.status_code == 422 and "handed over" in response.json["detail"]


def test_the_borrower_cannot_record_their_own_return(priya):
    assert priya.post("/bookings/4/return", json={"note": "Fine"}).status_code == 403


def test_returning_a_booking_nobody_can_see_is_not_found(pavel):
    assert pavel.post("/bookings/4/return", json={"note": "Fine"}).status_code == 404
