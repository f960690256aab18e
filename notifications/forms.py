from __future__ import annotations

from wtforms import SubmitField
from wtforms.fields.choices import SelectChoice

from notifications.service import EVENTS
from web.forms import CheckboxListField, KitshareForm


class PreferencesForm(KitshareForm):
    """One checkbox per event: ticked means 'send me an e-mail'."""

    events = CheckboxListField(
        "E-mail me when", choices=[SelectChoice(name, label) for name, label in EVENTS.items()]
    )
    submit = SubmitField("Save e-mail preferences")
