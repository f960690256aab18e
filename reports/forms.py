from __future__ import annotations

from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

from web.forms import CheckboxListField, DayField, KitshareForm, whole_id


class LocalDateField(DayField):
    """A date typed as YYYY-MM-DD (what a date input sends), with a message people understand."""

    message = "Enter a date such as 2026-09-01."


class PeriodForm(KitshareForm):
    """The report page's picker. Sent with GET, so a report has an address to share or bookmark."""

    class Meta:
        csrf = False

    period_from = LocalDateField("From", name="from")
    period_to = LocalDateField("To (included)", name="to")
    # Checked against what the person may see by the service (403), not as a form error.
    schools = CheckboxListField("Schools", name="school", coerce=whole_id, validate_choice=False)


class SnapshotForm(KitshareForm):
    """'Keep a copy' of the report on screen; the period comes in hidden fields."""

    submit = SubmitField("Keep a copy of this report")


class SubscriptionForm(KitshareForm):
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
    schools = CheckboxListField("Schools", coerce=whole_id, validate_choice=False)
    submit = SubmitField("Subscribe")


class ActionForm(KitshareForm):
    """A button that changes a subscription (pause, resume, delete): CSRF-protected."""

    submit = SubmitField("Go")
