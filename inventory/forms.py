from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from core.bounds import MAX_MINUTES, MINUTES_TOO_MANY
from core.money import parse_pounds
from inventory.models import AssetStatus
from inventory.service import MAX_SPANS_A_DAY  # the form, the API and the import share the limit
from web.forms import DayField, KitshareForm, WholeNumberField


class SchoolForm(KitshareForm):
    code = StringField("Code", validators=[DataRequired("Enter a short code, such as CHEM."), Length(max=20)])
    name = StringField("Name", validators=[DataRequired("Enter the School's name."), Length(max=200)])
    submit = SubmitField("Add School")


class LocationForm(KitshareForm):
    site = StringField("Site or campus", default="Main campus", validators=[Length(max=100)])
    building = StringField("Building", validators=[DataRequired("Enter the building."), Length(max=200)])
    room = StringField("Room", validators=[DataRequired("Enter the room."), Length(max=100)])
    submit = SubmitField("Add location")


class Pounds:
    """Validator: an amount in pounds that money.parse_pounds accepts."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        try:
            parse_pounds(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


#: Notice, booking length, turnaround and no-show release: minutes within a year (bounds.py).
AT_MOST_A_YEAR = NumberRange(max=MAX_MINUTES, message=MINUTES_TOO_MANY)


class SpanForm(FlaskForm):
    """One span of a weekday's bookable hours; both times empty means no span."""

    class Meta:
        csrf = False  # part of AssetForm, which carries the token

    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField("Closes", validators=[Optional()])

    # Each runs only when its own field is filled in (Optional stops the chain otherwise).
    def validate_opens(self, field: TimeField) -> None:
        if not self.closes.data:
            raise ValidationError("Give both the opening and closing time, or neither.")

    def validate_closes(self, field: TimeField) -> None:
        if not self.opens.data and not self.opens.errors:
            raise ValidationError("Give both the opening and closing time, or neither.")


class DayHoursForm(SpanForm):
    """One weekday's bookable hours: its first span (``hours-N-opens``, ``hours-N-closes``; N = 0
    for Monday) and any more (``hours-N-extra-K-opens`` ...), so a day split in two, such as
    09:00-12:00 and 13:00-17:00, is shown and kept whole. All empty: not bookable that day."""

    extra = FieldList(
        FormField(SpanForm), min_entries=1, max_entries=MAX_SPANS_A_DAY
    )  # the others, and a blank


class AssetForm(KitshareForm):
    tag = StringField("Asset tag", validators=[DataRequired("Enter the asset tag."), Length(max=50)])
    name = StringField("Name", validators=[DataRequired("Enter the asset's name."), Length(max=200)])
    category_id = SelectField("Category", coerce=int)
    location_id = SelectField("Location", coerce=int)
    manufacturer = StringField("Manufacturer", validators=[Length(max=200)])
    model = StringField("Model", validators=[Length(max=200)])
    serial_number = StringField("Serial number", validators=[Length(max=200)])
    description = TextAreaField("Description")
    purchase_date = DayField("Purchase date", validators=[Optional()])
    purchase_cost = StringField("Purchase cost (£)", validators=[Length(max=20), Pounds()])
    funding_source = StringField("Funding source", validators=[Length(max=200)])
    contact_id = SelectField("Contact person", coerce=int)
    hourly_rate = StringField("Hourly rate for cost recovery (£)", validators=[Length(max=20), Pounds()])
    bookable = BooleanField("Bookable: people can book it in Kitshare")
    shareable = BooleanField("Shareable: people from other Schools can request it")
    requires_approval = BooleanField("Every booking needs a manager's approval")
    training_required = BooleanField("Only people with current training may book it")
    block_when_inspection_overdue = BooleanField("Refuse bookings while an inspection is overdue")
    min_notice_minutes = WholeNumberField(
        "Minimum notice (minutes)",
        default=0,
        validators=[
            InputRequired("Enter 0 for no notice."),
            NumberRange(min=0, message="Use 0 or more minutes."),
            AT_MOST_A_YEAR,
        ],
    )
    max_booking_minutes = WholeNumberField(
        "Longest booking (minutes)",
        validators=[
            Optional(),
            NumberRange(min=1, message="Use at least 1 minute, or leave empty for no limit."),
            AT_MOST_A_YEAR,
        ],
    )
    turnaround_minutes = WholeNumberField(
        "Turnaround after each booking (minutes)",
        default=0,
        validators=[
            InputRequired("Enter 0 for no turnaround."),
            NumberRange(min=0, message="Use 0 or more minutes."),
            AT_MOST_A_YEAR,
        ],
    )
    # Loans and check-in (bookings/loans.py).
    portable = BooleanField("Portable: it is lent out, with a recorded hand-over and return")
    checkin_required = BooleanField("People check in at the start of a booking (bench kit)")
    no_show_release_minutes = WholeNumberField(
        "Release a booking not checked in after (minutes)",
        validators=[
            Optional(),
            NumberRange(min=1, message="Use at least 1 minute, or leave empty never to release."),
            AT_MOST_A_YEAR,
        ],
    )
    # Capital planning (planning/lifecycle.py).
    useful_life_years = WholeNumberField(
        "Useful life (years)",
        validators=[
            Optional(),
            NumberRange(
                min=1, max=100, message="Enter 1 to 100 years, or leave it empty for the category's."
            ),
        ],
    )
    replacement_cost = StringField("Replacement cost (£)", validators=[Length(max=20), Pounds()])
    hours = FieldList(FormField(DayHoursForm), min_entries=7, max_entries=7)
    # The version of the asset the form was filled from, and its settings then (JSON), so a save
    # made after somebody else's change is refused with what changed (inventory.service).
    version = HiddenField()
    original = HiddenField()
    submit = SubmitField("Save asset")

    def validate_no_show_release_minutes(self, field: WholeNumberField) -> None:
        if field.data is not None and not self.checkin_required.data:
            raise ValidationError(
                "Releasing no-shows needs check-in: tick “People check in at the start of a booking”."
            )
        if field.data is not None and self.portable.data:
            raise ValidationError("Portable kit is handed over, not checked in: leave this empty.")


class StatusForm(KitshareForm):
    status = SelectField("New status", choices=[SelectChoice(s.value, s.label) for s in AssetStatus])
    reason = TextAreaField("Reason", validators=[Length(max=2000)])
    submit = SubmitField("Change status")


class CategoryForm(KitshareForm):
    name = StringField("Category name", validators=[DataRequired("Enter a name."), Length(max=100)])
    description = StringField("Description", validators=[Length(max=500)])
    submit = SubmitField("Add category")
