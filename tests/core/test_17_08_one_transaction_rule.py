"""Issue 17 point 8: one transaction rule for every public command (core/db.py's docstring).

A command owns its unit of work: called bare, the documented way, it has committed all it did
when it returns, and a failure injected after its first write leaves nothing behind."""

import datetime as dt

import pytest
import time_machine
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bookings import loans, notices, service
from bookings.models import Booking, BookingSeries, BookingStatus, BookingStatusChange, UnmetDemand
from core.config import Config
from core.db import atomic
from core.errors import InvalidInput
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


# --- bookings/waitlist.py and bookings/lapsing.py ------------------------------------------------


def refuse_commits(session: Session):
    """Fail every commit of ``session`` from now on: after a command's writes, before they are kept.
    Returns the listener, for ``event.remove``."""

    def refuse(_session):
        raise Injected()

    event.listen(session, "before_commit", refuse)
    return refuse


def test_joining_a_waitlist_commits_all_or_nothing(session, world):
    from bookings import waitlist
    from bookings.models import WaitlistEntry

    make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10), hours=2)
    args = (session, world["chemist2"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "Imaging", NOW)
    refuse = refuse_commits(session)
    with pytest.raises(Injected):
        waitlist.join_waitlist(*args)
    event.remove(session, "before_commit", refuse)
    assert committed(session, WaitlistEntry) == 0
    entry = waitlist.join_waitlist(*args)  # bare, as every caller now calls it
    assert committed(session, WaitlistEntry, WaitlistEntry.id == entry.id) == 1


def test_leaving_a_waitlist_commits_all_or_nothing(session, world, monkeypatch):
    from bookings import waitlist
    from bookings.models import WaitlistEntry, WaitlistStatus

    booking = make_booking(session, world["scope"], world["chemist"], at(MONDAY, 10), hours=2)
    first = waitlist.join_waitlist(
        session, world["chemist2"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "Imaging", NOW
    )
    second = waitlist.join_waitlist(
        session, world["physicist"], world["scope"].id, at(MONDAY, 10), at(MONDAY, 12), "Imaging", NOW
    )
    service.cancel(session, world["chemist"], booking.id, now=NOW)  # the slot is offered to the first
    fail_after(monkeypatch, waitlist, "offer_freed_slot")  # the offer passes on, then it fails
    with pytest.raises(Injected):
        waitlist.leave_waitlist(session, world["chemist2"], first.id, NOW)
    open_ = (WaitlistStatus.OFFERED, WaitlistStatus.WAITING)
    assert (
        committed(session, WaitlistEntry, WaitlistEntry.id == first.id, WaitlistEntry.status == open_[0]) == 1
    )
    assert (
        committed(session, WaitlistEntry, WaitlistEntry.id == second.id, WaitlistEntry.status == open_[1])
        == 1
    )
    monkeypatch.undo()
    waitlist.leave_waitlist(session, world["chemist2"], first.id, NOW)
    assert (
        committed(
            session,
            WaitlistEntry,
            WaitlistEntry.id == first.id,
            WaitlistEntry.status == WaitlistStatus.CANCELLED,
        )
        == 1
    )
    assert (
        committed(session, WaitlistEntry, WaitlistEntry.id == second.id, WaitlistEntry.status == open_[0])
        == 1
    )


def test_the_lapsing_job_commits_all_or_nothing(session, world, monkeypatch):
    from bookings import lapsing

    booking = _pending(session, world)
    started = at(MONDAY, 10, 30)
    fail_after(monkeypatch, lapsing, "notify_lapsed")
    with pytest.raises(Injected):
        lapsing.record_lapsed_demand(session, started)
    assert status_seen(session, booking.id) == BookingStatus.PENDING
    assert committed(session, UnmetDemand) == 0
    monkeypatch.undo()
    assert (
        lapsing.record_lapsed_demand(session, started).lapsed_requests == 1
    )  # bare, as the scheduler calls it
    assert status_seen(session, booking.id) == BookingStatus.LAPSED
    assert committed(session, UnmetDemand, UnmetDemand.booking_id == booking.id) == 1


def test_the_scheduler_calls_the_waitlist_and_lapsing_jobs_bare(app, session, world):
    import scheduler

    booking = _pending(session, world)
    with app.app_context(), time_machine.travel(at(MONDAY, 10, 30), tick=False):
        scheduler.expire_waitlist_offers()
        scheduler.record_lapsed_demand()
    assert status_seen(session, booking.id) == BookingStatus.LAPSED


def test_creating_a_quota_commits_all_or_nothing(session, world):
    from bookings import quotas
    from bookings.models import Quota

    def create():
        return quotas.create_quota(
            session,
            world["phys_manager"],
            world["phys"].id,
            asset_id=world["printer"].id,
            category_id=None,
            period="week",
            own_school_minutes=600,
            other_school_minutes=None,
        )

    refuse = refuse_commits(session)
    with pytest.raises(Injected):
        create()
    event.remove(session, "before_commit", refuse)
    assert committed(session, Quota) == 0
    quota = create()
    assert committed(session, Quota, Quota.id == quota.id) == 1


# --- inventory ------------------------------------------------------------------------------------


def test_creating_an_asset_commits_all_or_nothing(session, world):
    from inventory import service as inventory

    def create(tag):
        return inventory.create_asset(
            session, world["phys_manager"], world["phys"], inventory.AssetInput(tag=tag, name="Spectrometer")
        )

    refuse = refuse_commits(session)
    with pytest.raises(Injected):
        create("PHYS-9001")
    event.remove(session, "before_commit", refuse)
    assert committed(session, Asset, Asset.tag == "PHYS-9001") == 0
    asset = create("PHYS-9001")
    assert committed(session, Asset, Asset.id == asset.id) == 1


def test_granting_training_commits_all_or_nothing(session, world, monkeypatch):
    from inventory import training, training_requests
    from inventory.models import TrainingAuthorisation, TrainingRequest, TrainingRequestStatus

    printer = world["printer"]
    printer.training_required = True
    session.commit()
    asked, told = training_requests.request_training(session, world["physicist"], printer, "Please")
    assert committed(session, TrainingRequest, TrainingRequest.id == asked.id) == 1
    assert told and committed(session, Notification, Notification.event == "training_requested") == told

    def grant():
        return training.grant_training(
            session, world["phys_manager"], world["physicist"], asset=printer, granted_on=MONDAY, today=MONDAY
        )

    fail_after(monkeypatch, training_requests, "close_requests_covered_by")  # the request is granted, then
    with pytest.raises(Injected):
        grant()
    assert committed(session, TrainingAuthorisation) == 0
    assert committed(session, TrainingRequest, TrainingRequest.status == TrainingRequestStatus.OPEN) == 1
    monkeypatch.undo()
    grant()
    assert committed(session, TrainingAuthorisation) == 1
    assert committed(session, TrainingRequest, TrainingRequest.status == TrainingRequestStatus.GRANTED) == 1


# --- accounts -------------------------------------------------------------------------------------


def test_creating_a_person_commits_all_or_nothing(session, world):
    from accounts import service as accounts
    from accounts.models import User

    def create():
        return accounts.create_user(
            session, email="new@test.ac.uk", name="New Person", password="a long password", home_school=None
        )

    refuse = refuse_commits(session)
    with pytest.raises(Injected):
        create()
    event.remove(session, "before_commit", refuse)
    assert committed(session, User, User.email == "new@test.ac.uk") == 0
    user = create()
    assert committed(session, User, User.id == user.id, User.active.is_(True)) == 1


def test_an_admin_edit_with_a_bad_password_leaves_nothing(session, world):
    from accounts import service as accounts
    from accounts.models import Role, User
    from tests.factories import make_user

    admin = make_user(session, None, Role.ADMIN)
    person = world["physicist"]
    values = {
        "email": person.email,
        "home_school": world["phys"],
        "is_finance": True,
        "is_admin": False,
        "managed_schools": [],
        "active": True,
    }
    with pytest.raises(InvalidInput):  # the details are set, then the password is refused
        accounts.update_user(session, admin, person, name="Priya Renamed", password="short", **values)
    assert committed(session, User, User.name == "Priya Renamed") == 0
    assert committed(session, User, User.id == person.id, User.is_finance.is_(True)) == 0
    accounts.update_user(session, admin, person, name="Priya Renamed", password="a long password", **values)
    assert committed(session, User, User.name == "Priya Renamed", User.is_finance.is_(True)) == 1


def test_the_command_line_creates_a_person_without_a_unit_of_its_own(app, session):
    from accounts.models import User

    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "--email",
            "cli@test.ac.uk",
            "--name",
            "From The Shell",
            "--password",
            "a long password",
        ]
    )
    assert result.exit_code == 0, result.output
    assert committed(session, User, User.email == "cli@test.ac.uk") == 1
