"""Helpers the HTML views share."""

from __future__ import annotations

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
