"""Responses the HTML views share: where to go after a form (never another site), downloads, and
a download form's refusal as plain text."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (such as ``/bookings?page=2``), else None: a
    ``next`` field must never send people to another site. Refused: a scheme or host, and the
    ``//host`` and ``/\\host`` forms browsers read as another site."""
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if (
        target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 or ord(char) == 127 for char in target)
    ):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


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
    response = Response(UTF8_BOM + text, content_type=CSV_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def download(body: bytes | str, content_type: str, name: str) -> Response:
    """A file to download (XLSX, PDF, ...), named ``name``."""
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def form_errors_text(form, fallback: str) -> Response:
    """A download link whose filters do not hold: every message of the form, as plain text, 400."""
    messages = [message for field in form for message in field.errors] + list(form.form_errors)
    return Response("\n".join(messages or [fallback]) + "\n", status=400, mimetype="text/plain")
