"""Forms for asset photos and label sheets."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import Form, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from inventory.media import ACCEPTED_FORMATS, LABELS_PER_SHEET
from web.forms import KitshareForm, RefusesNul, WholeNumberField, whole_id

#: What the file picker offers; the service checks what the file really is.
PHOTO_ACCEPT = ",".join(f"image/{name.lower()}" for name in ACCEPTED_FORMATS)


class PhotoForm(KitshareForm):
    photo = FileField(
        "Photo",
        validators=[FileRequired("Choose a photo to upload.")],
        render_kw={"accept": PHOTO_ACCEPT},
    )
    submit = SubmitField("Upload photo")


class RemovePhotoForm(KitshareForm):
    """Only the CSRF token; it shares a page with PhotoForm, so its button has its own name."""

    remove = SubmitField("Remove photo")


class LabelSheetForm(RefusesNul, Form):
    """Which labels to print. Sent by GET (it changes nothing), so it carries no CSRF token."""

    # Any School id is accepted here; the service answers 403 for one the person does not manage.
    school = SelectField(
        "School", coerce=whole_id, validate_choice=False, validators=[InputRequired("Choose a School.")]
    )
    category = SelectField("Category", coerce=whole_id, default=0, validators=[Optional()])
    tags = StringField(
        "Only these asset tags",
        validators=[Length(max=2000, message="List at most 2,000 characters of tags.")],
    )
    start_at = WholeNumberField(
        "Start at label",
        default=1,
        validators=[
            Optional(),
            NumberRange(
                min=1, max=LABELS_PER_SHEET, message=f"Use a label position from 1 to {LABELS_PER_SHEET}."
            ),
        ],
    )
    submit = SubmitField("Make the PDF")
