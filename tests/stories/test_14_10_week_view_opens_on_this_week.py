"""Issue 14, point 10: the week view opens on the week containing today, and past days show the
bookings they had (completed ones too), not "Free all day".

Checked on the real clock, whatever the day: the week shown must hold today's date (weeks run
Monday to Sunday, so on a Sunday it is the week that began the Monday before), and the latest
weekday before today, where Tom Whitfield had a completed booking, shows that booking.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from accounts.models import User
from bookings.models import Booking, BookingStatus
from core.db import utcnow
from core.timeutil import local_day_bounds, local_to_utc, to_local
from inventory.models import Asset, AssetStatus


def _latest_past_weekday(today: dt.date) -> dt.date:
    day = today - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _completed_booking_of_tom(session, day: dt.date) -> Booking:
    """Tom's completed booking of his own School's bookable kit on ``day``: the demo's, or one
    made here if the demo happens to have none that day."""
    tom = session.scalar(select(User).where(User.email.like("tom.whitfield@%")))
    day_start, day_end = local_day_bounds(day)
    bookable_here = (
        Asset.school_id == tom.home_school_id,
        Asset.bookable.is_(True),
        Asset.status == AssetStatus.AVAILABLE,
    )
    booking = session.scalar(
        select(Booking)
        .join(Booking.asset)
        .where(
            Booking.requester_id == tom.id,
            Booking.status == BookingStatus.COMPLETED,
            Booking.start_at >= day_start,
            Booking.start_at < day_end,
            *bookable_here,
        )
        .order_by(Booking.start_at)
    )
    if booking is None:
        asset = session.scalars(select(Asset).where(*bookable_here).order_by(Asset.id)).first()
        start = local_to_utc(dt.datetime.combine(day, dt.time(10, 0)))
        booking = Booking(
            asset=asset,
            requester=tom,
            requester_school_id=tom.home_school_id,
            start_at=start,
            end_at=start + dt.timedelta(hours=1),
            blocked_until=start + dt.timedelta(hours=1),
            purpose="Calibration run",
            status=BookingStatus.COMPLETED,
        )
        session.add(booking)
        session.commit()
    return booking


def test_the_week_view_opens_on_this_week_and_shows_the_past_days_bookings(demo):
    session = demo.session()
    today = to_local(utcnow()).date()
    past_day = _latest_past_weekday(today)
    booking = _completed_booking_of_tom(session, past_day)
    shown_as = (
        f"{to_local(booking.start_at):%H:%M}–{to_local(booking.end_at):%H:%M}: Tom Whitfield (completed)"
    )

    page = demo.page(sign_in="tom.whitfield")
    page.goto(f"/assets/{booking.asset_id}")
    page.get_by_role("link", name=re.compile(r"^Book")).click()
    page.get_by_role("link", name="See the week's calendar").click()

    monday = today - dt.timedelta(days=today.weekday())
    assert f"week of {monday:%d %b %Y}" in page.get_by_role("heading", level=1).inner_text()
    days = page.locator(".calendar-day")
    assert days.count() == 7
    today_card = days.filter(has=page.get_by_role("heading", name=f"{today:%a %d %b}"))
    assert "Today" in today_card.inner_text()

    if past_day < monday:  # on a Monday, the last weekday is in the week before
        page.get_by_role("link", name="Previous week").click()
    past_card = days.filter(has=page.get_by_role("heading", name=f"{past_day:%a %d %b}"))
    assert shown_as in past_card.inner_text()
    assert "Free all day" not in past_card.inner_text()


def test_the_week_view_is_accessible_and_fits_a_phone(demo):
    from tests.e2e.conftest import serious_accessibility_violations

    session = demo.session()
    booking = _completed_booking_of_tom(session, _latest_past_weekday(to_local(utcnow()).date()))
    page = demo.page(viewport="phone", sign_in="tom.whitfield")
    page.goto(f"/assets/{booking.asset_id}/week")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_violations(page) == []
