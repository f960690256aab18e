"""The base form and the fields every form reads numbers and dates with, and how a service's
refusal is shown on a form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, SelectMultipleField
from wtforms import Form as PlainForm
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from core.bounds import (
    DATE_OUT_OF_RANGE,
    MAX_INT,
    NUL_IN_TEXT,
    TIME_OUT_OF_RANGE,
    date_in_range,
    has_nul,
    time_in_range,
    whole_number,
)
from core.errors import InvalidInput


class RefusesNul:
    """Every field of the form refuses text with a NUL character (PostgreSQL cannot store it),
    subforms and lists of them included; a hidden field's refusal is said on top of the form."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)  # type: ignore[misc]
        return _refuse_nul(self, self) and valid


def _refuse_nul(form: Any, top: Any) -> bool:
    clean = True
    for field in form:
        if hasattr(field, "entries"):  # FieldList
            for entry in field.entries:
                clean = _refuse_nul([entry], top) and clean
        elif hasattr(field, "form") and isinstance(field.form, PlainForm):  # FormField
            clean = _refuse_nul(field.form, top) and clean
        elif any(has_nul(value) for value in field.raw_data or ()):
            clean = False
            if NUL_IN_TEXT not in field.errors:
                field.errors = [*field.errors, NUL_IN_TEXT]
            if field.type in ("HiddenField", "CSRFTokenField") and NUL_IN_TEXT not in top.form_errors:
                top.form_errors.append(NUL_IN_TEXT)
    return clean


class KitshareForm(RefusesNul, FlaskForm):
    """The base of every form posted to Kitshare (with its CSRF token)."""


def whole_id(value: Any) -> int:
    """``coerce`` for a select of ids: '12' -> 12; '²', '1e3' or 2**31 is a ValueError, so the
    choice is refused before any query sees it (PostgreSQL's integer columns stop at 2**31 - 1)."""
    return whole_number(value, 0, MAX_INT)


class _SaysWhyItCannotRead:
    """A field that could not read what was typed says why, once: without this a DataRequired or
    InputRequired after it would replace the reason with "Enter ..." (they clear the errors)."""

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # type: ignore[attr-defined]
            raise StopValidation()


class WholeNumberField(_SaysWhyItCannotRead, IntegerField):
    """A whole number in ASCII digits within an integer column's range; anything else is said
    beside the field. Each form still bounds it to what the number means (NumberRange)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.data = None
        text = str(valuelist[0]).strip()
        if text:
            try:
                self.data = whole_number(text)
            except ValueError:
                if text.lstrip("-").isascii() and text.lstrip("-").isdecimal():
                    raise ValueError("That number is far too large.") from None
                raise ValueError("Enter a whole number, such as 30.") from None


class DayField(_SaysWhyItCannotRead, DateField):
    """A date typed as YYYY-MM-DD, between the years 1900 and 2999."""

    message = "Enter a real date, such as 2026-03-14."

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.data = None
        text = str(valuelist[0]).strip()
        if not text:
            return
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(self.message) from None
        if not date_in_range(day):
            raise ValueError(DATE_OUT_OF_RANGE)
        self.data = day


class WallTimeField(_SaysWhyItCannotRead, DateTimeLocalField):
    """A local date and time (naive, as typed), between the years 1970 and 2999."""

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not time_in_range(self.data):
            self.data = None
            raise ValueError(TIME_OUT_OF_RANGE)


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


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes, each with its own label (keyboard friendly)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
