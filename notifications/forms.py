from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice

from notifications.events import EVENTS
from web import CheckboxListField


class PreferencesForm(FlaskForm):
    """One checkbox per event: ticked means 'send me an e-mail'."""

    events = CheckboxListField(
        "E-mail me when", choices=[SelectChoice(name, label) for name, label in EVENTS.items()]
    )
    submit = SubmitField("Save e-mail preferences")
