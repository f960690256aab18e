"""Issue 14, point 8: cancelling a booking asks once, naming the booking, before it happens.

Tom Whitfield (a CHEM technician) cancels from My bookings and from the booking's page: each time
a page asks "Cancel your booking of <asset> on <date, time>?", "No, keep it" changes nothing, and
only the confirm button cancels. Where it returns to afterwards is a path on this site only.
"""

from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.db import utcnow
from core.timeutil import format_local


def _toms_upcoming(session, count: int = 2) -> list[Booking]:
    tom = session.scalar(select(User).where(User.email.like("tom.whitfield@%")))
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.requester_id == tom.id,
                Booking.status == BookingStatus.CONFIRMED,
                Booking.start_at > utcnow(),
            )
            .order_by(Booking.start_at)
            .limit(count)
        )
    )


def _status(session, booking: Booking) -> BookingStatus:
    session.rollback()
    session.expire_all()
    return session.get(Booking, booking.id).status


def test_cancelling_from_my_bookings_asks_once_naming_the_booking(demo):
    session = demo.session()
    booking = _toms_upcoming(session)[0]
    name, when = booking.asset.name, format_local(booking.start_at)

    page = demo.page(sign_in="tom.whitfield")
    page.get_by_role("link", name="My bookings").first.click()
    page.get_by_role("link", name=f"Cancel… the booking of {name} on {when}").click()
    question = page.get_by_role("heading", level=1)
    assert question.inner_text() == f"Cancel your booking of {name} on {when}?"
    assert _status(session, booking) == BookingStatus.CONFIRMED  # asking changed nothing

    page.get_by_role("link", name="No, keep it").click()
    assert page.get_by_role("heading", level=1).inner_text() == "My bookings"
    assert _status(session, booking) == BookingStatus.CONFIRMED

    page.get_by_role("link", name=f"Cancel… the booking of {name} on {when}").click()
    page.get_by_role("button", name="Yes, cancel this booking").click()
    assert page.get_by_role("heading", level=1).inner_text() == "My bookings"
    assert "is cancelled" in page.locator(".flash").first.inner_text()
    assert _status(session, booking) == BookingStatus.CANCELLED


def test_the_booking_page_cancel_goes_through_the_question_too(demo):
    session = demo.session()
    booking = _toms_upcoming(session)[1]

    page = demo.page(sign_in="tom.whitfield")
    page.goto(f"/bookings/{booking.id}")
    page.get_by_role("link", name="Cancel this booking…").click()
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"Cancel your booking of {booking.asset.name} on {format_local(booking.start_at)}?"
    )
    assert _status(session, booking) == BookingStatus.CONFIRMED
    page.get_by_role("button", name="Yes, cancel this booking").click()
    assert _status(session, booking) == BookingStatus.CANCELLED


def test_after_cancelling_it_returns_only_to_a_page_of_this_site(demo):
    session = demo.session()
    booking = _toms_upcoming(session)[0]

    page = demo.page(sign_in="tom.whitfield")
    for elsewhere in ("https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com/"):
        page.goto(f"/bookings/{booking.id}/cancel?next={elsewhere}")
        assert "evil.example.com" not in page.get_by_role("link", name="No, keep it").get_attribute("href")
    page.get_by_role("button", name="Yes, cancel this booking").click()
    assert page.url == f"{demo.url}/bookings"
    assert _status(session, booking) == BookingStatus.CANCELLED


def test_the_question_is_accessible_and_fits_a_phone(demo):
    from tests.e2e.conftest import serious_accessibility_violations

    session = demo.session()
    booking = _toms_upcoming(session)[0]
    page = demo.page(viewport="phone", sign_in="tom.whitfield")
    page.goto(f"/bookings/{booking.id}/cancel?next=/bookings")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
