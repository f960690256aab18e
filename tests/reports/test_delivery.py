"""Scheduled delivery: one report per subscription and period, however many schedulers run and
wherever one is killed."""

from __future__ import annotations

import datetime as dt
import io
import signal
import subprocess
import sys
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Role
from bookings.models import BookingStatus
from core.config import PROJECT_ROOT, Config
from core.db import db
from notifications.mail import build_email
from notifications.models import Notification, OutboxMessage
from reports import delivery as delivery_module
from reports.delivery import MAX_ATTEMPTS, deliver_due
from reports.models import DeliveryStatus, Frequency, ReportDelivery, ReportSnapshot, ReportSubscription
from reports.periods import finished_periods
from tests.conftest import see_committed
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC
#: Monday 5 October 2026, 09:00 in London: when the subscriptions are made.
SUBSCRIBED = dt.datetime(2026, 10, 5, 8, tzinfo=UTC)
CONFIG = Config(KITSHARE_BASE_URL="https://kitshare.test")


class Killed(BaseException):
    """The process dies here (not an error the job could catch)."""


@pytest.fixture
def world(session):
    chem = make_school(session, "CHEM")
    finance = make_user(session, None, Role.FINANCE, email="fiona@test.ac.uk")
    manager = make_user(session, chem, Role.MANAGER, email="carla@test.ac.uk")
    asset = make_asset(session, chem, purchase_date=dt.date(2020, 1, 1), hourly_rate_pence=2000)
    make_booking(
        session,
        asset,
        manager,
        dt.datetime(2026, 10, 6, 9, tzinfo=UTC),
        hours=4,
        status=BookingStatus.COMPLETED,
    )
    weekly = ReportSubscription(
        user_id=finance.id, frequency=Frequency.WEEKLY, school_ids=[], created_at=SUBSCRIBED
    )
    monthly = ReportSubscription(
        user_id=manager.id, frequency=Frequency.MONTHLY, school_ids=[chem.id], created_at=SUBSCRIBED
    )
    session.add_all([weekly, monthly])
    session.commit()
    return {"chem": chem, "finance": finance, "manager": manager, "weekly": weekly, "monthly": monthly}


def count(session, model, *where):
    see_committed(session)
    return session.scalar(select(func.count()).select_from(model).where(*where))


def deliveries(session):
    see_committed(session)
    return list(
        session.scalars(
            select(ReportDelivery).order_by(ReportDelivery.subscription_id, ReportDelivery.period_start)
        )
    )


