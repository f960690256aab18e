from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

from web import CheckboxListField


class LocalDateField(DateField):
    """A date typed as YYYY-MM-DD (what a date input sends), with a message people understand."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Enter a date such as 2026-09-01.") from None


class PeriodForm(FlaskForm):
    """The report page's picker. Sent with GET, so a report has an address to share or bookmark."""

    class Meta:
        csrf = False

    period_from = LocalDateField("From", name="from")
    period_to = LocalDateField("To (included)", name="to")
    # Checked against what the person may see by the service (403), not as a form error.
    schools = CheckboxListField("Schools", name="school", coerce=int, validate_choice=False)


class SnapshotForm(FlaskForm):
    """'Keep a copy' of the report on screen; the period comes in hidden fields."""

    submit = SubmitField("Keep a copy of this report")


class SubscriptionForm(FlaskForm):
    frequency = RadioField(
        "How often",
        choices=[
            SelectChoice("weekly", "Every week (Monday to Sunday), sent the Monday after"),
            SelectChoice("monthly", "Every month, sent on the 1st of the next"),
            SelectChoice("quarterly", "Every quarter (January to March, ...), sent when it ends"),
        ],
        default="monthly",
        validate_choice=False,  # the service says what the choices are
    )
    schools = CheckboxListField("Schools", coerce=int, validate_choice=False)
    submit = SubmitField("Subscribe")


class ActionForm(FlaskForm):
    """A button that changes a subscription (pause, resume, delete): CSRF-protected."""

    submit = SubmitField("Go")
