"""The profile form, the expert search (GET) and the contribution record's period (GET)."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import ListWidget, RadioInput

from people.models import PARTS, RegistrationTitle, Visibility
from people.service import MAX_QUERY, MAX_ROLE_TITLE, MAX_TAG_LENGTH
from web.forms import DayField, KitshareForm, whole_id

SUGGESTIONS_ID = "specialism-suggestions"


class LocalDateField(DayField):
    message = "Enter a date such as 2026-09-01."


class ChoiceField(SelectField):
    """A select of ids whose refusal people understand (a hand-edited address)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("Choose from the list.") from None


class VisibilityField(RadioField):
    widget = ListWidget(prefix_label=False)
    option_widget = RadioInput()


def _registration_field(title: RegistrationTitle) -> DayField:
    return DayField(f"{title.value}: registered on", validators=[Optional()])


class ProfileForm(KitshareForm):
    role_title = StringField(
        "Role title",
        validators=[
            Length(max=MAX_ROLE_TITLE, message=f"A role title has at most {MAX_ROLE_TITLE} characters.")
        ],
    )
    specialisms = TextAreaField(
        "Specialisms and techniques",
        validators=[Length(max=4000, message="Keep the list under 4,000 characters.")],
    )
    add_specialism = StringField(
        "Add a specialism",
        validators=[
            Length(max=MAX_TAG_LENGTH, message=f"A specialism has at most {MAX_TAG_LENGTH} characters.")
        ],
        render_kw={"list": SUGGESTIONS_ID, "autocomplete": "off"},
    )
    submit = SubmitField("Save profile")


for _title in RegistrationTitle:
    setattr(ProfileForm, f"registration_{_title.name.lower()}", _registration_field(_title))
for _part, _label in PARTS.items():
    setattr(
        ProfileForm,
        f"{_part}_visibility",
        VisibilityField(
            _label,
            choices=[SelectChoice(v.value, v.label) for v in Visibility],
            default=Visibility.EVERYONE.value if _part != "record" else Visibility.SCHOOL.value,
        ),
    )


def registration_fields(form: ProfileForm) -> list[tuple[RegistrationTitle, object]]:
    return [(title, getattr(form, f"registration_{title.name.lower()}")) for title in RegistrationTitle]


def visibility_fields(form: ProfileForm) -> list[tuple[str, object]]:
    return [(part, getattr(form, f"{part}_visibility")) for part in PARTS]


class ExpertSearchForm(KitshareForm):
    """Find an expert. Sent with GET, so a search has an address to share."""

    class Meta:
        csrf = False

    q = StringField(
        "Name, equipment or skill",
        validators=[Length(max=MAX_QUERY, message=f"Search for at most {MAX_QUERY} characters.")],
    )
    technique = StringField(
        "Technique",
        validators=[
            Length(max=MAX_TAG_LENGTH, message=f"A technique has at most {MAX_TAG_LENGTH} characters.")
        ],
        render_kw={"list": SUGGESTIONS_ID, "autocomplete": "off"},
    )
    asset = ChoiceField("Equipment", coerce=whole_id, default=0, validate_choice=False)
    category = ChoiceField("Category", coerce=whole_id, default=0, validate_choice=False)
    school = ChoiceField("School", coerce=whole_id, default=0, validate_choice=False)


class RecordPeriodForm(KitshareForm):
    """The contribution record's period. Sent with GET, so the downloads share its address."""

    class Meta:
        csrf = False

    period_from = LocalDateField("From", name="from")
    period_to = LocalDateField("To (included)", name="to")


class NameTechnicianForm(KitshareForm):
    """A manager names a further technician of one of the School's assets."""

    asset_id = ChoiceField("Equipment", coerce=whole_id, validate_choice=False)
    user_id = ChoiceField("Technician", coerce=whole_id, validate_choice=False)
    submit = SubmitField("Name technician")


class RemoveTechnicianForm(KitshareForm):
    """Take a named technician off an asset (the asset and person travel in hidden fields)."""

    asset_id = HiddenField()
    user_id = HiddenField()
