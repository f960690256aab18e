from __future__ import annotations

from wtforms import HiddenField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from web.forms import DayField, KitshareForm, WallTimeField, WholeNumberField

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class BookingForm(KitshareForm):
    start = WallTimeField("Start", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it starts.")])
    end = WallTimeField("End", format=LOCAL_FORMATS, validators=[DataRequired("Enter the date and time it ends.")])
    purpose = TextAreaField(
        "What is it for?", validators=[DataRequired("Say what the booking is for."), Length(max=2000)]
    )
    repeat = RadioField(
        "Repeat",
        choices=[SelectChoice("none", "Just once"), SelectChoice("daily", "Every day"), SelectChoice("weekly", "Every week")],
        default="none",
    )
    count = WholeNumberField("Number of times", validators=[Optional(), NumberRange(min=1, max=100, message="Repeat between 1 and 100 times.")])
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
    """"Cancel your booking of ...?": the one confirmation before a booking is cancelled."""

    next = HiddenField()  # where to go afterwards: a path on this site only (web.local_path)
    submit = SubmitField("Yes, cancel this booking")


class ApproveForm(KitshareForm):
    rejection_reason = TextAreaField("Reason for rejecting the overlapping requests", validators=[Length(max=2000)])
    submit = SubmitField("Approve")
