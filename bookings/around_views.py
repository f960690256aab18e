"""Pages around a booking: check-in, hand-over and return of loans, waitlists, quotas.

Routes live on the bookings blueprint (imported at the bottom of bookings/views.py). Two
template globals feed the blocks this feature adds to pages it does not own: the booking page
(``around_booking``) and the asset page, which scanning an asset's QR label opens
(``checkin_booking_for``).
"""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import Role
from accounts.permissions import require_school_manager, roles_required
from bookings import loans, quotas, service, waitlist
from bookings.around_forms import HandOverForm, QuotaForm, ReturnForm, WaitlistForm, parse_hours
from bookings.rules import BookingRefused
from bookings.views import bp
from core.db import atomic, db, utcnow
from inventory.models import Asset
from inventory.service import get_asset, get_school, list_categories
from core.timeutil import NonexistentLocalTime, format_local, local_to_utc
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
        with atomic(db.session, current_user):
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
            with atomic(db.session, current_user):
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
            with atomic(db.session, current_user):
                loans.return_loan(db.session, current_user, booking_id, form.condition.data, form.damaged.data, utcnow())
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
        with atomic(db.session, current_user):
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


# --- Waitlists ---------------------------------------------------------------------------------


@bp.route("/assets/<int:asset_id>/waitlist", methods=["GET", "POST"])
@login_required
def join_waitlist(asset_id: int):
    asset = get_asset(db.session, asset_id)
    form = WaitlistForm()
    if request.method == "GET":
        for name in ("start", "end"):
            try:
                getattr(form, name).data = dt.datetime.fromisoformat(request.args.get(name, ""))
            except ValueError:
                pass
    if form.validate_on_submit():
        try:
            start_at, end_at = local_to_utc(form.start.data), local_to_utc(form.end.data)
        except NonexistentLocalTime as error:
            form.start.errors = [*form.start.errors, str(error)]
        else:
            with refusal_shown(form) as outcome:
                with atomic(db.session, current_user):
                    entry = waitlist.join_waitlist(
                        db.session, current_user, asset.id, start_at, end_at, form.purpose.data, utcnow()
                    )
            if outcome.succeeded:
                flash(
                    f"You are on the waitlist for {asset.name}, {format_local(entry.start_at)}: "
                    "you will be told if the time frees.",
                    "success",
                )
                return redirect(url_for("bookings.my_waitlist"))
        asset = get_asset(db.session, asset_id)
    status = 400 if form.is_submitted() else 200
    return render_template("bookings/waitlist_join.html", asset=asset, form=form), status


@bp.get("/waitlist")
@login_required
def my_waitlist():
    now = utcnow()
    return render_template(
        "bookings/waitlist.html", groups=waitlist.my_waitlist(db.session, current_user, now), now=now,
        offer_interval=waitlist.offer_interval,
    )


@bp.post("/waitlist/<int:entry_id>/accept")
@login_required
def accept_offer(entry_id: int):
    try:
        with refusal_shown() as outcome:
            booking = waitlist.accept_offer(db.session, current_user, entry_id, utcnow())
    except BookingRefused as refusal:
        flash("The time could not be booked: " + refusal.message + " You keep your place on the waitlist.", "error")
        return redirect(url_for("bookings.my_waitlist"))
    if not outcome.succeeded:
        return redirect(url_for("bookings.my_waitlist"))
    if booking.status.value == "pending":
        flash(
            f"Requested {booking.asset.name}: a manager of {booking.asset.school.code} will approve or reject it.",
            "success",
        )
    else:
        flash(f"Your booking of {booking.asset.name} is confirmed.", "success")
    return redirect(url_for("bookings.detail", booking_id=booking.id))


@bp.post("/waitlist/<int:entry_id>/leave")
@login_required
def leave_waitlist(entry_id: int):
    with refusal_shown() as outcome:
        with atomic(db.session, current_user):
            entry = waitlist.leave_waitlist(db.session, current_user, entry_id, utcnow())
    if outcome.succeeded:
        flash(f"You left the waitlist for {entry.asset.name}.", "success")
    return redirect(url_for("bookings.my_waitlist"))


# --- Quotas ------------------------------------------------------------------------------------


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
            with atomic(db.session, current_user):
                quotas.create_quota(
                    db.session, current_user, school.id,
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
        "bookings/quotas.html", school=school, form=form, rows=quotas.list_quotas(db.session, school.id),
        describe=quotas.describe_minutes,
    ), status


@bp.post("/quotas/<int:quota_id>/delete")
@login_required
def delete_quota(quota_id: int):
    with atomic(db.session, current_user):
        quota = quotas.delete_quota(db.session, current_user, quota_id)
    flash("Deleted the quota. Bookings already made stay.", "success")
    return redirect(url_for("bookings.quotas_page", school_id=quota.school_id))
