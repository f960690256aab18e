"""Helpers the HTML views share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from errors import InvalidInput


def show_errors(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's refusal on the form: each message beside its field, the rest on top."""
    for name, messages in error.field_errors.items():
        field = getattr(form, name, None)
        if field is None:  # a service may name a field by the parameter it is sent as (?school=)
            field = next((each for each in form if each.name == name), None)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = list(field.errors) + list(messages)
    if not error.field_errors:
        form.form_errors.append(error.message)


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (such as ``/bookings?page=2``), else None: a
    ``next`` field must never send people to another site. Refused: a scheme or host, and the
    ``//host`` and ``/\\host`` forms browsers read as another site."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if target.startswith("//") or "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes, each with its own label (keyboard friendly)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after a form: ``target`` when it is a path on this site (``local_path``), else
    ``fallback``. No open redirect."""
    return local_path(target) or fallback


#: Every CSV download starts with it: Excel then reads the file as UTF-8 and shows "£" and "–"
#: in headings instead of "Â£" and "â€“". Python reads it with ``encoding="utf-8-sig"``, and
#: Kitshare's own import skips it.
UTF8_BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def csv_download(text: str, filename: str, disposition: str = "attachment", **headers: str):
    """A CSV file to download: UTF-8 with a byte-order mark, named ``filename``."""
    from flask import Response

    response = Response(UTF8_BOM + text, content_type=CSV_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response
