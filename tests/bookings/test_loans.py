"""Loans (hand-over, return, damage, overdue), check-in and the release of no-shows."""

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from bookings import loans, service
from bookings.models import Booking, BookingStatus
from bookings.rules import BookingRefused
from core.db import atomic, utcnow
from core.errors import InvalidInput, NotAllowed, NotFound
from inventory.models import Asset
from notifications.models import Notification, OutboxMessage
from tests.bookings.conftest import MONDAY, at
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_booking
from tests.inventory.test_register import asset_form

TUESDAY = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def camera(session, world):
    """A portable PHYS camera: lent out, so handed over and returned by PHYS staff."""
    return make_asset(session, world["phys"], name="Thermal camera", portable=True)


@pytest.fixture
def loan(session, world, camera):
    """Chloe (CHEM) borrows the PHYS camera on Monday, 10:00 to 16:00."""
    return make_booking(session, camera, world["chemist"], at(MONDAY, 10), hours=6)


@pytest.fixture
def bench(session, world):
    """A CHEM bench instrument that is checked in, and released 15 minutes after a start without one."""
    return make_asset(
        session, world["chem"], name="Plate reader", checkin_required=True, no_show_release_minutes=15
    )


def hand_over(session, actor, booking, when, condition="Good, with charger and case"):
    with atomic(session, actor):
        return loans.hand_over(session, actor, booking.id, condition, when)


def return_loan(session, actor, booking, when, condition="As handed over", damaged=False):
    with atomic(session, actor):
        return loans.return_loan(session, actor, booking.id, condition, damaged, when)


def notices(session, user, event):
    see_committed(session)
    return session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.event == event)
    ).all()


# --- Hand-over and return --------------------------------------------------------------------


def test_the_owning_schools_staff_hand_a_loan_over(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 9, 30))
    see_committed(session)
    booking = session.get(Booking, loan.id)
    assert booking.status == BookingStatus.CHECKED_OUT
    assert booking.handed_over_at == at(MONDAY, 9, 30)
    assert booking.handed_over_by_id == world["phys_manager"].id
    assert booking.handover_condition == "Good, with charger and case"
    assert booking.history[-1].reason == "Handed over."


def test_a_loan_is_handed_over_from_an_hour_before_its_start_until_its_end(session, world, loan):
    with pytest.raises(InvalidInput, match="from Mon 07 Jan 2030, 09:00"):
        hand_over(session, world["phys_manager"], loan, at(MONDAY, 8, 59))
    with pytest.raises(InvalidInput, match="already ended"):
        hand_over(session, world["phys_manager"], loan, at(MONDAY, 16))
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 9))


def test_a_hand_over_records_the_condition(session, world, loan):
    with pytest.raises(InvalidInput) as refusal:
        hand_over(session, world["phys_manager"], loan, at(MONDAY, 10), condition="  ")
    assert refusal.value.field_errors == {"condition": ["Describe its condition as it is handed over."]}


def test_a_loan_cannot_be_handed_over_while_the_previous_one_is_still_out(session, world, camera, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    tomorrow = make_booking(session, camera, world["physicist"], at(TUESDAY, 10), hours=2)
    with pytest.raises(InvalidInput, match="has not come back from Chloe Chemist's loan"):
        hand_over(session, world["phys_manager"], tomorrow, at(TUESDAY, 10))


def test_a_bench_instrument_is_not_handed_over(session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10))
    with pytest.raises(InvalidInput, match="is not lent out"):
        hand_over(session, world["chem_manager"], booking, at(MONDAY, 10))


def test_a_manager_of_another_school_cannot_hand_over_or_take_back(session, world, loan):
    with pytest.raises(NotAllowed):
        hand_over(session, world["chem_manager"], loan, at(MONDAY, 10))
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    with pytest.raises(NotAllowed):
        return_loan(session, world["chem_manager"], loan, at(MONDAY, 15))
    see_committed(session)
    assert session.get(Booking, loan.id).status == BookingStatus.CHECKED_OUT


