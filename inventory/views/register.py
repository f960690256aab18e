"""The register: managers add, edit, retire and delete their Schools' assets."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, fields, replace

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import Role, User
from accounts.permissions import require_school_manager, roles_required
from bookings import asset_changes, disruption
from core.db import atomic, db
from core.errors import InvalidInput, StaleVersion
from core.money import format_pounds, parse_pounds
from inventory import catalogue, service
from inventory.forms import AssetForm, CategoryForm, StatusForm
from inventory.models import AssetStatus, Location, School
from inventory.service import MAX_SPANS_A_DAY
from inventory.views import affected as affected_views
from inventory.views import bp
from web.forms import refusal_shown, show_errors

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@bp.get("/register")
@roles_required(Role.MANAGER)
def register():
    """Every asset of the Schools the person manages (all Schools for admins), retired ones too."""
    filters, problems = catalogue.parse_filters(request.args, include_unbookable=True)
    schools = _manageable_schools()
    if filters.school_id is not None and not current_user.manages(filters.school_id):
        abort(403)
    if not current_user.is_admin:
        filters = replace(filters, school_ids=frozenset(s.id for s in schools))
    page = catalogue.search(db.session, current_user, filters)
    return render_template(
        "inventory/register.html",
        page=page,
        filters=filters,
        problems=problems,
        schools=schools,
        choices=catalogue.filter_choices(db.session),
        category_form=CategoryForm(),
        sort_labels=catalogue.SORT_LABELS,
    )


def _manageable_schools() -> list[School]:
    if current_user.is_admin:
        return service.list_schools(db.session)
    return list(current_user.managed_schools)


@bp.post("/categories")
@roles_required(Role.MANAGER)
def create_category():
    form = CategoryForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            category = service.create_category(
                db.session, current_user, form.name.data, form.description.data or ""
            )
        if outcome.succeeded:
            flash(f"Added the category {category.name}.", "success")
            return redirect(url_for("inventory.register"))
    for messages in [*form.form_errors, *form.name.errors]:
        flash(messages, "error")
    return redirect(url_for("inventory.register"))


def _set_choices(form: AssetForm, school: School) -> None:
    form.category_id.choices = [SelectChoice(0, "No category")] + [
        SelectChoice(c.id, c.name) for c in service.list_categories(db.session)
    ]
    locations = db.session.scalars(
        select(Location).where(Location.school_id == school.id).order_by(Location.building, Location.room)
    ).all()
    form.location_id.choices = [SelectChoice(0, "Not recorded")] + [
        SelectChoice(loc.id, f"{loc.label} ({loc.site})") for loc in locations
    ]
    people = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)).all()
    form.contact_id.choices = [SelectChoice(0, "Nobody named")] + [
        SelectChoice(p.id, f"{p.name} ({p.home_school.code})" if p.home_school else p.name) for p in people
    ]


def _fill_form(form: AssetForm, data: service.AssetInput) -> None:
    for name in (
        "tag",
        "name",
        "manufacturer",
        "model",
        "serial_number",
        "description",
        "purchase_date",
        "funding_source",
        "bookable",
        "shareable",
        "requires_approval",
        "training_required",
        "block_when_inspection_overdue",
        "min_notice_minutes",
        "max_booking_minutes",
        "turnaround_minutes",
        "portable",
        "checkin_required",
        "no_show_release_minutes",  # loans and check-in
        "useful_life_years",  # capital planning
    ):
        getattr(form, name).data = getattr(data, name)
    form.category_id.data = data.category_id or 0
    form.location_id.data = data.location_id or 0
    form.contact_id.data = data.contact_id or 0
    form.purchase_cost.data = format_pounds(data.purchase_cost_pence, symbol=False)
    form.hourly_rate.data = format_pounds(data.hourly_rate_pence, symbol=False)
    form.replacement_cost.data = format_pounds(data.replacement_cost_pence, symbol=False)
    for day, entry in enumerate(form.hours.entries):
        spans = sorted((opens, closes) for weekday, opens, closes in data.weekly_hours if weekday == day)
        entry.opens.data, entry.closes.data = spans[0] if spans else (None, None)
        while entry.extra.entries:  # the spans after the first, then one blank to add another
            entry.extra.pop_entry()
        for opens, closes in [*spans[1:MAX_SPANS_A_DAY], (None, None)]:
            entry.extra.append_entry({"opens": opens, "closes": closes})


def _spans(form: AssetForm) -> list[tuple[int, dt.time, dt.time]]:
    """Every span of bookable hours the form holds, each weekday's first and its others."""
    return [
        (day, span.opens.data, span.closes.data)
        for day, entry in enumerate(form.hours.entries)
        for span in (entry, *(extra.form for extra in entry.extra.entries))
        if span.opens.data and span.closes.data
    ]


