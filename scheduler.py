"""Background jobs, run by APScheduler 3 in a process of their own: ``flask --app wsgi scheduler``.

Never start this inside the web workers: each gunicorn worker would run every job. Jobs are kept
in the application's database (so a scheduler that was down catches up, once, thanks to
``coalesce``), and every job is a thin call of a service function in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from db import atomic, db, utcnow

log = logging.getLogger("kitshare.scheduler")


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    trigger: str
    trigger_args: dict[str, Any]
    misfire_grace_time: int


def complete_finished_bookings() -> None:
    from bookings.service import complete_finished

    with atomic(db.session):
        count = complete_finished(db.session, utcnow())
    if count:
        log.info("completed %d finished bookings", count)


JOBS = [
    JobSpec("complete-finished-bookings", complete_finished_bookings, "interval", {"minutes": 5}, 300),
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
        log.info("Kitshare scheduler stopped")
