"""Upkeep: maintenance windows, recurring inspections and their reminders, training records.

Only managers of the asset's owning School (and admins) change any of it; everyone else gets a
403 and nothing changes.
"""

import datetime as dt

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from bookings import asset_changes
from bookings.models import BookingStatus
from core.audit import AuditEntry
from core.db import atomic
from core.errors import InvalidInput, NotAllowed
from core.timeutil import local_today
from inventory import inspections, maintenance, training
from inventory.models import (
    AssetStatus,
    Category,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
    TrainingAuthorisation,
)
from notifications.models import OutboxMessage
from tests.conftest import see_committed, sign_in
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
TODAY = dt.date(2030, 6, 15)
JULY_1_0900_BST = dt.datetime(2030, 7, 1, 8, tzinfo=UTC)  # 09:00 in London, summer time


@pytest.fixture
def world(session):
    """Two Schools, each with a manager; an asset of School A; a technician of A."""
    a, b = make_school(session, "CHEM"), make_school(session, "PHYS")
    return {
        "a": a,
        "b": b,
        "manager_a": make_user(session, a, Role.MANAGER, name="Ada Manager"),
        "manager_b": make_user(session, b, Role.MANAGER, name="Ben Manager"),
        "technician": make_user(session, a, name="Tess Technician"),
        "asset": make_asset(session, a, name="Ultimaker S5", tag="CHEM-0042"),
    }


def _schedule(
    session, world, kind=InspectionKind.PAT_TEST, interval=365, last_done=None, first_due=None, asset=None
):
    with atomic(session, world["manager_a"]):
        return inspections.add_inspection_schedule(
            session, world["manager_a"], asset or world["asset"], kind, interval, last_done, first_due, TODAY
        )


def _record(session, world, schedule, done_on, outcome=InspectionOutcome.PASS):
    with atomic(session, world["manager_a"]):
        return inspections.record_inspection(
            session, world["manager_a"], schedule, done_on, "Sparks Ltd", outcome, "", today=TODAY
        )


def _field_errors(excinfo):
    return excinfo.value.field_errors


# --- Maintenance windows ------------------------------------------------------------------------


def test_a_manager_schedules_maintenance_in_local_time(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/maintenance",
        data={"start_at": "2030-07-01T09:00", "end_at": "2030-07-01T17:00", "reason": "Annual service"},
    )
    assert response.status_code == 302
    see_committed(session)
    window = session.scalars(select(MaintenanceWindow)).one()
    assert (window.start_at, window.end_at) == (JULY_1_0900_BST, JULY_1_0900_BST + dt.timedelta(hours=8))
    assert window.reason == "Annual service" and window.created_by_id == world["manager_a"].id
    page = client.get(f"/assets/{world['asset'].id}/maintenance")
    assert "Annual service" in page.text and "Mon 01 Jul 2030, 09:00" in page.text


def test_maintenance_must_end_after_it_starts_and_say_why(session, world):
    with pytest.raises(InvalidInput) as excinfo:
        asset_changes.schedule_maintenance(
            session, world["manager_a"], world["asset"], JULY_1_0900_BST, JULY_1_0900_BST, " "
        )
    assert set(_field_errors(excinfo)) == {"end_at", "reason"}


def test_an_invalid_window_is_shown_back_with_messages_not_saved(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/maintenance",
        data={"start_at": "2030-07-01T17:00", "end_at": "2030-07-01T09:00", "reason": "Service"},
    )
    assert response.status_code == 400
    assert "must end after it starts" in response.text
    assert session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 0


def test_a_time_the_clocks_skip_is_refused_with_a_message(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/maintenance",
        data={"start_at": "2030-03-31T01:30", "end_at": "2030-03-31T05:00", "reason": "Service"},
    )
    assert response.status_code == 400
    assert "the clocks go forward then" in response.text


def test_a_date_that_is_not_one_is_refused_with_a_message(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/maintenance",
        data={"start_at": "next tuesday", "end_at": "2030-03-31T05:00", "reason": "Service"},
    )
    assert response.status_code == 400
    assert "Enter a date and time" in response.text


def test_a_manager_of_another_school_cannot_schedule_or_cancel_maintenance(client, session, world):
    asset = world["asset"]
    with atomic(session, world["manager_a"]):
        window = asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            asset,
            JULY_1_0900_BST,
            JULY_1_0900_BST + dt.timedelta(hours=2),
            "Service",
        )
    sign_in(client, world["manager_b"].email)
    assert client.get(f"/assets/{asset.id}/maintenance").status_code == 403
    assert client.post(f"/assets/{asset.id}/maintenance", data={}).status_code == 403
    assert client.post(f"/assets/{asset.id}/maintenance/{window.id}/cancel").status_code == 403
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 1


