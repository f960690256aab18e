"""Forms for maintenance windows, inspections and training authorisations."""

from __future__ import annotations

import datetime as dt

from wtforms import (
    EmailField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import DateTimeLocalInput, TextInput

from core.bounds import TIME_OUT_OF_RANGE, time_in_range
from core.money import format_pounds, parse_pounds
from core.timeutil import local_to_utc, to_local
from inventory.inspections import MAX_INTERVAL_DAYS
from inventory.models import InspectionKind, InspectionOutcome
from web.forms import DayField, KitshareForm, WholeNumberField


class LocalDateTimeField(Field):
    """A date and time typed in the university's local time; ``data`` is an aware UTC datetime.

    A time the clocks skip in spring is refused with a message, not guessed.
    """

    widget = DateTimeLocalInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is not None:
            return to_local(self.data).strftime("%Y-%m-%dT%H:%M")
        return ""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.data = None
        text = valuelist[0].strip()
        if not text:
            return
        try:
            wall = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("Enter a date and time, such as 2026-03-14 09:30.") from None
        if not time_in_range(wall):
            raise ValueError(TIME_OUT_OF_RANGE)
        self.data = local_to_utc(wall)  # NonexistentLocalTime is a ValueError with its own message


class PoundsField(Field):
    """An amount in pounds typed as '1,250.00'; ``data`` is integer pence (None when empty)."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return format_pounds(self.data, symbol=False) if self.data is not None else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:
            return
        self.data = None
        self.data = parse_pounds(valuelist[0])  # ValueError carries the message


class MaintenanceForm(KitshareForm):
    start_at = LocalDateTimeField("Starts", validators=[InputRequired("Enter when the maintenance starts.")])
    end_at = LocalDateTimeField("Ends", validators=[InputRequired("Enter when the maintenance ends.")])
    reason = TextAreaField(
        "What is the maintenance for?",
        validators=[InputRequired("Say what the maintenance is for."), Length(max=2000)],
    )
    cost = PoundsField("Cost (£)", validators=[Optional()])
    submit = SubmitField("Schedule maintenance")


class ConfirmForm(KitshareForm):
    """A button that posts (with the CSRF token): cancel a window, remove a schedule."""

    submit = SubmitField("Confirm")


KIND_CHOICES = [SelectChoice(kind.value, kind.label) for kind in InspectionKind]
OUTCOME_CHOICES = [SelectChoice(outcome.value, outcome.label) for outcome in InspectionOutcome]


class InspectionScheduleForm(KitshareForm):
    kind = SelectField("Inspection", choices=KIND_CHOICES)
    interval_days = WholeNumberField(
        "Every (days)",
        validators=[
            InputRequired("Enter how often it is due, in days (365 for yearly)."),
            NumberRange(min=1, max=MAX_INTERVAL_DAYS, message=f"Use between 1 and {MAX_INTERVAL_DAYS} days."),
        ],
    )
    last_done_on = DayField("Last done on", validators=[Optional()])
    first_due_on = DayField("First due on", validators=[Optional()])
    submit = SubmitField("Add inspection schedule")


class IntervalForm(KitshareForm):
    interval_days = WholeNumberField(
        "Every (days)",
        validators=[
            InputRequired("Enter how often it is due, in days."),
            NumberRange(min=1, max=MAX_INTERVAL_DAYS, message=f"Use between 1 and {MAX_INTERVAL_DAYS} days."),
        ],
    )
    submit = SubmitField("Change interval")


class InspectionRecordForm(KitshareForm):
    done_on = DayField("Done on", validators=[InputRequired("Enter the date the inspection was done.")])
    performed_by = StringField(
        "Done by (person or contractor)",
        validators=[InputRequired("Enter who did the inspection."), Length(max=200)],
    )
    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES)
    note = TextAreaField("Note", validators=[Length(max=4000)])
    cost = PoundsField("Cost (£)", validators=[Optional()])
    submit = SubmitField("Record inspection")


class GrantTrainingForm(KitshareForm):
    email = EmailField(
        "Person's e-mail address",
        validators=[InputRequired("Enter the person's e-mail address."), Length(max=254)],
    )
    granted_on = DayField("Trained on", validators=[InputRequired("Enter the date of the training.")])
    expires_on = DayField("Expires on", validators=[Optional()])
    note = TextAreaField("Note", validators=[Length(max=2000)])
    submit = SubmitField("Grant authorisation")


class CategoryTrainingForm(GrantTrainingForm):
    category_id = SelectField("Category", coerce=int)


class RevokeForm(KitshareForm):
    reason = StringField(
        "Reason", validators=[InputRequired("Say why the authorisation is revoked."), Length(max=2000)]
    )
    submit = SubmitField("Revoke")


class TrainingRequestForm(KitshareForm):
    """A person asks the owning School's managers to be trained on an asset."""

    message = TextAreaField("Message to the managers (optional)", validators=[Length(max=1000)])
    submit = SubmitField("Request training")


class GrantRequestForm(KitshareForm):
    """A manager grants a training request; the choices name the asset and its category."""

    scope = RadioField("Authorise for", choices=[SelectChoice("asset", "This asset only")], default="asset")
    expires_on = DayField("Expires on (optional)", validators=[Optional()])
    submit = SubmitField("Grant")


class DeclineRequestForm(KitshareForm):
    reason = StringField("Reason (optional)", validators=[Length(max=2000)])
    submit = SubmitField("Decline")
