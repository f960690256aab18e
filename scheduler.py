"""Background jobs, run by APScheduler 3 in a process of their own: ``flask --app wsgi scheduler``.

Never start this inside the web workers: each gunicorn worker would run every job. Jobs are kept
in the application's database (so a scheduler that was down catches up, once, thanks to
``coalesce``), and every job is a thin call of a service function in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from core.db import db, utcnow

log = logging.getLogger("kitshare.scheduler")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    trigger: str
    trigger_args: dict[str, Any]
    misfire_grace_time: int


def complete_finished_bookings() -> None:
    from bookings.loans import complete_checked_in
    from bookings.service import complete_finished

    now = utcnow()
    count = complete_finished(db.session, now) + complete_checked_in(db.session, now)
    if count:
        log.info("completed %d finished bookings", count)


def release_no_shows() -> None:
    from bookings.loans import release_no_shows as release

    count = release(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("released no-shows: %s", count)


def expire_waitlist_offers() -> None:
    from bookings.waitlist import expire_offers

    count = expire_offers(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("expired waitlist offers: %s", count)


def record_lapsed_demand() -> None:
    from bookings.lapsing import record_lapsed_demand as record

    recorded = record(db.session, utcnow())  # a command: its own unit of work
    if recorded:
        log.info("recorded lapsed demand: %s", recorded)


def notify_overdue_loans() -> None:
    from bookings.loans import notify_overdue_loans as notify

    count = notify(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("overdue loans notified: %s", count)


def send_outbox() -> None:
    from flask import current_app

    from notifications.password_resets import mail_password_resets
    from notifications.service import run_outbox

    # Reset e-mails are written here, not by the form, so the form does the same work for every
    # address (issue 16): they still leave within the minute, with the rest of the outbox.
    count = mail_password_resets(  # a command: its own unit of work
        db.session, current_app.config["SECRET_KEY"], current_app.config["KITSHARE_BASE_URL"], utcnow()
    )
    if count:
        log.info("queued %d password-reset e-mails", count)
    run_outbox(db.session, current_app.config, utcnow())


def queue_inspection_reminders() -> None:
    from core.timeutil import to_local
    from inventory.inspections import queue_inspection_reminders as queue

    count = queue(db.session, to_local(utcnow()).date())  # a command: its own unit of work
    if count:
        log.info("queued %d inspection reminders", count)


def deliver_reports() -> None:
    from flask import current_app

    from planning.service import forecast_appendix
    from reports.delivery import deliver_due

    deliver_due(db.session, utcnow(), current_app.config, appendix=forecast_appendix(current_app.config))


def send_booking_reminders() -> None:
    from flask import current_app

    from bookings.notices import send_booking_reminders as send

    count = send(
        db.session,
        utcnow(),
        current_app.config["KITSHARE_REMINDER_HOURS"],
        current_app.config["KITSHARE_BASE_URL"],
    )
    if count:
        log.info("sent %d booking reminders", count)


def run_imports() -> None:
    """Run the register imports people have confirmed (inventory.import_jobs), oldest first."""
    from flask import current_app

    from inventory.import_jobs import run_queued_imports
    from inventory.transfer.upload_stash import upload_folder
    from inventory.transfer.xlsx_limits import XlsxLimits

    limits = XlsxLimits.from_config(current_app.config)
    count = run_queued_imports(db.session, upload_folder(current_app.instance_path), limits=limits)
    if count:
        log.info("ran %d register imports", count)


def remove_abandoned_uploads() -> None:
    """Remove spreadsheet uploads that were previewed but never confirmed."""
    from flask import current_app

    from inventory.transfer.upload_stash import remove_abandoned_uploads as remove
    from inventory.transfer.upload_stash import upload_folder

    count = remove(upload_folder(current_app.instance_path))
    if count:
        log.info("removed %d abandoned import uploads", count)


def refresh_planner_statistics() -> None:
    from core.db import refresh_planner_statistics as refresh

    if refresh(db.engine):
        log.info("refreshed the database's planner statistics")


JOBS = [
    JobSpec("complete-finished-bookings", complete_finished_bookings, "interval", {"minutes": 5}, 300),
    # Mail leaves the outbox within seconds (looking for due mail is one indexed query); failures
    # are retried with backoff by the outbox.
    JobSpec("send-outbox", send_outbox, "interval", {"seconds": 10}, 60),
    # Confirmed imports start within seconds; one import runs at a time (max_instances=1), and
    # each job is claimed in the database, so two schedulers never run the same import.
    JobSpec("run-imports", run_imports, "interval", {"seconds": 5}, 60),
    JobSpec("remove-abandoned-uploads", remove_abandoned_uploads, "interval", {"minutes": 15}, 900),
    # Every five minutes, each confirmed booking starting within KITSHARE_REMINDER_HOURS is reminded
    # once (reminder_sent_at): a booking made late is reminded at the next run, not the next day.
    JobSpec("booking-reminders", send_booking_reminders, "interval", {"minutes": 5}, 300),
    JobSpec("release-no-shows", release_no_shows, "interval", {"minutes": 1}, 60),
    JobSpec("expire-waitlist-offers", expire_waitlist_offers, "interval", {"minutes": 1}, 60),
    # Requests not decided by their start lapse, and waitlist places never served: unmet demand.
    JobSpec("record-lapsed-demand", record_lapsed_demand, "interval", {"minutes": 5}, 300),
    JobSpec("notify-overdue-loans", notify_overdue_loans, "interval", {"minutes": 15}, 900),
    JobSpec("inspection-reminders", queue_inspection_reminders, "cron", {"hour": 7, "minute": 0}, 12 * 3600),
    # Subscribed reports: each finished week, month or quarter, exactly once (see reports.delivery);
    # hourly, so a failed delivery is retried within the hour and a new period goes out early.
    JobSpec("deliver-reports", deliver_reports, "cron", {"minute": 20}, 3600),
    # SQLite only: the statistics its planner needs as the tables grow (PostgreSQL: autovacuum).
    JobSpec("planner-statistics", refresh_planner_statistics, "cron", {"hour": 3, "minute": 30}, 12 * 3600),
]


def _in_app_context(app: Flask, func: Callable[[], Any]) -> Callable[[], Any]:
    def run_job() -> Any:
        with app.app_context():
            try:
                return func()
            finally:
                db.session.remove()

    run_job.__name__ = func.__name__
    return run_job


_APPS: dict[str, Flask] = {}


def run_registered(job_id: str) -> Any:
    """What APScheduler stores: a reference by name, so jobs survive in the database store."""
    app = _APPS["app"]
    spec = next(spec for spec in JOBS if spec.id == job_id)
    return _in_app_context(app, spec.func)()


def build_scheduler(app: Flask, scheduler_class: type = BlockingScheduler) -> Any:
    _APPS["app"] = app
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="scheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone="UTC",
    )
    for spec in JOBS:
        scheduler.add_job(
            "scheduler:run_registered",
            trigger=spec.trigger,
            args=[spec.id],
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            misfire_grace_time=spec.misfire_grace_time,
            **spec.trigger_args,
        )
    return scheduler


def run(app: Flask) -> None:
    scheduler = build_scheduler(app)
    log.info("Kitshare scheduler starting with jobs: %s", ", ".join(spec.id for spec in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        # Stop starting jobs; one already running finishes (an import is all or nothing anyway).
        scheduler.shutdown(wait=False)
        log.info("Kitshare scheduler stopped")
