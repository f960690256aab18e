"""Booking pages: the booking form, my bookings, a booking's page, the approval queue."""

from __future__ import annotations

import datetime as dt

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from accounts.models import Role
from accounts.permissions import roles_required
from bookings import approvals as queue
from bookings import disruption, lapsing, service
from bookings.calendar import asset_days, week_containing
from bookings.forms import ApproveForm, BookingForm, CancelForm, ReasonForm
from bookings.rules import BookingRefused, SeriesRefused, next_free_slots
from bookings.views import bp
from core.db import db, utcnow
from core.errors import InvalidInput
from core.timeutil import NonexistentLocalTime, format_local, local_to_utc, local_today, to_local
from inventory.service import get_asset
from inventory.training_requests import training_need
from inventory.upkeep_forms import TrainingRequestForm
from web.forms import refusal_shown, show_errors, whole_id
from web.responses import local_path, safe_next

#: The weeks the calendar pages through: a ?start= beyond them shows this week instead.
FIRST_WEEK, LAST_WEEK = dt.date(1970, 1, 5), dt.date(2999, 12, 23)


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
    series_free: list = []
    # A free time chosen from the suggestions books nothing: the form comes back with that start
    # and end, and everything else as typed.
    choosing = request.method == "POST" and "use_slot" in request.form
    chosen_slot = choosing and _use_slot(form, request.form["use_slot"])
    if choosing and not chosen_slot:
        form.form_errors.append("That free time could not be read: enter the start and end yourself.")
    if request.method == "GET":
        _prefill(form)
    if not choosing and form.validate_on_submit():
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
                series_free = service.series_suggestions(
                    db.session, current_user, asset_id, start_at, end_at, recurrence, now
                )
            except InvalidInput as error:
                show_errors(form, error)
    asset = get_asset(db.session, asset_id)
    status = 200
    if refusal or series_refusal:
        status = (refusal or series_refusal).status_code
    elif form.is_submitted() and not chosen_slot:
        status = 400
    return render_template(
        "bookings/new.html",
        asset=asset,
        form=form,
        refusal=refusal,
        series_refusal=series_refusal,
        series_free=series_free,
        free_slots=next_free_slots(db.session, asset, dt.timedelta(hours=1), now, now, count=5),
        needs_approval=service.needs_approval(current_user, asset),
        wall=_wall,
        # Training the person lacks is said before the form, with a way to ask for it.
        training_need=training_need(db.session, current_user, asset),
        training_form=TrainingRequestForm(formdata=None),
        chosen_slot=chosen_slot,
    ), status


def _prefill(form: BookingForm) -> None:
    """A time chosen elsewhere arrives as ?start=...&end=... (local wall-clock times): the window
    searched for in the catalogue, handed on by its results and the asset page."""
    for name in ("start", "end"):
        value = request.args.get(name)
        if value:
            try:
                getattr(form, name).data = dt.datetime.fromisoformat(value)
            except ValueError:
                pass


def _use_slot(form: BookingForm, value: str) -> bool:
    """Put a chosen free time ("<start>/<end>", local wall-clock times) into Start and End."""
    start_text, _, end_text = value.partition("/")
    try:
        start, end = (dt.datetime.strptime(text, "%Y-%m-%dT%H:%M") for text in (start_text, end_text))
    except ValueError:
        return False
    if end <= start:
        return False
    for field, wall in ((form.start, start), (form.end, end)):
        field.data, field.raw_data = wall, [wall.strftime("%Y-%m-%dT%H:%M")]
    return True


def _booked(bookings: list) -> object:
    first = bookings[0]
    pending = first.status.value == "pending"
    count = len(bookings)
    what = f"{count} bookings" if count > 1 else "Your booking"
    if pending:
        flash(
            f"{what} of {first.asset.name} {'are' if count > 1 else 'is'} requested: a manager of {first.asset.school.code} will approve or reject {'them' if count > 1 else 'it'}.",
            "success",
        )
    else:
        flash(f"{what} of {first.asset.name} {'are' if count > 1 else 'is'} confirmed.", "success")
    return redirect(url_for("bookings.detail", booking_id=first.id))


@bp.get("/bookings")
@login_required
def mine():
    groups = service.my_bookings(
        db.session,
        current_user,
        utcnow(),
        upcoming_page=_page_number("page"),
        past_page=_page_number("past_page"),
    )
    return render_template("bookings/mine.html", groups=groups)


def _page_number(name: str) -> int:
    """A page number from the query string: 1 unless it is a plain number (no '²', no 10**30)."""
    value = request.args.get(name, "")
    return int(value) if value.isascii() and value.isdecimal() and len(value) <= 6 else 1


