"""Issue 14, point 6: the window searched for in the catalogue is carried into the booking form;
after a refusal, choosing a suggested free time keeps what was typed; "Next free hours" lists
future hours only, in order.

Tom Whitfield (a CHEM technician) looks for kit free on a Tuesday morning some weeks ahead,
opens a result and books it. Someone else takes part of that time first, so his booking is
refused; he picks one of the free times offered and his purpose and repeat are still there.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.rules import check_booking
from core.db import utcnow
from core.timeutil import local_to_utc, to_local
from inventory.models import Asset, AssetStatus
from tests.e2e.conftest import serious_accessibility_violations

WALL = "%Y-%m-%dT%H:%M"


def _tuesday_weeks_ahead(weeks: int = 9) -> dt.date:
    day = to_local(utcnow()).date() + dt.timedelta(weeks=weeks)
    return day + dt.timedelta(days=(1 - day.weekday()) % 7)


def _bookable_by(session, person: User, day: dt.date) -> Asset:
    """One of the person's School's assets they may book from 10:00 to 14:00 that day and the
    two weeks after (so the series below can go through), by every rule."""
    now = utcnow()
    for asset in session.scalars(
        select(Asset)
        .where(
            Asset.school_id == person.home_school_id,
            Asset.bookable.is_(True),
            Asset.status == AssetStatus.AVAILABLE,
        )
        .order_by(Asset.id)
    ):
        times = [
            (
                local_to_utc(dt.datetime.combine(day + dt.timedelta(weeks=week), dt.time(hour))),
                dt.timedelta(hours=2),
            )
            for week in range(3)
            for hour in (10, 12)
        ]
        if all(
            not check_booking(session, person, asset, start, start + length, now)[0]
            for start, length in times
        ):
            return asset
    raise AssertionError("no CHEM asset Tom can book that day")


def test_the_catalogue_window_is_carried_into_the_booking_form_and_a_refusal_keeps_what_was_typed(demo):
    session = demo.session()
    tom = session.scalar(select(User).where(User.email.like("tom.whitfield@%")))
    other = session.scalar(
        select(User).where(User.home_school_id == tom.home_school_id, User.id != tom.id).order_by(User.id)
    )
    day = _tuesday_weeks_ahead()
    asset = _bookable_by(session, tom, day)
    start, end = dt.datetime.combine(day, dt.time(10)), dt.datetime.combine(day, dt.time(12))

    page = demo.page(sign_in="tom.whitfield")
    page.get_by_role("link", name="Find equipment").click()
    page.get_by_label("Search", exact=True).fill(asset.name)
    window = page.get_by_role("group", name="Free for the whole of")
    window.get_by_label("From").fill(start.strftime(WALL))
    window.get_by_label("To").fill(end.strftime(WALL))
    page.get_by_role("button", name="Search").click()

    page.get_by_role("link", name=asset.name, exact=True).click()
    page.get_by_role("link", name="Book", exact=True).or_(
        page.get_by_role("link", name="Book (request)")
    ).click()
    assert page.get_by_label("Start").input_value() == start.strftime(WALL)
    assert page.get_by_label("End").input_value() == end.strftime(WALL)

    # Meanwhile a colleague books 10:00-11:00 of that morning.
    session.rollback()  # (end this session's read, so it may write after the server has)
    taken_from = local_to_utc(start)
    session.add(
        Booking(
            asset_id=asset.id,
            requester_id=other.id,
            requester_school_id=other.home_school_id,
            start_at=taken_from,
            end_at=taken_from + dt.timedelta(hours=1),
            blocked_until=taken_from + dt.timedelta(hours=1, minutes=asset.turnaround_minutes),
            purpose="Colleague's run",
            status=BookingStatus.CONFIRMED,
        )
    )
    session.commit()

    purpose = "Kinetics run for the second-year practical, batch 4"
    page.get_by_label("What is it for?").fill(purpose)
    page.get_by_label("Every week").check()
    page.get_by_label("Number of times").fill("3")
    page.get_by_role("button", name="Book").or_(page.get_by_role("button", name="Request booking")).click()
    refusal = page.get_by_role("alert")
    assert "overlaps" in refusal.inner_text()

    # A free time for one booking is offered; it keeps the series, as typed, for him to check.
    offered = refusal.get_by_role("button").first
    slot_start, slot_end = offered.get_attribute("value").split("/")
    offered.click()
    assert page.get_by_label("Start").input_value() == slot_start
    assert page.get_by_label("End").input_value() == slot_end
    assert page.get_by_label("What is it for?").input_value() == purpose
    assert page.get_by_label("Every week").is_checked()
    assert page.get_by_label("Number of times").input_value() == "3"
    assert serious_accessibility_violations(page) == []

    # "Next free hours": future hours only, earliest first.
    next_free = page.locator("section[aria-labelledby=rules-title] .suggestions button")
    starts = [
        dt.datetime.strptime(value.split("/")[0], WALL)
        for value in (next_free.nth(i).get_attribute("value") for i in range(next_free.count()))
    ]
    assert starts, "no next free hours listed"
    now = to_local(utcnow()).replace(tzinfo=None)
    assert all(moment > now for moment in starts) and starts == sorted(starts)

    page.get_by_role("button", name="Book").or_(page.get_by_role("button", name="Request booking")).click()
    assert page.url.startswith(f"{demo.url}/bookings/")
    assert purpose in page.content()
    session.rollback()
    session.expire_all()
    made = session.scalars(
        select(Booking).where(Booking.requester_id == tom.id, Booking.purpose == purpose)
    ).all()
    assert len(made) == 3
    assert min(to_local(b.start_at).strftime(WALL) for b in made) == slot_start
