"""Schools and their locations."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from accounts.models import Role
from accounts.permissions import require_school_manager, roles_required
from bookings.approvals import waiting_by_school
from core.db import db, utcnow
from inventory import service
from inventory.forms import LocationForm, SchoolForm
from inventory.views import bp
from web.forms import refusal_shown


def _schools_page(form: SchoolForm | None) -> str:
    return render_template(
        "inventory/schools.html",
        summaries=service.school_summaries(db.session),
        waiting=waiting_by_school(db.session, utcnow()),
        form=form,
    )


@bp.get("/schools")
@login_required
def schools():
    return _schools_page(SchoolForm() if current_user.is_admin else None)


@bp.post("/schools")
@roles_required(Role.ADMIN)
def create_school():
    form = SchoolForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            school = service.create_school(db.session, current_user, form.code.data, form.name.data)
        if outcome.succeeded:
            flash(f"Added {school.name} ({school.code}).", "success")
            return redirect(url_for("inventory.school", school_id=school.id))
    return _schools_page(form), 400


@bp.get("/schools/<int:school_id>")
@login_required
def school(school_id: int):
    school = service.get_school(db.session, school_id)
    form = LocationForm() if current_user.manages(school.id) else None
    return render_template("inventory/school.html", school=school, form=form)


@bp.post("/schools/<int:school_id>/locations")
@login_required
def add_location(school_id: int):
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)  # before reading the form: 403, not 400
    form = LocationForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            location = service.add_location(
                db.session, current_user, school, form.site.data, form.building.data, form.room.data
            )
        if outcome.succeeded:
            flash(f"Added {location.label} to {school.name}.", "success")
            return redirect(url_for("inventory.school", school_id=school.id))
    return render_template("inventory/school.html", school=school, form=form), 400
