"""Issue 17 point 8: one transaction rule for every public command (core/db.py's docstring).

A command owns its unit of work: called bare, the documented way, it has committed all it did
when it returns, and a failure injected after its first write leaves nothing behind."""

import datetime as dt

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bookings import loans, notices, service
from bookings.models import Booking, BookingSeries, BookingStatus, BookingStatusChange, UnmetDemand
from core.config import Config
from core.db import atomic
from inventory.models import Asset
from notifications.models import Notification, OutboxMessage
from reports import delivery
from reports.models import ReportDelivery, ReportSnapshot
from tests.bookings import conftest as bookings_world
from tests.bookings.conftest import MONDAY, NOW, at
from tests.factories import make_asset, make_booking

world = bookings_world.world  # the bookings' small world, as a fixture here too


class Injected(Exception):
    """The failure each test injects after a command's first write."""


def fail_after(monkeypatch, module, name):
    """Let ``module.name`` do its write, then fail."""
    real = getattr(module, name)

    def then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise Injected()

    monkeypatch.setattr(module, name, then_fail)


def committed(session: Session, model, *where) -> int:
    """How many rows another connection sees: only what was committed."""
    with Session(session.get_bind()) as other:
        return other.scalar(select(func.count()).select_from(model).where(*where)) or 0


def status_seen(session: Session, booking_id: int) -> BookingStatus:
    with Session(session.get_bind()) as other:
        return other.get(Booking, booking_id).status


def _pending(session, world):
    """Chloe (CHEM) asks for the PHYS printer: a request PHYS's manager decides."""
    return service.request_booking(
        session, world["chemist"], world["printer"].id, at(MONDAY, 10), at(MONDAY, 12), "Prints", NOW
    )


@pytest.fixture
def camera(session, world):
    return make_asset(session, world["phys"], name="Thermal camera", portable=True)


@pytest.fixture
def bench(session, world):
    return make_asset(
        session, world["chem"], name="Plate reader", checkin_required=True, no_show_release_minutes=15
    )


# --- bookings/service.py ------------------------------------------------------------------------


def test_request_booking_commits_all_or_nothing(session, world, monkeypatch):
    fail_after(monkeypatch, notices, "notify_requested")
    with pytest.raises(Injected):
        _pending(session, world)
    assert (
        committed(session, Booking)
        == committed(session, BookingStatusChange)
        == committed(session, Notification)
        == 0
    )
    monkeypatch.undo()
    booking = _pending(session, world)
    assert status_seen(session, booking.id) == BookingStatus.PENDING
    assert committed(session, Notification, Notification.user_id == world["phys_manager"].id) == 1


def test_request_series_commits_all_or_nothing(session, world, monkeypatch):
    recurrence = service.Recurrence("weekly", count=3)
    fail_after(monkeypatch, notices, "notify_series_requested")
    with pytest.raises(Injected):
        service.request_series(
            session,
            world["chemist"],
            world["printer"].id,
            at(MONDAY, 10),
            at(MONDAY, 12),
            "Prints",
            recurrence,
            NOW,
        )
    assert committed(session, Booking) == committed(session, BookingSeries) == 0
    monkeypatch.undo()
    service.request_series(
        session,
        world["chemist"],
        world["printer"].id,
        at(MONDAY, 10),
        at(MONDAY, 12),
        "Prints",
        recurrence,
        NOW,
    )
    assert committed(session, Booking) == 3 and committed(session, BookingSeries) == 1


def test_approve_commits_all_or_nothing(session, world, monkeypatch):
    booking = _pending(session, world)
    fail_after(monkeypatch, notices, "notify_decided")
    with pytest.raises(Injected):
        service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert status_seen(session, booking.id) == BookingStatus.PENDING
    assert committed(session, BookingStatusChange) == 1  # only the request's
    monkeypatch.undo()
    service.approve(session, world["phys_manager"], booking.id, now=NOW)
    assert status_seen(session, booking.id) == BookingStatus.CONFIRMED