def test_overlapping_confirmed_bookings_are_listed_before_saving_and_kept_when_chosen(client, session, world):
    """Issue 14, point 4: the manager decides about the bookings a window overlaps (they were
    only reported, after saving, before)."""
    asset = world["asset"]
    overlapping = make_booking(session, asset, world["technician"], JULY_1_0900_BST + dt.timedelta(hours=1))
    make_booking(
        session,
        asset,
        world["technician"],
        JULY_1_0900_BST + dt.timedelta(hours=2),
        status=BookingStatus.CANCELLED,
    )
    make_booking(session, asset, world["technician"], JULY_1_0900_BST + dt.timedelta(days=1))
    sign_in(client, world["manager_a"].email)
    window = {"start_at": "2030-07-01T09:00", "end_at": "2030-07-01T17:00", "reason": "Service"}
    listed = client.post(f"/assets/{asset.id}/maintenance", data=window)
    assert "1 confirmed booking is affected by this change." in listed.text
    assert f'id="affected-booking-{overlapping.id}"' in listed.text and "Tess Technician" in listed.text
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 0
    response = client.post(
        f"/assets/{asset.id}/maintenance",
        data=window | {"affected_confirmed": "1", "affected_default": "keep"},
        follow_redirects=True,
    )
    assert "1 confirmed booking overlaps this window" in response.text
    assert "Kept 1 booking" in response.text
    see_committed(session)
    assert session.get(type(overlapping), overlapping.id).status == BookingStatus.CONFIRMED


def test_bookings_clashing_with_counts_booked_time_not_turnaround(session, world):
    asset = world["asset"]
    asset.turnaround_minutes = 30
    session.commit()
    booking = make_booking(
        session, asset, world["technician"], JULY_1_0900_BST
    )  # 09:00-10:00, blocked to 10:30
    assert asset_changes.bookings_clashing_with(
        session, asset, JULY_1_0900_BST + dt.timedelta(minutes=59), JULY_1_0900_BST + dt.timedelta(hours=3)
    ) == [booking]
    assert (
        asset_changes.bookings_clashing_with(
            session, asset, JULY_1_0900_BST + dt.timedelta(hours=1), JULY_1_0900_BST + dt.timedelta(hours=3)
        )
        == []
    )


def test_cancelling_a_planned_window_deletes_it(client, session, world):
    asset = world["asset"]
    with atomic(session, world["manager_a"]):
        window = asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            asset,
            JULY_1_0900_BST,
            JULY_1_0900_BST + dt.timedelta(hours=2),
            "Service",
        )
    window_id = window.id
    sign_in(client, world["manager_a"].email)
    response = client.post(f"/assets/{asset.id}/maintenance/{window_id}/cancel")
    assert response.status_code == 302
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(MaintenanceWindow)) == 0


def test_a_window_that_is_over_is_kept_as_a_record(session, world):
    last_year = dt.datetime(2025, 3, 3, 9, tzinfo=UTC)
    with atomic(session, world["manager_a"]):
        window = asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            world["asset"],
            last_year,
            last_year + dt.timedelta(hours=3),
            "Repair",
        )
    with pytest.raises(InvalidInput, match="over"):
        maintenance.cancel_maintenance(session, world["manager_a"], window)


def test_maintenance_windows_lists_those_overlapping_the_period(session, world):
    asset = world["asset"]
    with atomic(session, world["manager_a"]):
        inside = asset_changes.schedule_maintenance(
            session, world["manager_a"], asset, JULY_1_0900_BST, JULY_1_0900_BST + dt.timedelta(hours=2), "In"
        )
        asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            asset,
            JULY_1_0900_BST + dt.timedelta(days=40),
            JULY_1_0900_BST + dt.timedelta(days=41),
            "Later",
        )
    found = maintenance.maintenance_windows(
        session, asset, JULY_1_0900_BST + dt.timedelta(hours=1), JULY_1_0900_BST + dt.timedelta(days=30)
    )
    assert found == [inside]


def test_scheduling_maintenance_leaves_an_audit_row_with_the_actor(session, world):
    with atomic(session, world["manager_a"]):
        asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            world["asset"],
            JULY_1_0900_BST,
            JULY_1_0900_BST + dt.timedelta(hours=1),
            "Service",
        )
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "asset", AuditEntry.object_id == world["asset"].id)
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.actor_id == world["manager_a"].id
    assert any(key.startswith("maintenance[") and key.endswith(".reason") for key in entry.changes)


