"""Import and export of the register, and the public Uniquip feed for equipment.data.ac.uk."""

from __future__ import annotations

import os
from email.utils import parseaddr

from flask import Response, current_app, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import escape
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, SubmitField

from accounts.models import Role
from accounts.permissions import require_school_manager, roles_required
from db import atomic, db, utcnow
from errors import DomainError, InvalidInput
from inventory import catalogue, service, transfer
from inventory.views import bp
from timeutil import to_local

#: Progress lines while importing: one every this many rows.
PROGRESS_EVERY = 250
#: Where the streamed import page puts its progress lines.
PROGRESS_MARK = "<!-- import progress -->"


class ImportForm(FlaskForm):
    file = FileField(
        "Spreadsheet file (.csv or .xlsx)",
        validators=[FileRequired("Choose a .csv or .xlsx file to upload.")],
    )
    submit = SubmitField("Check the file")


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
    submit = SubmitField("Import")


def _upload_folder() -> str:
    return os.path.join(current_app.instance_path, "imports")


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
            plan = transfer.plan_import(db.session, current_user, school, filename, content)
        except InvalidInput as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            confirm = None
            if plan.ok:
                token = transfer.save_upload(_upload_folder(), current_user.id, school.id, filename, content)
                confirm = ConfirmImportForm(token=token)
            return render_template(
                "inventory/import_preview.html", school=school, plan=plan, confirm=confirm
            ), (200 if plan.ok else 400)
    status = 400 if form.is_submitted() else 200
    page = render_template("inventory/import.html", school=school, form=form, columns=transfer.COLUMNS)
    return page, status


@bp.post("/schools/<int:school_id>/import/confirm")
@login_required
def import_confirm(school_id: int):
    """Import a previewed upload: checked again from scratch, then all rows or none, with the
    progress streamed to the page as it goes."""
    school = service.get_school(db.session, school_id)
    require_school_manager(current_user, school.id)
    form = ConfirmImportForm()
    token = form.token.data or ""
    folder = _upload_folder()
    filename, content = transfer.load_upload(folder, token, current_user.id, school.id)
    try:
        plan = transfer.plan_import(db.session, current_user, school, filename, content)
    except InvalidInput:
        plan = None
    if plan is None or not plan.ok:
        # Something changed since the preview (or the file did): show why, import nothing.
        transfer.discard_upload(folder, token)
        if plan is None:
            plan = transfer.ImportPlan(filename=filename, school_id=school.id)
            plan.problems.append(transfer.Problem(1, "", "The file can no longer be read. Upload it again."))
        return render_template("inventory/import_preview.html", school=school, plan=plan, confirm=None), 400

    page = render_template("inventory/import_progress.html", school=school, plan=plan, mark=PROGRESS_MARK)
    head, tail = page.split(PROGRESS_MARK, 1)
    total = len(plan.rows)
    register_url = url_for("inventory.register", school=school.id)
    school_code, school_name = school.code, school.name  # for the messages, whatever the database does

    def progress():
        yield head
        try:
            with atomic(db.session, current_user):
                for done in transfer.apply_import(db.session, current_user, school, plan):
                    if done % PROGRESS_EVERY == 0 and done < total:
                        yield f'<p class="import-progress">Imported {done:,} of {total:,} rows…</p>\n'
        except DomainError as error:
            yield _outcome("error", f"Nothing was imported. {error.message}")
        except IntegrityError:
            current_app.logger.warning("Import into %s clashed with a concurrent change", school_code)
            yield _outcome(
                "error",
                "Nothing was imported: someone changed the register at the same time "
                "(for example, a tag was taken meanwhile). Upload the file again to check it.",
            )
        except Exception:
            current_app.logger.exception("Import into %s failed", school_code)
            yield _outcome("error", "Nothing was imported: something went wrong. Please try again.")
        else:
            summary = (
                f"Imported {plan.filename}: {plan.count('create'):,} added, "
                f"{plan.count('update'):,} updated, "
                f"{plan.count('unchanged'):,} unchanged; {_count(len(plan.new_locations), 'new location')}."
            )
            yield _outcome("success", summary, (register_url, f"See {school_name}'s register"))
        finally:
            transfer.discard_upload(folder, token)
        yield tail

    response = Response(stream_with_context(progress()), mimetype="text/html")
    response.headers["X-Accel-Buffering"] = "no"  # let nginx pass progress lines straight on
    return response


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _outcome(category: str, message: str, link: tuple[str, str] | None = None) -> str:
    role = "alert" if category == "error" else "status"
    link_html = f' <a href="{escape(link[0])}">{escape(link[1])}</a>' if link else ""
    return f'<div class="flash flash-{category}" role="{role}">{escape(message)}{link_html}</div>\n'


def _export_filters():
    filters, _problems = catalogue.parse_filters(request.args, include_unbookable=True)
    return filters


def _export_name(extension: str) -> str:
    return f"kitshare-register-{to_local(utcnow()).date().isoformat()}.{extension}"


@bp.get("/register/export.csv")
@roles_required(Role.MANAGER)
def export_register_csv():
    """The register, as the filters select it, in the import layout (CSV)."""
    body = transfer.register_csv(db.session, current_user, _export_filters())
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("csv")}"'},
    )


@bp.get("/register/export.xlsx")
@roles_required(Role.MANAGER)
def export_register_xlsx():
    """The register, as the filters select it, as an Excel workbook."""
    body = transfer.register_xlsx(db.session, current_user, _export_filters())
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_export_name("xlsx")}"'},
    )


def _base_url() -> str:
    return current_app.config["KITSHARE_BASE_URL"].rstrip("/")


@bp.get("/equipment/uniquip.csv")
def uniquip():
    """Shareable equipment in the Uniquip layout, for equipment.data.ac.uk. Public: no sign-in."""
    photo_url = None
    if "inventory.asset_photo" in current_app.view_functions:
        def photo_url(asset) -> str:
            return _base_url() + url_for("inventory.asset_photo", asset_id=asset.id)

    body = transfer.uniquip_csv(
        db.session,
        base_url=_base_url(),
        location_url=current_app.config.get("KITSHARE_UNIQUIP_LOCATION_URL", ""),
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
    contact = current_app.config.get("KITSHARE_DATA_CONTACT") or parseaddr(current_app.config["MAIL_FROM"])[1]
    body = transfer.organisation_profile(
        base_url=_base_url(),
        organisation_name=current_app.config["KITSHARE_UNIVERSITY_NAME"],
        download_url=_base_url() + url_for("inventory.uniquip"),
        contact_email=contact,
        organisation_uri=current_app.config.get("KITSHARE_ORGANISATION_URI", ""),
    )
    return Response(
        body, content_type="text/turtle; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )
