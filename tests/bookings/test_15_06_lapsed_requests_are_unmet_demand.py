"""Issue 15, point 6: a pending request whose start passes undecided lapses and is counted as
unmet demand, "not decided in time"; a waitlist place whose time passes without a booking is
"waitlisted, never served". One job records both, once each, however often it runs; managers see
how many of their Schools' requests lapsed.

The asset belongs to CHEM and is open Monday to Friday 09:00-17:00. Times are in November 2026
(London is on GMT: local time is UTC); the job runs at Tuesday 10 November, 12:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sqlalchemy import select

from accounts.models import Role
from bookings import service
from bookings.lapsing import lapsed_requests, record_lapsed_demand
from bookings.models import (
    BookingStatus,
    DemandSource,
    UnmetDemand,
    WaitlistEntry,
    WaitlistStatus,
)
from core.errors import InvalidInput
from notifications.models import Notification
from reports.figures import ReportSettings, utilisation_report
from reports.figures_json import report_to_json
from tests.conftest import sign_in
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
H = 3600
NOW = dt.datetime(2026, 11, 10, 12, tzinfo=UTC)


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def world(session):
    chem, phys = make_school(session, "CHEM"), make_school(session, "PHYS")
    manager = make_user(session, chem, Role.MANAGER, name="Carl Chem-Manager")
    phys_manager = make_user(session, phys, Role.MANAGER, name="Pat Phys-Manager")
    physicist = make_user(session, phys, name="Priya Physicist")
    chemist = make_user(session, chem, name="Chloe Chemist")
    scope = make_asset(session, chem, tag="CHEM-SCOPE", name="Scope", purchase_date=dt.date(2020, 1, 1))
    lathe = make_asset(session, phys, tag="PHYS-LATHE", name="Lathe", purchase_date=dt.date(2020, 1, 1))
    return dict(
        chem=chem,
        phys=phys,
        manager=manager,
        phys_manager=phys_manager,
        physicist=physicist,
        chemist=chemist,
        scope=scope,
        lathe=lathe,
    )


def demand(session):
    session.expire_all()
    return session.scalars(select(UnmetDemand).order_by(UnmetDemand.id)).all()


def test_a_request_undecided_at_its_start_lapses_and_is_recorded_once(session, world):
    started = make_booking(session, world["scope"], world["physicist"], at(10, 10), 3, BookingStatus.PENDING)
    later = make_booking(session, world["scope"], world["physicist"], at(10, 14), 2, BookingStatus.PENDING)

    done = record_lapsed_demand(session, NOW)
    session.commit()
    assert (done.lapsed_requests, done.waitlist_places) == (1, 0)
    session.expire_all()
    assert started.status == BookingStatus.LAPSED
    assert later.status == BookingStatus.PENDING  # starts at 14:00: still to be decided
    step = started.history[-1]
    assert (step.from_status, step.to_status, step.by_id) == (
        BookingStatus.PENDING,
        BookingStatus.LAPSED,
        None,
    )
    assert started.decided_by_id is None  # nobody rejected it
    [row] = demand(session)
    assert (row.source, row.reasons, row.booking_id) == (DemandSource.LAPSED, ["not_decided"], started.id)
    assert (row.start_at, row.end_at, row.minutes) == (at(10, 10), at(10, 13), 180)
    assert (row.requester_id, row.requester_school_id) == (world["physicist"].id, world["phys"].id)

    again = record_lapsed_demand(session, NOW + dt.timedelta(minutes=5))
    session.commit()
    assert not again
    assert len(demand(session)) == 1


def test_a_lapsed_request_can_no_longer_be_decided(session, world):
    booking = make_booking(session, world["scope"], world["physicist"], at(10, 10), 3, BookingStatus.PENDING)
    record_lapsed_demand(session, NOW)
    session.commit()
    with pytest.raises(InvalidInput, match="lapsed"):
        service.reject(session, world["manager"], booking.id, "Too late", now=NOW)
    with pytest.raises(InvalidInput, match="lapsed"):
        service.approve(session, world["manager"], booking.id, now=NOW)


def test_the_requester_is_told_it_was_not_decided_in_time(session, world):
    make_booking(session, world["scope"], world["physicist"], at(10, 10), 3, BookingStatus.PENDING)
    record_lapsed_demand(session, NOW)
    session.commit()
    [notice] = session.scalars(
        select(Notification).where(Notification.user_id == world["physicist"].id)
    ).all()
    assert notice.title.startswith("Not decided in time: Scope (CHEM-SCOPE)") or notice.title.startswith(
        "Not decided in time: Scope,"
    )
    assert "before it started, so it has lapsed: you do not have the booking" in notice.body


def test_a_waitlist_place_never_served_is_recorded_once_in_place_of_its_refusal(session, world):
    scope, physicist, chemist = world["scope"], world["physicist"], world["chemist"]
    # Priya was refused 10:00-12:00 on Monday for the clash, and waited for it: never offered.
    session.add(
        UnmetDemand(
            asset_id=scope.id,
            requester_id=physicist.id,
            requester_school_id=world["phys"].id,
            start_at=at(9, 10),
            end_at=at(9, 12),
            minutes=120,
            source=DemandSource.REFUSED,
            reasons=["overlap"],
        )
    )
    waiting = WaitlistEntry(
        asset_id=scope.id,
        user_id=physicist.id,
        start_at=at(9, 10),
        end_at=at(9, 12),
        purpose="Imaging",
        status=WaitlistStatus.EXPIRED,
        created_at=at(5, 9),
    )
    # Chloe waited for 13:00-14:00 without being refused first (no refusal row): a new row.
    alone = WaitlistEntry(
        asset_id=scope.id,
        user_id=chemist.id,
        start_at=at(9, 13),
        end_at=at(9, 14),
        purpose="Imaging",
        status=WaitlistStatus.WAITING,
        created_at=at(5, 9),
    )
    # Served: accepted an offer; offered and let it run out; booked the time another way.
    served = make_booking(session, scope, chemist, at(9, 15), 1, BookingStatus.COMPLETED)
    accepted = WaitlistEntry(
        asset_id=scope.id,
        user_id=chemist.id,
        start_at=at(9, 15),
        end_at=at(9, 16),
        purpose="x",
        status=WaitlistStatus.ACCEPTED,
        booking_id=served.id,
        created_at=at(5, 9),
    )
    offered = WaitlistEntry(
        asset_id=scope.id,
        user_id=physicist.id,
        start_at=at(6, 9),
        end_at=at(6, 10),
        purpose="x",
        status=WaitlistStatus.EXPIRED,
        offered_at=at(5, 9),
        offer_expires_at=at(5, 11),
        created_at=at(4, 9),
    )
    booked_anyway = WaitlistEntry(
        asset_id=scope.id,
        user_id=chemist.id,
        start_at=at(9, 15),
        end_at=at(9, 16),
        purpose="x",
        status=WaitlistStatus.EXPIRED,
        created_at=at(4, 9),
    )
    # Still to come: nothing yet.
    future = WaitlistEntry(
        asset_id=scope.id,
        user_id=physicist.id,
        start_at=at(11, 9),
        end_at=at(11, 10),
        purpose="x",
        status=WaitlistStatus.WAITING,
        created_at=at(5, 9),
    )
    session.add_all([waiting, alone, accepted, offered, booked_anyway, future])
    session.commit()

    done = record_lapsed_demand(session, NOW)
    session.commit()
    assert (done.lapsed_requests, done.waitlist_places) == (0, 2)
    rows = demand(session)
    assert [(r.source, r.reasons, r.requester_id, r.minutes, r.waitlist_entry_id) for r in rows] == [
        (
            DemandSource.WAITLISTED,
            ["waitlisted"],
            physicist.id,
            120,
            waiting.id,
        ),  # the refusal, now waitlisted
        (DemandSource.WAITLISTED, ["waitlisted"], chemist.id, 60, alone.id),
    ]
    assert not record_lapsed_demand(session, NOW + dt.timedelta(hours=1))
    session.commit()
    assert len(demand(session)) == 2


def test_the_report_counts_lapsed_requests_as_not_decided_in_time(session, world):
    make_booking(session, world["scope"], world["physicist"], at(9, 10), 3, BookingStatus.PENDING)
    make_booking(session, world["scope"], world["chemist"], at(10, 9), 2, BookingStatus.PENDING)
    record_lapsed_demand(session, NOW)
    session.commit()
    report = utilisation_report(
        session, dt.date(2026, 11, 9), dt.date(2026, 11, 15), None, ReportSettings(), now=NOW
    )
    scope = next(a for a in report.assets if a.tag == "CHEM-SCOPE")
    assert scope.unmet_by_reason == {"not_decided": 5 * H}
    assert (scope.unmet_seconds, scope.unmet_requests, scope.capacity_unmet_seconds) == (5 * H, 2, 0)
    assert scope.booked_seconds == 0  # a lapsed request was never a booking
    figures = report_to_json(report)
    assert figures["unmet_demand"] == [
        {"reason": "not_decided", "label": "Not decided in time", "requests": 2, "hours": 5.0}
    ]
    [row] = [a for a in figures["assets"] if a["tag"] == "CHEM-SCOPE"]
    assert row["unmet_by_reason"] == [
        {"reason": "not_decided", "label": "Not decided in time", "requests": 2, "hours": 5.0}
    ]


def test_managers_see_how_many_of_their_schools_requests_lapsed(session, world):
    scope, lathe, physicist, chemist = world["scope"], world["lathe"], world["physicist"], world["chemist"]
    make_booking(session, scope, physicist, at(9, 10), 3, BookingStatus.PENDING)
    make_booking(session, scope, physicist, at(10, 9), 1, BookingStatus.PENDING)
    make_booking(
        session, scope, physicist, dt.datetime(2026, 10, 5, 10, tzinfo=UTC), 1, BookingStatus.PENDING
    )  # 36 days ago
    make_booking(session, lathe, chemist, at(9, 10), 2, BookingStatus.PENDING)  # PHYS's
    make_booking(session, scope, physicist, at(10, 10), 1, BookingStatus.REJECTED)  # decided
    record_lapsed_demand(session, NOW)
    session.commit()

    mine = lapsed_requests(session, world["manager"], NOW)
    assert (mine.count, mine.days) == (2, 30)
    assert [(b.asset.tag, b.start_at) for b in mine.latest] == [
        ("CHEM-SCOPE", at(10, 9)),
        ("CHEM-SCOPE", at(9, 10)),
    ]
    assert lapsed_requests(session, world["phys_manager"], NOW).count == 1


def test_the_approvals_page_shows_the_count_and_the_list(client, session, world):
    make_booking(session, world["scope"], world["physicist"], at(9, 10), 3, BookingStatus.PENDING)
    make_booking(session, world["scope"], world["physicist"], at(9, 14), 1, BookingStatus.PENDING)
    record_lapsed_demand(session, NOW)
    session.commit()
    with time_machine.travel(NOW, tick=False):
        sign_in(client, world["manager"].email)
        html = client.get("/approvals").get_data(as_text=True)
    text = " ".join(html.split())
    assert "<strong>2</strong> requests lapsed undecided in the last 30 days" in text
    assert html.count("/bookings/") >= 2 and 'id="lapsed-list"' in html


def test_the_scheduler_runs_the_job():
    from scheduler import JOBS

    [job] = [spec for spec in JOBS if spec.id == "record-lapsed-demand"]
    assert job.trigger == "interval" and job.trigger_args == {"minutes": 5}