def test_a_return_completes_the_loan(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    return_loan(session, world["phys_manager"], loan, at(MONDAY, 15, 40), condition="Fine")
    see_committed(session)
    booking = session.get(Booking, loan.id)
    assert booking.status == BookingStatus.COMPLETED
    assert (booking.returned_at, booking.returned_to_id, booking.return_condition) == (
        at(MONDAY, 15, 40),
        world["phys_manager"].id,
        "Fine",
    )
    assert not booking.returned_damaged
    assert session.get(Asset, loan.asset_id).damage_reported_at is None


def test_a_damaged_return_flags_the_asset_and_tells_its_schools_managers(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    return_loan(session, world["phys_manager"], loan, at(MONDAY, 15), condition="Cracked lens", damaged=True)
    see_committed(session)
    booking = session.get(Booking, loan.id)
    assert booking.status == BookingStatus.COMPLETED and booking.returned_damaged
    asset = session.get(Asset, loan.asset_id)
    assert (asset.damage_reported_at, asset.damage_note) == (at(MONDAY, 15), "Cracked lens")
    [notice] = notices(session, world["phys_manager"], "loan_damaged")
    assert notice.title == f"Thermal camera ({asset.tag}) came back damaged"
    assert "Cracked lens" in notice.body
    assert notices(session, world["chem_manager"], "loan_damaged") == []
    mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == world["phys_manager"].email)
    ).one()
    assert "came back damaged" in mail.subject


