"""Register imports as background jobs: confirmed on the page, run by the scheduler.

A confirmed upload becomes an ``ImportJob`` (``queue_import``). The scheduler claims queued jobs
one at a time (``claim_next_import``: a conditional UPDATE, so exactly one scheduler wins a job
even when two run) and imports each in ONE transaction (``run_import``): the file is checked
again from scratch, then every row is applied, and the job is marked done in that same
transaction, so an import is all or nothing. Meanwhile the number of rows done is written in short
transactions of their own, for the progress page.

SQLite allows one writer at a time, and the import's transaction is that writer until it commits:
there the progress goes to a small file beside the uploads instead (SQLite runs on one machine,
so the web server reads the same folder).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.permissions import require_school_manager
from core.db import atomic, utcnow
from core.errors import DomainError, InvalidInput, NotFound
from inventory.models import ImportJob, ImportState, School
from inventory.transfer.applying import apply_import
from inventory.transfer.planning import ImportPlan, plan_import
from inventory.transfer.xlsx_limits import XlsxLimits

log = logging.getLogger("kitshare.imports")

#: Progress is written once every this many rows.
PROGRESS_EVERY = 250
#: A job still "running" this long after its last sign of life was interrupted (its scheduler
#: stopped mid-import, so its transaction was rolled back). 20,000 rows take a minute or two.
INTERRUPTED_AFTER = dt.timedelta(hours=1)

Progress = Callable[[int, int], None]


def queue_import(session: Session, actor: User, school: School, filename: str, content: bytes) -> ImportJob:
    """Queue a previewed file for import into ``school``; the scheduler runs it.

    Only the School's managers (and admins) may import. The file is checked again when the job
    runs, so nothing is read here: confirming answers at once whatever the size of the file.
    A command: its own unit of work (``core/db.py``).
    """
    with atomic(session, actor):
        require_school_manager(actor, school.id)
        job = ImportJob(
            school_id=school.id,
            created_by_id=actor.id,
            filename=filename[:200],
            content=content,
            state=ImportState.QUEUED,
            rows_done=0,
            message="",
        )
        session.add(job)
        session.flush()
        return job


def get_import_job(session: Session, actor: User, school_id: int, job_id: int) -> ImportJob:
    """An import job of ``school_id``, for its managers (and admins) to follow."""
    require_school_manager(actor, school_id)
    job = session.get(ImportJob, job_id)
    if job is None or job.school_id != school_id:
        raise NotFound("There is no such import.")
    return job


def claim_next_import(session: Session, now: dt.datetime) -> int | None:
    """Take the oldest queued job and mark it running; returns its id, or None when there is none
    (or another scheduler took it first: the UPDATE only changes a job that is still queued)."""
    with atomic(session):
        job_id = session.scalar(
            select(ImportJob.id)
            .where(ImportJob.state == ImportState.QUEUED)
            .order_by(ImportJob.created_at, ImportJob.id)
            .limit(1)
        )
        if job_id is None:
            return None
        claimed = session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == ImportState.QUEUED)
            .values(state=ImportState.RUNNING, started_at=now, progress_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return job_id if claimed == 1 else None


class _FileNoLongerFits(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        super().__init__(plan.filename)
        self.plan = plan


def run_import(
    session: Session,
    job_id: int,
    folder: str | Path,
    now: Callable[[], dt.datetime] = utcnow,
    limits: XlsxLimits | None = None,
) -> ImportJob:
    """Import a claimed (running) job's file: all rows or none, in one transaction.

    The file is planned again from scratch (the register may have changed since the preview),
    then applied through the inventory service's rules, and the job is marked done inside the
    same transaction. Any problem rolls everything back and marks the job failed with a message
    for the person (and the file's problems by line and column, as the preview shows them).
    Either way the file is dropped from the job.
    """
    job = session.get(ImportJob, job_id)
    if job is None or job.state != ImportState.RUNNING:
        raise NotFound("That import is not running.")
    filename, content = job.filename, job.content or b""
    report = _progress_writer(session, job_id, folder, now)
    problems: list[list[Any]] | None = None
    try:
        with atomic(session, job.created_by):
            actor, school = job.created_by, job.school
            plan = plan_import(session, actor, school, filename, content, limits)
            if not plan.ok:
                raise _FileNoLongerFits(plan)
            total = len(plan.rows)
            report(0, total)
            for done in apply_import(session, actor, school, plan):
                if done % PROGRESS_EVERY == 0 and done < total:
                    report(done, total)
            summary = (
                f"Imported {filename}: {plan.count('create'):,} added, {plan.count('update'):,} updated, "
                f"{plan.count('unchanged'):,} unchanged; {_count(len(plan.new_locations), 'new location')}."
            )
            if not _finish(
                session, job_id, ImportState.DONE, summary, now(), rows_total=total, rows_done=total
            ):
                # Marked interrupted meanwhile: this import must not commit behind the page's back.
                raise InvalidInput("The import was stopped before it finished. Upload the file again.")
        return _reloaded(session, job_id)
    except _FileNoLongerFits as error:
        found = error.plan.problems
        message = (
            f"Nothing was imported: checked again, {filename} has {_count(len(found), 'problem')} "
            "(the register changed since the preview). Correct the file and upload it again."
        )
        problems = [[p.line, p.column, p.message] for p in found]
    except DomainError as error:
        message = f"Nothing was imported. {error.message}"
    except IntegrityError:
        log.warning("Import job %s clashed with a concurrent change", job_id)
        message = (
            "Nothing was imported: someone changed the register at the same time (for example, "
            "a tag was taken meanwhile). Upload the file again to check it."
        )
    except Exception:
        log.exception("Import job %s failed", job_id)
        message = "Nothing was imported: something went wrong. Please upload the file again."
    finally:
        _remove_progress_file(folder, job_id)
    with atomic(session):
        _finish(session, job_id, ImportState.FAILED, message, now(), problems=problems)
    return _reloaded(session, job_id)


def run_queued_imports(
    session: Session,
    folder: str | Path,
    now: Callable[[], dt.datetime] = utcnow,
    limits: XlsxLimits | None = None,
) -> int:
    """What the scheduler runs every few seconds: mark interrupted imports failed, then run the
    queued ones, oldest first, one after another. Returns how many ran."""
    unfinished = session.scalar(
        select(func.count())
        .select_from(ImportJob)
        .where(ImportJob.state.in_([ImportState.QUEUED, ImportState.RUNNING]))
    )
    session.rollback()  # a read alone: most ticks find nothing and take no write lock
    if not unfinished:
        return 0
    fail_interrupted_imports(session, now())
    count = 0
    while (job_id := claim_next_import(session, now())) is not None:
        job = run_import(session, job_id, folder, now, limits)
        log.info("import job %s into School %s: %s", job.id, job.school_id, job.state.value)
        count += 1
    return count


def fail_interrupted_imports(session: Session, now: dt.datetime) -> int:
    """Mark failed the jobs left running by a scheduler that stopped mid-import. Their one
    transaction never committed, so nothing of them was imported."""
    cutoff = now - INTERRUPTED_AFTER
    with atomic(session):
        result = session.execute(
            update(ImportJob)
            .where(
                ImportJob.state == ImportState.RUNNING,
                or_(ImportJob.progress_at < cutoff, ImportJob.progress_at.is_(None)),
            )
            .values(
                state=ImportState.FAILED,
                finished_at=now,
                content=None,
                message="Nothing was imported: the import was interrupted before it finished. "
                "Upload the file again.",
            )
            .execution_options(synchronize_session=False)
        )
    return result.rowcount or 0


def rows_done(job: ImportJob, folder: str | Path) -> int:
    """How many rows a job has imported so far, as its progress says."""
    done = job.rows_done
    if job.state == ImportState.RUNNING:
        try:
            done = max(done, int(_progress_path(folder, job.id).read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return done


def rows_total(job: ImportJob, folder: str | Path) -> int | None:
    """How many rows the job's file has, once the job has checked it (None before)."""
    total = job.rows_total
    if total is None and job.state == ImportState.RUNNING:
        try:
            total = int(_progress_path(folder, job.id).read_text().split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return total


# --- Progress, in transactions of its own ------------------------------------------------------


def _progress_path(folder: str | Path, job_id: int) -> Path:
    return Path(folder) / f"job-{int(job_id)}.progress"


def _remove_progress_file(folder: str | Path, job_id: int) -> None:
    _progress_path(folder, job_id).unlink(missing_ok=True)


def _progress_writer(
    session: Session, job_id: int, folder: str | Path, now: Callable[[], dt.datetime]
) -> Progress:
    engine = session.get_bind()
    engine = getattr(engine, "engine", engine)
    if engine.dialect.name == "sqlite":
        path = _progress_path(folder, job_id)

        def write_file(done: int, total: int) -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_text(f"{done} {total}")
            os.replace(partial, path)  # readers see the old or the new count, never half of one

        return write_file

    def write_row(done: int, total: int) -> None:
        with engine.begin() as connection:  # a connection of its own: commits at once
            connection.execute(
                update(ImportJob.__table__)
                .where(
                    ImportJob.__table__.c.id == job_id,
                    ImportJob.__table__.c.state == ImportState.RUNNING.value,
                )
                .values(rows_done=done, rows_total=total, progress_at=now())
            )

    return write_row


def _finish(
    session: Session,
    job_id: int,
    state: ImportState,
    message: str,
    at: dt.datetime,
    *,
    rows_total: int | None = None,
    rows_done: int | None = None,
    problems: list[list[Any]] | None = None,
) -> bool:
    """Mark a running job finished; False when it was no longer running (marked interrupted)."""
    values: dict[str, Any] = {
        "state": state,
        "message": message,
        "finished_at": at,
        "content": None,
        "problems": problems,
    }
    if rows_total is not None:
        values["rows_total"] = rows_total
    if rows_done is not None:
        values["rows_done"] = rows_done
    finished = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.state == ImportState.RUNNING)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    return finished == 1


def _reloaded(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    assert job is not None
    session.refresh(job)
    return job


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
