"""The scheduler's jobs live in the database and call service functions."""

import datetime as dt
import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text

from bookings.models import Booking, BookingStatus
from bookings.service import complete_finished
from core.db import SERIALISED, db
from scheduler import JOBS, build_scheduler
from tests.conftest import see_committed
from tests.factories import make_asset, make_booking, make_school, make_user

UTC = dt.UTC


def test_jobs_are_stored_in_the_application_database(app, session):
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        stored = {job.id for job in scheduler.get_jobs()}
        assert stored == {spec.id for spec in JOBS}
        for job in scheduler.get_jobs():
            assert job.coalesce is True and job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)
    # A second scheduler start replaces the jobs rather than duplicating them.
    again = build_scheduler(app, BackgroundScheduler)
    again.start(paused=True)
    try:
        assert len(again.get_jobs()) == len(JOBS)
    finally:
        again.shutdown(wait=False)


def test_finished_confirmed_bookings_become_completed_and_nothing_else_changes(session):
    school = make_school(session)
    asset, user = make_asset(session, school), make_user(session, school)
    now = dt.datetime(2030, 1, 7, 12, tzinfo=UTC)
    finished = make_booking(session, asset, user, now - dt.timedelta(hours=2))
    running = make_booking(session, asset, user, now - dt.timedelta(minutes=30))
    loan = make_booking(session, asset, user, now - dt.timedelta(hours=5), status=BookingStatus.CHECKED_OUT)
    assert complete_finished(session, now) == 1
    session.commit()
    see_committed(session)
    assert session.get(Booking, finished.id).status == BookingStatus.COMPLETED
    assert session.get(Booking, finished.id).history[-1].reason == "Booking time ended."
    assert session.get(Booking, running.id).status == BookingStatus.CONFIRMED
    assert session.get(Booking, loan.id).status == BookingStatus.CHECKED_OUT


def test_the_planner_statistics_job_gives_sqlite_the_statistics_it_plans_by(app, session):
    """SQLite's planner picks indexes by ANALYZE's statistics; PostgreSQL's autovacuum keeps its
    own, so there the job leaves the database alone."""
    from sqlalchemy import text

    from core.db import db, refresh_planner_statistics

    school = make_school(session, "CHEM")
    for _ in range(3):
        make_asset(session, school)
    session.commit()
    with app.app_context():
        gathered = refresh_planner_statistics(db.engine)
    if session.get_bind().dialect.name == "sqlite":
        assert gathered
        # One row per index: its first figure is the table's row count.
        stats = session.scalars(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'assets'")).all()
        assert stats and {stat.split()[0] for stat in stats} == {"3"}
    else:
        assert not gathered


def test_the_job_store_waits_for_a_writer_rather_than_stopping_the_scheduler(app, session):
    """``make run`` starts the scheduler as the web server answers its first requests. On SQLite
    the job store read its table's description, then created the table; a request's write in
    between left it a stale reader that could not write ("database is locked" at once, whatever
    the busy timeout), and the scheduler stopped, and ``make run`` with it. Now it waits its turn."""
    with app.app_context():
        engine = db.engine
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS scheduler_jobs"))
    wrote, done = threading.Event(), threading.Event()

    def a_request_that_writes() -> None:
        with engine.connect().execution_options(**{SERIALISED: True}) as connection:
            connection.execute(text("UPDATE schools SET name = name"))  # holds the write lock...
            connection.execute(text("CREATE TABLE IF NOT EXISTS request_marker (n INTEGER)"))
            wrote.set()
            time.sleep(1.0)  # ... while the store reads, then commits: the store's read is stale
            connection.commit()
        done.set()

    writer = threading.Thread(target=a_request_that_writes)
    writer.start()
    assert wrote.wait(30)
    scheduler = build_scheduler(app, BackgroundScheduler)
    try:
        scheduler.start(paused=True)
        assert {job.id for job in scheduler.get_jobs()} == {spec.id for spec in JOBS}
    finally:
        scheduler.shutdown(wait=False)
        writer.join(30)
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS request_marker"))
    assert done.is_set()
