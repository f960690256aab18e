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
from flask import Flask, current_app
from sqlalchemy import create_engine

from bookings import lapsing, loans, notices, waitlist
from bookings.service import complete_finished
from core import db as core_db
from core.config import current_settings
from core.db import db, utcnow
from core.timeutil import to_local
from inventory import import_jobs, inspections
from inventory.transfer import upload_stash
from inventory.transfer.xlsx_limits import XlsxLimits
from notifications.password_resets import mail_password_resets
from notifications.service import run_outbox
from planning.service import forecast_appendix
from reports import delivery

log = logging.getLogger("kitshare.scheduler")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    trigger: str
    trigger_args: dict[str, Any]
    misfire_grace_time: int


def complete_finished_bookings() -> None:
    now = utcnow()
    count = complete_finished(db.session, now) + loans.complete_checked_in(db.session, now)
    if count:
        log.info("completed %d finished bookings", count)


def release_no_shows() -> None:
    count = loans.release_no_shows(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("released no-shows: %s", count)


def expire_waitlist_offers() -> None:
    count = waitlist.expire_offers(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("expired waitlist offers: %s", count)


def record_lapsed_demand() -> None:
    recorded = lapsing.record_lapsed_demand(db.session, utcnow())  # a command: its own unit of work
    if recorded:
        log.info("recorded lapsed demand: %s", recorded)


def notify_overdue_loans() -> None:
    count = loans.notify_overdue_loans(db.session, utcnow())  # a command: its own unit of work
    if count:
        log.info("overdue loans notified: %s", count)


def send_outbox() -> None:
    # Reset e-mails are written here, not by the form, so the form does the same work for every
    # address (issue 16): they still leave within the minute, with the rest of the outbox.
    count = mail_password_resets(  # a command: its own unit of work
        db.session, current_app.config["SECRET_KEY"], current_settings().base_url, utcnow()
    )
    if count:
        log.info("queued %d password-reset e-mails", count)
    run_outbox(db.session, current_settings(), utcnow())


def queue_inspection_reminders() -> None:
    count = inspections.queue_inspection_reminders(  # a command: its own unit of work
        db.session, to_local(utcnow()).date()
    )
    if count:
        log.info("queued %d inspection reminders", count)


def deliver_reports() -> None:
    config = current_settings()
    delivery.deliver_due(db.session, utcnow(), config, appendix=forecast_appendix(config))


def send_booking_reminders() -> None:
    count = notices.send_booking_reminders(
        db.session,
        utcnow(),
        current_settings().KITSHARE_REMINDER_HOURS,
        current_settings().base_url,
    )
    if count:
        log.info("sent %d booking reminders", count)


def run_imports() -> None:
    """Run the register imports people have confirmed (inventory.import_jobs), oldest first."""
    limits = XlsxLimits.from_config(current_settings())
    count = import_jobs.run_queued_imports(
        db.session, upload_stash.upload_folder(current_app.instance_path), limits=limits
    )
    if count:
        log.info("ran %d register imports", count)


def remove_abandoned_uploads() -> None:
    """Remove spreadsheet uploads that were previewed but never confirmed."""
    count = upload_stash.remove_abandoned_uploads(upload_stash.upload_folder(current_app.instance_path))
    if count:
        log.info("removed %d abandoned import uploads", count)


def refresh_planner_statistics() -> None:
    if core_db.refresh_planner_statistics(db.engine):
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
    # The job store reads, then writes (its table if missing, a job's next run): on SQLite each of
    # its transactions takes the write lock first (core.db: BEGIN IMMEDIATE), and waits its turn.
    # Begun as a reader, it could not become a writer once the web server had written meanwhile
    # ("database is locked" at once, whatever the busy timeout), and the scheduler stopped.
    store_engine = create_engine(url, execution_options={core_db.SERIALISED: True})
    scheduler = scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=store_engine, tablename="scheduler_jobs")},
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
