"""Waitlist pages: joining the waitlist for a taken time, one's own waitlist, accepting an offer, leaving."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bookings import waitlist
from bookings.forms import WaitlistForm
from bookings.rules import BookingRefused
from bookings.views import bp
from core.db import db, utcnow
from core.timeutil import NonexistentLocalTime, format_local, local_to_utc
from inventory.service import get_asset
from web.forms import refusal_shown


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
        "bookings/waitlist.html",
        groups=waitlist.my_waitlist(db.session, current_user, now),
        now=now,
        offer_interval=waitlist.offer_interval,
    )


@bp.post("/waitlist/<int:entry_id>/accept")
@login_required
def accept_offer(entry_id: int):
    try:
        with refusal_shown() as outcome:
            booking = waitlist.accept_offer(db.session, current_user, entry_id, utcnow())
    except BookingRefused as refusal:
        flash(
            "The time could not be booked: " + refusal.message + " You keep your place on the waitlist.",
            "error",
        )
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
        entry = waitlist.leave_waitlist(db.session, current_user, entry_id, utcnow())
    if outcome.succeeded:
        flash(f"You left the waitlist for {entry.asset.name}.", "success")
    return redirect(url_for("bookings.my_waitlist"))
