"""The in-app notification list and each person's e-mail preferences."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from core.db import db, utcnow
from core.errors import InvalidInput
from notifications import service
from notifications.forms import PreferencesForm
from web.forms import show_errors

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _unread() -> dict:
    def unread_notifications() -> int:
        """For the navigation: how many notices the signed-in person has not read."""
        if not current_user.is_authenticated:
            return 0
        return service.unread_count(db.session, current_user)

    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required
def index():
    notices = service.notices_for(db.session, current_user)
    return render_template("notifications/index.html", notices=notices, limit=service.LIST_LIMIT)


@bp.post("/notifications/<int:notice_id>/read")
@login_required
def mark_read(notice_id: int):
    service.mark_read(db.session, current_user, notice_id, utcnow())
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    count = service.mark_all_read(db.session, current_user, utcnow())
    if count:
        flash(f"Marked {count} notification{'' if count == 1 else 's'} read.", "success")
    else:
        flash("Nothing was unread.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm()
    if request.method == "GET":
        form.events.data = [name for name in service.EVENTS if service.wants_email(current_user, name)]
    if form.validate_on_submit():
        try:
            service.set_email_preferences(db.session, current_user, form.events.data or [])
        except InvalidInput as error:
            show_errors(form, error)
        else:
            flash("Your e-mail preferences are saved. Notices still appear in Kitshare.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form), 400 if form.is_submitted() else 200
