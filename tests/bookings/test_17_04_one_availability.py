"""Issue 17 point 4: one definition of busy and free time (bookings/availability.py).

The interval arithmetic is half-open, [start, end): touching intervals do not clash. A booking
holds its asset until the end of its turnaround; a new booking must leave its own turnaround
before the next booking, but maintenance may start in it. The week view, the API's availability
and the suggested free slots read the same asset the same way.
"""

import datetime as dt

import time_machine

from bookings.availability import (
    BOOKING,
    MAINTENANCE,
    Busy,
    blocked_until,
    busy_for_new_booking,
    clip,
    free_intervals,
    merge,
    overlaps,
    subtract,
)
from bookings.calendar import asset_days
from bookings.rules import SUGGESTION_HORIZON, check_booking, next_free_slots
from inventory.models import BookableHours, MaintenanceWindow
from tests.api.world import token_for
from tests.bookings.conftest import MONDAY, NOW, at
from tests.factories import make_booking, replace_hours

TUESDAY = MONDAY + dt.timedelta(days=1)
HALF_HOUR = dt.timedelta(minutes=30)


def t(hour: int, minute: int = 0) -> dt.datetime:
    return at(TUESDAY, hour, minute)


# --- Interval arithmetic -------------------------------------------------------------------------


def test_touching_intervals_do_not_overlap_but_any_shared_minute_does():
    assert not overlaps((t(9), t(10)), (t(10), t(11)))
    assert not overlaps((t(10), t(11)), (t(9), t(10)))
    assert overlaps((t(9), t(10)), (t(9, 59), t(11)))
    assert overlaps((t(9), t(12)), (t(10), t(11)))  # one inside the other


def test_merge_joins_overlapping_and_touching_intervals_and_sorts_them():
    assert merge([(t(13), t(14)), (t(9), t(10)), (t(10), t(11)), (t(10, 30), t(12))]) == [
        (t(9), t(12)),
        (t(13), t(14)),
    ]
    assert merge([]) == []


def test_clip_keeps_only_what_is_inside_the_window():
    window = (t(10), t(16))
    assert clip([(t(8), t(9)), (t(9), t(11)), (t(12), t(13)), (t(15), t(18))], window) == [
        (t(10), t(11)),
        (t(12), t(13)),
        (t(15), t(16)),
    ]
    assert clip([(t(8), t(10)), (t(16), t(17))], window) == []  # touching the window is outside it


def test_subtract_removes_taken_time_and_leaves_touching_time_alone():
    assert subtract([(t(9), t(12))], [(t(12), t(13)), (t(8), t(9))]) == [(t(9), t(12))]
    assert subtract([(t(9), t(12))], [(t(10), t(11))]) == [(t(9), t(10)), (t(11), t(12))]
    assert subtract([(t(9), t(12)), (t(13), t(17))], [(t(11), t(14))]) == [(t(9), t(11)), (t(14), t(17))]
    assert subtract([(t(9), t(12))], [(t(8), t(13))]) == []
    assert subtract([(t(9), t(12))], [(t(9), t(10)), (t(10), t(12))]) == []


def test_a_booking_is_busy_until_its_turnaround_is_over_and_keeps_a_new_turnaround_out_before_it(
    session, world
):
    scope = world["scope"]  # 30 minutes' turnaround
    assert blocked_until(scope, t(11)) == t(11, 30)
    booking = Busy(BOOKING, t(14), t(15, 30))
    maintenance = Busy(MAINTENANCE, t(16), t(16, 30))
    # A new booking may end at 13:30 (its turnaround is over at 14:00), and start at 15:30;
    # maintenance keeps out only its own time.
    assert free_intervals([(t(13), t(17))], [booking, maintenance], HALF_HOUR) == [
        (t(13), t(13, 30)),
        (t(15, 30), t(16)),
        (t(16, 30), t(17)),
    ]


def test_turnaround_clashes_with_the_next_booking_but_not_with_maintenance(session, world):
    scope, chemist = world["scope"], world["chemist"]
    make_booking(session, scope, chemist, t(14), hours=1)
    session.add(MaintenanceWindow(asset=scope, start_at=t(12), end_at=t(13), reason="Laser service"))
    session.commit()
    assert busy_for_new_booking(session, scope, t(13), t(13, 30)) == []  # turnaround ends as it starts
    assert [b.kind for b in busy_for_new_booking(session, scope, t(13), t(13, 45))] == [BOOKING]
    assert [b.kind for b in busy_for_new_booking(session, scope, t(11), t(12, 1))] == [MAINTENANCE]
    assert busy_for_new_booking(session, scope, t(11), t(12)) == []  # maintenance starts in its turnaround
    assert busy_for_new_booking(session, scope, t(15, 30), t(16)) == []  # after the other's turnaround
    assert [b.end_at for b in busy_for_new_booking(session, scope, t(15, 15), t(16))] == [t(15, 30)]


