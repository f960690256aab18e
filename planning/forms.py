"""Capital-planning forms: the page's filters (GET), a decision on a recommendation, a category's life."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from planning.models import DecisionOutcome
from planning.service import MAX_NOTE, MAX_YEARS
from reports.forms import LocalDateField
from web.forms import KitshareForm, WholeNumberField, whole_id


class ChoiceField(SelectField):
    """A select of whole numbers whose refusal people understand (a hand-edited address)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Choose from the list.") from None


def _years_label(n: int) -> str:
    return {1: "This year only", 2: "This year and next year"}.get(n, f"This year and the next {n - 1}")


class PlanFilterForm(KitshareForm):
    """The page's filters. Sent with GET, so a plan has an address to share or bookmark; the
    School is checked against what the person may see by the service (403), not here."""

    class Meta:
        csrf = False

    school = ChoiceField(
        "School", coerce=whole_id, default=0, validate_choice=False
    )  # 0: every School they may see
    category = ChoiceField("Category", coerce=whole_id, default=0, validate_choice=False)
    years = ChoiceField(
        "Financial years",
        coerce=whole_id,
        default=MAX_YEARS,
        choices=[SelectChoice(n, _years_label(n)) for n in range(1, MAX_YEARS + 1)],
        validate_choice=False,  # the service says which numbers it takes
    )
    on = LocalDateField("Book values on", validators=[Optional()])


#: The decision box's first choice, and its default: nothing is decided until someone says so.
NO_DECISION = ""


class DecisionForm(KitshareForm):
    asset_id = HiddenField()
    recommendation = HiddenField()
    outcome = SelectField(
        "Decision",
        default=NO_DECISION,
        choices=[
            SelectChoice(NO_DECISION, "— no decision —"),
            SelectChoice(DecisionOutcome.ACCEPTED.value, "Accept"),
            SelectChoice(DecisionOutcome.DEFERRED.value, "Defer"),
            SelectChoice(DecisionOutcome.DECLINED.value, "Decline"),
        ],
        validate_choice=False,  # the service says what the choices are
    )
    note = TextAreaField(
        "Note", validators=[Length(max=MAX_NOTE, message=f"Keep the note to {MAX_NOTE} characters.")]
    )
    back = HiddenField()  # the page's filters, to return to
    submit = SubmitField("Record decision")


class CategoryLifeForm(KitshareForm):
    years = WholeNumberField(
        "Useful life (years)",
        validators=[
            Optional(),
            NumberRange(min=1, max=100, message="Enter a whole number of years from 1 to 100."),
        ],
    )
    submit = SubmitField("Save")