def test_finished_periods_are_whole_weeks_months_and_quarters():
    wednesday = dt.date(2026, 10, 7)
    assert finished_periods(Frequency.WEEKLY, wednesday, dt.date(2026, 10, 19)) == [
        (dt.date(2026, 10, 5), dt.date(2026, 10, 11)),
        (dt.date(2026, 10, 12), dt.date(2026, 10, 18)),
    ]
    assert finished_periods(Frequency.MONTHLY, wednesday, dt.date(2026, 11, 1)) == [
        (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    ]
    assert finished_periods(Frequency.MONTHLY, wednesday, dt.date(2026, 10, 31)) == []  # October is not over
    assert finished_periods(Frequency.QUARTERLY, wednesday, dt.date(2027, 1, 1)) == [
        (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    ]


def test_each_finished_period_is_delivered_with_its_spreadsheet_and_stored_copy(session, world):
    run = deliver_due(
        session, dt.datetime(2026, 10, 12, 6, tzinfo=UTC), CONFIG
    )  # Monday after the first week
    assert (run.sent, run.failed) == (1, 0)
    [delivery] = deliveries(session)
    assert (delivery.subscription_id, delivery.period_start, delivery.period_end) == (
        world["weekly"].id,
        dt.date(2026, 10, 5),
        dt.date(2026, 10, 11),
    )
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 1
    snapshot = session.get(ReportSnapshot, delivery.snapshot_id)
    assert snapshot.figures["totals"]["booked_hours"] == 4.0
    [message] = session.scalars(select(OutboxMessage)).all()
    assert message.to_address == "fiona@test.ac.uk"
    assert f"https://kitshare.test/reports/snapshots/{snapshot.id}" in message.body_text
    assert message.attachment_name.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(message.attachment))
    assert [row for row in workbook["By School"].iter_rows(values_only=True)][-1][
        4
    ] == 4  # booked hours, all Schools
    email = build_email(message, "Kitshare <kitshare@test.ac.uk>")
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == message.attachment_name
    assert count(session, Notification, Notification.event == "report_delivery") == 1


def test_a_stored_copy_keeps_the_figures_as_they_were_when_sent(session, world):
    deliver_due(session, dt.datetime(2026, 10, 12, 6, tzinfo=UTC), CONFIG)
    asset = world["chem"]
    make_booking(
        session,
        make_asset(session, asset, purchase_date=dt.date(2020, 1, 1)),
        world["manager"],
        dt.datetime(2026, 10, 7, 9, tzinfo=UTC),
        hours=2,
        status=BookingStatus.COMPLETED,
    )
    deliver_due(session, dt.datetime(2026, 10, 13, 6, tzinfo=UTC), CONFIG)  # nothing new is due
    [snapshot] = session.scalars(select(ReportSnapshot)).all()
    assert snapshot.figures["totals"]["booked_hours"] == 4.0


def test_two_schedulers_over_six_weeks_deliver_each_period_exactly_once(app, session, world):
    with app.app_context():
        engine = db.engine
    start = dt.datetime(2026, 10, 5, 12, tzinfo=UTC)
    steps = [start + dt.timedelta(hours=6 * n) for n in range(4 * 37)]  # every 6 hours to 10 November
    errors: list[BaseException] = []

    def scheduler(barriers: list[threading.Barrier]) -> None:
        with Session(engine, expire_on_commit=False) as own:
            for now, barrier in zip(steps, barriers):
                barrier.wait()  # both schedulers run each tick at the same moment
                try:
                    run = deliver_due(own, now, CONFIG)
                    if run.failed:
                        errors.append(AssertionError(f"{run.failed} failed at {now}"))
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)

    barriers = [threading.Barrier(2) for _ in steps]
    threads = [threading.Thread(target=scheduler, args=(barriers,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors
    weekly = [
        (d.period_start, d.status, d.attempts)
        for d in deliveries(session)
        if d.subscription_id == world["weekly"].id
    ]
    mondays = [
        dt.date(2026, 10, 5) + dt.timedelta(weeks=n) for n in range(5)
    ]  # weeks ending 11 Oct ... 8 Nov
    assert weekly == [(monday, DeliveryStatus.SENT, 1) for monday in mondays]
    monthly = [
        (d.period_start, d.status) for d in deliveries(session) if d.subscription_id == world["monthly"].id
    ]
    assert monthly == [(dt.date(2026, 10, 1), DeliveryStatus.SENT)]
    # One stored copy, one in-app notice and one e-mail each: none made twice.
    assert count(session, ReportSnapshot) == 6
    assert count(session, Notification, Notification.event == "report_delivery") == 6
    assert count(session, OutboxMessage) == 6


def test_a_run_killed_halfway_is_redone_once_on_restart(session, world, monkeypatch):
    now = dt.datetime(2026, 10, 12, 6, tzinfo=UTC)

    def killed(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(delivery_module, "_enqueue", killed)  # after the claim and the snapshot
    with pytest.raises(Killed):
        deliver_due(session, now, CONFIG)
    assert (
        count(session, ReportDelivery),
        count(session, ReportSnapshot),
        count(session, OutboxMessage),
    ) == (0, 0, 0)
    monkeypatch.undo()
    restarted = deliver_due(session, now, CONFIG)
    assert restarted.sent == 1
    assert [(d.status, d.attempts) for d in deliveries(session)] == [(DeliveryStatus.SENT, 1)]
    assert (count(session, ReportSnapshot), count(session, OutboxMessage)) == (1, 1)


def test_a_claim_left_by_a_crashed_run_is_finished_not_skipped(session, world):
    session.add(
        ReportDelivery(
            subscription_id=world["weekly"].id,
            period_start=dt.date(2026, 10, 5),
            period_end=dt.date(2026, 10, 11),
            status=DeliveryStatus.CLAIMED,
            attempts=1,
        )
    )
    session.commit()
    deliver_due(session, dt.datetime(2026, 10, 12, 6, tzinfo=UTC), CONFIG)
    assert [(d.status, d.attempts) for d in deliveries(session)] == [(DeliveryStatus.SENT, 2)]
    assert count(session, OutboxMessage) == 1


def test_a_failed_delivery_is_recorded_and_retried_by_the_next_run(session, world, monkeypatch):
    now = dt.datetime(2026, 10, 12, 6, tzinfo=UTC)

    def mail_down(*args, **kwargs):
        raise ConnectionError("outbox unavailable")

    monkeypatch.setattr(delivery_module, "_enqueue", mail_down)
    assert deliver_due(session, now, CONFIG).failed == 1
    [failed] = deliveries(session)
    assert (failed.status, failed.attempts, failed.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "ConnectionError: outbox unavailable",
    )
    assert count(session, ReportSnapshot) == 0  # rolled back with the attempt
    monkeypatch.undo()
    assert deliver_due(session, now + dt.timedelta(hours=1), CONFIG).sent == 1
    assert [(d.status, d.attempts, d.last_error) for d in deliveries(session)] == [
        (DeliveryStatus.SENT, 2, "")
    ]


def test_a_subscriber_who_may_no_longer_see_the_schools_gets_a_recorded_failure_not_a_report(session, world):
    manager = world["manager"]
    manager.managed_schools = []
    session.commit()
    deliver_due(session, dt.datetime(2026, 11, 2, 6, tzinfo=UTC), CONFIG)
    monthly = [d for d in deliveries(session) if d.subscription_id == world["monthly"].id]
    assert [(d.status, d.attempts) for d in monthly] == [(DeliveryStatus.FAILED, MAX_ATTEMPTS)]
    assert "may no longer see this report" in monthly[0].last_error
    deliver_due(session, dt.datetime(2026, 11, 2, 7, tzinfo=UTC), CONFIG)  # not retried
    assert [d.attempts for d in deliveries(session) if d.subscription_id == world["monthly"].id] == [
        MAX_ATTEMPTS
    ]
    assert count(session, OutboxMessage, OutboxMessage.to_address == manager.email) == 0


def test_a_paused_subscription_sends_nothing(session, world):
    world["weekly"].active = False
    world["monthly"].active = False
    session.commit()
    assert deliver_due(session, dt.datetime(2026, 11, 2, 6, tzinfo=UTC), CONFIG).sent == 0
    assert deliveries(session) == []


def test_a_manager_s_report_covers_only_their_schools(session, world):
    other = make_school(session, "PHYS")
    make_asset(session, other, purchase_date=dt.date(2020, 1, 1))
    deliver_due(session, dt.datetime(2026, 11, 2, 6, tzinfo=UTC), CONFIG)
    monthly = next(d for d in deliveries(session) if d.subscription_id == world["monthly"].id)
    snapshot = session.get(ReportSnapshot, monthly.snapshot_id)
    assert [s["code"] for s in snapshot.figures["schools"]] == ["CHEM"]
    assert snapshot.school_ids == [world["chem"].id]


# --- Real processes ------------------------------------------------------------------------------


def _database_url(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


def _process(app, mode: str, *moments: dt.datetime) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reports.scheduler_process",
            _database_url(app),
            mode,
            *(m.isoformat() for m in moments),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_scheduler_processes_running_the_job_deliver_each_period_once(app, session, world):
    moments = [dt.datetime(2026, 10, 5, 12, tzinfo=UTC) + dt.timedelta(hours=12 * n) for n in range(2 * 36)]
    schedulers = [_process(app, "run", *moments) for _ in range(2)]
    for process in schedulers:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    sent = [
        (d.subscription_id, d.period_start) for d in deliveries(session) if d.status == DeliveryStatus.SENT
    ]
    assert len(sent) == len(set(sent)) == 6  # five weeks and October
    assert count(session, ReportSnapshot) == 6
    assert count(session, OutboxMessage) == 6


def test_a_scheduler_process_killed_mid_delivery_is_redone_once(app, session, world):
    now = dt.datetime(2026, 10, 12, 6, tzinfo=UTC)
    doomed = _process(app, "hang", now)
    assert doomed.stdout.readline().strip() == "claimed"  # inside the delivery's transaction
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    doomed.stdout.close()
    doomed.stderr.close()
    assert deliver_due(session, now + dt.timedelta(minutes=1), CONFIG).sent == 1
    assert [(d.status, d.attempts) for d in deliveries(session)] == [(DeliveryStatus.SENT, 1)]
    assert (count(session, ReportSnapshot), count(session, OutboxMessage)) == (1, 1)