# --- Inspection schedules -----------------------------------------------------------------------


def test_next_due_is_the_last_done_date_plus_the_interval(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2030, 1, 10))
    assert schedule.next_due_on == dt.date(2031, 1, 10)


def test_a_never_done_inspection_is_due_on_its_first_due_date_or_today(session, world):
    first = _schedule(session, world, InspectionKind.PAT_TEST, first_due=dt.date(2030, 9, 1))
    unknown = _schedule(session, world, InspectionKind.CALIBRATION)
    assert (first.next_due_on, unknown.next_due_on) == (dt.date(2030, 9, 1), TODAY)


def test_one_schedule_per_kind_of_inspection(session, world):
    _schedule(session, world, InspectionKind.LOLER)
    with pytest.raises(InvalidInput) as excinfo:
        _schedule(session, world, InspectionKind.LOLER)
    assert "already has a LOLER examination schedule" in _field_errors(excinfo)["kind"][0]


def test_an_interval_of_zero_days_is_refused(session, world):
    with pytest.raises(InvalidInput) as excinfo:
        _schedule(session, world, interval=0)
    assert "interval_days" in _field_errors(excinfo)


def test_a_passing_inspection_moves_the_due_date_on(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2029, 6, 1))
    record = _record(session, world, schedule, dt.date(2030, 6, 10))
    assert (schedule.last_done_on, schedule.next_due_on) == (dt.date(2030, 6, 10), dt.date(2031, 6, 10))
    assert (record.performed_by, record.outcome, record.recorded_by_id) == (
        "Sparks Ltd",
        InspectionOutcome.PASS,
        world["manager_a"].id,
    )


def test_a_failed_inspection_does_not_move_the_due_date_on(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2029, 6, 20))  # due 2030-06-20
    _record(session, world, schedule, dt.date(2030, 6, 10), InspectionOutcome.FAIL)
    assert schedule.last_done_on == dt.date(2030, 6, 10)
    assert schedule.next_due_on == dt.date(2030, 6, 10)  # due at once: it needs a passing inspection


def test_a_failed_inspection_after_the_due_date_keeps_the_due_date(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2029, 6, 1))  # due 2030-06-01
    _record(session, world, schedule, dt.date(2030, 6, 10), InspectionOutcome.FAIL)
    assert schedule.next_due_on == dt.date(2030, 6, 1)
    assert schedule.is_overdue(TODAY)


def test_a_pass_after_a_fail_moves_the_due_date_on(session, world):
    schedule = _schedule(session, world, interval=30, last_done=dt.date(2030, 5, 1))
    _record(session, world, schedule, dt.date(2030, 6, 1), InspectionOutcome.FAIL)
    _record(session, world, schedule, dt.date(2030, 6, 3), InspectionOutcome.ADVISORY)
    assert schedule.next_due_on == dt.date(2030, 7, 3)


def test_an_older_inspection_entered_late_moves_no_date(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2030, 3, 1))
    _record(session, world, schedule, dt.date(2029, 3, 1), InspectionOutcome.FAIL)
    assert (schedule.last_done_on, schedule.next_due_on) == (dt.date(2030, 3, 1), dt.date(2031, 3, 1))
    assert len(schedule.records) == 1


def test_an_inspection_cannot_be_recorded_in_the_future(session, world):
    schedule = _schedule(session, world)
    with pytest.raises(InvalidInput) as excinfo:
        _record(session, world, schedule, TODAY + dt.timedelta(days=1))
    assert "done_on" in _field_errors(excinfo)


def test_changing_the_interval_recomputes_the_next_due_date(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2030, 1, 1))
    with atomic(session, world["manager_a"]):
        inspections.update_inspection_schedule(session, world["manager_a"], schedule, 180)
    assert schedule.next_due_on == dt.date(2030, 6, 30)


def test_changing_the_interval_after_a_failure_keeps_it_due(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2029, 7, 1))
    _record(session, world, schedule, dt.date(2030, 6, 1), InspectionOutcome.FAIL)
    with atomic(session, world["manager_a"]):
        inspections.update_inspection_schedule(session, world["manager_a"], schedule, 90)
    assert schedule.next_due_on == dt.date(2030, 6, 1)


def test_a_new_due_date_clears_the_reminder_marker(session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2029, 6, 20))
    schedule.reminded_for = schedule.next_due_on
    session.commit()
    _record(session, world, schedule, dt.date(2030, 6, 14))
    assert schedule.reminded_for is None


