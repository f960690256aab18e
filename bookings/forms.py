"""Forms of the booking pages: booking, cancelling, approving; loans, waitlists and quotas."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from web.forms import DayField, KitshareForm, WallTimeField, WholeNumberField

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class BookingForm(KitshareForm):
    start = WallTimeField(
        "Start", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it starts.")]
    )
    end = WallTimeField(
        "End", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it ends.")]
    )
    purpose = TextAreaField(
        "What is it for?", validators=[DataRequired("Say what the booking is for."), Length(max=2000)]
    )
    repeat = RadioField(
        "Repeat",
        choices=[
            SelectChoice("none", "Just once"),
            SelectChoice("daily", "Every day"),
            SelectChoice("weekly", "Every week"),
        ],
        default="none",
    )
    count = WholeNumberField(
        "Number of times",
        validators=[Optional(), NumberRange(min=1, max=100, message="Repeat between 1 and 100 times.")],
    )
    until = DayField("Or until (date)", validators=[Optional()])
    submit = SubmitField("Book")

    def validate_end(self, field: WallTimeField) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError("The booking must end after it starts.")

    def validate_repeat(self, field: RadioField) -> None:
        if field.data == "none":
            return
        if not self.count.data and not self.until.data:
            raise ValidationError("Say how many times, or until when, it repeats.")
        if self.count.data and self.until.data:
            raise ValidationError("Give a number of times or an end date, not both.")


class ReasonForm(KitshareForm):
    reason = TextAreaField("Reason", validators=[Length(max=2000)])
    submit = SubmitField("Confirm")


class CancelForm(ReasonForm):
    """ "Cancel your booking of ...?": the one confirmation before a booking is cancelled."""

    next = HiddenField()  # where to go afterwards: a path on this site only (web.local_path)
    submit = SubmitField("Yes, cancel this booking")


class ApproveForm(KitshareForm):
    rejection_reason = TextAreaField(
        "Reason for rejecting the overlapping requests", validators=[Length(max=2000)]
    )
    submit = SubmitField("Approve")


# --- Loans, waitlists and quotas ---------------------------------------------------------------


class HandOverForm(KitshareForm):
    condition = TextAreaField(
        "Condition as it leaves",
        validators=[DataRequired("Describe its condition as it is handed over."), Length(max=2000)],
    )
    submit = SubmitField("Record the hand-over")


class ReturnForm(KitshareForm):
    condition = TextAreaField(
        "Condition as it comes back",
        validators=[DataRequired("Describe its condition as it comes back."), Length(max=2000)],
    )
    damaged = BooleanField("It came back damaged (flags the asset and tells the School's managers)")
    submit = SubmitField("Record the return")


class WaitlistForm(KitshareForm):
    start = WallTimeField(
        "Start", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it starts.")]
    )
    end = WallTimeField(
        "End", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it ends.")]
    )
    purpose = TextAreaField(
        "What is it for?", validators=[DataRequired("Say what the booking is for."), Length(max=2000)]
    )
    submit = SubmitField("Join the waitlist for this time")

    def validate_end(self, field: WallTimeField) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError("The time must end after it starts.")


_HOURS = re.compile(r"^(\d{1,4})(?:[.,](\d{1,2}))?$|^(\d{1,4}):([0-5]\d)$")


def parse_hours(text: str | None) -> int | None:
    """'8' -> 480, '7.5' -> 450, '7:30' -> 450, '' -> None (no cap). Raises ValueError."""
    text = (text or "").strip().lower().removesuffix("h").strip()
    if not text:
        return None
    match = _HOURS.match(text)
    if not match:
        raise ValueError("Enter hours such as 8, 7.5 or 7:30, or leave it empty for no cap.")
    if match.group(3) is not None:
        return int(match.group(3)) * 60 + int(match.group(4))
    whole, fraction = int(match.group(1)), match.group(2) or "0"
    return whole * 60 + round(float(f"0.{fraction}") * 60)


class Hours:
    """Validator: a number of hours ``parse_hours`` accepts."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        try:
            parse_hours(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


class QuotaForm(KitshareForm):
    scope = SelectField("Applies to", validate_choice=True)
    period = RadioField(
        "Per",
        choices=[SelectChoice("week", "Week (Monday to Sunday)"), SelectChoice("month", "Calendar month")],
        default="week",
        validators=[DataRequired("Choose week or month.")],
    )
    own_school_hours = StringField(
        "Hours per person for the School's own people", validators=[Length(max=10), Hours()]
    )
    other_school_hours = StringField(
        "Hours per person for other Schools' people", validators=[Length(max=10), Hours()]
    )
    submit = SubmitField("Add quota")
