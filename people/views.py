"""Profiles, finding an expert, contribution records and their downloads, and a School's team."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from core.db import db
from core.errors import InvalidInput, NotAllowed
from core.timeutil import local_today
from inventory import service as inventory_service
from inventory.models import Asset, AssetTechnician, Category, School
from people import contribution, service, team
from people.forms import (
    SUGGESTIONS_ID,
    ExpertSearchForm,
    NameTechnicianForm,
    ProfileForm,
    RecordPeriodForm,
    RemoveTechnicianForm,
    registration_fields,
    visibility_fields,
)
from people.models import PARTS, Visibility
from web.forms import show_errors, whole_id
from web.responses import csv_download

bp = Blueprint("people", __name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global("asset_technicians")
def asset_technicians(asset: Asset) -> list[Any]:
    """For the asset page: the people who look after it (its contact and named technicians)."""
    return inventory_service.asset_technicians(db.session, asset)


# --- Find an expert -----------------------------------------------------------------------------


def _search_form() -> tuple[ExpertSearchForm, bool]:
    form = ExpertSearchForm(formdata=request.args if request.args else None)
    looked_after = (
        select(Asset)
        .where(
            (Asset.contact_id.is_not(None)) | Asset.id.in_(select(AssetTechnician.asset_id)),
            Asset.status.not_in(("retired", "disposed")),
        )
        .order_by(Asset.name, Asset.id)
    )
    form.asset.choices = [SelectChoice(0, "Any equipment")] + [
        SelectChoice(a.id, f"{a.name} ({a.tag})") for a in db.session.scalars(looked_after)
    ]
    form.category.choices = [SelectChoice(0, "Any category")] + [
        SelectChoice(c.id, c.name) for c in db.session.scalars(select(Category).order_by(Category.name))
    ]
    form.school.choices = [SelectChoice(0, "Any School")] + [
        SelectChoice(s.id, s.name) for s in db.session.scalars(select(School).order_by(School.name))
    ]
    if not request.args:
        return form, True
    return form, form.validate()


@bp.get("/people")
@login_required
def search():
    form, valid = _search_form()
    people: list[service.PersonView] = []
    searched = bool(request.args)
    if valid:
        query = service.ExpertQuery(
            q=(form.q.data or "").strip(),
            technique=(form.technique.data or "").strip(),
            asset_id=form.asset.data or None,
            category_id=form.category.data or None,
            school_id=form.school.data or None,
        )
        try:
            people = service.find_experts(db.session, current_user, query)
        except InvalidInput as error:
            show_errors(form, error)
    return render_template(
        "people/search.html",
        form=form,
        people=people,
        searched=searched,
        suggestions=service.specialism_suggestions(db.session, current_user),
        suggestions_id=SUGGESTIONS_ID,
    )


# --- A profile ----------------------------------------------------------------------------------


def _period(form: RecordPeriodForm) -> tuple[dt.date, dt.date] | None:
    """The period asked for, the last twelve months when none was, or None when the form is wrong."""
    default_from, default_to = contribution.default_period(local_today())
    if not request.args.get("from") and not request.args.get("to"):
        form.period_from.data, form.period_to.data = default_from, default_to
        return default_from, default_to
    if not form.validate():
        return None
    period_from = form.period_from.data or default_from
    period_to = form.period_to.data or default_to
    try:
        contribution.check_period(period_from, period_to)
    except InvalidInput as error:
        show_errors(form, error)
        return None
    return period_from, period_to


@bp.get("/people/<int:user_id>")
@login_required
def profile(user_id: int):
    person = service.person_view(db.session, current_user, user_id)
    period_form = RecordPeriodForm(formdata=request.args if request.args else None)
    record = None
    if person.record_visible:
        period = _period(period_form)
        if period is not None:
            record = contribution.contribution_record(db.session, current_user, user_id, *period)
    return render_template(
        "people/profile.html",
        person=person,
        period_form=period_form,
        record=record,
        kinds=contribution.KINDS,
        may_edit=service.may_edit(current_user, person.user),
        parts=PARTS,
        Visibility=Visibility,
        download_query=request.query_string.decode() if record is not None else "",
    )


def _record_for_download(user_id: int) -> contribution.ContributionRecord:
    form = RecordPeriodForm(formdata=request.args if request.args else None)
    period = _period(form)
    if period is None:
        errors = {field.name: list(field.errors) for field in form if field.errors}
        raise InvalidInput(field_errors=errors)
    return contribution.contribution_record(db.session, current_user, user_id, *period)


def _filename(record: contribution.ContributionRecord, extension: str) -> str:
    return f"contribution-{record.person.id}-{record.period_from.isoformat()}-{record.period_to.isoformat()}.{extension}"


@bp.get("/people/<int:user_id>/record.csv")
@login_required
def record_csv(user_id: int):
    record = _record_for_download(user_id)
    return csv_download(contribution.record_csv(record), _filename(record, "csv"))


@bp.get("/people/<int:user_id>/record.xlsx")
@login_required
def record_xlsx(user_id: int):
    record = _record_for_download(user_id)
    response = Response(contribution.record_xlsx(record), content_type=XLSX_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(record, "xlsx")}"'
    return response


@bp.route("/people/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
def edit(user_id: int):
    person = service.person_view(db.session, current_user, user_id)
    if not service.may_edit(current_user, person.user):
        raise NotAllowed("Only the person themselves or an administrator can change a profile.")
    form = ProfileForm()
    if request.method == "GET":
        profile = person.profile
        form.role_title.data = profile.role_title if profile else ""
        form.specialisms.data = "\n".join(person.specialisms or [])
        held = {r.title: r.registered_on for r in person.registrations or []}
        for title, field in registration_fields(form):
            field.data = held.get(title)
        for part, field in visibility_fields(form):
            field.data = profile.visibility(part).value if profile else field.default
    elif form.validate_on_submit():
        data = service.ProfileInput(
            role_title=form.role_title.data or "",
            specialisms=service.parse_tags(
                (form.specialisms.data or "") + "\n" + (form.add_specialism.data or "")
            ),
            registrations=[(title, field.data) for title, field in registration_fields(form) if field.data],
            visibility={part: Visibility(field.data) for part, field in visibility_fields(form)},
        )
        try:
            service.save_profile(db.session, current_user, person.user, data)
        except InvalidInput as error:
            show_errors(form, error)
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("people.profile", user_id=user_id))
    return render_template(
        "people/edit.html",
        form=form,
        person=person,
        registrations=registration_fields(form),
        visibilities=visibility_fields(form),
        suggestions=service.specialism_suggestions(db.session, current_user),
        suggestions_id=SUGGESTIONS_ID,
    ), (200 if request.method == "GET" or not form.errors else 400)


# --- A School's team ----------------------------------------------------------------------------


def _name_form(view: team.Team) -> NameTechnicianForm:
    form = NameTechnicianForm()
    form.asset_id.choices = [SelectChoice(0, "Choose equipment")] + [
        SelectChoice(item.asset.id, f"{item.asset.name} ({item.asset.tag})") for item in view.coverage
    ]
    form.user_id.choices = [SelectChoice(0, "Choose a person")] + [
        SelectChoice(member.user.id, member.user.name) for member in view.members
    ]
    return form


@bp.get("/schools/<int:school_id>/team")
@login_required
def school_team(school_id: int):
    view = team.school_team(db.session, current_user, school_id)
    return render_template(
        "people/team.html",
        team=view,
        name_form=_name_form(view),
        remove_form=RemoveTechnicianForm(formdata=None),
    )


def _whole(value: str | None) -> int | None:
    try:
        return whole_id(value) if value else None
    except ValueError:
        return None


@bp.post("/schools/<int:school_id>/team/technicians")
@login_required
def name_technician(school_id: int):
    view = team.school_team(db.session, current_user, school_id)  # 403 for anyone but its managers
    form = _name_form(view)
    if not form.validate_on_submit():
        raise InvalidInput(
            " ".join(error for errors in form.errors.values() for error in errors) or "Choose both."
        )
    service.name_school_technician(db.session, current_user, school_id, form.asset_id.data, form.user_id.data)
    flash("Technician named.", "success")
    return redirect(url_for("people.school_team", school_id=school_id) + "#coverage-title")


@bp.post("/schools/<int:school_id>/team/technicians/remove")
@login_required
def remove_technician(school_id: int):
    team.school_team(db.session, current_user, school_id)  # 403 for anyone but its managers
    form = RemoveTechnicianForm()
    if not form.validate_on_submit():
        raise InvalidInput(" ".join(error for errors in form.errors.values() for error in errors))
    service.remove_school_technician(
        db.session, current_user, school_id, _whole(form.asset_id.data), _whole(form.user_id.data)
    )
    flash("Technician taken off the equipment.", "success")
    return redirect(url_for("people.school_team", school_id=school_id) + "#coverage-title")