def test_overdue_inspections_across_schools_skip_retired_assets(session, world):
    asset_b = make_asset(session, world["b"], name="Fume cupboard 3")
    retired = make_asset(session, world["a"], name="Old lathe", status=AssetStatus.RETIRED)
    overdue_a = _schedule(session, world, first_due=TODAY - dt.timedelta(days=3))
    overdue_b = InspectionSchedule(
        asset_id=asset_b.id,
        kind=InspectionKind.FUME_CUPBOARD,
        interval_days=365,
        next_due_on=TODAY - dt.timedelta(days=1),
    )
    session.add_all(
        [
            overdue_b,
            InspectionSchedule(
                asset_id=retired.id,
                kind=InspectionKind.PAT_TEST,
                interval_days=365,
                next_due_on=TODAY - dt.timedelta(days=9),
            ),
            InspectionSchedule(
                asset_id=asset_b.id, kind=InspectionKind.PAT_TEST, interval_days=365, next_due_on=TODAY
            ),
        ]
    )
    session.commit()
    assert inspections.overdue_inspections(session, None, TODAY) == [overdue_a, overdue_b]
    assert inspections.overdue_inspections(session, {world["b"].id}, TODAY) == [overdue_b]


def test_due_soon_lists_what_falls_due_within_the_period(session, world):
    soon = _schedule(session, world, InspectionKind.PAT_TEST, first_due=TODAY + dt.timedelta(days=10))
    _schedule(session, world, InspectionKind.CALIBRATION, first_due=TODAY + dt.timedelta(days=40))
    _schedule(session, world, InspectionKind.LOLER, first_due=TODAY - dt.timedelta(days=1))
    assert inspections.due_soon(session, {world["a"].id}, TODAY, 14) == [soon]


def test_an_overdue_inspection_blocks_booking_only_when_the_asset_says_so(session, world):
    asset = world["asset"]
    schedule = _schedule(session, world, first_due=TODAY - dt.timedelta(days=1))
    assert inspections.inspection_blocks_booking(session, asset, TODAY) is None
    asset.block_when_inspection_overdue = True
    session.commit()
    assert inspections.inspection_blocks_booking(session, asset, TODAY) == schedule
    assert (
        inspections.inspection_blocks_booking(session, asset, TODAY - dt.timedelta(days=1)) is None
    )  # due, not yet overdue


def test_a_manager_of_another_school_cannot_add_a_schedule(session, world):
    with pytest.raises(NotAllowed):
        inspections.add_inspection_schedule(
            session, world["manager_b"], world["asset"], InspectionKind.PAT_TEST, 365, None, None, TODAY
        )


def test_a_manager_records_an_inspection_on_the_page(client, session, world):
    schedule = _schedule(session, world, interval=365, last_done=dt.date(2025, 1, 1))
    done_on = local_today() - dt.timedelta(days=2)
    sign_in(client, world["manager_a"].email)
    prefix = f"record-{schedule.id}-"
    response = client.post(
        f"/assets/{world['asset'].id}/inspections/{schedule.id}/record",
        data={
            prefix + "done_on": done_on.isoformat(),
            prefix + "performed_by": "Sparks Ltd",
            prefix + "outcome": "pass",
            prefix + "note": "All good",
            prefix + "cost": "45.50",
        },
    )
    assert response.status_code == 302
    see_committed(session)
    record = session.scalars(select(InspectionRecord)).one()
    assert (record.done_on, record.cost_pence, record.note) == (done_on, 4550, "All good")
    assert session.get(InspectionSchedule, schedule.id).next_due_on == done_on + dt.timedelta(days=365)
    page = client.get(f"/assets/{world['asset'].id}/inspections")
    assert "Sparks Ltd" in page.text and "£45.50" in page.text


def test_a_bad_cost_is_refused_with_a_message(client, session, world):
    schedule = _schedule(session, world)
    sign_in(client, world["manager_a"].email)
    prefix = f"record-{schedule.id}-"
    response = client.post(
        f"/assets/{world['asset'].id}/inspections/{schedule.id}/record",
        data={
            prefix + "done_on": "2025-01-01",
            prefix + "performed_by": "Sparks",
            prefix + "outcome": "pass",
            prefix + "cost": "lots",
        },
    )
    assert response.status_code == 400
    assert "is not an amount in pounds" in response.text
    assert session.scalar(select(func.count()).select_from(InspectionRecord)) == 0


def test_the_inspections_page_flags_overdue_in_words(client, session, world):
    _schedule(session, world, first_due=local_today() - dt.timedelta(days=5))
    sign_in(client, world["manager_a"].email)
    page = client.get(f"/assets/{world['asset'].id}/inspections")
    assert page.status_code == 200
    assert "Overdue" in page.text and "overdue by 5 days" in page.text


