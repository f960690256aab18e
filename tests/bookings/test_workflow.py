"""Approvals, rejections, cancellations, recurring series and clock changes."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from bookings import approvals, service
from bookings.models import Booking, BookingStatus, DemandSource, UnmetDemand
from bookings.rules import BookingRefused, SeriesRefused
from core.db import atomic
from core.errors import InvalidInput, NotAllowed, NotFound
from inventory.models import MaintenanceWindow
from tests.bookings.conftest import MONDAY, NOW, UTC, at
from tests.conftest import see_committed
from tests.factories import make_asset, replace_hours


def request(session, user, asset, start, end):
    return service.request_booking(session, user, asset.id, start, end, "Prints for a project", NOW)


def test_a_manager_of_the_owning_school_approves_a_loan_request(session, world):
    booking = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    approved = service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert approved.status == BookingStatus.CONFIRMED
    assert approved.decided_by_id == world["phys_manager"].id and approved.decided_at == NOW
    assert [h.to_status for h in approved.history] == [BookingStatus.PENDING, BookingStatus.CONFIRMED]


def test_a_manager_of_another_school_cannot_approve(session, world):
    booking = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    with pytest.raises(NotAllowed):
        service.approve(session, world["chem_manager"], booking.id, now=NOW)
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.PENDING


def test_approving_rechecks_the_rules(session, world):
    booking = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    session.add(
        MaintenanceWindow(asset_id=world["printer"].id, start_at=at(MONDAY, 11), end_at=at(MONDAY, 15))
    )
    session.commit()
    with pytest.raises(BookingRefused) as refusal:
        service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert refusal.value.codes == ["maintenance"]
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.PENDING


def test_approving_does_not_fail_on_notice_that_was_met_when_requested(session, world):
    world["printer"].min_notice_minutes = 24 * 60
    session.commit()
    booking = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    approved = service.approve(session, world["phys_manager"], booking.id, now=at(MONDAY, 9))
    assert approved.status == BookingStatus.CONFIRMED


def test_approve_and_reject_the_overlapping_requests_in_one_step(session, world):
    chosen = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    clash = request(session, world["chemist2"], world["printer"], at(MONDAY, 11), at(MONDAY, 13))
    elsewhere = request(session, world["chemist2"], world["printer"], at(MONDAY, 14), at(MONDAY, 15))
    assert [b.id for b in service.overlapping_pending(session, chosen)] == [clash.id]
    service.approve(
        session, world["phys_manager"], chosen.id, [clash.id], "The printer is needed for a class", now=NOW
    )
    see_committed(session)
    assert session.get(Booking, chosen.id).status == BookingStatus.CONFIRMED
    rejected = session.get(Booking, clash.id)
    assert rejected.status == BookingStatus.REJECTED
    assert rejected.decision_reason == "The printer is needed for a class"
    assert session.get(Booking, elsewhere.id).status == BookingStatus.PENDING
    demand = session.scalars(select(UnmetDemand)).one()
    assert (demand.source, demand.booking_id, demand.minutes) == (DemandSource.REJECTED, clash.id, 120)


def test_rejecting_overlapping_requests_needs_a_reason_and_only_overlapping_ones(session, world):
    chosen = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    clash = request(session, world["chemist2"], world["printer"], at(MONDAY, 11), at(MONDAY, 13))
    other = request(session, world["chemist2"], world["printer"], at(MONDAY, 15), at(MONDAY, 16))
    with pytest.raises(InvalidInput):
        service.approve(session, world["phys_manager"], chosen.id, [clash.id], "", now=NOW)
    with pytest.raises(InvalidInput):
        service.approve(session, world["phys_manager"], chosen.id, [other.id], "Sorry", now=NOW)
    see_committed(session)
    assert session.get(Booking, chosen.id).status == BookingStatus.PENDING


def test_a_confirmed_overlap_cannot_be_approved_over(session, world):
    first = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    second = request(session, world["chemist2"], world["printer"], at(MONDAY, 11), at(MONDAY, 13))
    service.approve(session, world["phys_manager"], first.id, now=NOW)
    with pytest.raises(BookingRefused) as refusal:
        service.approve(session, world["phys_manager"], second.id, now=NOW)
    assert refusal.value.codes == ["overlap"]


def test_rejection_needs_a_reason_and_is_unmet_demand(session, world):
    booking = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 12))
    with pytest.raises(InvalidInput):
        with atomic(session, world["phys_manager"]):
            service.reject(session, world["phys_manager"], booking.id, "  ", NOW)
    with atomic(session, world["phys_manager"]):
        service.reject(session, world["phys_manager"], booking.id, "Booked for teaching", NOW)
    see_committed(session)
    rejected = session.get(Booking, booking.id)
    assert rejected.status == BookingStatus.REJECTED and rejected.decision_reason == "Booked for teaching"
    assert (
        session.scalar(select(func.count(UnmetDemand.id)).where(UnmetDemand.source == DemandSource.REJECTED))
        == 1
    )


def test_requesters_cancel_their_own_and_managers_cancel_with_a_reason(session, world):
    mine = request(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))
    theirs = request(session, world["chemist2"], world["scope"], at(MONDAY, 13), at(MONDAY, 14))
    with atomic(session, world["chemist"]):
        service.cancel(session, world["chemist"], mine.id, now=NOW)
    with pytest.raises(NotFound):  # someone else's booking is not even visible
        service.cancel(session, world["chemist"], theirs.id, now=NOW)
    with pytest.raises(InvalidInput):
        service.cancel(session, world["chem_manager"], theirs.id, "", now=NOW)
    session.rollback()
    with atomic(session, world["chem_manager"]):
        service.cancel(session, world["chem_manager"], theirs.id, "Instrument fault", now=NOW)
    see_committed(session)
    assert session.get(Booking, mine.id).status == BookingStatus.CANCELLED
    cancelled = session.get(Booking, theirs.id)
    assert cancelled.status == BookingStatus.CANCELLED
    assert (
        cancelled.history[-1].reason == "Instrument fault"
        and cancelled.history[-1].by_id == world["chem_manager"].id
    )
    # A cancelled booking frees its time.
    assert (
        request(session, world["chemist"], world["scope"], at(MONDAY, 13), at(MONDAY, 14)).status
        == BookingStatus.CONFIRMED
    )


def test_a_finished_booking_cannot_be_cancelled(session, world):
    booking = request(session, world["chemist"], world["scope"], at(MONDAY, 10), at(MONDAY, 11))
    with pytest.raises(InvalidInput):
        service.cancel(session, world["chemist"], booking.id, now=at(MONDAY, 12))


def test_the_approval_queue_is_oldest_first_and_only_for_the_managers_schools(session, world):
    first = request(session, world["chemist"], world["printer"], at(MONDAY, 14), at(MONDAY, 15))
    second = request(session, world["chemist2"], world["printer"], at(MONDAY, 9), at(MONDAY, 10))
    world["scope"].requires_approval = True
    session.commit()
    own_school = request(session, world["chemist"], world["scope"], at(MONDAY, 9), at(MONDAY, 10))
    assert [b.id for b in approvals.approval_queue(session, world["phys_manager"], NOW)] == [
        first.id,
        second.id,
    ]
    assert [b.id for b in approvals.approval_queue(session, world["chem_manager"], NOW)] == [own_school.id]


# --- Recurring ---------------------------------------------------------------------------------


def test_a_weekly_series_is_created_whole(session, world):
    bookings = service.request_series(
        session,
        world["chemist"],
        world["scope"].id,
        at(MONDAY, 10),
        at(MONDAY, 11),
        "Weekly lab",
        service.Recurrence("weekly", count=4),
        NOW,
    )
    assert [b.start_at for b in bookings] == [at(MONDAY + dt.timedelta(weeks=n), 10) for n in range(4)]
    assert len({b.series_id for b in bookings}) == 1 and bookings[0].series.description == "Weekly, 4 times"


def test_a_daily_series_until_a_date_skips_nothing_and_refuses_weekends(session, world):
    with pytest.raises(SeriesRefused) as refusal:
        service.request_series(
            session,
            world["chemist"],
            world["scope"].id,
            at(MONDAY, 10),
            at(MONDAY, 11),
            "Daily",
            service.Recurrence("daily", until=MONDAY + dt.timedelta(days=6)),
            NOW,
        )
    report = refusal.value.occurrences
    assert len(report) == 7
    assert [bool(o.violations) for o in report] == [False] * 5 + [True] * 2
    assert report[5].violations[0].code == "outside_hours"


def test_a_series_with_one_clash_is_created_as_nothing(session, world):
    clash = request(
        session,
        world["chemist2"],
        world["scope"],
        at(MONDAY + dt.timedelta(weeks=2), 10),
        at(MONDAY + dt.timedelta(weeks=2), 11),
    )
    with pytest.raises(SeriesRefused) as refusal:
        service.request_series(
            session,
            world["chemist"],
            world["scope"].id,
            at(MONDAY, 10),
            at(MONDAY, 11),
            "Weekly lab",
            service.Recurrence("weekly", count=4),
            NOW,
        )
    report = refusal.value.occurrences
    assert [o.violations[0].code if o.violations else None for o in report] == [None, None, "overlap", None]
    assert report[2].conflicts[0].booking_id == clash.id
    see_committed(session)
    assert session.scalar(select(func.count(Booking.id))) == 1  # only the clashing booking
    assert session.scalar(select(func.count(UnmetDemand.id))) == 1  # the refused occurrence


def test_a_series_needs_a_count_or_an_end_date(session, world):
    with pytest.raises(InvalidInput):
        service.request_series(
            session,
            world["chemist"],
            world["scope"].id,
            at(MONDAY, 10),
            at(MONDAY, 11),
            "x",
            service.Recurrence("weekly"),
            NOW,
        )


# --- Clock changes -----------------------------------------------------------------------------


def _all_week(session, school):
    import datetime as dt_

    from inventory.models import BookableHours

    asset = make_asset(session, school, name="Incubator")
    replace_hours(
        session,
        asset,
        [BookableHours(weekday=d, opens=dt_.time(0), closes=dt_.time(23, 59)) for d in range(7)],
    )
    session.commit()
    return asset


def test_a_booking_across_the_october_clock_change_has_the_right_length(session, world, client):
    from core.timeutil import local_to_utc

    asset = _all_week(session, world["chem"])
    start = local_to_utc(dt.datetime(2030, 10, 26, 22, 0))  # Saturday 22:00 BST
    end = local_to_utc(dt.datetime(2030, 10, 27, 6, 0))  # Sunday 06:00 GMT
    booking = service.request_booking(
        session, world["chemist"], asset.id, start, end, "Overnight culture", NOW
    )
    assert end - start == dt.timedelta(hours=9)  # the clocks went back: one hour longer
    assert (booking.start_at, booking.end_at) == (
        dt.datetime(2030, 10, 26, 21, tzinfo=UTC),
        dt.datetime(2030, 10, 27, 6, tzinfo=UTC),
    )
    from tests.conftest import sign_in

    sign_in(client, world["chemist"].email)
    page = client.get(f"/bookings/{booking.id}").text
    assert "Sat 26 Oct 2030, 22:00 to Sun 27 Oct 2030, 06:00" in page


def test_a_booking_across_the_march_clock_change_has_the_right_length(session, world, client):
    from core.timeutil import local_to_utc

    asset = _all_week(session, world["chem"])
    start = local_to_utc(dt.datetime(2030, 3, 30, 22, 0))  # Saturday 22:00 GMT
    end = local_to_utc(dt.datetime(2030, 3, 31, 6, 0))  # Sunday 06:00 BST
    booking = service.request_booking(
        session, world["chemist"], asset.id, start, end, "Overnight culture", NOW
    )
    assert booking.end_at - booking.start_at == dt.timedelta(hours=7)  # the clocks went forward
    from tests.conftest import sign_in

    sign_in(client, world["chemist"].email)
    page = client.get(f"/bookings/{booking.id}").text
    assert "Sat 30 Mar 2030, 22:00 to Sun 31 Mar 2030, 06:00" in page


def test_office_hours_hold_in_local_time_after_the_clock_change(session, world):
    booking = service.request_booking(
        session,
        world["chemist"],
        world["scope"].id,
        dt.datetime(2030, 4, 1, 8, tzinfo=UTC),
        dt.datetime(2030, 4, 1, 16, tzinfo=UTC),
        "09:00-17:00 BST",
        NOW,
    )
    assert booking.status == BookingStatus.CONFIRMED
    with pytest.raises(BookingRefused) as refusal:  # 16:00-17:00 UTC is 17:00-18:00 BST: closed
        service.request_booking(
            session,
            world["chemist2"],
            world["scope"].id,
            dt.datetime(2030, 4, 1, 16, 30, tzinfo=UTC),
            dt.datetime(2030, 4, 1, 17, tzinfo=UTC),
            "x",
            NOW,
        )
    assert "outside_hours" in refusal.value.codes


def test_a_weekly_series_keeps_its_local_time_across_the_clock_change(session, world):
    from core.timeutil import local_to_utc

    start = local_to_utc(dt.datetime(2030, 3, 25, 10))
    bookings = service.request_series(
        session,
        world["chemist"],
        world["scope"].id,
        start,
        start + dt.timedelta(hours=1),
        "Weekly",
        service.Recurrence("weekly", count=2),
        NOW,
    )
    assert [b.start_at.hour for b in bookings] == [10, 9]  # 10:00 GMT, then 10:00 BST = 09:00 UTC
