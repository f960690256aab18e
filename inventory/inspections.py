"""Recurring inspections (LOLER, PAT, calibration): schedules, records, what is overdue or due soon,
and the reminders that warn a School's managers before an inspection falls due.

Every change here is made by a manager of the asset's owning School (or an admin), through the
ORM. Each public function that writes is a command (``core/db.py``): it opens its own
``atomic(session, actor)``, so callers call it bare, and the ``Audited`` models leave their audit
rows in the same transaction. Dates are the university's local dates.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import User
from accounts.permissions import require_school_manager
from core.config import site_url
from core.db import atomic
from core.errors import InvalidInput, NotFound
from core.timeutil import format_day, local_today
from inventory.models import (
    WITHDRAWN_STATUSES,
    Asset,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
)
from inventory.service import school_managers_of
from notifications.service import notify

#: The longest interval a recurring inspection may have: ten years (LOLER is 6 or 12 months,
#: PAT a year or two, calibration a few years).
MAX_INTERVAL_DAYS = 3660
#: How far ahead reminders warn the School's managers, by default.
REMINDER_LEAD_DAYS = 14


def _interval_problem(interval_days: int | None) -> str | None:
    if interval_days is None:
        return "Enter how often the inspection is due, in days (365 for yearly)."
    if not 1 <= interval_days <= MAX_INTERVAL_DAYS:
        return f"Use between 1 and {MAX_INTERVAL_DAYS} days."
    return None


def add_inspection_schedule(
    session: Session,
    actor: User,
    asset: Asset,
    kind: InspectionKind,
    interval_days: int,
    last_done_on: dt.date | None,
    first_due_on: dt.date | None,
    today: dt.date,
) -> InspectionSchedule:
    """Start tracking a recurring inspection of ``asset``, every ``interval_days``.

    The next due date is ``last_done_on + interval_days`` when the date it was last done is
    known (``first_due_on`` is then not needed), otherwise ``first_due_on``, otherwise today.
    One schedule per kind of inspection per asset. Managers of the owning School (or admins).
    """
    with atomic(session, actor):
        require_school_manager(actor, asset.school_id)
        errors: dict[str, list[str]] = {}
        try:
            kind = InspectionKind(kind)
        except ValueError:
            errors["kind"] = ["Choose a kind of inspection from the list."]
        problem = _interval_problem(interval_days)
        if problem:
            errors["interval_days"] = [problem]
        if last_done_on is not None and last_done_on > today:
            errors["last_done_on"] = ["The date it was last done cannot be in the future."]
        if "kind" not in errors and session.scalar(
            select(InspectionSchedule.id).where(
                InspectionSchedule.asset_id == asset.id, InspectionSchedule.kind == kind
            )
        ):
            errors["kind"] = [f"This asset already has a {kind.label} schedule; change that one instead."]
        if errors:
            raise InvalidInput(field_errors=errors)
        if last_done_on is not None:
            next_due_on = last_done_on + dt.timedelta(days=interval_days)
        else:
            next_due_on = first_due_on or today
        schedule = InspectionSchedule(
            asset_id=asset.id,
            kind=kind,
            interval_days=interval_days,
            last_done_on=last_done_on,
            next_due_on=next_due_on,
        )
        try:
            with session.begin_nested():  # a concurrent request may have added the same kind
                session.add(schedule)
        except IntegrityError:
            raise InvalidInput(
                field_errors={
                    "kind": [f"This asset already has a {kind.label} schedule; change that one instead."]
                }
            ) from None
        return schedule


def _latest_record(session: Session, schedule: InspectionSchedule) -> InspectionRecord | None:
    return session.scalar(
        select(InspectionRecord)
        .where(InspectionRecord.schedule_id == schedule.id)
        .order_by(InspectionRecord.done_on.desc(), InspectionRecord.id.desc())
        .limit(1)
    )


def _set_next_due(schedule: InspectionSchedule, next_due_on: dt.date) -> None:
    if schedule.next_due_on != next_due_on:
        schedule.next_due_on = next_due_on
        schedule.reminded_for = None  # a new due date earns a new reminder


def update_inspection_schedule(
    session: Session, actor: User, schedule: InspectionSchedule, interval_days: int
) -> InspectionSchedule:
    """Change how often an inspection is due.

    The next due date follows: the date it was last done plus the new interval. It stays as it
    was when the inspection has never been done (it is the first due date set up), or when the
    latest inspection failed (the asset still needs a passing one, so it stays due).
    """
    with atomic(session, actor):
        require_school_manager(actor, schedule.asset.school_id)
        problem = _interval_problem(interval_days)
        if problem:
            raise InvalidInput(field_errors={"interval_days": [problem]})
        schedule.interval_days = interval_days
        latest = _latest_record(session, schedule)
        latest_failed = (
            latest is not None
            and latest.outcome == InspectionOutcome.FAIL
            and latest.done_on == schedule.last_done_on
        )
        if schedule.last_done_on is not None and not latest_failed:
            _set_next_due(schedule, schedule.last_done_on + dt.timedelta(days=interval_days))
        session.flush()
        return schedule


def remove_inspection_schedule(session: Session, actor: User, schedule: InspectionSchedule) -> None:
    """Stop tracking an inspection the asset no longer needs, with its records.

    Managers of the owning School (or admins). The audit log keeps every deleted row's values.
    """
    with atomic(session, actor):
        require_school_manager(actor, schedule.asset.school_id)
        session.delete(schedule)
        session.flush()


def record_inspection(
    session: Session,
    actor: User,
    schedule: InspectionSchedule,
    done_on: dt.date,
    performed_by: str,
    outcome: InspectionOutcome,
    note: str,
    cost_pence: int | None = None,
    today: dt.date | None = None,
) -> InspectionRecord:
    """Record an inspection done: its date (not in the future), who did it, the outcome, a note.

    How the dates move, when this is the latest inspection (``done_on`` on or after the date it
    was last done):

    * ``last_done_on`` becomes ``done_on``, whatever the outcome;
    * a pass (with or without advisories) sets ``next_due_on = done_on + interval_days``;
    * a FAIL does not advance the due date: the asset still needs a passing inspection, so
      ``next_due_on`` stays as it was, or becomes ``done_on`` if that is earlier.

    An inspection older than the latest one (history entered late) is kept in the record but
    moves no date. A changed due date clears ``reminded_for``, so the next one is reminded of.
    Managers of the owning School (or admins) only.
    """
    with atomic(session, actor):
        require_school_manager(actor, schedule.asset.school_id)
        today = today or local_today()
        performed_by = (performed_by or "").strip()
        note = (note or "").strip()
        errors: dict[str, list[str]] = {}
        if done_on is None:
            errors["done_on"] = ["Enter the date the inspection was done."]
        elif done_on > today:
            errors["done_on"] = ["The inspection date cannot be in the future."]
        if not performed_by:
            errors["performed_by"] = ["Enter who did the inspection: a person or a contractor."]
        elif len(performed_by) > 200:
            errors["performed_by"] = ["Use at most 200 characters."]
        try:
            outcome = InspectionOutcome(outcome)
        except ValueError:
            errors["outcome"] = ["Choose the outcome from the list."]
        if cost_pence is not None and cost_pence < 0:
            errors["cost"] = ["A cost cannot be negative."]
        if errors:
            raise InvalidInput(field_errors=errors)

        record = InspectionRecord(
            schedule=schedule,
            done_on=done_on,
            performed_by=performed_by,
            outcome=outcome,
            note=note,
            cost_pence=cost_pence,
            recorded_by_id=actor.id,
        )
        session.add(record)
        if schedule.last_done_on is None or done_on >= schedule.last_done_on:
            schedule.last_done_on = done_on
            if outcome == InspectionOutcome.FAIL:
                _set_next_due(schedule, min(schedule.next_due_on, done_on))
            else:
                _set_next_due(schedule, done_on + dt.timedelta(days=schedule.interval_days))
        session.flush()
        return record


def get_inspection_schedule(session: Session, asset: Asset, schedule_id: int) -> InspectionSchedule:
    schedule = session.get(InspectionSchedule, schedule_id)
    if schedule is None or schedule.asset_id != asset.id:
        raise NotFound("There is no such inspection schedule for this asset.")
    return schedule


def inspection_schedules(session: Session, asset: Asset) -> list[InspectionSchedule]:
    """The asset's schedules, soonest due first, with their records loaded."""
    return list(
        session.scalars(
            select(InspectionSchedule)
            .options(selectinload(InspectionSchedule.records).joinedload(InspectionRecord.recorded_by))
            .where(InspectionSchedule.asset_id == asset.id)
            .order_by(InspectionSchedule.next_due_on, InspectionSchedule.kind)
        )
    )