def test_a_manager_adds_a_schedule_on_the_page(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/inspections",
        data={"kind": "calibration", "interval_days": "730", "last_done_on": "2025-02-01"},
    )
    assert response.status_code == 302
    see_committed(session)
    schedule = session.scalars(select(InspectionSchedule)).one()
    assert (schedule.kind, schedule.next_due_on) == (InspectionKind.CALIBRATION, dt.date(2027, 2, 1))


def test_inspection_pages_refuse_another_schools_manager_before_the_form(client, session, world):
    schedule = _schedule(session, world)
    asset_id = world["asset"].id
    sign_in(client, world["manager_b"].email)
    assert client.get(f"/assets/{asset_id}/inspections").status_code == 403
    assert client.post(f"/assets/{asset_id}/inspections", data={}).status_code == 403
    assert client.post(f"/assets/{asset_id}/inspections/{schedule.id}/record", data={}).status_code == 403
    assert client.post(f"/assets/{asset_id}/inspections/{schedule.id}/interval", data={}).status_code == 403
    assert client.post(f"/assets/{asset_id}/inspections/{schedule.id}/delete").status_code == 403
    see_committed(session)
    assert session.get(InspectionSchedule, schedule.id) is not None


def test_removing_a_schedule_deletes_it(client, session, world):
    schedule_id = _schedule(session, world).id
    sign_in(client, world["manager_a"].email)
    assert client.post(f"/assets/{world['asset'].id}/inspections/{schedule_id}/delete").status_code == 302
    see_committed(session)
    assert session.scalar(select(func.count()).select_from(InspectionSchedule)) == 0


def test_a_schedule_of_another_asset_is_not_found(client, session, world):
    other = make_asset(session, world["a"])
    schedule = _schedule(session, world, asset=other)
    sign_in(client, world["manager_a"].email)
    assert client.post(f"/assets/{world['asset'].id}/inspections/{schedule.id}/delete").status_code == 404


# --- Reminders ----------------------------------------------------------------------------------


def _remind(session, today=TODAY):
    with atomic(session):
        return inspections.queue_inspection_reminders(session, today, base_url="https://kit.example.ac.uk")


def test_each_manager_of_the_owning_school_is_reminded_once(session, world):
    second = make_user(session, world["a"], Role.MANAGER, email="second@test.ac.uk")
    make_user(session, world["a"], Role.ADMIN)  # an admin who does not manage the School
    _schedule(session, world, first_due=dt.date(2030, 6, 25))
    assert _remind(session) == 2
    messages = session.scalars(select(OutboxMessage).order_by(OutboxMessage.to_address)).all()
    assert sorted(m.to_address for m in messages) == sorted([world["manager_a"].email, second.email])
    assert messages[0].subject == "Kitshare: PAT test due 25 Jun 2030: Ultimaker S5 (CHEM-0042)"
    assert f"https://kit.example.ac.uk/assets/{world['asset'].id}" in messages[0].body_text


def test_reminding_twice_the_same_day_queues_nothing_more(session, world):
    _schedule(session, world, first_due=dt.date(2030, 6, 25))
    assert _remind(session) == 1
    assert _remind(session) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_a_reminded_schedule_remembers_the_due_date_it_was_reminded_of(session, world):
    schedule = _schedule(session, world, first_due=dt.date(2030, 6, 25))
    _remind(session)
    assert session.get(InspectionSchedule, schedule.id).reminded_for == dt.date(2030, 6, 25)


def test_the_outbox_dedupe_key_stops_a_repeat_even_if_the_marker_is_lost(session, world):
    schedule = _schedule(session, world, first_due=dt.date(2030, 6, 25))
    _remind(session)
    schedule.reminded_for = None  # as if a concurrent run had not seen the first one's marker
    session.commit()
    _remind(session)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_managers_of_other_schools_and_inactive_managers_are_not_reminded(session, world):
    retired_manager = make_user(session, world["a"], Role.MANAGER)
    retired_manager.active = False
    session.commit()
    _schedule(session, world, first_due=TODAY - dt.timedelta(days=2))
    _remind(session)
    assert session.scalars(select(OutboxMessage.to_address)).all() == [world["manager_a"].email]


def test_an_overdue_reminder_says_overdue(session, world):
    _schedule(session, world, first_due=dt.date(2030, 6, 1))
    _remind(session)
    assert (
        session.scalars(select(OutboxMessage.subject))
        .one()
        .startswith("Kitshare: PAT test overdue since 1 Jun 2030")
    )


