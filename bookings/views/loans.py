"""Loan pages: check-in (also from an asset's QR label), hand-over and return, the damage flag, the
list of loans. Two template globals feed pages this topic does not own: the booking page
(``around_booking``) and the asset page (``checkin_booking_for``).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from accounts.models import Role
from accounts.permissions import roles_required
from bookings import loans, service
from bookings.forms import HandOverForm, ReturnForm
from bookings.views import bp
from core.db import db, utcnow
from core.timeutil import format_local
from web.forms import refusal_shown
from web.responses import safe_next


def _safe_next(default: str) -> str:
    """Where a button asked to go back to: a path on this site only."""
    return safe_next(request.form.get("next") or request.args.get("next"), default)


# --- Template globals --------------------------------------------------------------------------


@bp.app_template_global()
def around_booking(booking):
    """Check-in, hand-over and return actions and overdue warnings for a booking's page."""
    return loans.around_booking(db.session, current_user, booking, utcnow())


@bp.app_template_global()
def checkin_booking_for(asset):
    """The signed-in person's booking of this asset they can check in to now, if any."""
    if not current_user.is_authenticated:
        return None
    return loans.checkin_candidate(db.session, current_user, asset.id, utcnow())


# --- Check-in ----------------------------------------------------------------------------------


@bp.post("/bookings/<int:booking_id>/check-in")
@login_required
def check_in(booking_id: int):
    with refusal_shown() as outcome:
        booking = loans.check_in(db.session, current_user, booking_id, utcnow())
    if not outcome.succeeded:
        return redirect(_safe_next(url_for("bookings.detail", booking_id=booking_id)))
    flash(f"Checked in to {booking.asset.name} until {format_local(booking.end_at, '%H:%M')}.", "success")
    return redirect(_safe_next(url_for("bookings.detail", booking_id=booking_id)))


# --- Loans -------------------------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>/hand-over", methods=["GET", "POST"])
@login_required
def hand_over(booking_id: int):
    booking = service.load_for_decision(db.session, current_user, booking_id)  # 404, or 403 for others
    form = HandOverForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            loans.hand_over(db.session, current_user, booking_id, form.condition.data, utcnow())
        if outcome.succeeded:
            flash(f"{booking.asset.name} is handed over to {booking.requester.name}.", "success")
            return redirect(url_for("bookings.detail", booking_id=booking_id))
        booking = service.load_for_decision(db.session, current_user, booking_id)
    status = 400 if form.is_submitted() else 200
    return render_template("bookings/loan_handover.html", booking=booking, form=form), status


@bp.route("/bookings/<int:booking_id>/return", methods=["GET", "POST"])
@login_required
def return_loan(booking_id: int):
    booking = service.load_for_decision(db.session, current_user, booking_id)
    form = ReturnForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            loans.return_loan(
                db.session, current_user, booking_id, form.condition.data, form.damaged.data, utcnow()
            )
        if outcome.succeeded:
            if form.damaged.data:
                flash(
                    f"{booking.asset.name} is back, damaged: it is flagged and "
                    f"{booking.asset.school.code}'s managers are told.",
                    "success",
                )
            else:
                flash(f"{booking.asset.name} is back from {booking.requester.name}.", "success")
            return redirect(url_for("bookings.detail", booking_id=booking_id))
        booking = service.load_for_decision(db.session, current_user, booking_id)
    status = 400 if form.is_submitted() else 200
    return render_template("bookings/loan_return.html", booking=booking, form=form), status


@bp.post("/assets/<int:asset_id>/damage/clear")
@login_required
def clear_damage(asset_id: int):
    with refusal_shown() as outcome:
        asset = loans.clear_damage(db.session, current_user, asset_id)
    if outcome.succeeded:
        flash(f"Cleared the damage flag on {asset.name}.", "success")
    return redirect(url_for("inventory.asset", asset_id=asset_id))


@bp.get("/loans")
@roles_required(Role.MANAGER)
def loan_list():
    now = utcnow()
    school_ids = None if current_user.is_admin else current_user.managed_school_ids
    return render_template(
        "bookings/loan_list.html",
        loans=loans.loans_for(db.session, school_ids, now),
        overdue=loans.overdue_loans(db.session, school_ids, now),
        now=now,
    )
