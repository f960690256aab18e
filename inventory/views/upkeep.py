"""Upkeep pages for managers: maintenance windows, inspections, and training authorisations.

Every page belongs to the managers of the asset's owning School (and admins): anyone else gets a
403 before any form is read.
"""

from __future__ import annotations

import datetime as dt

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from accounts.permissions import require_school_manager
from bookings import asset_changes, disruption
from core.db import UTC, atomic, db, utcnow
from core.errors import InvalidInput
from core.timeutil import format_day, format_local, local_today
from inventory import inspections, maintenance, service, training, training_requests
from inventory.models import Asset, Category, InspectionKind, InspectionOutcome, School
from inventory.upkeep_forms import (
    CategoryTrainingForm,
    ConfirmForm,
    DeclineRequestForm,
    GrantRequestForm,
    GrantTrainingForm,
    InspectionRecordForm,
    InspectionScheduleForm,
    IntervalForm,
    MaintenanceForm,
    RevokeForm,
)
from inventory.views import affected as affected_views
from inventory.views import bp
from web.forms import refusal_shown, show_errors

#: Maintenance windows are listed from this far back (older ones are in the audit log).
MAINTENANCE_HISTORY = dt.timedelta(days=3 * 365)
FAR_FUTURE = dt.datetime(2200, 1, 1, tzinfo=UTC)


def _managed_asset(asset_id: int) -> Asset:
    """The asset, if the signed-in person manages its School: 404 if there is none, else 403."""
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    return asset


def _managed_school(school_id: int) -> School:
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)
    return school


# --- Maintenance --------------------------------------------------------------------------------


def _maintenance_page(asset: Asset, form: MaintenanceForm, status: int = 200):
    now = utcnow()
    windows = maintenance.maintenance_windows(db.session, asset, now - MAINTENANCE_HISTORY, FAR_FUTURE)
    planned = [w for w in windows if w.end_at > now]
    past = [w for w in reversed(windows) if w.end_at <= now]
    clashes = {
        w.id: asset_changes.bookings_clashing_with(db.session, asset, w.start_at, w.end_at) for w in planned
    }
    cancel_forms = {w.id: ConfirmForm(formdata=None, prefix=f"cancel-{w.id}") for w in planned}
    return (
        render_template(
            "inventory/upkeep_maintenance.html",
            asset=asset,
            form=form,
            planned=planned,
            past=past,
            clashes=clashes,
            cancel_forms=cancel_forms,
            now=now,
        ),
        status,
    )


@bp.route("/assets/<int:asset_id>/maintenance", methods=["GET", "POST"])
@login_required
def asset_maintenance(asset_id: int):
    asset = _managed_asset(asset_id)
    form = MaintenanceForm()
    if not form.is_submitted():
        return _maintenance_page(asset, form)
    if form.validate():
        decisions = affected_views.submitted_decisions()
        try:
            # One unit for the listing, the command (which joins it) and the confirmation check (core/db.py).
            with atomic(db.session, current_user):
                affected = (
                    disruption.affected_by_window(db.session, asset, form.start_at.data, form.end_at.data)
                    if (form.start_at.data and form.end_at.data)
                    else disruption.Affected()
                )
                window = asset_changes.schedule_maintenance(
                    db.session,
                    current_user,
                    asset,
                    form.start_at.data,
                    form.end_at.data,
                    form.reason.data,
                    form.cost.data,
                    decisions,
                )
                affected_views.require_decisions(affected, decisions)
                start_at, end_at, settlement = window.start_at, window.end_at, window.settlement
        except affected_views.ConfirmationNeeded as needed:
            return affected_views.confirmation_page(
                needed.affected,
                title=f"Maintenance of {asset.name} overlaps bookings",
                intro=(
                    f"Maintenance from {format_local(form.start_at.data)} to {format_local(form.end_at.data)} overlaps "
                    "these confirmed bookings. Choose, for all or for each, whether to cancel them with notice or "
                    "keep them (the person is told the maintenance overlaps their booking)."
                ),
                confirm_label="Confirm and schedule the maintenance",
                back=url_for("inventory.asset_maintenance", asset_id=asset.id),
                asset=asset,
            )
        except InvalidInput as error:
            show_errors(form, error)
        else:
            flash(
                f"Maintenance scheduled from {format_local(start_at)} to {format_local(end_at)}.", "success"
            )
            if settlement:
                flash(settlement.summary(), "success")
            return redirect(url_for("inventory.asset_maintenance", asset_id=asset.id))
    return _maintenance_page(asset, form, 400)