def test_nothing_is_reminded_beyond_the_lead_time_or_for_retired_assets(session, world):
    retired = make_asset(session, world["a"], status=AssetStatus.RETIRED)
    _schedule(session, world, first_due=TODAY + dt.timedelta(days=15))
    _schedule(session, world, first_due=TODAY, asset=retired)
    assert _remind(session) == 0


def test_a_new_due_date_is_reminded_of_again(session, world):
    schedule = _schedule(session, world, interval=10, first_due=dt.date(2030, 6, 20))
    _remind(session)
    _record(session, world, schedule, TODAY)  # next due 25 Jun: inside the lead time
    assert _remind(session) == 1
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_school_without_managers_stays_unreminded_until_it_has_one(session, world):
    lonely = make_school(session, "GEOG")
    asset = make_asset(session, lonely)
    schedule = InspectionSchedule(
        asset_id=asset.id, kind=InspectionKind.PAT_TEST, interval_days=365, next_due_on=TODAY
    )
    session.add(schedule)
    session.commit()
    assert _remind(session) == 0
    make_user(session, lonely, Role.MANAGER)
    assert _remind(session) == 1


# --- Training -----------------------------------------------------------------------------------


def _grant(session, world, user, **scope):
    scope.setdefault("granted_on", dt.date(2030, 1, 10))
    with atomic(session, world["manager_a"]):
        return training.grant_training(session, world["manager_a"], user, today=TODAY, **scope)


def test_an_asset_grant_authorises_that_asset_only(session, world):
    other = make_asset(session, world["a"])
    _grant(session, world, world["technician"], asset=world["asset"])
    assert training.has_current_training(session, world["technician"], world["asset"], TODAY)
    assert not training.has_current_training(session, world["technician"], other, TODAY)


def test_a_category_grant_covers_that_category_within_the_school_only(session, world):
    printers = Category(name="3D printers")
    session.add(printers)
    session.commit()
    mine = make_asset(session, world["a"], category=printers)
    theirs = make_asset(session, world["b"], category=printers)
    _grant(session, world, world["technician"], category=printers, school=world["a"])
    assert training.has_current_training(session, world["technician"], mine, TODAY)
    assert not training.has_current_training(session, world["technician"], theirs, TODAY)


def test_an_authorisation_is_current_up_to_its_expiry_date(session, world):
    _grant(session, world, world["technician"], asset=world["asset"], expires_on=TODAY)
    assert training.has_current_training(session, world["technician"], world["asset"], TODAY)
    assert not training.has_current_training(
        session, world["technician"], world["asset"], TODAY + dt.timedelta(days=1)
    )