def _snapshot(data: service.AssetInput) -> str:
    """An asset's settings as the form's hidden ``original`` field carries them (JSON)."""
    values = asdict(data)
    values["weekly_hours"] = [
        (day, f"{opens:%H:%M:%S}", f"{closes:%H:%M:%S}") for day, opens, closes in data.weekly_hours
    ]
    values["purchase_date"] = data.purchase_date.isoformat() if data.purchase_date else None
    return json.dumps(values, separators=(",", ":"))


def _from_snapshot(text: str | None) -> service.AssetInput | None:
    """The settings a form was filled from; None if the field is missing or not ours."""
    try:
        values = json.loads(text or "")
        values = {f.name: values[f.name] for f in fields(service.AssetInput)}
        values["weekly_hours"] = [
            (int(day), dt.time.fromisoformat(opens), dt.time.fromisoformat(closes))
            for day, opens, closes in values["weekly_hours"]
        ]
        if values["purchase_date"]:
            values["purchase_date"] = dt.date.fromisoformat(values["purchase_date"])
        return service.AssetInput(**values)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _form_version(form: AssetForm) -> int | None:
    text = (form.version.data or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def _mark_current(form: AssetForm, asset) -> None:
    form.version.data = str(asset.version)
    form.original.data = _snapshot(service.AssetInput.from_asset(asset))


def _input_from_form(form: AssetForm) -> service.AssetInput:
    """The values of a form that has passed its own validation, as an AssetInput."""
    weekly_hours = _spans(form)
    return service.AssetInput(
        tag=form.tag.data or "",
        name=form.name.data or "",
        category_id=form.category_id.data or None,
        location_id=form.location_id.data or None,
        manufacturer=form.manufacturer.data or "",
        model=form.model.data or "",
        serial_number=form.serial_number.data or "",
        description=form.description.data or "",
        purchase_date=form.purchase_date.data,
        purchase_cost_pence=parse_pounds(form.purchase_cost.data),
        funding_source=form.funding_source.data or "",
        contact_id=form.contact_id.data or None,
        hourly_rate_pence=parse_pounds(form.hourly_rate.data) or 0,
        bookable=form.bookable.data,
        shareable=form.shareable.data,
        requires_approval=form.requires_approval.data,
        training_required=form.training_required.data,
        block_when_inspection_overdue=form.block_when_inspection_overdue.data,
        min_notice_minutes=form.min_notice_minutes.data or 0,
        max_booking_minutes=form.max_booking_minutes.data,
        turnaround_minutes=form.turnaround_minutes.data or 0,
        portable=form.portable.data,  # loans and check-in
        checkin_required=form.checkin_required.data,
        no_show_release_minutes=form.no_show_release_minutes.data,
        useful_life_years=form.useful_life_years.data,  # capital planning
        replacement_cost_pence=parse_pounds(form.replacement_cost.data),
        weekly_hours=weekly_hours,
    )


_FIELD_FOR = {
    "purchase_cost_pence": "purchase_cost",
    "hourly_rate_pence": "hourly_rate",
    "weekly_hours": "hours",
    "replacement_cost_pence": "replacement_cost",
}


def _show(form: AssetForm, error: InvalidInput) -> None:
    error.field_errors = {
        _FIELD_FOR.get(name, name): messages for name, messages in error.field_errors.items()
    }
    show_errors(form, error)


@bp.route("/schools/<int:school_id>/assets/new", methods=["GET", "POST"])
@login_required
def new_asset(school_id: int):
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)
    form = AssetForm()
    _set_choices(form, school)
    if request.method == "GET":
        _fill_form(form, service.AssetInput(tag="", name="", contact_id=current_user.id))
    if form.validate_on_submit():
        with refusal_shown(form, field_names=_FIELD_FOR) as outcome:
            asset = service.create_asset(db.session, current_user, school, _input_from_form(form))
        if outcome.succeeded:
            flash(f"Added {asset.name} ({asset.tag}) to {school.name}'s register.", "success")
            return redirect(url_for("inventory.asset", asset_id=asset.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "inventory/asset_form.html", form=form, school=school, asset=None, weekdays=WEEKDAYS
    ), status


@bp.route("/assets/<int:asset_id>/edit", methods=["GET", "POST"])
@login_required
def edit_asset(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    form = AssetForm()
    _set_choices(form, asset.school)
    if request.method == "GET":
        _fill_form(form, service.AssetInput.from_asset(asset))
        _mark_current(form, asset)
    if form.validate_on_submit():
        data = _input_from_form(form)
        decisions = affected_views.submitted_decisions()
        try:
            # One unit for the listing, the command (which joins it) and the confirmation check (core/db.py).
            with atomic(db.session, current_user):
                service.lock_asset(db.session, asset)
                read = _from_snapshot(form.original.data)
                try:
                    changes = (
                        service.describe_changes(read, service.AssetInput.from_asset(asset)) if read else []
                    )
                except (TypeError, ValueError):  # a hand-edited hidden field: say only that it changed
                    changes = []
                service.check_version(asset, _form_version(form), changes)
                affected = disruption.affected_by_hours(db.session, asset, data.weekly_hours)
                settlement = asset_changes.update_asset(db.session, current_user, asset, data, decisions)
                affected_views.require_decisions(affected, decisions)
        except affected_views.ConfirmationNeeded as needed:
            return affected_views.confirmation_page(
                needed.affected,
                title=f"Narrow {asset.name}'s bookable hours?",
                intro=(
                    f"These bookings fit {asset.name}'s current hours but not the new ones. Choose, for all or "
                    "for each, whether to cancel them (the person is told why) or keep them (the person is told "
                    "of the change)."
                ),
                confirm_label="Confirm and save",
                back=url_for("inventory.edit_asset", asset_id=asset.id),
                asset=asset,
            )
        except StaleVersion as stale:
            # Keep what they typed; say what changed; a second save is then made knowingly.
            form.form_errors.append(
                "Somebody changed this asset after you opened this form, so nothing was saved. "
                + ("What changed: " + "; ".join(stale.changes) + ". " if stale.changes else "")
                + "Check your changes against these and save again to keep yours."
            )
            _mark_current(form, asset)
            return render_template(
                "inventory/asset_form.html", form=form, school=asset.school, asset=asset, weekdays=WEEKDAYS
            ), 409
        except InvalidInput as error:
            _show(form, error)
        else:
            flash(f"Saved {asset.name}.", "success")
            if settlement:
                flash(settlement.summary(), "success")
            return redirect(url_for("inventory.asset", asset_id=asset.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "inventory/asset_form.html", form=form, school=asset.school, asset=asset, weekdays=WEEKDAYS
    ), status


@bp.post("/assets/<int:asset_id>/status")
@login_required
def change_status(asset_id: int):
    """Change the status; when that ends or disturbs bookings, first list them for the manager to
    confirm (retiring) or to decide about (maintenance, out of service)."""
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    form = StatusForm()
    if form.validate_on_submit():
        status = AssetStatus(form.status.data)
        decisions = affected_views.submitted_decisions()
        try:
            # One unit for the listing, the command (which joins it) and the confirmation check (core/db.py).
            with atomic(db.session, current_user):
                affected = disruption.affected_by_status(db.session, asset, status)
                settlement = asset_changes.change_asset_status(
                    db.session, current_user, asset, status, form.reason.data or "", decisions
                )
                affected_views.require_decisions(affected, decisions)
        except affected_views.ConfirmationNeeded as needed:
            label = status.label.lower()
            return affected_views.confirmation_page(
                needed.affected,
                title=(
                    f"Make {asset.name} {label}?"
                    if needed.affected.ends_all
                    else f"Change the status of {asset.name}?"
                ),
                intro=(
                    f"Making {asset.name} {label} ends the bookings below, with your reason."
                    if needed.affected.ends_all
                    else f"These bookings fall while {asset.name} will be {label}. Choose, for all or for each, "
                    "whether to cancel them (the person is told why) or keep them (the person is told of the change)."
                ),
                confirm_label=f"Confirm: make it {label}",
                back=url_for("inventory.asset", asset_id=asset.id),
                asset=asset,
            )
        except InvalidInput as error:
            for messages in error.field_errors.values():
                for message in messages:
                    flash(message, "error")
        else:
            flash(f"{asset.name} is now {asset.status.label.lower()}.", "success")
            if settlement:
                flash(settlement.summary(), "success")
    else:
        flash("Choose one of the statuses.", "error")
    return redirect(url_for("inventory.asset", asset_id=asset.id))


@bp.post("/assets/<int:asset_id>/delete")
@login_required
def delete_asset(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    name, school_id = asset.name, asset.school_id
    with refusal_shown() as outcome:
        asset_changes.delete_asset(db.session, current_user, asset, current_app.instance_path)
    if not outcome.succeeded:
        return redirect(url_for("inventory.asset", asset_id=asset_id))
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("inventory.register", school=school_id))