@bp.post("/assets/<int:asset_id>/maintenance/<int:window_id>/cancel")
@login_required
def cancel_maintenance(asset_id: int, window_id: int):
    asset = _managed_asset(asset_id)
    window = maintenance.get_maintenance_window(db.session, asset, window_id)
    form = ConfirmForm(prefix=f"cancel-{window.id}")
    if not form.validate_on_submit():
        abort(400)
    with refusal_shown() as outcome:
        maintenance.cancel_maintenance(db.session, current_user, window)
    if outcome.succeeded:
        flash("Maintenance window cancelled.", "success")
    return redirect(url_for("inventory.asset_maintenance", asset_id=asset.id))


# --- Inspections --------------------------------------------------------------------------------


def _inspections_page(
    asset: Asset,
    schedule_form: InspectionScheduleForm | None = None,
    record_forms: dict[int, InspectionRecordForm] | None = None,
    interval_forms: dict[int, IntervalForm] | None = None,
    status: int = 200,
):
    today = local_today()
    schedules = inspections.inspection_schedules(db.session, asset)
    record_forms = dict(record_forms or {})
    interval_forms = dict(interval_forms or {})
    remove_forms = {}
    for schedule in schedules:
        record_forms.setdefault(
            schedule.id, InspectionRecordForm(formdata=None, prefix=f"record-{schedule.id}", done_on=today)
        )
        interval_forms.setdefault(
            schedule.id,
            IntervalForm(
                formdata=None, prefix=f"interval-{schedule.id}", interval_days=schedule.interval_days
            ),
        )
        remove_forms[schedule.id] = ConfirmForm(formdata=None, prefix=f"remove-{schedule.id}")
    return (
        render_template(
            "inventory/upkeep_inspections.html",
            asset=asset,
            today=today,
            schedules=schedules,
            schedule_form=schedule_form or InspectionScheduleForm(formdata=None),
            record_forms=record_forms,
            interval_forms=interval_forms,
            remove_forms=remove_forms,
        ),
        status,
    )


@bp.route("/assets/<int:asset_id>/inspections", methods=["GET", "POST"])
@login_required
def asset_inspections(asset_id: int):
    asset = _managed_asset(asset_id)
    form = InspectionScheduleForm()
    if not form.is_submitted():
        return _inspections_page(asset)
    if form.validate():
        with refusal_shown(form) as outcome:
            schedule = inspections.add_inspection_schedule(
                db.session,
                current_user,
                asset,
                InspectionKind(form.kind.data),
                form.interval_days.data,
                form.last_done_on.data,
                form.first_due_on.data,
                local_today(),
            )
            message = (
                f"{schedule.kind.label} every {schedule.interval_days} days added; "
                f"next due {format_day(schedule.next_due_on)}."
            )
        if outcome.succeeded:
            flash(message, "success")
            return redirect(url_for("inventory.asset_inspections", asset_id=asset.id))
    return _inspections_page(asset, schedule_form=form, status=400)


@bp.post("/assets/<int:asset_id>/inspections/<int:schedule_id>/record")
@login_required
def record_inspection(asset_id: int, schedule_id: int):
    asset = _managed_asset(asset_id)
    schedule = inspections.get_inspection_schedule(db.session, asset, schedule_id)
    form = InspectionRecordForm(prefix=f"record-{schedule.id}")
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            inspections.record_inspection(
                db.session,
                current_user,
                schedule,
                form.done_on.data,
                form.performed_by.data,
                InspectionOutcome(form.outcome.data),
                form.note.data,
                form.cost.data,
                today=local_today(),
            )
            message = f"{schedule.kind.label} recorded; next due {format_day(schedule.next_due_on)}."
        if outcome.succeeded:
            flash(message, "success")
            return redirect(
                url_for("inventory.asset_inspections", asset_id=asset.id, _anchor=f"schedule-{schedule_id}")
            )
    return _inspections_page(asset, record_forms={schedule_id: form}, status=400)


@bp.post("/assets/<int:asset_id>/inspections/<int:schedule_id>/interval")
@login_required
def change_inspection_interval(asset_id: int, schedule_id: int):
    asset = _managed_asset(asset_id)
    schedule = inspections.get_inspection_schedule(db.session, asset, schedule_id)
    form = IntervalForm(prefix=f"interval-{schedule.id}")
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            inspections.update_inspection_schedule(
                db.session, current_user, schedule, form.interval_days.data
            )
            message = (
                f"{schedule.kind.label} now every {schedule.interval_days} days; "
                f"next due {format_day(schedule.next_due_on)}."
            )
        if outcome.succeeded:
            flash(message, "success")
            return redirect(
                url_for("inventory.asset_inspections", asset_id=asset.id, _anchor=f"schedule-{schedule_id}")
            )
    return _inspections_page(asset, interval_forms={schedule_id: form}, status=400)