def test_reject_commits_all_or_nothing(session, world, monkeypatch):
    booking = _pending(session, world)
    fail_after(monkeypatch, notices, "notify_decided")
    with pytest.raises(Injected):
        service.reject(session, world["phys_manager"], booking.id, "Printer reserved for teaching", NOW)
    assert status_seen(session, booking.id) == BookingStatus.PENDING
    assert committed(session, UnmetDemand) == 0
    monkeypatch.undo()
    service.reject(session, world["phys_manager"], booking.id, "Printer reserved for teaching", NOW)
    assert status_seen(session, booking.id) == BookingStatus.REJECTED
    assert committed(session, UnmetDemand) == 1


def test_cancel_commits_all_or_nothing(session, world, monkeypatch):
    booking = make_booking(session, world["printer"], world["physicist"], at(MONDAY, 10), hours=2)
    fail_after(monkeypatch, notices, "notify_cancelled")
    with pytest.raises(Injected):
        service.cancel(session, world["phys_manager"], booking.id, "Service visit", NOW)
    assert status_seen(session, booking.id) == BookingStatus.CONFIRMED
    assert committed(session, BookingStatusChange) == committed(session, Notification) == 0
    monkeypatch.undo()
    service.cancel(session, world["phys_manager"], booking.id, "Service visit", NOW)
    assert status_seen(session, booking.id) == BookingStatus.CANCELLED
    assert committed(session, Notification, Notification.user_id == world["physicist"].id) == 1


def test_complete_finished_commits_all_or_nothing(session, world, monkeypatch):
    booking = make_booking(session, world["printer"], world["physicist"], at(MONDAY, 10), hours=2)
    fail_after(monkeypatch, service, "change_status")
    with pytest.raises(Injected):
        service.complete_finished(session, at(MONDAY, 13))
    assert status_seen(session, booking.id) == BookingStatus.CONFIRMED
    monkeypatch.undo()
    assert service.complete_finished(session, at(MONDAY, 13)) == 1
    assert status_seen(session, booking.id) == BookingStatus.COMPLETED


# --- bookings/loans.py --------------------------------------------------------------------------


def test_hand_over_and_return_commit_all_or_nothing(session, world, camera, monkeypatch):
    loan = make_booking(session, camera, world["chemist"], at(MONDAY, 10), hours=6)
    manager = world["phys_manager"]
    fail_after(monkeypatch, loans, "change_status")
    with pytest.raises(Injected):
        loans.hand_over(session, manager, loan.id, "Good", at(MONDAY, 10))
    assert status_seen(session, loan.id) == BookingStatus.CONFIRMED
    monkeypatch.undo()
    loans.hand_over(session, manager, loan.id, "Good", at(MONDAY, 10))
    assert status_seen(session, loan.id) == BookingStatus.CHECKED_OUT

    fail_after(monkeypatch, loans, "change_status")
    with pytest.raises(Injected):
        loans.return_loan(session, manager, loan.id, "Cracked lens", True, at(MONDAY, 15))
    assert status_seen(session, loan.id) == BookingStatus.CHECKED_OUT
    assert committed(session, Asset, Asset.damage_reported_at.is_not(None)) == 0
    monkeypatch.undo()
    loans.return_loan(session, manager, loan.id, "Cracked lens", True, at(MONDAY, 15))
    assert status_seen(session, loan.id) == BookingStatus.COMPLETED
    assert committed(session, Asset, Asset.damage_reported_at.is_not(None)) == 1


def test_clear_damage_commits_all_or_nothing(session, world, camera):
    camera.damage_reported_at, camera.damage_note = at(MONDAY, 15), "Cracked lens"
    session.commit()

    def refuse(_session):
        raise Injected()

    event.listen(session, "before_commit", refuse)  # after the command's writes, before they are kept
    with pytest.raises(Injected):
        loans.clear_damage(session, world["phys_manager"], camera.id)
    event.remove(session, "before_commit", refuse)
    assert committed(session, Asset, Asset.damage_reported_at.is_not(None)) == 1
    loans.clear_damage(session, world["phys_manager"], camera.id)
    assert committed(session, Asset, Asset.damage_reported_at.is_not(None)) == 0


