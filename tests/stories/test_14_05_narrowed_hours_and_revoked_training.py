"""Issue 14, point 5: narrowing an asset's bookable hours, or revoking someone's training, lists
the future bookings that now break the rules when saving, with the same choice as maintenance:
cancel with notice, or keep and notify."""

from __future__ import annotations

import datetime as dt

from bookings.models import Booking, BookingStatus
from inventory.models import Asset, TrainingAuthorisation
from tests.stories.asset_changes import at, book, chem_asset, free_day, notices, person, see_committed


def test_narrowing_the_hours_lists_the_bookings_outside_them_and_cancels_them_when_asked(demo):
    session = demo.session()
    asset = chem_asset(session)
    day = free_day(session, asset)
    tom, aisha = person(session, demo, "tom.whitfield"), person(session, demo, "aisha.bello")
    inside = book(session, asset, tom, at(day, 10), 1, BookingStatus.CONFIRMED)
    outside = book(session, asset, aisha, at(day, 15), 2, BookingStatus.CONFIRMED)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}/edit")
    closes = page.locator(f"input[name='hours-{day.weekday()}-closes']")
    closes.fill("15:00")
    page.get_by_role("button", name="Save asset").click()

    assert page.get_by_role("heading", level=1).inner_text() == f"Narrow {asset.name}'s bookable hours?"
    assert page.locator(f"#affected-booking-{outside.id}").count() == 1
    assert "Aisha Bello" in page.locator(f"#affected-booking-{outside.id}").inner_text()
    assert page.locator(f"#affected-booking-{inside.id}").count() == 0
    see_committed(session)
    assert any(
        h.weekday == day.weekday() and h.closes >= dt.time(17)
        for h in session.get(Asset, asset.id).bookable_hours
    )

    page.get_by_label("Cancel them (reject the requests) with notice").check()
    page.get_by_role("button", name="Confirm and save").click()
    page.wait_for_url(f"**/assets/{asset.id}")

    see_committed(session)
    assert any(
        h.weekday == day.weekday() and h.closes == dt.time(15)
        for h in session.get(Asset, asset.id).bookable_hours
    )
    assert session.get(Booking, outside.id).status == BookingStatus.CANCELLED
    assert "bookable hours changed" in session.get(Booking, outside.id).history[-1].reason
    assert notices(session, aisha, outside, "booking_cancelled")
    assert session.get(Booking, inside.id).status == BookingStatus.CONFIRMED


def _trained_asset(session, demo):
    """A CHEM asset needing training (its own authorisations only), Tom and Aisha trained on it
    and booked on it."""
    asset = chem_asset(session)
    asset.training_required = True
    asset.category_id = None  # no category-wide authorisation of the demo covers it
    session.commit()
    day = free_day(session, asset)
    tom, aisha = person(session, demo, "tom.whitfield"), person(session, demo, "aisha.bello")
    grants = {}
    for who in (tom, aisha):
        grants[who.id] = TrainingAuthorisation(
            user_id=who.id,
            school_id=asset.school_id,
            asset_id=asset.id,
            granted_on=dt.date.today() - dt.timedelta(days=30),
        )
        session.add(grants[who.id])
    session.commit()
    toms = book(session, asset, tom, at(day, 10), 2, BookingStatus.CONFIRMED)
    aishas = book(session, asset, aisha, at(day, 14), 1, BookingStatus.CONFIRMED)
    return asset, tom, grants[tom.id], toms, aishas


def test_revoking_training_lists_only_that_persons_bookings_and_keeps_them_with_notice(demo):
    session = demo.session()
    asset, tom, grant, toms, aishas = _trained_asset(session, demo)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}/training")
    page.get_by_label("Reason for revoking Tom Whitfield’s authorisation").fill(
        "Unsafe handling of the laser"
    )
    page.get_by_role("button", name="Revoke Tom Whitfield’s authorisation").click()

    assert (
        page.get_by_role("heading", level=1).inner_text()
        == f"Revoke Tom Whitfield's authorisation for {asset.name}?"
    )
    listed = page.locator("ol.affected-bookings > li")
    assert listed.count() == 1
    assert page.locator(f"#affected-booking-{toms.id}").count() == 1
    see_committed(session)
    assert session.get(TrainingAuthorisation, grant.id).revoked_at is None

    page.get_by_label("Keep and notify").check()
    page.get_by_role("button", name="Confirm and revoke").click()
    page.wait_for_url(f"**/assets/{asset.id}/training")
    assert "Kept 1 booking" in page.locator("main").inner_text()

    see_committed(session)
    assert session.get(TrainingAuthorisation, grant.id).revoked_at is not None
    assert session.get(Booking, toms.id).status == BookingStatus.CONFIRMED
    assert notices(session, tom, toms, "booking_affected")
    assert session.get(Booking, aishas.id).status == BookingStatus.CONFIRMED

    tom_page = demo.page(sign_in="tom.whitfield")
    tom_page.goto(f"/bookings/{toms.id}")
    assert (
        "no longer holds a current training authorisation" in tom_page.locator("#booking-clash").inner_text()
    )


def test_revoking_a_category_authorisation_on_the_school_training_page_can_cancel_the_bookings(demo):
    session = demo.session()
    asset = chem_asset(session)
    asset.training_required = True
    session.commit()
    assert asset.category_id is not None
    marek = person(session, demo, "marek.kowalski")
    for old in session.query(TrainingAuthorisation).filter_by(user_id=marek.id, revoked_at=None):
        if old.asset_id == asset.id or (
            old.category_id == asset.category_id and old.school_id == asset.school_id
        ):
            old.revoked_at = old.granted_on and dt.datetime.now(dt.UTC)
    grant = TrainingAuthorisation(
        user_id=marek.id,
        school_id=asset.school_id,
        category_id=asset.category_id,
        granted_on=dt.date.today() - dt.timedelta(days=30),
    )
    session.add(grant)
    session.commit()
    day = free_day(session, asset)
    mareks = book(session, asset, marek, at(day, 10), 2, BookingStatus.CONFIRMED)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/schools/{asset.school_id}/training")
    page.get_by_label(f"Reason for revoking {marek.name}’s authorisation").fill("Left the lab")
    page.get_by_role("button", name=f"Revoke {marek.name}’s authorisation").click()
    assert page.locator(f"#affected-booking-{mareks.id}").count() == 1
    page.locator(f"#affected-booking-{mareks.id}").get_by_label("Cancel with notice").check()
    page.get_by_role("button", name="Confirm and revoke").click()
    page.wait_for_url(f"**/schools/{asset.school_id}/training")

    see_committed(session)
    assert session.get(Booking, mareks.id).status == BookingStatus.CANCELLED
    assert "Left the lab" in session.get(Booking, mareks.id).history[-1].reason
    assert notices(session, marek, mareks, "booking_cancelled")
