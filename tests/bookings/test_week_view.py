"""The week calendar of an asset: which week it opens on, and what past days show.

The clock is set with time-machine, so these hold whatever day the suite runs on.
"""

import datetime as dt

import time_machine

from bookings.calendar import asset_days, week_containing
from bookings.models import BookingStatus
from tests.bookings.conftest import MONDAY, at
from tests.conftest import sign_in
from tests.factories import make_booking

SUNDAY = MONDAY + dt.timedelta(days=6)
WEDNESDAY = MONDAY + dt.timedelta(days=2)


def test_a_sunday_belongs_to_the_week_that_began_the_monday_before():
    assert week_containing(SUNDAY) == MONDAY
    assert week_containing(MONDAY) == MONDAY
    assert week_containing(SUNDAY + dt.timedelta(days=1)) == SUNDAY + dt.timedelta(days=1)


def test_on_a_sunday_the_week_view_opens_on_the_week_containing_today(client, session, world):
    with time_machine.travel(at(SUNDAY, 12), tick=False):
        sign_in(client, world["chemist"].email)
        page = client.get(f"/assets/{world['scope'].id}/week").text
    assert "week of 07 Jan 2030" in page
    assert 'Sun 13 Jan <span class="badge">Today</span>' in page


def test_on_a_monday_the_week_view_opens_on_that_monday(client, session, world):
    with time_machine.travel(at(MONDAY + dt.timedelta(days=7), 0, 30), tick=False):
        sign_in(client, world["chemist"].email)
        page = client.get(f"/assets/{world['scope'].id}/week").text
    assert "week of 14 Jan 2030" in page
    assert 'Mon 14 Jan <span class="badge">Today</span>' in page


def test_past_days_show_the_bookings_they_had(client, session, world):
    make_booking(
        session, world["scope"], world["chemist"], at(MONDAY, 10), hours=2, status=BookingStatus.COMPLETED
    )
    make_booking(
        session, world["scope"], world["chemist2"], at(MONDAY, 14), hours=1, status=BookingStatus.NO_SHOW
    )
    make_booking(
        session, world["scope"], world["chemist"], at(MONDAY, 16), hours=1, status=BookingStatus.CANCELLED
    )
    with time_machine.travel(at(WEDNESDAY, 12), tick=False):
        sign_in(client, world["chemist"].email)
        page = client.get(f"/assets/{world['scope'].id}/week").text
    assert "Busy 10:00–12:00: Chloe Chemist (completed)" in page
    assert "Busy 14:00–15:00: Booked (no show)" in page  # someone else's: who is not shown
    assert "16:00–17:00" not in page  # a cancelled booking never held the asset
    assert "Nothing was booked" in page  # Tuesday, gone by with no bookings
    assert page.count("Free all day") == 3  # Wednesday to Friday


def test_a_loan_returned_early_is_busy_only_until_it_came_back(session, world):
    booking = make_booking(
        session, world["scope"], world["chemist"], at(MONDAY, 9), hours=8, status=BookingStatus.COMPLETED
    )
    booking.returned_at = at(MONDAY, 11)
    session.commit()
    days = asset_days(session, world["chemist"], world["scope"], MONDAY, days=1, now=at(MONDAY, 12))
    assert [(p.start_at, p.end_at) for p in days[0].busy] == [(at(MONDAY, 9), at(MONDAY, 11))]


def test_a_start_beyond_the_calendar_shows_this_week(client, session, world):
    with time_machine.travel(at(WEDNESDAY, 12), tick=False):
        sign_in(client, world["chemist"].email)
        for start in ("9999-12-31", "0001-01-01", "not-a-date"):
            response = client.get(f"/assets/{world['scope'].id}/week?start={start}")
            assert response.status_code == 200
            assert "week of 07 Jan 2030" in response.text