def test_a_manager_clears_the_damage_flag(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    return_loan(session, world["phys_manager"], loan, at(MONDAY, 15), condition="Dent", damaged=True)
    with pytest.raises(NotAllowed):
        with atomic(session, world["chem_manager"]):
            loans.clear_damage(session, world["chem_manager"], loan.asset_id)
    with atomic(session, world["phys_manager"]):
        loans.clear_damage(session, world["phys_manager"], loan.asset_id)
    see_committed(session)
    assert session.get(Asset, loan.asset_id).damage_reported_at is None


def test_hand_over_and_return_through_the_pages(client, session, world, loan):
    with time_machine.travel(at(MONDAY, 9, 45), tick=False) as clock:
        sign_in(client, world["phys_manager"].email)
        page = client.get(f"/bookings/{loan.id}").text
        assert "Record the hand-over" in page
        assert client.post(f"/bookings/{loan.id}/hand-over", data={"condition": ""}).status_code == 400
        response = client.post(
            f"/bookings/{loan.id}/hand-over", data={"condition": "Good"}, follow_redirects=True
        )
        assert "Thermal camera is handed over to Chloe Chemist." in response.text
        clock.move_to(at(MONDAY, 15))
        response = client.post(
            f"/bookings/{loan.id}/return",
            data={"condition": "Scratched screen", "damaged": "y"},
            follow_redirects=True,
        )
        assert "it is flagged" in response.text
        asset_page = client.get(f"/assets/{loan.asset_id}").text
    assert "Damaged" in asset_page and "Scratched screen" in asset_page
    assert "Clear the damage flag" in asset_page


def test_another_schools_manager_gets_403_on_the_loan_pages(client, session, world, loan):
    sign_in(client, world["chem_manager"].email)
    assert client.get(f"/bookings/{loan.id}/hand-over").status_code == 403
    assert client.post(f"/bookings/{loan.id}/hand-over", data={"condition": "Good"}).status_code == 403
    assert client.post(f"/bookings/{loan.id}/return", data={"condition": "Good"}).status_code == 403
    assert client.post(f"/assets/{loan.asset_id}/damage/clear").status_code == 403


# --- Overdue ---------------------------------------------------------------------------------


def test_an_overdue_loan_shows_for_the_owning_and_the_borrowing_school(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    assert loans.overdue_loans(session, {world["phys"].id}, at(MONDAY, 16)) == []  # due now, not yet overdue
    late = at(MONDAY, 16, 1)
    assert [b.id for b in loans.overdue_loans(session, {world["phys"].id}, late)] == [loan.id]
    assert [b.id for b in loans.overdue_loans(session, {world["chem"].id}, late)] == [loan.id]


def test_an_overdue_loan_is_on_both_schools_dashboards_and_the_borrowers(client, session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        for person in ("phys_manager", "chem_manager"):
            sign_in(client, world[person].email)
            page = client.get("/").text
            assert f"Hello, {world[person].name}" in page
            assert (
                "Overdue loans" in page
                and "Thermal camera" in page
                and "due back Mon 07 Jan 2030, 16:00" in page
            )
            client.post("/sign-out")
        sign_in(client, world["chemist"].email)
        assert "Please return" in client.get("/").text


def test_a_returned_loan_is_not_overdue(session, world, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    return_loan(session, world["phys_manager"], loan, at(MONDAY, 17))
    assert loans.overdue_loans(session, None, at(MONDAY, 18)) == []


def test_an_overdue_loan_is_notified_once_to_borrower_managers_and_next_holder(session, world, camera, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    following = make_booking(session, camera, world["physicist"], at(TUESDAY, 10), hours=2)
    with atomic(session):
        assert loans.notify_overdue_loans(session, at(MONDAY, 17)) == 1
    with atomic(session):
        assert loans.notify_overdue_loans(session, at(MONDAY, 18)) == 0
    assert [n.title for n in notices(session, world["chemist"], "loan_overdue")] == [
        "Please return Thermal camera: your loan ended Mon 07 Jan 2030, 16:00"
    ]
    assert len(notices(session, world["phys_manager"], "loan_overdue")) == 1
    [warning] = notices(session, world["physicist"], "loan_overdue")
    assert warning.title == "Thermal camera may not be back for your booking"
    assert warning.link.endswith(f"/bookings/{following.id}")


def test_an_overdue_loan_blocks_nothing_and_the_next_booking_is_warned(client, session, world, camera, loan):
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    later = at(MONDAY, 16, 30)
    following = service.request_booking(
        session, world["physicist"], camera.id, at(TUESDAY, 10), at(TUESDAY, 12), "Site survey", later
    )
    assert following.status == BookingStatus.CONFIRMED
    with time_machine.travel(later, tick=False):
        sign_in(client, world["physicist"].email)
        page = client.get(f"/bookings/{following.id}").text
    assert "Thermal camera may not be back in time." in page
    assert "was due back Mon 07 Jan 2030, 16:00" in page


# --- Check-in and no-shows -------------------------------------------------------------------


def test_the_holder_checks_in_from_15_minutes_before_the_start(session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with pytest.raises(InvalidInput, match="from Mon 07 Jan 2030, 09:45"):
        with atomic(session, world["chemist"]):
            loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 9, 44))
    with atomic(session, world["chemist"]):
        loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 9, 45))
    see_committed(session)
    checked_in = session.get(Booking, booking.id)
    assert checked_in.status == BookingStatus.CHECKED_OUT and checked_in.checked_in_at == at(MONDAY, 9, 45)


def test_nobody_else_checks_in_to_someone_elses_booking(session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with pytest.raises(NotFound):
        with atomic(session, world["chemist2"]):
            loans.check_in(session, world["chemist2"], booking.id, at(MONDAY, 10))


def test_a_checked_in_bench_booking_completes_at_its_end_but_a_loan_stays_out(session, world, bench, loan):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with atomic(session, world["chemist"]):
        loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 10))
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    with atomic(session):
        assert loans.complete_checked_in(session, at(MONDAY, 16, 30)) == 1
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.COMPLETED
    assert session.get(Booking, loan.id).status == BookingStatus.CHECKED_OUT


def test_a_booking_not_checked_in_is_released_after_n_minutes(session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with atomic(session):
        assert loans.release_no_shows(session, at(MONDAY, 10, 14)) == 0
    with atomic(session):
        assert loans.release_no_shows(session, at(MONDAY, 10, 15)) == 1
    see_committed(session)
    released = session.get(Booking, booking.id)
    assert released.status == BookingStatus.NO_SHOW
    assert released.history[-1].reason == "Not checked in within 15 minutes of its start."
    [notice] = notices(session, world["chemist"], "no_show_released")
    assert notice.title == "Your booking of Plate reader was released"


def test_a_checked_in_booking_is_not_released(session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with atomic(session, world["chemist"]):
        loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 10, 5))
    with atomic(session):
        assert loans.release_no_shows(session, at(MONDAY, 11)) == 0


def test_an_asset_without_a_release_setting_keeps_its_bookings(session, world):
    booking = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10), hours=2)
    with atomic(session):
        assert loans.release_no_shows(session, at(MONDAY, 11)) == 0
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CONFIRMED