def _schedules_of_live_assets(school_ids: set[int] | None):
    query = (
        select(InspectionSchedule)
        .join(InspectionSchedule.asset)
        .options(joinedload(InspectionSchedule.asset).joinedload(Asset.school))
        .where(Asset.status.not_in(WITHDRAWN_STATUSES))
    )
    if school_ids is not None:
        query = query.where(Asset.school_id.in_(school_ids))
    return query.order_by(InspectionSchedule.next_due_on, Asset.tag, InspectionSchedule.kind)


def overdue_inspections(
    session: Session, school_ids: set[int] | None, today: dt.date
) -> list[InspectionSchedule]:
    """Inspections past their due date, of assets not retired, in those Schools (None: all)."""
    if school_ids is not None and not school_ids:
        return []
    return list(
        session.scalars(_schedules_of_live_assets(school_ids).where(InspectionSchedule.next_due_on < today))
    )


def due_soon(
    session: Session, school_ids: set[int] | None, today: dt.date, within_days: int
) -> list[InspectionSchedule]:
    """Inspections due from today to ``within_days`` ahead (not the overdue ones), assets not retired."""
    if school_ids is not None and not school_ids:
        return []
    horizon = today + dt.timedelta(days=within_days)
    return list(
        session.scalars(
            _schedules_of_live_assets(school_ids).where(
                InspectionSchedule.next_due_on >= today, InspectionSchedule.next_due_on <= horizon
            )
        )
    )


