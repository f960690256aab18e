"""A School's booking quotas: hours per person per period, for its own people and for others."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.permissions import require_school_manager
from bookings import quotas
from bookings.forms import QuotaForm, parse_hours
from bookings.views import bp
from core.db import db
from inventory.models import Asset
from inventory.service import get_school, list_categories
from web.forms import refusal_shown


def _scope_choices(school_id: int) -> dict[str, list[SelectChoice]]:
    assets = db.session.scalars(
        select(Asset).where(Asset.school_id == school_id, Asset.bookable.is_(True)).order_by(Asset.name)
    ).all()
    return {
        "Categories of the School's equipment": [
            SelectChoice(f"category:{c.id}", c.name) for c in list_categories(db.session)
        ],
        "One asset": [SelectChoice(f"asset:{a.id}", f"{a.name} ({a.tag})") for a in assets],
    }


_QUOTA_FIELDS = {"own_school_minutes": "own_school_hours", "other_school_minutes": "other_school_hours"}


@bp.route("/schools/<int:school_id>/quotas", methods=["GET", "POST"])
@login_required
def quotas_page(school_id: int):
    school = get_school(db.session, school_id)
    require_school_manager(current_user, school.id)  # before reading the form: 403, not 400
    form = QuotaForm()
    form.scope.choices = _scope_choices(school.id)
    if form.validate_on_submit():
        kind, _, raw_id = form.scope.data.partition(":")
        with refusal_shown(form, field_names=_QUOTA_FIELDS) as outcome:
            quotas.create_quota(
                db.session,
                current_user,
                school.id,
                asset_id=int(raw_id) if kind == "asset" else None,
                category_id=int(raw_id) if kind == "category" else None,
                period=form.period.data,
                own_school_minutes=parse_hours(form.own_school_hours.data),
                other_school_minutes=parse_hours(form.other_school_hours.data),
            )
        if outcome.succeeded:
            flash("Added the quota.", "success")
            return redirect(url_for("bookings.quotas_page", school_id=school.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "bookings/quotas.html",
        school=school,
        form=form,
        rows=quotas.list_quotas(db.session, school.id),
        describe=quotas.describe_minutes,
    ), status


@bp.post("/quotas/<int:quota_id>/delete")
@login_required
def delete_quota(quota_id: int):
    quota = quotas.delete_quota(db.session, current_user, quota_id)
    flash("Deleted the quota. Bookings already made stay.", "success")
    return redirect(url_for("bookings.quotas_page", school_id=quota.school_id))
