"""Every rule a booking must pass, one refusal per test, with what the refusal offers instead."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from bookings import service
from bookings.models import Booking, BookingStatus, DemandSource, UnmetDemand
from bookings.rules import BookingRefused
from inventory.models import (
    AssetStatus,
    InspectionKind,
    InspectionSchedule,
    MaintenanceWindow,
    TrainingAuthorisation,
)
from tests.bookings.conftest import MONDAY, NOW, at


def book(session, user, asset, start, end, now=NOW):
    return service.request_booking(session, user, asset.id, start, end, "Imaging", now)


def refused(session, user, asset, start, end, now=NOW) -> BookingRefused:
    with pytest.raises(BookingRefused) as error:
        book(session, user, asset, start, end, now)
    return error.value


def test_own_school_asset_without_approval_flag_is_confirmed_at_once(session, world):
    booking = book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.requester_school_id == world["chem"].id
    assert booking.blocked_until == at(MONDAY, 12, 30)  # turnaround kept free
    assert [(h.from_status, h.to_status) for h in booking.history] == [(None, BookingStatus.CONFIRMED)]


def test_another_schools_asset_is_a_pending_loan_request(session, world):
    booking = book(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    assert booking.status == BookingStatus.PENDING
    assert booking.requester_school_id == world["chem"].id


def test_an_approval_flagged_asset_is_pending_even_for_its_own_school(session, world):
    world["scope"].requires_approval = True
    session.commit()
    assert (
        book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12)).status
        == BookingStatus.PENDING
    )


def test_overlap_is_refused_naming_the_booking_and_suggesting_free_slots(session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    refusal = refused(session, world["chemist2"], world["scope"], at(MONDAY, 11), at(MONDAY, 13))
    assert refusal.codes == ["overlap"] and refusal.status_code == 409
    [conflict] = refusal.conflicts
    assert (conflict.start_at, conflict.end_at) == (at(MONDAY, 10), at(MONDAY, 12, 30))
    assert conflict.holder is None  # another person's booking: who holds it is not shown
    # Two hours, after 11:00: free from 12:30 (the turnaround), then each following slot.
    assert [(s.start_at, s.end_at) for s in refusal.suggestions] == [
        (at(MONDAY, 12, 30), at(MONDAY, 14, 30)),
        (at(MONDAY, 15), at(MONDAY, 17)),
        (at(MONDAY + dt.timedelta(days=1), 9), at(MONDAY + dt.timedelta(days=1), 11)),
    ]


def test_a_manager_sees_who_holds_the_conflicting_booking(session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    refusal = refused(session, world["chem_manager"], world["scope"], at(MONDAY, 11), at(MONDAY, 12))
    assert refusal.conflicts[0].holder == "Chloe Chemist"


def test_the_turnaround_after_a_booking_is_kept_free(session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    assert refused(session, world["chemist2"], world["scope"], at(MONDAY, 12, 15), at(MONDAY, 13)).codes == [
        "overlap"
    ]
    # Half-open intervals: starting exactly when the turnaround ends is fine.
    book(session, world["chemist2"], world["scope"], at(MONDAY, 12, 30), at(MONDAY, 13))


def test_the_new_bookings_own_turnaround_must_fit_before_the_next_booking(session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 14), at(MONDAY, 15))
    assert refused(session, world["chemist2"], world["scope"], at(MONDAY, 13), at(MONDAY, 13, 45)).codes == [
        "overlap"
    ]


def test_pending_requests_do_not_block_each_other(session, world):
    first = book(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    second = book(session, world["chemist2"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    assert first.status == second.status == BookingStatus.PENDING


def test_a_maintenance_window_blocks_bookings(session, world):
    session.add(
        MaintenanceWindow(
            asset=world["scope"], start_at=at(MONDAY, 9), end_at=at(MONDAY, 13), reason="Laser service"
        )
    )
    session.commit()
    refusal = refused(session, world["chemist"], world["scope"], at(MONDAY, 12), at(MONDAY, 14))
    assert refusal.codes == ["maintenance"]
    assert refusal.conflicts[0].kind == "maintenance"
    assert refusal.suggestions[0].start_at == at(MONDAY, 13)


@pytest.mark.parametrize("status", [AssetStatus.MAINTENANCE, AssetStatus.OUT_OF_SERVICE, AssetStatus.RETIRED])
def test_an_asset_out_of_action_cannot_be_booked(session, world, status):
    world["scope"].status, world["scope"].status_reason = status, "Broken stage"
    session.commit()
    refusal = refused(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))
    assert refusal.codes == ["asset_unavailable"]
    assert "Broken stage" in refusal.message
    assert refusal.suggestions == []


def test_an_unbookable_asset_cannot_be_booked(session, world):
    world["scope"].bookable = False
    session.commit()
    assert refused(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11)).codes == [
        "not_bookable"
    ]


def test_an_overdue_inspection_blocks_bookings_when_the_asset_says_so(session, world):
    session.add(
        InspectionSchedule(
            asset=world["scope"],
            kind=InspectionKind.CALIBRATION,
            interval_days=365,
            last_done_on=dt.date(2028, 1, 1),
            next_due_on=dt.date(2029, 1, 1),
        )
    )
    session.commit()
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))  # setting off: allowed
    world["scope"].block_when_inspection_overdue = True
    session.commit()
    refusal = refused(session, world["chemist"], world["scope"], at(MONDAY, 14), at(MONDAY, 15))
    assert refusal.codes == ["inspection_overdue"]
    assert "calibration was due on 01 Jan 2029" in refusal.message


def test_an_unshared_asset_is_refused_to_other_schools_only(session, world):
    world["printer"].shareable = False
    session.commit()
    refusal = refused(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 11))
    assert refusal.codes == ["not_shared"]
    assert (
        book(session, world["physicist"], world["printer"], at(MONDAY, 10), at(MONDAY, 11)).status
        == BookingStatus.CONFIRMED
    )


@pytest.mark.parametrize(
    "start, end",
    [
        (at(MONDAY, 8), at(MONDAY, 10)),  # starts before opening
        (at(MONDAY, 16), at(MONDAY, 18)),  # ends after closing
        (at(MONDAY - dt.timedelta(days=2), 10), at(MONDAY - dt.timedelta(days=2), 11)),  # a Saturday
        (at(MONDAY, 16), at(MONDAY + dt.timedelta(days=1), 10)),  # spans the closed night
    ],
)
def test_outside_bookable_hours_is_refused(session, world, start, end):
    assert refused(session, world["chemist"], world["scope"], start, end).codes == ["outside_hours"]


def test_minimum_notice(session, world):
    world["scope"].min_notice_minutes = 24 * 60
    session.commit()
    now = at(MONDAY, 9)
    refusal = refused(session, world["chemist"], world["scope"], at(MONDAY, 14), at(MONDAY, 15), now=now)
    assert refusal.codes == ["min_notice"]
    assert "at least 24 hours ahead" in refusal.message
    assert refusal.suggestions[0].start_at == at(MONDAY + dt.timedelta(days=1), 9)


def test_maximum_length(session, world):
    world["scope"].max_booking_minutes = 120
    session.commit()
    refusal = refused(session, world["chemist"], world["scope"], at(MONDAY, 9), at(MONDAY, 12))
    assert refusal.codes == ["max_length"]
    assert "at most 2 hours" in refusal.message


def test_a_booking_must_end_after_it_starts(session, world):
    assert refused(session, world["chemist"], world["scope"], at(MONDAY, 12), at(MONDAY, 11)).codes == [
        "ends_before_start"
    ]


def test_a_booking_in_the_past_is_refused(session, world):
    assert (
        "in_past"
        in refused(
            session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11), now=at(MONDAY, 12)
        ).codes
    )


def test_training_is_required_where_the_asset_says_so(session, world):
    world["scope"].training_required = True
    session.commit()
    assert refused(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11)).codes == [
        "training"
    ]
    session.add(
        TrainingAuthorisation(
            user_id=world["chemist"].id,
            school_id=world["chem"].id,
            asset_id=world["scope"].id,
            granted_on=dt.date(2029, 1, 1),
            expires_on=dt.date(2030, 12, 31),
        )
    )
    session.commit()
    assert (
        book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11)).status
        == BookingStatus.CONFIRMED
    )


def test_an_expired_training_authorisation_does_not_count(session, world):
    world["scope"].training_required = True
    session.add(
        TrainingAuthorisation(
            user_id=world["chemist"].id,
            school_id=world["chem"].id,
            asset_id=world["scope"].id,
            granted_on=dt.date(2028, 1, 1),
            expires_on=dt.date(2029, 6, 30),
        )
    )
    session.commit()
    assert refused(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11)).codes == [
        "training"
    ]


def test_every_broken_rule_is_listed_not_just_the_first(session, world):
    world["printer"].shareable = False
    world["printer"].training_required = True
    world["printer"].max_booking_minutes = 60
    session.commit()
    refusal = refused(session, world["chemist"], world["printer"], at(MONDAY, 16), at(MONDAY, 19))
    assert set(refusal.codes) == {"not_shared", "training", "max_length", "outside_hours"}
    assert refusal.status_code == 422


def test_each_refusal_is_recorded_as_unmet_demand_and_nothing_is_booked(session, world):
    book(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 12))
    refused(session, world["physicist"], world["scope"], at(MONDAY, 11), at(MONDAY, 14))
    demand = session.scalars(select(UnmetDemand)).one()
    assert demand.asset_id == world["scope"].id
    assert demand.requester_school_id == world["phys"].id
    assert demand.minutes == 180
    assert demand.reasons == ["overlap"] and demand.source == DemandSource.REFUSED
    assert session.scalar(select(func.count(Booking.id))) == 1


def test_a_purpose_is_required(session, world):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        service.request_booking(
            session, world["chemist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 11), "  ", NOW
        )


def test_an_unknown_asset_is_not_found(session, world):
    from core.errors import NotFound

    with pytest.raises(NotFound):
        service.request_booking(session, world["chemist"], 99999, at(MONDAY, 10), at(MONDAY, 11), "x", NOW)


def test_next_free_hours_are_future_hours_only_in_order(session, world):
    from bookings.rules import next_free_slots

    scope = world["scope"]  # Mon-Fri 09:00-17:00, 30 minutes turnaround
    book(session, world["chemist2"], scope, at(MONDAY, 14), at(MONDAY, 15), now=at(MONDAY, 8))
    now = at(MONDAY, 13, 7)  # the morning's free hours are gone by
    slots = next_free_slots(session, scope, dt.timedelta(hours=1), now, now, count=5)
    starts = [slot.start_at for slot in slots]
    assert starts == sorted(starts) and all(start >= now for start in starts)
    assert [(s.start_at, s.end_at) for s in slots[:2]] == [
        (at(MONDAY, 15, 30), at(MONDAY, 16, 30)),  # 13:15-14:15 would run into the 14:00 booking
        (at(MONDAY + dt.timedelta(days=1), 9), at(MONDAY + dt.timedelta(days=1), 10)),
    ]