def inspection_blocks_booking(session: Session, asset: Asset, today: dt.date) -> InspectionSchedule | None:
    """The overdue inspection that stops ``asset`` being booked, or None.

    Only assets whose managers ticked 'block_when_inspection_overdue' are blocked; the one
    returned is the longest overdue, for the message to the person booking.
    """
    if not asset.block_when_inspection_overdue:
        return None
    return session.scalar(
        select(InspectionSchedule)
        .where(InspectionSchedule.asset_id == asset.id, InspectionSchedule.next_due_on < today)
        .order_by(InspectionSchedule.next_due_on)
        .limit(1)
    )


def reminder_subject(schedule: InspectionSchedule, today: dt.date) -> str:
    asset = schedule.asset
    when = "overdue since" if schedule.next_due_on < today else "due"
    return f"{schedule.kind.label} {when} {format_day(schedule.next_due_on)}: {asset.name} ({asset.tag})"[
        :250
    ]


def reminder_body(schedule: InspectionSchedule, manager: User, today: dt.date, base_url: str) -> str:
    asset = schedule.asset
    what = f"{schedule.kind.label} of {asset.name} ({asset.tag})"
    due = format_day(schedule.next_due_on)
    lines = [
        f"Dear {manager.name},",
        "",
        f"{what} is overdue: it was due on {due}."
        if schedule.next_due_on < today
        else f"{what} is due on {due}.",
        "",
        f"Asset: {asset.name} ({asset.tag})",
        f"School: {asset.school.name}",
    ]
    if asset.location is not None:
        lines.append(f"Location: {asset.location.label}")
    lines += [
        f"Inspection: {schedule.kind.label}, every {schedule.interval_days} days",
        f"Last done: {format_day(schedule.last_done_on) if schedule.last_done_on else 'not recorded'}",
        f"Due: {format_day(schedule.next_due_on)}",
    ]
    if asset.block_when_inspection_overdue:
        lines += [
            "",
            "Bookings of this asset are refused until it is done."
            if schedule.next_due_on < today
            else "Bookings of this asset will be refused if it becomes overdue.",
        ]
    lines += [
        "",
        "Record the inspection on the asset's page once it is done.",
        "You receive this because you manage this School in Kitshare.",
    ]
    return "\n".join(lines)


def queue_inspection_reminders(
    session: Session, today: dt.date, lead_days: int = REMINDER_LEAD_DAYS, base_url: str | None = None
) -> int:
    """Tell the School's managers about inspections due within ``lead_days`` or overdue, in the
    app and by e-mail (unless they turned "inspection_due" e-mails off).

    A command (``core/db.py``): one unit of work, which the scheduler does not wrap.
    One notice per manager per due date; the
    schedule's ``reminded_for`` then records the due date, so a second run the same day enqueues
    nothing (and the outbox's unique ``dedupe_key`` guarantees it against concurrent runs). A
    School with no active managers gets nothing and stays unreminded, so a manager appointed
    later still hears of it. Retired assets are skipped. Returns the number of messages queued.

    ``base_url`` is the site's address for the link (default: the app's KITSHARE_BASE_URL).
    """

    with atomic(session):
        if base_url is None:
            base_url = site_url()
        horizon = today + dt.timedelta(days=lead_days)
        schedules = session.scalars(
            _schedules_of_live_assets(None)
            .options(joinedload(InspectionSchedule.asset).joinedload(Asset.location))
            .where(
                InspectionSchedule.next_due_on <= horizon,
                or_(
                    InspectionSchedule.reminded_for.is_(None),
                    InspectionSchedule.reminded_for != InspectionSchedule.next_due_on,
                ),
            )
        ).all()
        managers_by_school: dict[int, list[User]] = {}
        queued = 0
        for schedule in schedules:
            school_id = schedule.asset.school_id
            if school_id not in managers_by_school:
                managers_by_school[school_id] = school_managers_of(session, school_id)
            managers = managers_by_school[school_id]
            if not managers:
                continue
            subject = reminder_subject(schedule, today)
            for manager in managers:
                notify(
                    session,
                    manager,
                    "inspection_due",
                    subject,
                    reminder_body(schedule, manager, today, base_url),
                    link=f"{base_url.rstrip('/')}/assets/{schedule.asset_id}",
                    dedupe_key=f"inspection-reminder:{schedule.id}:{schedule.next_due_on.isoformat()}:{manager.id}",
                )
                queued += 1
            schedule.reminded_for = schedule.next_due_on
        session.flush()
        return queued
