"""Upkeep of the register: maintenance windows, recurring inspections, training authorisations.

Every change here is made by a manager of the asset's owning School (or an admin), through the
ORM, inside the caller's ``atomic(session, actor)``: the ``Audited`` models then leave their audit
rows in the same transaction. Dates (inspections, training) are the university's local dates;
maintenance windows are aware UTC instants.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from accounts.models import User, school_managers
from accounts.permissions import require_school_manager
from core.db import utcnow
from core.errors import InvalidInput, NotFound
from inventory.models import (
    Asset,
    Category,
    InspectionKind,
    InspectionOutcome,
    InspectionRecord,
    InspectionSchedule,
    MaintenanceWindow,
    School,
    TrainingAuthorisation,
    WITHDRAWN_STATUSES,
)
from core.timeutil import format_local, local_today

if TYPE_CHECKING:  # bookings builds on inventory: imported where used
    from bookings.disruption import Decisions

#: The longest interval a recurring inspection may have: ten years (LOLER is 6 or 12 months,
#: PAT a year or two, calibration a few years).
MAX_INTERVAL_DAYS = 3660
#: How far ahead reminders warn the School's managers, by default.
REMINDER_LEAD_DAYS = 14


def format_day(day: dt.date) -> str:
    """15 Dec 2026: how dates read in e-mails and messages."""
    return f"{day.day} {day:%b %Y}"


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: convert to UTC at the edge")


# --- Maintenance windows ------------------------------------------------------------------------


def schedule_maintenance(
    session: Session,
    actor: User,
    asset: Asset,
    start_at: dt.datetime,
    end_at: dt.datetime,
    reason: str,
    cost_pence: int | None = None,
    decisions: "Decisions | None" = None,
    now: dt.datetime | None = None,
) -> MaintenanceWindow:
    """Plan time when ``asset`` is out for maintenance; the window blocks bookings. Its cost,
    where known, counts in capital planning as maintenance spending on the asset.

    Managers of the owning School (or admins) only. The window must end after it starts and say
    why. A window in the past is accepted, so that maintenance already done can be recorded.

    Confirmed bookings still to come that overlap the window are cancelled or kept, as
    ``decisions`` say (none given: kept, and their holders told), in the same transaction
    (``bookings/disruption.py``); ``window.settlement`` says what was done to them.
    """
    from bookings.disruption import affected_by_window, settle

    require_school_manager(actor, asset.school_id)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if start_at is None:
        errors["start_at"] = ["Enter when the maintenance starts."]
    if end_at is None:
        errors["end_at"] = ["Enter when the maintenance ends."]
    if start_at is not None and end_at is not None:
        _require_aware(start_at)
        _require_aware(end_at)
        if end_at <= start_at:
            errors["end_at"] = ["The maintenance must end after it starts."]
    if not reason:
        errors["reason"] = ["Say what the maintenance is for, such as 'Annual service by the manufacturer'."]
    elif len(reason) > 2000:
        errors["reason"] = ["Use at most 2000 characters."]
    if cost_pence is not None and cost_pence < 0:
        errors["cost"] = ["A cost cannot be negative."]
    if errors:
        raise InvalidInput(field_errors=errors)
    window = MaintenanceWindow(
        asset_id=asset.id, start_at=start_at, end_at=end_at, reason=reason, cost_pence=cost_pence,
        created_by_id=actor.id,
    )
    now = now or utcnow()
    affected = affected_by_window(session, asset, start_at, end_at, now)
    session.add(window)
    session.flush()
    when = f"{format_local(start_at)} to {format_local(end_at)}"
    window.settlement = settle(
        session, actor, affected, decisions, f"Maintenance of {asset.name}, {when}: {reason}",
        f"maintenance of {asset.name} is planned during it ({when}).", now,
    )
    return window


def cancel_maintenance(session: Session, actor: User, window: MaintenanceWindow, now: dt.datetime | None = None) -> None:
    """Delete a planned window that has not ended yet (one under way may be cut short this way).

    A window that is over is kept as the record of maintenance done. Managers of the asset's
    School (or admins) only. The audit log keeps what the deleted window was.
    """
    require_school_manager(actor, window.asset.school_id)
    now = now or utcnow()
    if window.end_at <= now:
        raise InvalidInput("This maintenance window is over; it is kept as a record and cannot be cancelled.")
    session.delete(window)
    session.flush()


def maintenance_windows(
    session: Session, asset: Asset, from_: dt.datetime, to: dt.datetime
) -> list[MaintenanceWindow]:
    """The asset's windows overlapping [from_, to), earliest first."""
    return list(
        session.scalars(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.asset_id == asset.id, MaintenanceWindow.start_at < to, MaintenanceWindow.end_at > from_)
            .order_by(MaintenanceWindow.start_at, MaintenanceWindow.id)
        )
    )