@bp.post("/assets/<int:asset_id>/inspections/<int:schedule_id>/delete")
@login_required
def remove_inspection_schedule(asset_id: int, schedule_id: int):
    asset = _managed_asset(asset_id)
    schedule = inspections.get_inspection_schedule(db.session, asset, schedule_id)
    form = ConfirmForm(prefix=f"remove-{schedule.id}")
    if not form.validate_on_submit():
        abort(400)
    label = schedule.kind.label
    inspections.remove_inspection_schedule(db.session, current_user, schedule)
    flash(f"{label} schedule removed.", "success")
    return redirect(url_for("inventory.asset_inspections", asset_id=asset.id))


# --- Training -----------------------------------------------------------------------------------


def request_forms(
    requests, forms: dict | None = None
) -> dict[int, tuple[GrantRequestForm, DeclineRequestForm]]:
    """A Grant and a Decline form for each open training request (``forms``: ones to show as
    submitted, with their errors). The Grant form offers the asset, or its category in its School."""
    forms = dict(forms or {})
    for training_request in requests:
        if training_request.id not in forms:
            forms[training_request.id] = (
                GrantRequestForm(formdata=None, prefix=f"grant-{training_request.id}"),
                DeclineRequestForm(formdata=None, prefix=f"decline-{training_request.id}"),
            )
        scope_choices(forms[training_request.id][0], training_request.asset)
    return forms


def scope_choices(form: GrantRequestForm, asset: Asset) -> None:
    form.scope.choices = [SelectChoice("asset", f"{asset.name} only")]
    if asset.category is not None:
        form.scope.choices.append(
            SelectChoice("category", f"Every {asset.category.name} asset of {asset.school.code}")
        )


def _training_page(
    asset: Asset,
    form: GrantTrainingForm | None = None,
    revoke_forms: dict[int, RevokeForm] | None = None,
    status: int = 200,
    decision_forms: dict | None = None,
):
    today = local_today()
    requests = training_requests.open_training_requests(db.session, asset=asset)
    records = training.training_records(db.session, asset)
    current = [g for g in records if g.is_current(today)]
    past = [g for g in records if not g.is_current(today)]
    revoke_forms = dict(revoke_forms or {})
    for grant in current:
        if grant.asset_id == asset.id:
            revoke_forms.setdefault(grant.id, RevokeForm(formdata=None, prefix=f"revoke-{grant.id}"))
    return (
        render_template(
            "inventory/upkeep_training.html",
            asset=asset,
            today=today,
            current=current,
            past=past,
            form=form or GrantTrainingForm(formdata=None, granted_on=today),
            revoke_forms=revoke_forms,
            requests=requests,
            decision_forms=request_forms(requests, decision_forms),
            state=lambda grant: training.training_state(grant, today),
        ),
        status,
    )


@bp.route("/assets/<int:asset_id>/training", methods=["GET", "POST"])
@login_required
def asset_training(asset_id: int):
    asset = _managed_asset(asset_id)
    form = GrantTrainingForm()
    if not form.is_submitted():
        return _training_page(asset)
    if form.validate():
        with refusal_shown(form) as outcome:
            person = training.person_by_email(db.session, form.email.data)
            training.grant_training(
                db.session,
                current_user,
                person,
                asset=asset,
                granted_on=form.granted_on.data,
                expires_on=form.expires_on.data,
                note=form.note.data,
                today=local_today(),
            )
            message = f"{person.name} is now authorised to use {asset.name}."
        if outcome.succeeded:
            flash(message, "success")
            return redirect(url_for("inventory.asset_training", asset_id=asset.id))
    return _training_page(asset, form=form, status=400)


@bp.post("/assets/<int:asset_id>/training/<int:authorisation_id>/revoke")
@login_required
def revoke_asset_training(asset_id: int, authorisation_id: int):
    asset = _managed_asset(asset_id)
    grant = training.get_training_authorisation(db.session, authorisation_id)
    if grant.asset_id != asset.id:
        abort(404)
    return _revoke(
        grant,
        asset.name,
        url_for("inventory.asset_training", asset_id=asset.id),
        lambda forms: _training_page(asset, revoke_forms=forms, status=400),
    )


