"""The demo seed: a whole university, consistent with the rules a real one would have lived by,
added once.

Seeding takes a few seconds, so the module seeds once and checks everything in one test; each
check is a function below that says which promise of the demo it holds to.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, Booking, BookingSeries, BookingStatus, DemandSource, UnmetDemand
from bookings.rules import within_bookable_hours
from core.db import UTC, db
from core.timeutil import to_local
from demo.seed import seed
from inventory.inspections import due_soon, overdue_inspections
from inventory.models import (
    Asset,
    AssetStatus,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    School,
    TrainingAuthorisation,
)
from inventory.training import has_current_training

# A week and a half before the clocks go forward, so the weekly series cross the change.
NOW = dt.datetime(2026, 3, 18, 10, 0, tzinfo=UTC)
TODAY = to_local(NOW).date()


def test_the_demo_university_is_seeded_once_with_everything_the_pages_and_reports_show(session):
    first = seed(session, password="demo-password-1", now=NOW)
    before = _row_counts(session)
    second = seed(session, password="demo-password-1", now=NOW)

    assert first.created and not second.created
    assert _row_counts(session) == before, "a second seeding added rows"
    assert "nothing was added" in second.summary()
    assert "demo-password-1" not in second.summary()
    # Months of made-up history are not news: nobody is notified or e-mailed about them.
    told = {table: before[table] for table in ("outbox", "notifications") if table in before}
    assert told == dict.fromkeys(told, 0), "the seed told people about its made-up history"

    session.expire_all()
    _has_a_university_of_every_kind_of_person_and_kit(session)
    _has_bookings_past_and_future_that_never_clash(session)
    _books_training_kit_only_by_people_authorised_when_they_asked(session)
    _has_training_records_current_expired_and_revoked(session)
    _has_inspections_overdue_due_soon_and_later_with_a_consistent_history(session)
    _has_weekly_series_within_the_kits_hours(session)
    _records_unmet_demand_for_every_rejection_and_for_refusals(session)
    _dates_the_unusual_statuses(session)
    _never_lets_anyone_decide_their_own_request(session)


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def _has_a_university_of_every_kind_of_person_and_kit(session: Session) -> None:
    schools = session.scalars(select(School)).all()
    assets = session.scalars(select(Asset)).all()
    users = session.scalars(select(User)).all()
    assert len(schools) >= 5
    assert len(assets) >= 150
    assert len({asset.category_id for asset in assets}) >= 10
    assert any(user.has_role(Role.ADMIN) for user in users)
    assert any(user.is_finance for user in users)
    assert all(any(user.manages(school.id) and not user.is_admin for user in users) for school in schools)
    assert all(
        any(user.home_school_id == school.id and user.roles == [Role.TECHNICIAN] for user in users)
        for school in schools
    )


def _has_bookings_past_and_future_that_never_clash(session: Session) -> None:
    assert session.scalar(select(func.count()).where(Booking.end_at < NOW)) > 0
    assert session.scalar(select(func.count()).where(Booking.start_at > NOW)) > 0
    other = sa.orm.aliased(Booking)
    clashes = session.scalar(
        select(func.count())
        .select_from(Booking)
        .join(other, (other.asset_id == Booking.asset_id) & (other.id > Booking.id))
        .where(
            Booking.status.in_(ACTIVE_STATUSES),
            other.status.in_(ACTIVE_STATUSES),
            Booking.start_at < other.blocked_until,
            other.start_at < Booking.blocked_until,
        )
    )
    assert clashes == 0


def _books_training_kit_only_by_people_authorised_when_they_asked(session: Session) -> None:
    bookings = session.scalars(
        select(Booking).join(Booking.asset).where(Asset.training_required.is_(True))
    ).all()
    grants = session.scalars(select(TrainingAuthorisation)).all()
    assert bookings

    def authorised(booking: Booking, day: dt.date) -> bool:
        asset = booking.asset
        return any(
            grant.user_id == booking.requester_id
            and (
                grant.asset_id == asset.id
                or (grant.category_id, grant.school_id) == (asset.category_id, asset.school_id)
            )
            and grant.granted_on <= day
            and grant.is_current(day)
            for grant in grants
        )

    assert [
        booking.id for booking in bookings if not authorised(booking, to_local(booking.created_at).date())
    ] == []
    still_ahead = [booking for booking in bookings if booking.is_active and booking.start_at > NOW]
    assert still_ahead and all(authorised(booking, TODAY) for booking in still_ahead)
    assert all(
        has_current_training(session, booking.requester, booking.asset, TODAY) for booking in still_ahead
    )


def _has_training_records_current_expired_and_revoked(session: Session) -> None:
    grants = session.scalars(select(TrainingAuthorisation)).all()
    assert any(grant.is_current(TODAY) and grant.asset_id is not None for grant in grants)
    assert any(grant.category_id is not None for grant in grants)
    assert any(grant.expires_on is not None and grant.expires_on < TODAY for grant in grants)
    assert any(
        grant.revoked_at is not None and grant.revoke_reason and grant.revoked_by_id for grant in grants
    )
    assert any(grant.user.home_school_id != grant.school_id for grant in grants)
    assert all(grant.granted_by.manages(grant.school_id) for grant in grants)


def _has_inspections_overdue_due_soon_and_later_with_a_consistent_history(session: Session) -> None:
    schedules = session.scalars(select(InspectionSchedule)).all()
    assert len(overdue_inspections(session, None, TODAY)) >= 3
    assert len(due_soon(session, None, TODAY, 14)) >= 5
    assert (
        sum(schedule.next_due_on > TODAY + dt.timedelta(days=14) for schedule in schedules)
        > len(schedules) / 2
    )
    assert {schedule.kind.value for schedule in schedules} >= {
        "calibration",
        "pat_test",
        "loler",
        "fume_cupboard",
        "service",
    }
    for schedule in schedules:
        latest = schedule.records[0]
        assert latest.done_on == schedule.last_done_on
        assert 1 <= len(schedule.records) <= 3
        if latest.outcome == InspectionOutcome.FAIL:  # not passed since: out of use, and due now
            assert schedule.asset.status == AssetStatus.OUT_OF_SERVICE
            assert schedule.next_due_on <= schedule.last_done_on
        else:
            assert schedule.next_due_on == schedule.last_done_on + dt.timedelta(days=schedule.interval_days)
    assert sum(schedule.records[0].outcome == InspectionOutcome.FAIL for schedule in schedules) == 1
    outcomes = Counter(record.outcome for record in session.scalars(select(InspectionRecord)))
    assert outcomes[InspectionOutcome.FAIL] >= 1 and outcomes[InspectionOutcome.ADVISORY] >= 1
    assert session.scalar(select(func.count()).where(Asset.block_when_inspection_overdue.is_(True))) > 0


def _has_weekly_series_within_the_kits_hours(session: Session) -> None:
    series = session.scalars(select(BookingSeries)).all()
    assert 3 <= len(series) <= 5
    for one in series:
        starts = [to_local(booking.start_at) for booking in one.bookings]
        assert len(starts) >= 2 and all(start > to_local(NOW) for start in starts)
        assert len({(start.weekday(), start.time()) for start in starts}) == 1, (
            "a weekly series keeps its time"
        )
        assert all(booking.requester_id == one.requester_id for booking in one.bookings)
        assert all(within_bookable_hours(b.asset, b.start_at, b.end_at) for b in one.bookings)


def _records_unmet_demand_for_every_rejection_and_for_refusals(session: Session) -> None:
    rejected = set(session.scalars(select(Booking.id).where(Booking.status == BookingStatus.REJECTED)))
    demand = session.scalars(select(UnmetDemand)).all()
    assert rejected
    assert {row.booking_id for row in demand if row.source == DemandSource.REJECTED} == rejected
    refused = [row for row in demand if row.source == DemandSource.REFUSED]
    assert len(refused) >= 30
    assert len({row.requester_school_id for row in refused}) >= 3
    assert all(row.minutes == (row.end_at - row.start_at).total_seconds() // 60 for row in demand)


def _never_lets_anyone_decide_their_own_request(session: Session) -> None:
    decided = session.scalars(select(Booking).where(Booking.decided_by_id.is_not(None))).all()
    assert decided
    assert [b.id for b in decided if b.decided_by_id == b.requester_id] == []


def _dates_the_unusual_statuses(session: Session) -> None:
    assets = session.scalars(select(Asset).where(Asset.status != AssetStatus.AVAILABLE)).all()
    assert any(asset.status == AssetStatus.RETIRED for asset in assets)
    for asset in assets:
        assert asset.status_changed_at is not None and asset.status_changed_at < NOW
        assert asset.retired_at == (asset.status_changed_at if asset.status == AssetStatus.RETIRED else None)
