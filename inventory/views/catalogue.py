"""The catalogue every signed-in person searches, and each asset's page."""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import User
from bookings.calendar import asset_days
from core.audit import AuditEntry
from core.db import db, utcnow
from core.timeutil import local_today
from inventory import catalogue, maintenance, service, training
from inventory.forms import StatusForm
from inventory.training_requests import training_need
from inventory.upkeep_forms import TrainingRequestForm
from inventory.views import bp


@bp.get("/catalogue")
@login_required
def catalogue_page():
    filters, problems = catalogue.parse_filters(request.args)
    page = catalogue.search(db.session, current_user, filters)
    return render_template(
        "inventory/catalogue.html",
        page=page,
        filters=filters,
        problems=problems,
        choices=catalogue.filter_choices(db.session),
        sort_labels=catalogue.SORT_LABELS,
        per_page_choices=catalogue.PER_PAGE_CHOICES,
        needs_approval=lambda asset: catalogue.needs_approval(current_user, asset),
        args=request.args,
        window=catalogue.booking_window(filters),
    )


@bp.get("/assets/<int:asset_id>")
@login_required
def asset(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    now = utcnow()
    today = local_today(now)
    manages = current_user.manages(asset.school_id)
    history, actor_names = _history(asset.id) if manages else ([], {})
    may_book = asset.bookable and (asset.shareable or asset.school_id == current_user.home_school_id)
    context = {
        "asset": asset,
        "days": asset_days(db.session, current_user, asset, today, days=14, now=now),
        "today": today,
        "manages": manages,
        "needs_approval": catalogue.needs_approval(current_user, asset),
        "window": catalogue.window_from_args(request.args),  # the time searched for, for the Book link
        "may_book": may_book,
        # Training the person lacks is said before they try to book, with a way to ask for it.
        "training_need": training_need(db.session, current_user, asset, today)
        if may_book and not asset.status.withdrawn
        else None,
        "training_form": TrainingRequestForm(formdata=None),
        "status_form": StatusForm(status=asset.status.value) if manages else None,
        "history": history,
        "actor_names": actor_names,
    }
    context.update(_upkeep(asset, today, manages))
    return render_template("inventory/asset.html", **context)


def _history(asset_id: int) -> tuple[list[AuditEntry], dict[int, str]]:
    """The asset's last 50 audit entries, newest first, and the names of who made them."""
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "asset", AuditEntry.object_id == asset_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(50)
        )
    )
    actor_ids = {entry.actor_id for entry in entries if entry.actor_id}
    names = {
        user_id: name
        for user_id, name in db.session.execute(select(User.id, User.name).where(User.id.in_(actor_ids)))
    }
    return entries, names


def _upkeep(asset, today: dt.date, manages: bool) -> dict:
    """Maintenance, inspections and training shown on the asset page."""

    return {
        "maintenance": maintenance.maintenance_windows(
            db.session, asset, utcnow() - dt.timedelta(days=365), utcnow() + dt.timedelta(days=365)
        ),
        "inspections": asset.inspections,
        "authorised": training.authorised_people(db.session, asset, today)
        if asset.training_required or manages
        else [],
    }
