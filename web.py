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
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = list(field.errors) + list(messages)
    if not error.field_errors:
        form.form_errors.append(error.message)


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes, each with its own label (keyboard friendly)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after a form: ``target`` when it is a path on this site, else ``fallback``.

    Only a local path is followed (no open redirect): it starts with a single "/", not "//" or
    "/\\" (which browsers read as another host), and has no scheme or host; control characters,
    which browsers strip before reading the address, are refused too."""
    if not target or not target.startswith("/") or target[1:2] in ("/", "\\"):
        return fallback
    if any(ord(character) < 32 or ord(character) == 127 for character in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
