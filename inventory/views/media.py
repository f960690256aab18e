"""Asset photos (upload, remove, serve) and printable QR label sheets."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.utils import secure_filename

from accounts.models import Role
from accounts.permissions import require_school_manager, roles_required
from core.config import current_settings
from core.db import db
from inventory import media, service
from inventory.media_forms import LabelSheetForm, PhotoForm, RemovePhotoForm
from inventory.models import Asset
from inventory.views import bp
from web.forms import refusal_shown

#: Photos are public (the Uniquip export links to them) and may be cached briefly; the ETag lets
#: a browser check cheaply afterwards whether the photo was replaced.
PHOTO_CACHE_SECONDS = 300


def _photo_max_bytes() -> int:
    return current_settings().KITSHARE_PHOTO_MAX_BYTES


# --- Photos -----------------------------------------------------------------------------------


@bp.route("/assets/<int:asset_id>/photo", methods=["GET", "POST"])
@login_required
def asset_photo_upload(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)  # before reading the upload: 403, not 400
    form = PhotoForm()
    if form.validate_on_submit():
        with refusal_shown(form) as outcome:
            media.save_photo(
                db.session,
                current_user,
                asset,
                form.photo.data,
                current_app.instance_path,
                max_bytes=_photo_max_bytes(),
            )
        if outcome.succeeded:
            flash(f"Saved the photo of {asset.name}.", "success")
            return redirect(url_for("inventory.asset", asset_id=asset.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "inventory/photo.html",
        asset=asset,
        form=form,
        remove_form=RemovePhotoForm(),
        max_size=media.format_size(_photo_max_bytes()),
    ), status


@bp.post("/assets/<int:asset_id>/photo/delete")
@login_required
def asset_photo_delete(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    form = RemovePhotoForm()
    if not form.validate_on_submit():
        abort(400)
    removed = media.remove_photo(db.session, current_user, asset, current_app.instance_path)
    if removed:
        flash(f"Removed the photo of {asset.name}.", "success")
    else:
        flash(f"{asset.name} had no photo to remove.", "info")
    return redirect(url_for("inventory.asset", asset_id=asset.id))


@bp.get("/assets/<int:asset_id>/photo.jpg")
def asset_photo(asset_id: int):
    """Public: no sign-in, so the Uniquip export can link to it."""
    return _send_photo(asset_id, thumbnail=False)


@bp.get("/assets/<int:asset_id>/photo-thumb.jpg")
def asset_photo_thumb(asset_id: int):
    """Public, like the photo."""
    return _send_photo(asset_id, thumbnail=True)


def _send_photo(asset_id: int, thumbnail: bool):
    filename = db.session.scalar(select(Asset.photo_filename).where(Asset.id == asset_id))
    if not filename:
        abort(404)
    if thumbnail:
        filename = media.thumbnail_filename(filename)
    return send_from_directory(
        media.photo_folder(current_app.instance_path),
        filename,
        mimetype="image/jpeg",
        max_age=PHOTO_CACHE_SECONDS,
    )


# --- Labels -----------------------------------------------------------------------------------


@bp.get("/labels")
@roles_required(Role.MANAGER)
def labels():
    """Choose which labels to print; the form asks /labels.pdf for the sheet."""
    form = LabelSheetForm(request.args or None)
    _set_label_choices(form)
    return render_template("inventory/labels.html", form=form)


@bp.get("/labels.pdf")
@roles_required(Role.MANAGER)
def labels_pdf():
    form = LabelSheetForm(request.args)
    _set_label_choices(form)
    if form.validate():
        with refusal_shown(form) as outcome:
            school, assets = media.assets_for_labels(
                db.session,
                current_user,
                form.school.data,
                form.category.data or None,
                media.parse_tags(form.tags.data or ""),
            )
        if outcome.succeeded:
            pdf = media.label_sheet_pdf(
                assets,
                current_settings().base_url,
                current_settings().KITSHARE_UNIVERSITY_NAME,
                start_at=form.start_at.data or 1,
            )
            return _pdf_response(pdf, f"kitshare-labels-{school.code}.pdf")
    return render_template("inventory/labels.html", form=form), 400


@bp.get("/assets/<int:asset_id>/label.pdf")
@login_required
def asset_label(asset_id: int):
    asset = service.get_asset(db.session, asset_id)
    require_school_manager(current_user, asset.school_id)
    pdf = media.label_sheet_pdf(
        [asset], current_settings().base_url, current_settings().KITSHARE_UNIVERSITY_NAME
    )
    return _pdf_response(pdf, f"kitshare-label-{asset.tag}.pdf")


def _set_label_choices(form: LabelSheetForm) -> None:
    if current_user.is_admin:
        schools = service.list_schools(db.session)
    else:
        schools = list(current_user.managed_schools)
    form.school.choices = [(school.id, f"{school.name} ({school.code})") for school in schools]
    form.category.choices = [(0, "Every category")] + [
        (category.id, category.name) for category in service.list_categories(db.session)
    ]


def _pdf_response(pdf: bytes, filename: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    safe_name = secure_filename(filename) or "kitshare-labels.pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{safe_name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
