"""Import and export of the register, and the public Uniquip feed for equipment.data.ac.uk."""

from __future__ import annotations

import datetime as dt
import os
from email.utils import parseaddr

from flask import Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField

from accounts.models import Role
from accounts.permissions import require_school_manager, roles_required
from core.config import current_settings, site_url
from core.db import db, utcnow
from core.errors import InvalidInput
from core.timeutil import to_local
from inventory import catalogue, import_jobs, service
from inventory.models import ImportState
from inventory.transfer.columns import COLUMNS
from inventory.transfer.export import register_csv, register_xlsx
from inventory.transfer.planning import plan_import
from inventory.transfer.turtle import organisation_profile
from inventory.transfer.uniquip import uniquip_csv
from inventory.transfer.upload_stash import discard_upload, load_upload, save_upload, upload_folder
from inventory.transfer.xlsx_limits import XlsxLimits
from inventory.views import bp
from web.forms import KitshareForm
from web.responses import csv_download

#: How often the progress page reloads itself while an import runs.
REFRESH_SECONDS = 2
#: A job still queued after this long suggests no scheduler is running: the page says so.
WAITING_HINT_AFTER = dt.timedelta(minutes=2)


class ImportForm(KitshareForm):
    file = FileField(
        "Spreadsheet file (.csv or .xlsx)",
        validators=[FileRequired("Choose a .csv or .xlsx file to upload.")],
    )
    submit = SubmitField("Check the file")


class ConfirmImportForm(KitshareForm):
    token = HiddenField()
    submit = SubmitField("Import")


def _upload_folder() -> str:
    return str(upload_folder(current_app.instance_path))


@bp.route("/schools/<int:school_id>/import", methods=["GET", "POST"])
@login_required
def import_register(school_id: int):
    """Upload a register file; the answer is a preview of what importing it would do."""
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)  # before reading the upload: 403, not 400
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = os.path.basename(upload.filename or "") or "upload"
        content = upload.read()
        try:
            limits = XlsxLimits.from_config(current_settings())
            plan = plan_import(db.session, current_user, school, filename, content, limits)
        except InvalidInput as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            confirm = None
            if plan.ok:
                token = save_upload(_upload_folder(), current_user.id, school.id, filename, content)
                confirm = ConfirmImportForm(token=token)
            return render_template(
                "inventory/import_preview.html", school=school, plan=plan, confirm=confirm
            ), (200 if plan.ok else 400)
    status = 400 if form.is_submitted() else 200
    page = render_template("inventory/import.html", school=school, form=form, columns=COLUMNS)
    return page, status


@bp.post("/schools/<int:school_id>/import/confirm")
@login_required
def import_confirm(school_id: int):
    """Confirm a previewed upload: it becomes an import job that the scheduler runs in the
    background (checked again from scratch, then all rows or none). The answer is at once, a
    redirect to the job's progress page, whatever the size of the file."""
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)
    form = ConfirmImportForm()
    token = form.token.data or ""
    folder = _upload_folder()
    filename, content = load_upload(folder, token, current_user.id, school.id)
    job = import_jobs.queue_import(db.session, current_user, school, filename, content)
    discard_upload(folder, token)  # the file now travels in the job
    return redirect(url_for("inventory.import_job", school_id=school.id, job_id=job.id), 303)


def _job_progress(job) -> dict:
    folder = _upload_folder()
    total = import_jobs.rows_total(job, folder)
    return {
        "id": job.id,
        "state": job.state.value,
        "filename": job.filename,
        "rows_done": import_jobs.rows_done(job, folder),
        "rows_total": total,
        "finished": job.finished,
        "message": job.message,
    }


@bp.get("/schools/<int:school_id>/import/jobs/<int:job_id>")
@login_required
def import_job(school_id: int, job_id: int):
    """An import's progress while the scheduler runs it, then its outcome. The page reloads
    itself until the import has finished (a script polls the progress; without one, a refresh)."""
    job = import_jobs.get_import_job(db.session, current_user, school_id, job_id)
    waiting_long = job.state == ImportState.QUEUED and utcnow() - job.created_at > WAITING_HINT_AFTER
    return render_template(
        "inventory/import_job.html",
        school=job.school,
        job=job,
        progress=_job_progress(job),
        waiting_long=waiting_long,
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.get("/schools/<int:school_id>/import/jobs/<int:job_id>/progress.json")
@login_required
def import_job_progress(school_id: int, job_id: int):
    """The progress page's figures as JSON, for its script to poll."""
    job = import_jobs.get_import_job(db.session, current_user, school_id, job_id)
    response = jsonify(_job_progress(job))
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_filters():
    filters, _problems = catalogue.parse_filters(request.args, include_unbookable=True)
    return filters


def _export_name(extension: str) -> str:
    return f"kitshare-register-{to_local(utcnow()).date().isoformat()}.{extension}"


@bp.get("/register/export.csv")
@roles_required(Role.MANAGER)
def export_register_csv():
    """The register, as the filters select it, in the import layout (CSV)."""
    return csv_download(register_csv(db.session, current_user, _export_filters()), _export_name("csv"))


@bp.get("/register/export.xlsx")
@roles_required(Role.MANAGER)
def export_register_xlsx():
    """The register, as the filters select it, as an Excel workbook."""
    body = register_xlsx(db.session, current_user, _export_filters())
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"'},
    )


def _base_url() -> str:
    return site_url()


@bp.get("/equipment/uniquip.csv")
def uniquip():
    """Shareable equipment in the Uniquip layout, for equipment.data.ac.uk. Public: no sign-in."""
    photo_url = None
    if "inventory.asset_photo" in current_app.view_functions:

        def photo_url(asset) -> str:
            return _base_url() + url_for("inventory.asset_photo", asset_id=asset.id)

    body = uniquip_csv(
        db.session,
        base_url=_base_url(),
        location_url=current_settings().KITSHARE_UNIQUIP_LOCATION_URL,
        photo_url=photo_url,
    )
    return Response(
        body,
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'inline; filename="uniquip.csv"',
            "Cache-Control": "public, max-age=3600",
        },
    )


@bp.get("/.well-known/openorg")
def openorg():
    """The Organisation Profile Document that tells harvesters where the Uniquip feed is."""
    settings = current_settings()
    contact = settings.KITSHARE_DATA_CONTACT or parseaddr(settings.MAIL_FROM)[1]
    body = organisation_profile(
        base_url=_base_url(),
        organisation_name=settings.KITSHARE_UNIVERSITY_NAME,
        download_url=_base_url() + url_for("inventory.uniquip"),
        contact_email=contact,
        organisation_uri=settings.KITSHARE_ORGANISATION_URI,
    )
    return Response(
        body, content_type="text/turtle; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )
