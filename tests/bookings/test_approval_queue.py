"""The approval queue's filters (asset, requesting School, owning School, days) and its pages."""

import datetime as dt

from accounts.models import Role
from bookings import approvals, service
from bookings.approvals import QueueFilters, parse_queue_filters
from bookings.models import BookingStatus
from tests.bookings.conftest import MONDAY, NOW, at
from tests.factories import make_asset, make_booking, make_user


def request(session, user, asset, start, end):
    return service.request_booking(session, user, asset.id, start, end, "Prints", NOW)


def ids(bookings):
    return [b.id for b in bookings]


def test_filters_by_asset_requesting_school_and_day(session, world):
    other_printer = make_asset(session, world["phys"], name="Prusa MK4")
    by_chemist = request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 11))
    next_day = request(
        session,
        world["chemist2"],
        world["printer"],
        at(MONDAY + dt.timedelta(days=1), 10),
        at(MONDAY + dt.timedelta(days=1), 11),
    )
    other_asset = request(session, world["chemist"], other_printer, at(MONDAY, 10), at(MONDAY, 11))
    manager = world["phys_manager"]
    queue = approvals.approval_queue
    assert ids(queue(session, manager, NOW)) == [by_chemist.id, next_day.id, other_asset.id]
    assert ids(queue(session, manager, NOW, QueueFilters(asset_id=world["printer"].id))) == [
        by_chemist.id,
        next_day.id,
    ]
    assert ids(queue(session, manager, NOW, QueueFilters(requester_school_id=world["phys"].id))) == []
    assert ids(queue(session, manager, NOW, QueueFilters(requester_school_id=world["chem"].id))) == [
        by_chemist.id,
        next_day.id,
        other_asset.id,
    ]
    assert ids(queue(session, manager, NOW, QueueFilters(day_from=MONDAY, day_to=MONDAY))) == [
        by_chemist.id,
        other_asset.id,
    ]
    assert ids(queue(session, manager, NOW, QueueFilters(day_from=MONDAY + dt.timedelta(days=1)))) == [
        next_day.id
    ]
    assert ids(queue(session, manager, NOW, QueueFilters(owning_school_id=world["chem"].id))) == []


def test_a_day_is_a_local_day(session, world):
    # 23:15 UTC on a summer Monday is 00:15 on Tuesday in London.
    summer_monday = dt.date(2030, 7, 8)
    late = make_booking(
        session,
        world["printer"],
        world["chemist"],
        at(summer_monday, 23, 15),
        hours=0.5,
        status=BookingStatus.PENDING,
    )
    tuesday = summer_monday + dt.timedelta(days=1)
    queue = approvals.approval_queue
    assert ids(
        queue(session, world["phys_manager"], NOW, QueueFilters(day_from=tuesday, day_to=tuesday))
    ) == [late.id]
    assert (
        ids(
            queue(
                session,
                world["phys_manager"],
                NOW,
                QueueFilters(day_from=summer_monday, day_to=summer_monday),
            )
        )
        == []
    )


def test_pages_of_the_queue_oldest_first(session, world):
    made = [
        request(
            session,
            world["chemist"],
            world["printer"],
            at(MONDAY + dt.timedelta(days=d), 10),
            at(MONDAY + dt.timedelta(days=d), 11),
        )
        for d in (3, 0, 2, 1, 4)
    ]
    first = approvals.approval_queue_page(session, world["phys_manager"], NOW, QueueFilters(per_page=2))
    assert (first.total, first.pages, ids(first.items)) == (5, 3, [made[0].id, made[1].id])
    last = approvals.approval_queue_page(
        session, world["phys_manager"], NOW, QueueFilters(page=9, per_page=2)
    )
    assert (last.page, ids(last.items)) == (3, [made[4].id])


def test_choices_count_what_is_waiting(session, world):
    request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 11))
    request(session, world["physicist"], world["printer"], at(MONDAY, 12), at(MONDAY, 13))
    world["printer"].requires_approval = True
    session.commit()
    request(session, world["physicist"], world["printer"], at(MONDAY, 14), at(MONDAY, 15))
    choices = approvals.queue_choices(session, world["phys_manager"], NOW)
    assert [(c.label, c.waiting) for c in choices["assets"]] == [
        (f"Ultimaker S5 ({world['printer'].tag})", 2)
    ]
    assert {c.id: c.waiting for c in choices["requesting_schools"]} == {
        world["chem"].id: 1,
        world["phys"].id: 1,
    }
    assert {c.id: c.waiting for c in choices["owning_schools"]} == {world["phys"].id: 2}
    assert approvals.queue_choices(session, world["chem_manager"], NOW)["assets"] == []


def test_bad_filter_values_are_dropped_with_a_message():
    filters, problems = parse_queue_filters(
        {"asset": "²", "school": "99999999999", "from": "2030-02-30", "to": "", "page": "0"}
    )
    assert filters == QueueFilters()
    assert len(problems) == 3
    filters, problems = parse_queue_filters({"from": "2030-01-08", "to": "2030-01-07"})
    assert (filters.day_from, filters.day_to, len(problems)) == (None, None, 1)
    filters, problems = parse_queue_filters(
        {"asset": "12", "school": "3", "owner": "4", "from": "2030-01-07", "page": "2"}
    )
    assert filters == QueueFilters(
        asset_id=12, requester_school_id=3, owning_school_id=4, day_from=dt.date(2030, 1, 7), page=2
    )
    assert problems == []


def test_a_manager_of_another_school_sees_none_of_it(session, world):
    request(session, world["chemist"], world["printer"], at(MONDAY, 10), at(MONDAY, 11))
    outsider = make_user(session, world["chem"], Role.MANAGER)
    assert approvals.approval_queue(session, outsider, NOW) == []