def test_revoking_keeps_the_record_with_who_and_why(session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    with atomic(session, world["manager_a"]):
        asset_changes.revoke_training(session, world["manager_a"], grant, "Unsafe use of the heated bed")
    assert not training.has_current_training(session, world["technician"], world["asset"], TODAY)
    kept = session.get(TrainingAuthorisation, grant.id)
    assert (kept.revoked_by_id, kept.revoke_reason) == (world["manager_a"].id, "Unsafe use of the heated bed")
    assert kept.revoked_at is not None
    assert training.training_records(session, world["asset"]) == [kept]


def test_revoking_needs_a_reason(session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    with pytest.raises(InvalidInput) as excinfo:
        asset_changes.revoke_training(session, world["manager_a"], grant, "  ")
    assert "reason" in _field_errors(excinfo)


def test_a_second_current_grant_for_the_same_scope_is_refused(session, world):
    _grant(session, world, world["technician"], asset=world["asset"], expires_on=dt.date(2030, 12, 31))
    with pytest.raises(InvalidInput) as excinfo:
        _grant(session, world, world["technician"], asset=world["asset"], granted_on=dt.date(2030, 6, 1))
    assert "already authorised" in _field_errors(excinfo)["email"][0]


def test_a_new_grant_after_the_old_one_expired_is_accepted(session, world):
    _grant(session, world, world["technician"], asset=world["asset"], expires_on=dt.date(2030, 3, 31))
    renewed = _grant(
        session, world, world["technician"], asset=world["asset"], granted_on=dt.date(2030, 4, 2)
    )
    assert renewed.is_current(TODAY)


def test_an_authorisation_cannot_expire_before_it_was_granted(session, world):
    with pytest.raises(InvalidInput) as excinfo:
        _grant(session, world, world["technician"], asset=world["asset"], expires_on=dt.date(2030, 1, 9))
    assert "expires_on" in _field_errors(excinfo)


def test_a_grant_needs_exactly_one_scope(session, world):
    category = world["asset"].category
    with pytest.raises(InvalidInput):
        _grant(
            session, world, world["technician"], asset=world["asset"], category=category, school=world["a"]
        )
    with pytest.raises(InvalidInput):
        _grant(session, world, world["technician"])


def test_a_manager_of_another_school_cannot_grant_or_revoke(session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    with pytest.raises(NotAllowed):
        training.grant_training(
            session,
            world["manager_b"],
            world["manager_b"],
            asset=world["asset"],
            granted_on=TODAY,
            today=TODAY,
        )
    with pytest.raises(NotAllowed):
        training.grant_training(
            session,
            world["manager_b"],
            world["technician"],
            category=world["asset"].category,
            school=world["a"],
            granted_on=TODAY,
            today=TODAY,
        )
    with pytest.raises(NotAllowed):
        asset_changes.revoke_training(session, world["manager_b"], grant, "No")


def test_authorised_people_include_category_grants_and_exclude_lapsed_ones(session, world):
    asset = world["asset"]
    direct = _grant(session, world, world["technician"], asset=asset)
    by_category = _grant(session, world, world["manager_b"], category=asset.category, school=world["a"])
    _grant(
        session,
        world,
        make_user(session, world["a"], name="Zed Expired"),
        asset=asset,
        expires_on=dt.date(2030, 2, 1),
    )
    revoked = _grant(session, world, make_user(session, world["a"], name="Rae Revoked"), asset=asset)
    with atomic(session, world["manager_a"]):
        asset_changes.revoke_training(session, world["manager_a"], revoked, "Left the lab")
    assert training.authorised_people(session, asset, TODAY) == [by_category, direct]  # Ben, then Tess
    assert len(training.training_records(session, asset)) == 4


def test_granting_training_leaves_an_audit_row_with_the_actor(session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "training", AuditEntry.object_id == grant.id)
    ).one()
    assert (entry.action, entry.actor_id) == ("created", world["manager_a"].id)


def test_a_manager_grants_and_revokes_training_on_the_page(client, session, world):
    asset_id = world["asset"].id
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{asset_id}/training",
        data={"email": world["technician"].email.upper(), "granted_on": "2025-01-10", "note": "Induction"},
    )
    assert response.status_code == 302
    see_committed(session)
    grant = session.scalars(select(TrainingAuthorisation)).one()
    assert (grant.user_id, grant.asset_id, grant.granted_by_id) == (
        world["technician"].id,
        asset_id,
        world["manager_a"].id,
    )
    assert "Tess Technician" in client.get(f"/assets/{asset_id}/training").text
    response = client.post(
        f"/assets/{asset_id}/training/{grant.id}/revoke", data={f"revoke-{grant.id}-reason": "Left"}
    )
    assert response.status_code == 302
    see_committed(session)
    assert session.get(TrainingAuthorisation, grant.id).revoke_reason == "Left"


def test_granting_to_an_unknown_address_says_so(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/training",
        data={"email": "nobody@test.ac.uk", "granted_on": "2025-01-10"},
    )
    assert response.status_code == 400
    assert "Nobody in Kitshare has the address nobody@test.ac.uk" in response.text


def test_revoking_without_a_reason_shows_the_form_again(client, session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/assets/{world['asset'].id}/training/{grant.id}/revoke", data={f"revoke-{grant.id}-reason": ""}
    )
    assert response.status_code == 400
    assert "Say why the authorisation is revoked" in response.text


def test_a_manager_revokes_a_category_grant_on_the_schools_training_page(client, session, world):
    grant = _grant(session, world, world["technician"], category=world["asset"].category, school=world["a"])
    sign_in(client, world["manager_a"].email)
    url = f"/schools/{world['a'].id}/training/{grant.id}/revoke"
    response = client.post(url, data={f"revoke-{grant.id}-reason": ""})
    assert response.status_code == 400
    assert "Say why the authorisation is revoked" in response.text
    response = client.post(url, data={f"revoke-{grant.id}-reason": "Moved School"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/schools/{world['a'].id}/training")
    see_committed(session)
    assert session.get(TrainingAuthorisation, grant.id).revoke_reason == "Moved School"
    assert (
        f"authorisation for {world['asset'].category.name} revoked"
        in client.get(response.headers["Location"]).text
    )


def test_training_pages_refuse_another_schools_manager_before_the_form(client, session, world):
    grant = _grant(session, world, world["technician"], asset=world["asset"])
    category_grant = _grant(
        session, world, world["technician"], category=world["asset"].category, school=world["a"]
    )
    sign_in(client, world["manager_b"].email)
    asset_id, school_id = world["asset"].id, world["a"].id
    assert client.get(f"/assets/{asset_id}/training").status_code == 403
    assert client.post(f"/assets/{asset_id}/training", data={}).status_code == 403
    assert client.post(f"/assets/{asset_id}/training/{grant.id}/revoke", data={}).status_code == 403
    assert client.get(f"/schools/{school_id}/training").status_code == 403
    assert client.post(f"/schools/{school_id}/training", data={}).status_code == 403
    assert (
        client.post(f"/schools/{school_id}/training/{category_grant.id}/revoke", data={}).status_code == 403
    )
    see_committed(session)
    assert session.scalar(select(func.count()).where(TrainingAuthorisation.revoked_at.is_not(None))) == 0


def test_an_unknown_asset_or_school_is_a_404(client, session, world):
    sign_in(client, world["manager_a"].email)
    for url in (
        "/assets/999999/maintenance",
        "/assets/999999/inspections",
        "/assets/999999/training",
        "/schools/999999/training",
    ):
        assert client.get(url).status_code == 404, url


def test_a_technician_cannot_see_the_upkeep_pages(client, session, world):
    sign_in(client, world["technician"].email)
    for page in ("maintenance", "inspections", "training"):
        assert client.get(f"/assets/{world['asset'].id}/{page}").status_code == 403


def test_a_manager_grants_a_category_authorisation_on_the_school_page(client, session, world):
    category = world["asset"].category
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/schools/{world['a'].id}/training",
        data={
            "email": world["technician"].email,
            "category_id": str(category.id),
            "granted_on": "2025-01-10",
        },
    )
    assert response.status_code == 302
    see_committed(session)
    grant = session.scalars(select(TrainingAuthorisation)).one()
    assert (grant.category_id, grant.school_id, grant.asset_id) == (category.id, world["a"].id, None)
    assert training.has_current_training(session, world["technician"], world["asset"], local_today())


def test_a_category_grant_without_a_category_is_refused_with_a_message(client, session, world):
    sign_in(client, world["manager_a"].email)
    response = client.post(
        f"/schools/{world['a'].id}/training",
        data={"email": world["technician"].email, "category_id": "0", "granted_on": "2025-01-10"},
    )
    assert response.status_code == 400
    assert "Choose a category from the list" in response.text


def test_the_upkeep_pages_render_for_a_manager(client, session, world):
    asset = world["asset"]
    _schedule(session, world, last_done=dt.date(2025, 1, 1))
    grant = _grant(session, world, world["technician"], asset=asset)
    _grant(session, world, world["technician"], category=asset.category, school=world["a"])
    with atomic(session, world["manager_a"]):
        asset_changes.schedule_maintenance(
            session,
            world["manager_a"],
            asset,
            JULY_1_0900_BST,
            JULY_1_0900_BST + dt.timedelta(hours=1),
            "Service",
        )
        asset_changes.revoke_training(session, world["manager_a"], grant, "Moved on")
    sign_in(client, world["manager_a"].email)
    pages = {
        f"/assets/{asset.id}/maintenance": "Service",
        f"/assets/{asset.id}/inspections": "Record a PAT test done",
        f"/assets/{asset.id}/training": "Moved on",
        f"/schools/{world['a'].id}/training": "All " + asset.category.name,
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.text, url


def test_a_manager_who_turned_reminder_emails_off_still_sees_the_notice_in_the_app(session, world):
    from notifications.models import Notification

    world["manager_a"].email_preferences = {"inspection_due": False}
    session.commit()
    _schedule(session, world, first_due=dt.date(2030, 6, 25))
    _remind(session)
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    notice = session.scalars(select(Notification).where(Notification.user_id == world["manager_a"].id)).one()
    assert (
        notice.event == "inspection_due"
        and notice.link == f"https://kit.example.ac.uk/assets/{world['asset'].id}"
    )


def test_a_repair_cost_is_recorded_with_the_maintenance_and_bad_amounts_are_refused(client, session, world):
    sign_in(client, world["manager_a"].email)
    form = {"start_at": "2030-07-01T09:00", "end_at": "2030-07-01T17:00", "reason": "Replace the laser"}
    bad = client.post(f"/assets/{world['asset'].id}/maintenance", data={**form, "cost": "lots"})
    assert bad.status_code == 400 and "is not an amount in pounds" in bad.text
    assert (
        client.post(f"/assets/{world['asset'].id}/maintenance", data={**form, "cost": "1,250.50"}).status_code
        == 302
    )
    see_committed(session)
    assert session.scalars(select(MaintenanceWindow.cost_pence)).one() == 125050