def test_check_in_commits_all_or_nothing(session, world, bench, monkeypatch):
    booking = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    fail_after(monkeypatch, loans, "change_status")
    with pytest.raises(Injected):
        loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 10))
    assert status_seen(session, booking.id) == BookingStatus.CONFIRMED
    monkeypatch.undo()
    loans.check_in(session, world["chemist"], booking.id, at(MONDAY, 10))
    assert status_seen(session, booking.id) == BookingStatus.CHECKED_OUT


def test_the_loan_jobs_commit_all_or_nothing(session, world, camera, bench, monkeypatch):
    missed = make_booking(session, bench, world["chemist"], at(MONDAY, 10), hours=2)
    fail_after(monkeypatch, loans, "change_status")
    with pytest.raises(Injected):
        loans.release_no_shows(session, at(MONDAY, 10, 30))
    assert status_seen(session, missed.id) == BookingStatus.CONFIRMED
    monkeypatch.undo()
    assert loans.release_no_shows(session, at(MONDAY, 10, 30)) == 1
    assert status_seen(session, missed.id) == BookingStatus.NO_SHOW

    loan = make_booking(session, camera, world["chemist"], at(MONDAY, 10), hours=2)
    loans.hand_over(session, world["phys_manager"], loan.id, "Good", at(MONDAY, 10))
    fail_after(monkeypatch, loans, "notify")
    with pytest.raises(Injected):
        loans.notify_overdue_loans(session, at(MONDAY, 14))
    assert committed(session, Notification, Notification.event == "loan_overdue") == 0
    monkeypatch.undo()
    assert loans.notify_overdue_loans(session, at(MONDAY, 14)) == 1
    assert committed(session, Notification, Notification.event == "loan_overdue") >= 2

    checked_in = make_booking(session, bench, world["chemist2"], at(MONDAY, 14), hours=1)
    loans.check_in(session, world["chemist2"], checked_in.id, at(MONDAY, 14))
    fail_after(monkeypatch, loans, "change_status")
    with pytest.raises(Injected):
        loans.complete_checked_in(session, at(MONDAY, 16))
    assert status_seen(session, checked_in.id) == BookingStatus.CHECKED_OUT
    monkeypatch.undo()
    assert loans.complete_checked_in(session, at(MONDAY, 16)) == 1
    assert status_seen(session, checked_in.id) == BookingStatus.COMPLETED


# --- reports/delivery.py ------------------------------------------------------------------------


def test_a_batch_job_cannot_be_joined_to_a_callers_unit(session):
    with atomic(session), pytest.raises(RuntimeError, match="do not call it inside atomic"):
        delivery.deliver_due(session, NOW, Config())


def test_one_delivery_commits_all_or_nothing(session, world, monkeypatch):
    from reports.figures import ReportSettings
    from reports.models import Frequency, ReportSubscription

    subscription = ReportSubscription(
        user_id=world["phys_manager"].id, frequency=Frequency.WEEKLY, school_ids=[world["phys"].id]
    )
    session.add(subscription)
    session.commit()
    monday, sunday = dt.date(2029, 12, 17), dt.date(2029, 12, 23)

    def killed(*args, **kwargs):
        raise Injected()

    monkeypatch.setattr(delivery, "_enqueue", killed)  # after the claim and the snapshot are written
    with pytest.raises(Injected):
        delivery.deliver(
            session,
            subscription.id,
            monday,
            sunday,
            NOW,
            ReportSettings.from_config(Config()),
            "https://kitshare.test",
        )
    assert committed(session, ReportDelivery) == committed(session, ReportSnapshot) == 0
    monkeypatch.undo()
    assert delivery.deliver(
        session,
        subscription.id,
        monday,
        sunday,
        NOW,
        ReportSettings.from_config(Config()),
        "https://kitshare.test",
    )
    assert committed(session, ReportDelivery) == committed(session, ReportSnapshot) == 1
    assert committed(session, OutboxMessage) == committed(session, Notification) == 1
