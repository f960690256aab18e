"""Training requests: anyone asks to be trained on an asset; its School's managers grant or decline.

The request form sits on the asset's page and the booking form (``training_notice`` in
templates/inventory/_training.html); the open requests are listed, with Grant and Decline, on the
asset's and the School's training pages (inventory/views/upkeep.py).
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

from accounts.permissions import require_school_manager
from core.db import db
from core.errors import InvalidInput
from inventory import service, training_requests
from inventory.upkeep_forms import DeclineRequestForm, GrantRequestForm, TrainingRequestForm
from inventory.views import bp
from inventory.views.upkeep import _school_training_page, _training_page, scope_choices
from web.forms import refusal_messages, refusal_shown


@bp.post("/assets/<int:asset_id>/training-request")
@login_required
def request_training(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    back = (
        url_for("bookings.new", asset_id=asset.id)
        if request.form.get("back") == "book"
        else url_for("inventory.asset", asset_id=asset.id)
    )
    form = TrainingRequestForm()
    if not form.validate_on_submit():
        for message in refusal_messages(
            InvalidInput(field_errors={name: list(e) for name, e in form.errors.items()})
        ):
            flash(message, "error")
        return redirect(back)
    with refusal_shown() as outcome:
        _, told = training_requests.request_training(db.session, current_user, asset, form.message.data)
    if outcome.succeeded:
        technicians, managers = training_requests.request_goes_to(db.session, asset, current_user)
        if told:
            to = [
                *(["the people who look after it"] if technicians else []),
                *([f"the managers of {asset.school.code}"] if managers else []),
            ]
            flash(
                f"Your request for training on {asset.name} is sent to {' and '.join(to)}. "
                "Kitshare will tell you when they decide.",
                "success",
            )
        else:
            flash(
                f"Your request for training on {asset.name} is recorded, but nobody in Kitshare looks after it "
                f"or manages {asset.school.name} yet: please ask the asset's contact.",
                "success",
            )
    return redirect(back)


def _decision(request_id: int):
    """The open request and where its decision was made: the School's page or the asset's."""
    training_request = training_requests.get_training_request(db.session, request_id)
    asset = training_request.asset
    require_school_manager(current_user, asset.school_id)
    if request.form.get("back") == "school":
        return (
            training_request,
            url_for("inventory.school_training", school_id=asset.school_id),
            lambda forms: _school_training_page(asset.school, decision_forms=forms, status=400),
        )
    return (
        training_request,
        url_for("inventory.asset_training", asset_id=asset.id),
        lambda forms: _training_page(asset, decision_forms=forms, status=400),
    )


@bp.post("/training-requests/<int:request_id>/grant")
@login_required
def grant_training_request(request_id: int):
    training_request, back, page = _decision(request_id)
    asset, person = training_request.asset, training_request.user
    form = GrantRequestForm(prefix=f"grant-{request_id}")
    scope_choices(form, asset)
    if form.validate_on_submit():
        with refusal_shown(form, flash_unless_fields=True) as outcome:
            grant = training_requests.grant_training_request(
                db.session,
                current_user,
                training_request,
                scope=form.scope.data,
                expires_on=form.expires_on.data,
            )
            what = (
                asset.name if grant.asset_id else f"every {asset.category.name} asset of {asset.school.code}"
            )
            message = f"{person.name} is now authorised to use {what}; they have been told."
        if outcome.flashed:  # already decided: nothing to correct on the form
            return redirect(back)
        if outcome.succeeded:
            flash(message, "success")
            return redirect(back)
    return page({request_id: (form, DeclineRequestForm(formdata=None, prefix=f"decline-{request_id}"))})


@bp.post("/training-requests/<int:request_id>/decline")
@login_required
def decline_training_request(request_id: int):
    training_request, back, page = _decision(request_id)
    person, asset = training_request.user, training_request.asset
    form = DeclineRequestForm(prefix=f"decline-{request_id}")
    if form.validate_on_submit():
        with refusal_shown(form, flash_unless_fields=True) as outcome:
            training_requests.decline_training_request(
                db.session, current_user, training_request, form.reason.data
            )
        if outcome.flashed:
            return redirect(back)
        if outcome.succeeded:
            flash(
                f"{person.name}'s request for training on {asset.name} declined; they have been told.",
                "success",
            )
            return redirect(back)
    return page({request_id: (GrantRequestForm(formdata=None, prefix=f"grant-{request_id}"), form)})