@bp.get("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = service.get_booking(db.session, current_user, booking_id)
    manages = current_user.manages(booking.asset.school_id)
    pending = booking.status.value == "pending"
    return render_template(
        "bookings/detail.html",
        booking=booking,
        manages=manages,
        can_decide=pending and service.may_decide(current_user, booking),
        # Who decides a pending request, for its requester (a manager of the School or not).
        deciders=service.other_deciders(db.session, booking)
        if pending and booking.requester_id == current_user.id
        else [],
        can_cancel=booking.status in service.CANCELLABLE and booking.end_at > utcnow(),
        cancel_form=ReasonForm(),
        clashes=service.overlapping_pending(db.session, booking)
        if manages and booking.status.value == "pending"
        else [],
        in_the_way=disruption.clashes_for(db.session, booking),
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(booking_id: int):
    """GET asks once, naming the booking ("Cancel your booking of ... on ...?"); its button POSTs
    here. A POST cancels (the older one-button forms post straight here too)."""
    form = CancelForm()
    if request.method == "GET":
        form.next.data = local_path(request.args.get("next")) or ""
        with refusal_shown() as outcome:
            booking = service.load_for_cancel(db.session, current_user, booking_id)
        if not outcome.succeeded:
            return redirect(url_for("bookings.detail", booking_id=booking_id))
        return _confirm_cancel(booking, form)
    if not form.validate():  # a reason of 100 kB or with a NUL character: asked again
        return _confirm_cancel(service.get_booking(db.session, current_user, booking_id), form, status=400)
    with refusal_shown(form, flash_unless_fields=True) as outcome:
        booking = service.cancel(db.session, current_user, booking_id, form.reason.data or "")
    if outcome.flashed:
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    if not outcome.succeeded:  # a manager gave no reason: ask again, with what is missing
        return _confirm_cancel(service.get_booking(db.session, current_user, booking_id), form, status=400)
    flash(
        f"The booking of {booking.asset.name} on {format_local(booking.start_at, '%a %d %b, %H:%M')} is cancelled.",
        "success",
    )
    return redirect(safe_next(form.next.data, url_for("bookings.mine")))


def _confirm_cancel(booking, form: CancelForm, status: int = 200):
    back = safe_next(form.next.data, url_for("bookings.detail", booking_id=booking.id))
    return render_template(
        "bookings/cancel.html",
        booking=booking,
        form=form,
        own=booking.requester_id == current_user.id,
        back=back,
    ), status


@bp.get("/approvals")
@roles_required(Role.MANAGER)
def approvals():
    now = utcnow()
    filters, problems = queue.parse_queue_filters(request.args)
    page = queue.approval_queue_page(db.session, current_user, now, filters)
    clashes = {booking.id: service.overlapping_pending(db.session, booking) for booking in page.items}
    # One's own requests are listed too, with who decides them instead of the decide links.
    deciders = {
        booking.id: service.other_deciders(db.session, booking)
        for booking in page.items
        if booking.requester_id == current_user.id
    }
    return render_template(
        "bookings/approvals.html",
        page=page,
        filters=filters,
        problems=problems,
        choices=queue.queue_choices(db.session, current_user, now),
        args=queue.query_args(filters),
        clashes=clashes,
        deciders=deciders,
        decides_for_several=current_user.is_admin or len(current_user.managed_school_ids) > 1,
        lapsed=lapsing.lapsed_requests(db.session, current_user, now),
    )


def _back_to_queue() -> str:
    """Where a decision returns to: the queue as it was filtered (only ever /approvals...)."""
    target = request.args.get("next", "")
    if target.startswith("/approvals") and "//" not in target and "\\" not in target:
        return target
    return url_for("bookings.approvals")


@bp.route("/bookings/<int:booking_id>/approve", methods=["GET", "POST"])
@login_required
def approve(booking_id: int):
    booking = service.load_request_to_decide(db.session, current_user, booking_id)
    form = ApproveForm()
    clashes = service.overlapping_pending(db.session, booking)
    refusal = None
    if form.validate_on_submit():
        reject_ids = request.form.getlist("reject", type=whole_id)  # "²" or 2**31: left out
        try:
            service.approve(
                db.session, current_user, booking_id, reject_ids, form.rejection_reason.data or ""
            )
        except BookingRefused as error:
            refusal = error
        except InvalidInput as error:
            show_errors(form, error)
        else:
            rejected = (
                f" and rejected {len(reject_ids)} overlapping request{'s' if len(reject_ids) != 1 else ''}"
                if reject_ids
                else ""
            )
            flash(
                f"Approved {booking.requester.name}'s booking of {booking.asset.name}{rejected}.", "success"
            )
            return redirect(_back_to_queue())
        booking = service.load_request_to_decide(db.session, current_user, booking_id)
        clashes = service.overlapping_pending(db.session, booking)
    status = refusal.status_code if refusal else (400 if form.is_submitted() else 200)
    return render_template(
        "bookings/approve.html",
        booking=booking,
        form=form,
        clashes=clashes,
        refusal=refusal,
        back=_back_to_queue(),
    ), status


@bp.post("/bookings/<int:booking_id>/reject")
@login_required
def reject(booking_id: int):
    form = ReasonForm()
    if not form.validate():
        for message in sum(form.errors.values(), []):
            flash(message, "error")
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    with refusal_shown() as outcome:
        booking = service.reject(db.session, current_user, booking_id, form.reason.data or "")
    if not outcome.succeeded:
        return redirect(url_for("bookings.detail", booking_id=booking_id))
    flash(f"Rejected {booking.requester.name}'s request for {booking.asset.name}.", "success")
    return redirect(url_for("bookings.approvals"))


@bp.get("/assets/<int:asset_id>/week")
@login_required
def asset_week(asset_id: int):
    asset = get_asset(db.session, asset_id, details=False)
    now = utcnow()
    today = local_today(now)
    try:
        shown = dt.date.fromisoformat(request.args["start"]) if request.args.get("start") else today
    except ValueError:
        shown = today
    if not FIRST_WEEK <= shown <= LAST_WEEK:
        shown = today
    first = week_containing(shown)
    return render_template(
        "bookings/week.html",
        asset=asset,
        days=asset_days(db.session, current_user, asset, first, days=7, now=now),
        first=first,
        today=today,
        previous_week=first - dt.timedelta(days=7),
        next_week=first + dt.timedelta(days=7),
    )