# --- One asset, three readers ---------------------------------------------------------------------


def test_week_view_api_and_suggestions_agree_on_one_asset(client, session, world):
    """Split hours on Tuesday (09:00-12:00, 13:00-17:00), two bookings with 30 minutes'
    turnaround, and maintenance: the API's free time, the suggestions and the week view say
    the same thing."""
    scope, chemist, manager = world["scope"], world["chemist"], world["chem_manager"]
    replace_hours(
        session,
        scope,
        [
            BookableHours(weekday=1, opens=dt.time(9), closes=dt.time(12)),
            BookableHours(weekday=1, opens=dt.time(13), closes=dt.time(17)),
        ],
    )
    make_booking(session, scope, chemist, t(9, 30), hours=1)  # held to 11:00
    make_booking(session, scope, world["chemist2"], t(14), hours=1)  # held to 15:30
    session.add(MaintenanceWindow(asset=scope, start_at=t(16), end_at=t(16, 30), reason="Laser service"))
    session.commit()

    with time_machine.travel(NOW, tick=False):
        token = token_for(session, manager)
        body = client.get(
            f"/api/v1/assets/{scope.id}/availability?from=2030-01-08T00:00&to=2030-01-09T00:00",
            headers={"Authorization": f"Bearer {token}"},
        ).json

    def spans(items):
        return [
            (dt.datetime.fromisoformat(item["start"]), dt.datetime.fromisoformat(item["end"]))
            for item in items
        ]

    api_free = spans(body["free"])
    api_busy = spans(body["busy"])
    api_maintenance = spans(body["maintenance"])
    assert api_free == [(t(11), t(12)), (t(13), t(13, 30)), (t(15, 30), t(16)), (t(16, 30), t(17))]
    assert api_busy == [(t(9, 30), t(11)), (t(14), t(15, 30))]
    assert api_maintenance == [(t(16), t(16, 30))]

    # The suggestions are the API's free time cut into bookable lengths, in order.
    slots = next_free_slots(session, scope, HALF_HOUR, t(0), NOW, count=3)
    assert [(s.start_at, s.end_at) for s in slots] == [
        (t(11), t(11, 30)),
        (t(13), t(13, 30)),
        (t(15, 30), t(16)),
    ]
    for slot in slots:
        assert any(start <= slot.start_at and slot.end_at <= end for start, end in api_free)
        assert check_booking(session, chemist, scope, slot.start_at, slot.end_at, NOW)[0] == []

    # The week view shows the same hours, bookings (without turnaround) and maintenance, and
    # none of its busy time is offered as free.
    (tuesday,) = asset_days(session, manager, scope, TUESDAY, days=1, now=NOW)
    assert tuesday.opening == [(dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))]
    shown = [(p.kind, p.start_at, p.end_at) for p in tuesday.busy]
    assert shown == [
        ("booking", t(9, 30), t(10, 30)),
        ("booking", t(14), t(15)),
        ("maintenance", t(16), t(16, 30)),
    ]
    for kind, start, end in shown:
        assert not any(overlaps((start, end), free) for free in api_free)
        if kind == "booking":
            assert any(busy_start == start and end <= busy_end for busy_start, busy_end in api_busy)
        else:
            assert (start, end) in api_maintenance
    opening = [
        (dt.datetime.combine(TUESDAY, o, tzinfo=dt.UTC), dt.datetime.combine(TUESDAY, c, tzinfo=dt.UTC))
        for o, c in tuesday.opening
    ]
    assert subtract(api_free, opening) == []  # all free time lies within the opening hours shown


def test_suggestions_on_the_last_day_of_the_horizon_see_that_days_later_bookings(session, world):
    """Suggestions look 60 days ahead and finish the last day's hours: a booking later that
    day than the horizon's own time of day still keeps them out (it used to be missed)."""
    scope, chemist = world["scope"], world["chemist"]
    last_day = (NOW + SUGGESTION_HORIZON).date()  # NOW is 12:00, so the horizon is at noon
    replace_hours(
        session, scope, [BookableHours(weekday=last_day.weekday(), opens=dt.time(9), closes=dt.time(17))]
    )
    day = last_day - dt.timedelta(days=7)
    while day > NOW.date():  # every earlier such day is fully booked
        make_booking(session, scope, chemist, at(day, 9), hours=8)
        day -= dt.timedelta(days=7)
    make_booking(session, scope, chemist, at(last_day, 14), hours=3)
    slots = next_free_slots(session, scope, dt.timedelta(hours=1), NOW, NOW, count=5)
    assert [s.start_at for s in slots] == [at(last_day, 9), at(last_day, 10, 30), at(last_day, 12)]
    for slot in slots:
        assert check_booking(session, chemist, scope, slot.start_at, slot.end_at, NOW)[0] == []
