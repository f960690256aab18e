"""The home page: what matters to the signed-in person, by role."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from core.db import db, utcnow
from dashboard.service import home_for

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def home():
    home = home_for(db.session, current_user, utcnow())
    return render_template("dashboard/home.html", home=home)