def get_maintenance_window(session: Session, asset: Asset, window_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, window_id)
    if window is None or window.asset_id != asset.id:
        raise NotFound("There is no such maintenance window for this asset.")
    return window


def bookings_clashing_with(session: Session, asset: Asset, start: dt.datetime, end: dt.datetime) -> list:
    """Active bookings (confirmed, checked out) of ``asset`` whose booked time overlaps [start, end).

    The booked time is what the person asked for, [start_at, end_at): the turnaround after it is
    the owner's own time, so maintenance may start in it without spoiling anyone's booking.
    """
    from bookings.models import ACTIVE_STATUSES, Booking

    return list(
        session.scalars(
            select(Booking)
            .options(joinedload(Booking.requester))
            .where(
                Booking.asset_id == asset.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.start_at < end,
                Booking.end_at > start,
            )
            .order_by(Booking.start_at, Booking.id)
        )
    )


# --- Inspections --------------------------------------------------------------------------------


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
        select(InspectionSchedule.id).where(InspectionSchedule.asset_id == asset.id, InspectionSchedule.kind == kind)
    ):
        errors["kind"] = [f"This asset already has a {kind.label} schedule; change that one instead."]
    if errors:
        raise InvalidInput(field_errors=errors)
    if last_done_on is not None:
        next_due_on = last_done_on + dt.timedelta(days=interval_days)
    else:
        next_due_on = first_due_on or today
    schedule = InspectionSchedule(
        asset_id=asset.id, kind=kind, interval_days=interval_days, last_done_on=last_done_on, next_due_on=next_due_on
    )
    try:
        with session.begin_nested():  # a concurrent request may have added the same kind
            session.add(schedule)
    except IntegrityError:
        raise InvalidInput(
            field_errors={"kind": [f"This asset already has a {kind.label} schedule; change that one instead."]}
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
    require_school_manager(actor, schedule.asset.school_id)
    problem = _interval_problem(interval_days)
    if problem:
        raise InvalidInput(field_errors={"interval_days": [problem]})
    schedule.interval_days = interval_days
    latest = _latest_record(session, schedule)
    latest_failed = (
        latest is not None and latest.outcome == InspectionOutcome.FAIL and latest.done_on == schedule.last_done_on
    )
    if schedule.last_done_on is not None and not latest_failed:
        _set_next_due(schedule, schedule.last_done_on + dt.timedelta(days=interval_days))
    session.flush()
    return schedule


def remove_inspection_schedule(session: Session, actor: User, schedule: InspectionSchedule) -> None:
    """Stop tracking an inspection the asset no longer needs, with its records.

    Managers of the owning School (or admins). The audit log keeps every deleted row's values.
    """
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


def overdue_inspections(session: Session, school_ids: set[int] | None, today: dt.date) -> list[InspectionSchedule]:
    """Inspections past their due date, of assets not retired, in those Schools (None: all)."""
    if school_ids is not None and not school_ids:
        return []
    return list(session.scalars(_schedules_of_live_assets(school_ids).where(InspectionSchedule.next_due_on < today)))


def due_soon(session: Session, school_ids: set[int] | None, today: dt.date, within_days: int) -> list[InspectionSchedule]:
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


# --- Reminders ----------------------------------------------------------------------------------


def school_managers_of(session: Session, school_id: int) -> list[User]:
    """The active people who manage the School (admins are not included unless they manage it)."""
    return list(
        session.scalars(
            select(User)
            .join(school_managers, school_managers.c.user_id == User.id)
            .where(school_managers.c.school_id == school_id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def reminder_subject(schedule: InspectionSchedule, today: dt.date) -> str:
    asset = schedule.asset
    when = "overdue since" if schedule.next_due_on < today else "due"
    return f"{schedule.kind.label} {when} {format_day(schedule.next_due_on)}: {asset.name} ({asset.tag})"[:250]


def reminder_body(schedule: InspectionSchedule, manager: User, today: dt.date, base_url: str) -> str:
    asset = schedule.asset
    what = f"{schedule.kind.label} of {asset.name} ({asset.tag})"
    due = format_day(schedule.next_due_on)
    lines = [
        f"Dear {manager.name},",
        "",
        f"{what} is overdue: it was due on {due}." if schedule.next_due_on < today else f"{what} is due on {due}.",
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
            "Bookings of this asset are refused until it is done." if schedule.next_due_on < today
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

    One notice per manager per due date, written in the caller's transaction; the
    schedule's ``reminded_for`` then records the due date, so a second run the same day enqueues
    nothing (and the outbox's unique ``dedupe_key`` guarantees it against concurrent runs). A
    School with no active managers gets nothing and stays unreminded, so a manager appointed
    later still hears of it. Retired assets are skipped. Returns the number of messages queued.

    ``base_url`` is the site's address for the link (default: the app's KITSHARE_BASE_URL).
    """
    from notifications.service import notify

    if base_url is None:
        from flask import current_app

        base_url = current_app.config["KITSHARE_BASE_URL"]
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


# --- Training -----------------------------------------------------------------------------------


def person_by_email(session: Session, email: str, field: str = "email") -> User:
    """The active person with this e-mail address (any case), or InvalidInput on ``field``."""
    email = (email or "").strip()
    if not email:
        raise InvalidInput(field_errors={field: ["Enter the person's e-mail address."]})
    person = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if person is None:
        raise InvalidInput(field_errors={field: [f"Nobody in Kitshare has the address {email}."]})
    if not person.active:
        raise InvalidInput(field_errors={field: [f"{person.name}'s account is deactivated."]})
    return person


def _describe_scope(grant: TrainingAuthorisation) -> str:
    if grant.asset is not None:
        return f"{grant.asset.name} ({grant.asset.tag})"
    return f"every {grant.category.name if grant.category else 'category'} asset of {grant.school.name}"


def grant_training(
    session: Session,
    actor: User,
    user: User,
    *,
    asset: Asset | None = None,
    category: Category | None = None,
    school: School | None = None,
    granted_on: dt.date,
    expires_on: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> TrainingAuthorisation:
    """Authorise ``user`` to use one asset, or every asset of a category within a School.

    Exactly one scope: ``asset``, or ``category`` with ``school``. The actor must manage the
    asset's School (or the given School). ``granted_on`` is when the training happened (not in the
    future); ``expires_on``, if any, is on or after it.

    A person who already holds a current authorisation for the same scope (not revoked, not
    expired on ``granted_on``) is refused rather than given a second one: to record a refresher
    with new dates, revoke the old authorisation first, so each record keeps its own terms.

    The person's open training requests that the new authorisation covers are granted by it, and
    they are told (``inventory.training_requests.close_requests_covered_by``).
    """
    if (asset is None) == (category is None):
        raise InvalidInput("Grant training for one asset, or for a category within a School.")
    if asset is not None:
        school_id = asset.school_id
    else:
        if school is None:
            raise InvalidInput("A category authorisation needs the School it applies within.")
        school_id = school.id
    require_school_manager(actor, school_id)
    today = today or local_today()
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not user.active:
        errors["email"] = [f"{user.name}'s account is deactivated."]
    if granted_on is None:
        errors["granted_on"] = ["Enter the date of the training."]
    elif granted_on > today:
        errors["granted_on"] = ["The training date cannot be in the future."]
    elif expires_on is not None and expires_on < granted_on:
        errors["expires_on"] = ["The authorisation cannot expire before it was granted."]
    if len(note) > 2000:
        errors["note"] = ["Use at most 2000 characters."]
    if errors:
        raise InvalidInput(field_errors=errors)

    same_scope = select(TrainingAuthorisation).where(
        TrainingAuthorisation.user_id == user.id,
        TrainingAuthorisation.revoked_at.is_(None),
        or_(TrainingAuthorisation.expires_on.is_(None), TrainingAuthorisation.expires_on >= granted_on),
    )
    if asset is not None:
        same_scope = same_scope.where(TrainingAuthorisation.asset_id == asset.id)
    else:
        same_scope = same_scope.where(
            TrainingAuthorisation.category_id == category.id, TrainingAuthorisation.school_id == school_id
        )
    existing = session.scalars(same_scope.order_by(TrainingAuthorisation.granted_on.desc())).first()
    if existing is not None:
        until = f"until {format_day(existing.expires_on)}" if existing.expires_on else "with no expiry"
        raise InvalidInput(
            field_errors={
                "email": [
                    f"{user.name} is already authorised for {_describe_scope(existing)} "
                    f"(granted {format_day(existing.granted_on)}, {until}). "
                    "To record a refresher with new dates, revoke that authorisation first."
                ]
            }
        )
    grant = TrainingAuthorisation(
        user_id=user.id,
        school_id=school_id,
        asset_id=asset.id if asset is not None else None,
        category_id=category.id if category is not None else None,
        granted_on=granted_on,
        expires_on=expires_on,
        granted_by_id=actor.id,
        note=note,
    )
    session.add(grant)
    session.flush()
    from inventory.training_requests import close_requests_covered_by  # it builds on this module

    close_requests_covered_by(session, actor, grant, today=today)
    return grant


def revoke_training(
    session: Session, actor: User, authorisation: TrainingAuthorisation, reason: str, now: dt.datetime | None = None,
    decisions: "Decisions | None" = None,
) -> TrainingAuthorisation:
    """Withdraw an authorisation, saying why. It is kept (with who revoked it and when), never deleted.

    Managers of the School the authorisation belongs to (or admins) only. The person's confirmed
    bookings still to come that it alone allowed are cancelled or kept, as ``decisions`` say
    (none given: kept, and the person told), in the same transaction (``bookings/disruption.py``);
    ``authorisation.settlement`` says what was done to them.
    """
    from bookings.disruption import affected_by_revocation, settle

    require_school_manager(actor, authorisation.school_id)
    reason = (reason or "").strip()
    if authorisation.revoked_at is not None:
        raise InvalidInput("This authorisation has already been revoked.")
    if not reason:
        raise InvalidInput(field_errors={"reason": ["Say why the authorisation is revoked."]})
    if len(reason) > 2000:
        raise InvalidInput(field_errors={"reason": ["Use at most 2000 characters."]})
    now = now or utcnow()
    affected = affected_by_revocation(session, authorisation, now)
    authorisation.revoked_at = now
    authorisation.revoked_by_id = actor.id
    authorisation.revoke_reason = reason
    session.flush()
    authorisation.settlement = settle(
        session, actor, affected, decisions,
        f"Training authorisation for {_describe_scope(authorisation)} revoked: {reason}",
        f"your training authorisation for {_describe_scope(authorisation)} has been revoked.", now,
    )
    return authorisation


def _covering(asset: Asset):
    """Authorisations whose scope covers ``asset``: for it, or for its category in its School."""
    scopes = [TrainingAuthorisation.asset_id == asset.id]
    if asset.category_id is not None:
        scopes.append(
            (TrainingAuthorisation.category_id == asset.category_id)
            & (TrainingAuthorisation.school_id == asset.school_id)
        )
    return or_(*scopes)


def _current_on(today: dt.date):
    return (TrainingAuthorisation.revoked_at.is_(None)) & (
        TrainingAuthorisation.expires_on.is_(None) | (TrainingAuthorisation.expires_on >= today)
    )


def holds_training_for(user: User, today: dt.date):
    """A condition on ``Asset`` rows (correlated, for a catalogue query): ``user`` holds a
    current authorisation for the asset, as ``has_current_training`` decides for one asset."""
    return (
        select(TrainingAuthorisation.id)
        .where(
            TrainingAuthorisation.user_id == user.id,
            or_(
                TrainingAuthorisation.asset_id == Asset.id,
                (TrainingAuthorisation.category_id == Asset.category_id)
                & (TrainingAuthorisation.school_id == Asset.school_id),
            ),
            _current_on(today),
        )
        .exists()
    )


def has_current_training(session: Session, user: User, asset: Asset, today: dt.date) -> bool:
    """True if ``user`` holds a current authorisation for ``asset`` on ``today``: one for the asset
    itself, or for its category within the asset's School; not revoked, and not expired before
    today (an authorisation expiring today is still current today)."""
    return (
        session.scalar(
            select(TrainingAuthorisation.id)
            .where(TrainingAuthorisation.user_id == user.id, _covering(asset), _current_on(today))
            .limit(1)
        )
        is not None
    )


def _with_people():
    return (
        joinedload(TrainingAuthorisation.user),
        joinedload(TrainingAuthorisation.category),
        joinedload(TrainingAuthorisation.asset),
        joinedload(TrainingAuthorisation.school),
        joinedload(TrainingAuthorisation.granted_by),
        joinedload(TrainingAuthorisation.revoked_by),
    )


def authorised_people(session: Session, asset: Asset, today: dt.date) -> list[TrainingAuthorisation]:
    """Current authorisations covering ``asset`` (directly or by category), of active people, by name."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .join(TrainingAuthorisation.user)
            .options(*_with_people())
            .where(_covering(asset), _current_on(today), User.active.is_(True))
            .order_by(User.name, TrainingAuthorisation.asset_id.is_(None), TrainingAuthorisation.id)
        )
    )


def training_records(session: Session, asset: Asset) -> list[TrainingAuthorisation]:
    """Every authorisation covering ``asset``, revoked and expired ones too, newest first (for managers)."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .options(*_with_people())
            .where(_covering(asset))
            .order_by(TrainingAuthorisation.granted_on.desc(), TrainingAuthorisation.id.desc())
        )
    )


def school_training_records(session: Session, school: School) -> list[TrainingAuthorisation]:
    """Every category-level authorisation within ``school``, newest first (for managers)."""
    return list(
        session.scalars(
            select(TrainingAuthorisation)
            .options(*_with_people())
            .where(TrainingAuthorisation.school_id == school.id, TrainingAuthorisation.category_id.is_not(None))
            .order_by(TrainingAuthorisation.granted_on.desc(), TrainingAuthorisation.id.desc())
        )
    )


def get_training_authorisation(session: Session, authorisation_id: int) -> TrainingAuthorisation:
    grant = session.scalar(
        select(TrainingAuthorisation).options(*_with_people()).where(TrainingAuthorisation.id == authorisation_id)
    )
    if grant is None:
        raise NotFound("There is no such training authorisation.")
    return grant


@dataclass(frozen=True)
class TrainingState:
    """How an authorisation reads on a page: 'Current', 'Expired' or 'Revoked'."""

    label: str
    badge: str


def training_state(grant: TrainingAuthorisation, today: dt.date) -> TrainingState:
    if grant.revoked_at is not None:
        return TrainingState("Revoked", "cancelled")
    if grant.expires_on is not None and grant.expires_on < today:
        return TrainingState("Expired", "no_show")
    return TrainingState("Current", "available")
