"""Register imports as background jobs: claimed once, all or nothing, progress readable meanwhile."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Role
from core.db import atomic, db, utcnow
from inventory import import_jobs, service
from inventory.models import Asset, ImportJob, ImportState
from tests.conftest import see_committed, sign_in
from tests.factories import make_school, make_user


@pytest.fixture
def world(session):
    school = make_school(session, code="CHEM", name="School of Chemistry")
    manager = make_user(session, school, Role.MANAGER, email="manager@chem.ac.uk")
    return {"school": school, "manager": manager}


def queue(session, world, content: bytes, filename: str = "register.csv") -> ImportJob:
    with atomic(session, world["manager"]):
        return import_jobs.queue_import(session, world["manager"], world["school"], filename, content)


def rows(count: int) -> bytes:
    return ("Tag,Name\n" + "".join(f"CHEM-{n:04d},Instrument {n}\n" for n in range(count))).encode()


def test_only_one_of_several_schedulers_claims_a_job(app, session, world):
    job = queue(session, world, rows(1))
    with app.app_context():
        engine = db.engine
    start = threading.Barrier(4)
    claims: list[int | None] = []

    def claim() -> None:
        with Session(engine, expire_on_commit=False) as own:
            start.wait()
            claims.append(import_jobs.claim_next_import(own, utcnow()))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claims, key=str) == [job.id, None, None, None]
    see_committed(session)
    assert session.get(ImportJob, job.id).state == ImportState.RUNNING


def test_progress_can_be_read_while_the_import_runs(app, session, world, tmp_path, monkeypatch):
    job = queue(session, world, rows(600))
    with app.app_context():
        engine = db.engine
    seen: list[tuple[str, int, int | None]] = []
    real_create = service.create_asset

    def create_and_look(session_, actor, school, data):
        if data.tag == "CHEM-0550":  # rows 0 to 549 are done: progress was written at 500
            with Session(engine) as reader:  # as the progress page reads it, from outside
                running = reader.get(ImportJob, job.id)
                seen.append(
                    (
                        running.state.value,
                        import_jobs.rows_done(running, tmp_path),
                        import_jobs.rows_total(running, tmp_path),
                    )
                )
        return real_create(session_, actor, school, data)

    monkeypatch.setattr(service, "create_asset", create_and_look)
    with app.app_context():
        assert import_jobs.run_queued_imports(db.session, tmp_path) == 1
        db.session.remove()
    assert seen == [("running", 500, 600)]
    see_committed(session)
    done = session.get(ImportJob, job.id)
    assert (done.state, done.rows_done, done.rows_total, done.content) == (ImportState.DONE, 600, 600, None)
    assert list(tmp_path.iterdir()) == []  # SQLite's progress file is gone with the job


def test_a_job_failing_part_way_imports_nothing_and_says_why(app, session, world, tmp_path, monkeypatch):
    job = queue(session, world, rows(10))
    real_create = service.create_asset

    def refuse_the_eighth(session_, actor, school, data):
        if data.tag == "CHEM-0007":
            raise RuntimeError("the disk is full")
        return real_create(session_, actor, school, data)

    monkeypatch.setattr(service, "create_asset", refuse_the_eighth)
    with app.app_context():
        import_jobs.run_queued_imports(db.session, tmp_path)
        db.session.remove()
    see_committed(session)
    failed = session.get(ImportJob, job.id)
    assert failed.state == ImportState.FAILED
    assert failed.message == "Nothing was imported: something went wrong. Please upload the file again."
    assert failed.content is None
    assert session.scalar(select(func.count()).select_from(Asset)) == 0


def test_a_job_left_running_by_a_stopped_scheduler_is_marked_failed(app, session, world, tmp_path):
    job = queue(session, world, rows(1))
    long_ago = utcnow() - import_jobs.INTERRUPTED_AFTER - dt.timedelta(minutes=1)
    assert import_jobs.claim_next_import(session, long_ago) == job.id
    with app.app_context():
        assert import_jobs.run_queued_imports(db.session, tmp_path) == 0
        db.session.remove()
    see_committed(session)
    stopped = session.get(ImportJob, job.id)
    assert stopped.state == ImportState.FAILED
    assert "interrupted" in stopped.message
    assert session.scalar(select(func.count()).select_from(Asset)) == 0


def test_the_job_page_is_for_the_schools_managers(app, client, session, world):
    job = queue(session, world, rows(1))
    outsider = make_user(session, make_school(session, code="PHYS"), Role.MANAGER)
    sign_in(client, world["manager"].email)
    page = client.get(f"/schools/{world['school'].id}/import/jobs/{job.id}")
    assert page.status_code == 200 and "Waiting to start" in page.text
    progress = client.get(f"/schools/{world['school'].id}/import/jobs/{job.id}/progress.json")
    assert progress.json == {
        "id": job.id,
        "state": "queued",
        "filename": "register.csv",
        "rows_done": 0,
        "rows_total": None,
        "finished": False,
        "message": "",
    }
    assert client.get(f"/schools/{world['school'].id + 999}/import/jobs/{job.id}").status_code == 403
    other_client = app.test_client()
    sign_in(other_client, outsider.email)
    assert other_client.get(f"/schools/{world['school'].id}/import/jobs/{job.id}").status_code == 403
