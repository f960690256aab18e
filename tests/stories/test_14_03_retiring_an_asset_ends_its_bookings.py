"""Issue 14, point 3: retiring an asset ends its future bookings and pending requests, in the same
transaction, with the reason, telling each holder; the page first says how many it will end."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from bookings.models import Booking, BookingStatus
from bookings.notices import send_booking_reminders
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

REASON = "Beyond economic repair after the flood"


def _arrange(session, demo):
    """A CHEM asset with two confirmed bookings (Tom, Aisha) and a loan request from PHYS (Sophie)."""
    asset = chem_asset(session)
    day = free_day(session, asset)
    tom, aisha, sophie = (
        person(session, demo, n) for n in ("tom.whitfield", "aisha.bello", "sophie.lambert")
    )
    confirmed = [
        book(session, asset, tom, at(day, 10), 2, BookingStatus.CONFIRMED),
        book(session, asset, aisha, at(day, 14), 1, BookingStatus.CONFIRMED),
    ]
    pending = [book(session, asset, sophie, at(day + dt.timedelta(days=1), 10), 2, BookingStatus.PENDING)]
    now = dt.datetime.now(dt.UTC)
    every_confirmed = session.scalars(
        select(Booking).where(
            Booking.asset_id == asset.id, Booking.status == BookingStatus.CONFIRMED, Booking.end_at > now
        )
    ).all()
    every_pending = session.scalars(
        select(Booking).where(
            Booking.asset_id == asset.id, Booking.status == BookingStatus.PENDING, Booking.end_at > now
        )
    ).all()
    return asset, confirmed, pending, every_confirmed, every_pending


def test_a_manager_retires_an_asset_sees_what_it_ends_confirms_and_every_holder_is_told(demo):
    session = demo.session()
    asset, confirmed, pending, every_confirmed, every_pending = _arrange(session, demo)
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/assets/{asset.id}")
    status = page.locator("section[aria-labelledby=status-title]")
    status.get_by_label("New status").select_option(label="Retired")
    status.get_by_label("Reason").fill(REASON)
    status.get_by_role("button", name="Change status").click()

    n, m = len(every_confirmed), len(every_pending)
    summary = page.locator("#affected-summary")
    assert summary.inner_text() == (
        f"This will cancel {n} confirmed booking{'s' * (n != 1)} and reject {m} request{'s' * (m != 1)}."
    )
    listed = page.locator("ol.affected-bookings > li")
    assert listed.count() == n + m
    assert "Tom Whitfield" in " ".join(listed.all_inner_texts())
    see_committed(session)
    assert session.get(type(asset), asset.id).status.value == "available", "nothing changes before confirming"
    assert all(session.get(Booking, b.id).status == BookingStatus.CONFIRMED for b in confirmed)

    page.get_by_role("button", name="Confirm: make it retired").click()
    page.wait_for_url(f"**/assets/{asset.id}")
    assert f"Cancelled {n} booking" in page.locator("main").inner_text()

    see_committed(session)
    assert session.get(type(asset), asset.id).status.value == "retired"
    for booking in every_confirmed:
        booking = session.get(Booking, booking.id)
        assert booking.status == BookingStatus.CANCELLED
        assert booking.history[-1].reason == REASON
    for booking in every_pending:
        booking = session.get(Booking, booking.id)
        assert booking.status == BookingStatus.REJECTED
        assert booking.history[-1].reason == REASON
    for booking in confirmed:
        assert notices(session, booking.requester, booking, "booking_cancelled"), booking.requester.name
    for booking in pending:
        assert notices(session, booking.requester, booking, "booking_decided"), booking.requester.name

    # No reminder goes out for the ended bookings, whenever the reminder job runs.
    first = confirmed[0]
    send_booking_reminders(session, first.start_at - dt.timedelta(hours=1), hours=48)
    assert all(session.get(Booking, b.id).reminder_sent_at is None for b in confirmed)
    session.rollback()

    # The approval queue no longer lists the rejected request.
    page.goto("/approvals")
    for booking in pending:
        assert page.locator(f"a[href$='/bookings/{booking.id}']").count() == 0
        assert page.locator(f"a[href*='/bookings/{booking.id}/']").count() == 0

    # Tom reads why on his notifications and on the booking's page.
    tom_page = demo.page(sign_in="tom.whitfield")
    tom_page.goto("/notifications")
    assert f"Cancelled: {asset.name}" in tom_page.locator("main").inner_text()
    tom_page.goto(f"/bookings/{confirmed[0].id}")
    assert "Cancelled" in tom_page.locator("main").inner_text()
    assert REASON in tom_page.locator("main").inner_text()


@pytest.mark.parametrize("ending", ["retired", "disposed"])
def test_the_api_retires_an_asset_and_says_which_bookings_it_ended(demo, ending):
    session = demo.session()
    asset, confirmed, pending, every_confirmed, every_pending = _arrange(session, demo)
    token = api_token(demo, "manager.chem")

    status, answer = api(
        demo, token, "PATCH", f"/api/v1/assets/{asset.id}", {"status": ending, "status_reason": REASON}
    )

    assert status == 200, answer
    assert answer["status"] == ending
    assert sorted(answer["bookings_affected"]["cancelled"]) == sorted(b.id for b in every_confirmed)
    assert sorted(answer["bookings_affected"]["rejected"]) == sorted(b.id for b in every_pending)
    assert answer["bookings_affected"]["kept"] == []
    see_committed(session)
    assert {session.get(Booking, b.id).status for b in confirmed} == {BookingStatus.CANCELLED}
    assert {session.get(Booking, b.id).status for b in pending} == {BookingStatus.REJECTED}
    for booking in confirmed:
        assert notices(session, booking.requester, booking, "booking_cancelled")
        assert session.get(Booking, booking.id).history[-1].reason == REASON

    # Approving the rejected request is no longer possible: it is not pending.
    status, problem = api(demo, token, "POST", f"/api/v1/bookings/{pending[0].id}/approve", {})
    assert status in (409, 422), problem


def test_a_retirement_without_a_reason_changes_nothing(demo):
    session = demo.session()
    asset, confirmed, _pending, _c, _p = _arrange(session, demo)
    token = api_token(demo, "manager.chem")

    status, problem = api(demo, token, "PATCH", f"/api/v1/assets/{asset.id}", {"status": "retired"})

    assert status == 422, problem
    see_committed(session)
    assert session.get(type(asset), asset.id).status.value == "available"
    assert {session.get(Booking, b.id).status for b in confirmed} == {BookingStatus.CONFIRMED}


def test_an_import_that_retires_an_asset_says_first_what_it_ends(demo, tmp_path, monkeypatch):
    from tests.stories.imports import run_the_schedulers_import_job

    monkeypatch.setattr(demo.app, "instance_path", str(tmp_path / "instance"))
    session = demo.session()
    asset, confirmed, pending, every_confirmed, every_pending = _arrange(session, demo)
    sheet = tmp_path / "retirements.csv"
    sheet.write_text(
        f"Tag,Name,Status,Status reason\n{asset.tag},{asset.name},disposed,{REASON}\n", encoding="utf-8"
    )
    page = demo.page(sign_in="manager.chem")

    page.goto(f"/schools/{asset.school_id}/import")
    page.get_by_label("Spreadsheet file (.csv or .xlsx)").set_input_files(str(sheet))
    page.get_by_role("button", name="Check the file").click()
    n, m = len(every_confirmed), len(every_pending)
    assert (
        page.locator("#import-ends-bookings")
        .inner_text()
        .startswith(
            "Assets this file retires or disposes of have bookings still to come: importing it will cancel "
            f"{n} confirmed booking{'s' * (n != 1)} and reject {m} request{'s' * (m != 1)}"
        )
    )
    see_committed(session)
    assert {session.get(Booking, b.id).status for b in confirmed} == {BookingStatus.CONFIRMED}

    page.get_by_role("button", name="Import 1 row").click()
    run_the_schedulers_import_job(demo.app)
    see_committed(session)
    assert session.get(type(asset), asset.id).status.value == "disposed"
    assert {session.get(Booking, b.id).status for b in every_confirmed} == {BookingStatus.CANCELLED}
    assert {session.get(Booking, b.id).status for b in every_pending} == {BookingStatus.REJECTED}