def _revoke(grant, what: str, back: str, page):
    """Revoke a training authorisation from its revoke form; ``page(forms)`` shows the form's
    errors on the page it came from."""
    form = RevokeForm(prefix=f"revoke-{grant.id}")
    if form.validate_on_submit():
        decisions = affected_views.submitted_decisions()
        try:
            # One unit for the listing, the command (which joins it) and the confirmation check (core/db.py).
            with atomic(db.session, current_user):
                affected = disruption.affected_by_revocation(db.session, grant)
                asset_changes.revoke_training(
                    db.session, current_user, grant, form.reason.data, decisions=decisions
                )
                affected_views.require_decisions(affected, decisions)
                settlement = grant.settlement
        except affected_views.ConfirmationNeeded as needed:
            return affected_views.confirmation_page(
                needed.affected,
                title=f"Revoke {grant.user.name}'s authorisation for {what}?",
                intro=(
                    f"{grant.user.name} has these confirmed bookings that only this authorisation allows. Choose, "
                    "for all or for each, whether to cancel them with notice or keep them (the person is told "
                    "their authorisation was revoked)."
                ),
                confirm_label="Confirm and revoke",
                back=back,
            )
        except InvalidInput as error:
            if not error.field_errors:  # already revoked: nothing to correct on the form
                flash(error.message, "error")
                return redirect(back)
            show_errors(form, error)
        else:
            flash(f"{grant.user.name}'s authorisation for {what} revoked.", "success")
            if settlement:
                flash(settlement.summary(), "success")
            return redirect(back)
    return page({grant.id: form})


def _school_training_page(
    school: School,
    form: CategoryTrainingForm | None = None,
    revoke_forms: dict[int, RevokeForm] | None = None,
    status: int = 200,
    decision_forms: dict | None = None,
):
    today = local_today()
    requests = training_requests.open_training_requests(db.session, school=school)
    records = training.school_training_records(db.session, school)
    current = [g for g in records if g.is_current(today)]
    past = [g for g in records if not g.is_current(today)]
    if form is None:
        form = CategoryTrainingForm(formdata=None, granted_on=today)
        _category_choices(form)
    revoke_forms = dict(revoke_forms or {})
    for grant in current:
        revoke_forms.setdefault(grant.id, RevokeForm(formdata=None, prefix=f"revoke-{grant.id}"))
    return (
        render_template(
            "inventory/upkeep_school_training.html",
            school=school,
            today=today,
            current=current,
            past=past,
            form=form,
            revoke_forms=revoke_forms,
            requests=requests,
            decision_forms=request_forms(requests, decision_forms),
            state=lambda grant: training.training_state(grant, today),
        ),
        status,
    )


def _category_choices(form: CategoryTrainingForm) -> None:
    form.category_id.choices = [SelectChoice(0, "Choose a category")] + [
        SelectChoice(category.id, category.name) for category in service.list_categories(db.session)
    ]


@bp.route("/schools/<int:school_id>/training", methods=["GET", "POST"])
@login_required
def school_training(school_id: int):
    school = _managed_school(school_id)
    form = CategoryTrainingForm()
    _category_choices(form)
    if not form.is_submitted():
        return _school_training_page(school)
    if form.validate():
        category = db.session.get(Category, form.category_id.data) if form.category_id.data else None
        with refusal_shown(form) as outcome:
            if category is None:
                raise InvalidInput(field_errors={"category_id": ["Choose a category from the list."]})
            person = training.person_by_email(db.session, form.email.data)
            training.grant_training(
                db.session,
                current_user,
                person,
                category=category,
                school=school,
                granted_on=form.granted_on.data,
                expires_on=form.expires_on.data,
                note=form.note.data,
                today=local_today(),
            )
            message = f"{person.name} is now authorised to use every {category.name} asset of {school.name}."
        if outcome.succeeded:
            flash(message, "success")
            return redirect(url_for("inventory.school_training", school_id=school.id))
    return _school_training_page(school, form=form, status=400)


@bp.post("/schools/<int:school_id>/training/<int:authorisation_id>/revoke")
@login_required
def revoke_school_training(school_id: int, authorisation_id: int):
    school = _managed_school(school_id)
    grant = training.get_training_authorisation(db.session, authorisation_id)
    if grant.school_id != school.id or grant.category_id is None:
        abort(404)
    return _revoke(
        grant,
        grant.category.name,
        url_for("inventory.school_training", school_id=school.id),
        lambda forms: _school_training_page(school, revoke_forms=forms, status=400),
    )
