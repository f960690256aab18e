"""Issue 14, point 4: maintenance over bookings. When a window is added or the status set, the
manager sees the overlapping bookings and chooses, for all or each, to cancel them with notice or
keep them and notify; holders are told either way, and a kept booking's page shows the clash."""

from __future__ import annotations

from sqlalchemy import select

from bookings.models import Booking, BookingStatus
from inventory.models import MaintenanceWindow
from tests.stories.asset_changes import (
    api,
    api_token,
    at,
    book,
    chem_asset,
    free_day,
    notices,
    person,
    see_committed,
)

SERVICE = "Annual service by the manufacturer"


def _two_bookings(session, demo):
    asset = chem_asset(session)
    day = free_day(session, asset)
    tom, aisha = person(session, demo, "tom.whitfield"), person(session, demo, "aisha.bello")
    return (
        asset,
        day,
        book(session, asset, tom, at(day, 10), 2, BookingStatus.CONFIRMED),
        book(session, asset, aisha, at(day, 14), 1, BookingStatus.CONFIRMED),
    )


def test_a_window_over_two_bookings_cancels_one_keeps_the_other_and_the_kept_one_shows_the_clash(demo):
    session = demo.session()
    asset, day, toms, aishas = _two_bookings(session, demo)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}/maintenance")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T09:00")
    page.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T17:00")
    page.get_by_label("What is the maintenance for?").fill(SERVICE)
    page.get_by_role("button", name="Schedule maintenance").click()

    assert (
        page.get_by_role("heading", level=1).inner_text() == f"Maintenance of {asset.name} overlaps bookings"
    )
    listed = page.locator("ol.affected-bookings > li")
    assert listed.count() == 2
    assert "Tom Whitfield" in listed.nth(0).inner_text() and "Aisha Bello" in listed.nth(1).inner_text()
    see_committed(session)
    assert session.scalar(select(MaintenanceWindow.id).where(MaintenanceWindow.asset_id == asset.id)) is None

    page.locator(f"#affected-booking-{toms.id}").get_by_label("Cancel with notice").check()
    page.locator(f"#affected-booking-{aishas.id}").get_by_label("Keep and notify").check()
    page.get_by_role("button", name="Confirm and schedule the maintenance").click()
    page.wait_for_url(f"**/assets/{asset.id}/maintenance")
    assert "Cancelled 1 booking and kept 1 booking" in page.locator("main").inner_text()

    see_committed(session)
    assert (
        session.scalar(select(MaintenanceWindow.id).where(MaintenanceWindow.asset_id == asset.id)) is not None
    )
    toms, aishas = session.get(Booking, toms.id), session.get(Booking, aishas.id)
    assert toms.status == BookingStatus.CANCELLED
    assert SERVICE in toms.history[-1].reason
    assert aishas.status == BookingStatus.CONFIRMED
    assert notices(session, toms.requester, toms, "booking_cancelled")
    assert notices(session, aishas.requester, aishas, "booking_affected")

    aisha_page = demo.page(sign_in="aisha.bello")
    aisha_page.goto("/notifications")
    assert f"Check your booking: {asset.name}" in aisha_page.locator("main").inner_text()
    aisha_page.goto(f"/bookings/{aishas.id}")
    clash = aisha_page.locator("#booking-clash").inner_text()
    assert f"Maintenance is planned during this booking: {day:%a %d %b %Y}, 09:00 to 17:00" in clash
    assert SERVICE in clash


def test_the_choice_for_all_cancels_every_overlapping_booking(demo):
    session = demo.session()
    asset, day, toms, aishas = _two_bookings(session, demo)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}/maintenance")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T08:00")
    page.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T18:00")
    page.get_by_label("What is the maintenance for?").fill(SERVICE)
    page.get_by_role("button", name="Schedule maintenance").click()
    page.get_by_label("Cancel them (reject the requests) with notice").check()
    page.get_by_role("button", name="Confirm and schedule the maintenance").click()
    page.wait_for_url(f"**/assets/{asset.id}/maintenance")

    see_committed(session)
    assert {session.get(Booking, b.id).status for b in (toms, aishas)} == {BookingStatus.CANCELLED}


def test_setting_the_status_to_maintenance_lists_the_bookings_and_keeps_them_when_asked(demo):
    session = demo.session()
    asset, day, toms, aishas = _two_bookings(session, demo)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}")
    status = page.locator("section[aria-labelledby=status-title]")
    status.get_by_label("New status").select_option(label="Maintenance")
    status.get_by_label("Reason").fill("Laser realignment")
    status.get_by_role("button", name="Change status").click()
    listed = page.locator("ol.affected-bookings > li")
    texts = " ".join(listed.all_inner_texts())
    assert "Tom Whitfield" in texts and "Aisha Bello" in texts
    page.get_by_label("Keep them (requests stay waiting) and notify the people who made them").check()
    page.get_by_role("button", name="Confirm: make it maintenance").click()
    page.wait_for_url(f"**/assets/{asset.id}")

    see_committed(session)
    for booking in (toms, aishas):
        booking = session.get(Booking, booking.id)
        assert booking.status == BookingStatus.CONFIRMED
        assert notices(session, booking.requester, booking, "booking_affected")
    tom_page = demo.page(sign_in="tom.whitfield")
    tom_page.goto(f"/bookings/{toms.id}")
    assert "Laser realignment" in tom_page.locator("#booking-clash").inner_text()


def test_the_api_keeps_and_notifies_by_default_and_cancels_when_asked(demo):
    session = demo.session()
    asset, day, toms, aishas = _two_bookings(session, demo)
    token = api_token(demo, "manager.chem")

    status, answer = api(
        demo,
        token,
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"status": "maintenance", "status_reason": "Laser realignment"},
    )
    assert status == 200, answer
    assert {toms.id, aishas.id} <= set(answer["bookings_affected"]["kept"])
    assert answer["bookings_affected"]["cancelled"] == []
    see_committed(session)
    assert notices(session, toms.requester, toms, "booking_affected")

    status, answer = api(demo, token, "PATCH", f"/api/v1/assets/{asset.id}", {"status": "available"})
    assert status == 200, answer
    status, answer = api(
        demo,
        token,
        "PATCH",
        f"/api/v1/assets/{asset.id}",
        {"status": "out_of_service", "status_reason": "Water leak", "affected_bookings": "cancel"},
    )
    assert status == 200, answer
    assert {toms.id, aishas.id} <= set(answer["bookings_affected"]["cancelled"])
    see_committed(session)
    assert session.get(Booking, toms.id).status == BookingStatus.CANCELLED
    assert session.get(Booking, toms.id).history[-1].reason == "Water leak"
    assert notices(session, toms.requester, toms, "booking_cancelled")


def test_the_list_of_bookings_to_decide_fits_a_phone_and_is_accessible(demo):
    from tests.e2e.conftest import serious_accessibility_violations

    session = demo.session()
    asset, day, toms, aishas = _two_bookings(session, demo)
    page = demo.page(viewport="phone", sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}/maintenance")
    page.get_by_label("Starts").fill(f"{day:%Y-%m-%d}T09:00")
    page.get_by_label("Ends").fill(f"{day:%Y-%m-%d}T17:00")
    page.get_by_label("What is the maintenance for?").fill(SERVICE)
    page.get_by_role("button", name="Schedule maintenance").click()

    assert page.locator("ol.affected-bookings > li").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