def test_a_released_no_show_frees_the_time_for_someone_else(session, world, bench):
    make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with time_machine.travel(at(MONDAY, 10, 20), tick=False):
        with pytest.raises(BookingRefused):
            service.request_booking(
                session, world["chemist2"], bench.id, at(MONDAY, 10, 30), at(MONDAY, 12), "Assay", utcnow()
            )
        with atomic(session):
            loans.release_no_shows(session, utcnow())
        booking = service.request_booking(
            session, world["chemist2"], bench.id, at(MONDAY, 10, 30), at(MONDAY, 12), "Assay", utcnow()
        )
    assert booking.status == BookingStatus.CONFIRMED


def test_checking_in_on_the_booking_page(client, session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with time_machine.travel(at(MONDAY, 9, 50), tick=False):
        sign_in(client, world["chemist"].email)
        page = client.get(f"/bookings/{booking.id}").text
        assert "Check in now" in page and "released for others" in page
        response = client.post(f"/bookings/{booking.id}/check-in", follow_redirects=True)
    assert "Checked in to Plate reader until 12:00." in response.text
    see_committed(session)
    assert session.get(Booking, booking.id).status == BookingStatus.CHECKED_OUT


def test_scanning_the_label_offers_check_in_on_the_asset_page(client, session, world, bench):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    with time_machine.travel(at(MONDAY, 9), tick=False) as clock:
        sign_in(client, world["chemist"].email)
        assert "Check in to your booking" not in client.get(f"/assets/{bench.id}").text
        clock.move_to(at(MONDAY, 10, 5))
        page = client.get(f"/assets/{bench.id}").text
        assert "Check in to your booking" in page
        response = client.post(f"/bookings/{booking.id}/check-in", data={"next": f"/assets/{bench.id}"})
        assert response.headers["Location"].endswith(f"/assets/{bench.id}")
        client.post("/sign-out")
        other = make_booking(session, bench, world["chemist2"], at(MONDAY, 14), hours=1)
        clock.move_to(at(MONDAY, 13, 50))
        sign_in(client, world["chemist"].email)
        assert "Check in to your booking" not in client.get(f"/assets/{bench.id}").text  # not hers
        client.post("/sign-out")
        sign_in(client, world["chemist2"].email)
        assert f"/bookings/{other.id}/check-in" in client.get(f"/assets/{bench.id}").text


def test_managers_set_the_loan_and_check_in_settings_on_the_asset_form(client, session, world):
    sign_in(client, world["chem_manager"].email)
    school = world["chem"].id
    refused = client.post(f"/schools/{school}/assets/new", data=asset_form(no_show_release_minutes="15"))
    assert refused.status_code == 400
    assert "Releasing no-shows needs check-in" in refused.text
    response = client.post(
        f"/schools/{school}/assets/new", data=asset_form(checkin_required="y", no_show_release_minutes="15")
    )
    assert response.status_code == 302, response.text
    asset = session.scalar(select(Asset).where(Asset.tag == "CHEM-0100"))
    assert asset.checkin_required and asset.no_show_release_minutes == 15 and not asset.portable


def test_the_loans_page_lists_what_to_hand_over_and_what_is_out(client, session, world, camera, loan):
    tomorrow = make_booking(session, camera, world["physicist"], at(TUESDAY, 10), hours=2)
    hand_over(session, world["phys_manager"], loan, at(MONDAY, 10))
    with time_machine.travel(at(MONDAY, 17), tick=False):
        sign_in(client, world["phys_manager"].email)
        page = client.get("/loans").text
    out, to_hand_over = page.split("Out on loan")[1].split("To hand over in the next 7 days")
    assert "Chloe Chemist" in out and "Overdue" in out
    assert f"/bookings/{tomorrow.id}/hand-over" in to_hand_over
    assert f"/bookings/{loan.id}/hand-over" not in page


def test_the_loans_page_is_for_managers(client, session, world):
    sign_in(client, world["chemist"].email)
    assert client.get("/loans").status_code == 403
