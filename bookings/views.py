"""Booking pages: the booking form, my bookings, a booking's page, the approval queue."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from accounts.models import Role
from accounts.permissions import roles_required
from bookings import service
from bookings.calendar import asset_days, local_today
from bookings.forms import ApproveForm, BookingForm, ReasonForm
from bookings.rules import BookingRefused, SeriesRefused, next_free_slots
from db import atomic, db, utcnow
from errors import InvalidInput
from inventory.service import get_asset
from timeutil import NonexistentLocalTime, local_to_utc, to_local
from web import safe_next, show_errors

bp = Blueprint("bookings", __name__)


def _wall(moment: dt.datetime) -> dt.datetime:
    return to_local(moment).replace(tzinfo=None, second=0, microsecond=0)


@bp.route("/assets/<int:asset_id>/book", methods=["GET", "POST"])
@login_required
def new(asset_id: int):
    # The asset is loaded for the page only: a booking that goes through needs no more of it
    # than the service reads (which answers 404 for an unknown asset too).
    now = utcnow()
    form = BookingForm()
    refusal: BookingRefused | None = None
    series_refusal: SeriesRefused | None = None
    if request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        try:
            start_at, end_at = local_to_utc(form.start.data), local_to_utc(form.end.data)
        except NonexistentLocalTime as error:
            form.start.errors = [*form.start.errors, str(error)]
        else:
            try:
                if form.repeat.data == "none":
                    booking = service.request_booking(
                        db.session, current_user, asset_id, start_at, end_at, form.purpose.data, now
                    )
                    return _booked([booking])
                recurrence = service.Recurrence(form.repeat.data, form.count.data, form.until.data)
                bookings = service.request_series(
                    db.session, current_user, asset_id, start_at, end_at, form.purpose.data, recurrence, now
                )
                return _booked(bookings)
            except BookingRefused as error:
                refusal = error
            except SeriesRefused as error:
                series_refusal = error
            except InvalidInput as error:
                show_errors(form, error)
    asset = get_asset(db.session, asset_id)
    status = 200
    if refusal or series_refusal:
        status = (refusal or series_refusal).status_code
    elif form.is_submitted():
        status = 400
    return render_template(
        "bookings/new.html",
        asset=asset,
        form=form,
        refusal=refusal,
        series_refusal=series_refusal,
        free_slots=next_free_slots(db.session, asset, dt.timedelta(hours=1), now, now, count=5),
        needs_approval=service.needs_approval(current_user, asset),
        wall=_wall,
    ), status


def _prefill(form: BookingForm) -> None:
    """A suggested slot arrives as ?start=...&end=... (local wall-clock times)."""
    for name in ("start", "end"):
        value = request.args.get(name)
        if value:
            try:
                getattr(form, name).data = dt.datetime.fromisoformat(value)
            except ValueError:
                pass


def _booked(bookings: list) -> object:
    first = bookings[0]
    pending = first.status.value == "pending"
    count = len(bookings)
    what = f"{count} bookings" if count > 1 else "Your booking"
    if pending:
        flash(f"{what} of {first.asset.name} {'are' if count > 1 else 'is'} requested: a manager of {first.asset.school.code} will approve or reject {'them' if count > 1 else 'it'}.", "success")
    else:
        flash(f"{what} of {first.asset.name} {'are' if count > 1 else 'is'} confirmed.", "success")
    return redirect(url_for("bookings.detail", booking_id=first.id))


@bp.get("/bookings")
@login_required
def mine():
    groups = service.my_bookings(db.session, current_user, utcnow())
    return render_template("bookings/mine.html", groups=groups, cancel_form=ReasonForm())


@bp.get("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = service.get_booking(db.session, current_user, booking_id)
    manages = current_user.manages(booking.asset.school_id)
    return render_template(
        "bookings/detail.html",
        booking=booking,
        manages=manages,
        can_cancel=booking.status in service.CANCELLABLE and booking.end_at > utcnow(),
        cancel_form=ReasonForm(),
        clashes=service.overlapping_pending(db.session, booking) if manages and booking.status.value == "pending" else [],
    )


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    form = ReasonForm()
    try:
        with atomic(db.session, current_user):
            booking = service.cancel(db.session, current_user, booking_id, form.reason.data or "")
    except InvalidInput as error:
        for message in [error.message] if not error.field_errors else sum(error.field_errors.values(), []):
            flash(message, "error")
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    flash(f"The booking of {booking.asset.name} on {booking.start_at.strftime('%d %b')} is cancelled.", "success")
    return redirect(safe_next(request.form.get("next"), url_for("bookings.mine")))


@bp.get("/approvals")
@roles_required(Role.MANAGER)
def approvals():
    queue = service.approval_queue(db.session, current_user, utcnow())
    clashes = {booking.id: service.overlapping_pending(db.session, booking) for booking in queue}
    return render_template("bookings/approvals.html", queue=queue, clashes=clashes)


@bp.route("/bookings/<int:booking_id>/approve", methods=["GET", "POST"])
@login_required
def approve(booking_id: int):
    booking = service.load_for_decision(db.session, current_user, booking_id)
    form = ApproveForm()
    clashes = service.overlapping_pending(db.session, booking)
    refusal = None
    if form.validate_on_submit():
        reject_ids = request.form.getlist("reject", type=int)
        try:
            service.approve(db.session, current_user, booking_id, reject_ids, form.rejection_reason.data or "")
        except BookingRefused as error:
            refusal = error
        except InvalidInput as error:
            show_errors(form, error)
        else:
            rejected = f" and rejected {len(reject_ids)} overlapping request{'s' if len(reject_ids) != 1 else ''}" if reject_ids else ""
            flash(f"Approved {booking.requester.name}'s booking of {booking.asset.name}{rejected}.", "success")
            return redirect(url_for("bookings.approvals"))
        booking = service.load_for_decision(db.session, current_user, booking_id)
        clashes = service.overlapping_pending(db.session, booking)
    status = refusal.status_code if refusal else (400 if form.is_submitted() else 200)
    return render_template("bookings/approve.html", booking=booking, form=form, clashes=clashes, refusal=refusal), status


@bp.post("/bookings/<int:booking_id>/reject")
@login_required
def reject(booking_id: int):
    form = ReasonForm()
    try:
        with atomic(db.session, current_user):
            booking = service.reject(db.session, current_user, booking_id, form.reason.data or "")
    except InvalidInput as error:
        for message in [error.message] if not error.field_errors else sum(error.field_errors.values(), []):
            flash(message, "error")
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    flash(f"Rejected {booking.requester.name}'s request for {booking.asset.name}.", "success")
    return redirect(url_for("bookings.approvals"))


@bp.get("/assets/<int:asset_id>/week")
@login_required
def asset_week(asset_id: int):
    asset = get_asset(db.session, asset_id, details=False)
    today = local_today(utcnow())
    try:
        first = dt.date.fromisoformat(request.args["start"]) if request.args.get("start") else today
    except ValueError:
        first = today
    first -= dt.timedelta(days=first.weekday())  # weeks start on Monday
    return render_template(
        "bookings/week.html",
        asset=asset,
        days=asset_days(db.session, current_user, asset, first, days=7),
        first=first,
        today=today,
        previous_week=first - dt.timedelta(days=7),
        next_week=first + dt.timedelta(days=7),
    )


import bookings.feed_views  # noqa: E402,F401  (calendar feed routes on this blueprint)
import bookings.around_views  # noqa: E402,F401  (check-in, loans, waitlists, quotas: routes on this blueprint)
