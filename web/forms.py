"""The base form and the fields every form reads numbers and dates with, and how a service's
refusal is shown on a form page (``refusal_shown``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from flask import flash
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


def refusal_messages(error: InvalidInput) -> list[str]:
    """Every message of a refusal: its field messages, or the one message if it names no field."""
    return sum(error.field_errors.values(), []) or [error.message]


class Outcome:
    """What came of a service call made for a page: ``succeeded``, or the ``refusal`` (already shown)
    and whether it was ``flashed`` (the page usually redirects then) or put on the form."""

    def __init__(self) -> None:
        self.refusal: InvalidInput | None = None
        self.flashed = False

    @property
    def succeeded(self) -> bool:
        return self.refusal is None


@contextmanager
def refusal_shown(
    form: FlaskForm | None = None,
    *,
    flash_unless_fields: bool = False,
    field_names: Mapping[str, str] | None = None,
) -> Iterator[Outcome]:
    """Run a page's service call; an ``InvalidInput`` it raises is shown where the page shows it.

    With a form, each message goes beside its field (``show_errors``); without one, or with
    ``flash_unless_fields`` when the refusal names no field (nothing on the form to correct), every
    message is flashed as an error. ``field_names`` maps a service's parameter names to the form's.
    Other errors (``NotFound``, ``NotAllowed``) pass on to the error pages. Use::

        with refusal_shown(form) as outcome:
            thing = service.make_thing(db.session, current_user, form.name.data)  # a command (core/db.py)
        if outcome.succeeded:
            flash(...); return redirect(...)
    """
    outcome = Outcome()
    try:
        yield outcome
    except InvalidInput as error:
        outcome.refusal = error
        if field_names:
            error.field_errors = {
                field_names.get(name, name): errors for name, errors in error.field_errors.items()
            }
        if form is None or (flash_unless_fields and not error.field_errors):
            outcome.flashed = True
            for message in refusal_messages(error):
                flash(message, "error")
        else:
            show_errors(form, error)


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes, each with its own label (keyboard friendly)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
