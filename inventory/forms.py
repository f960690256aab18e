from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length


class SchoolForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired("Enter a short code, such as CHEM."), Length(max=20)])
    name = StringField("Name", validators=[DataRequired("Enter the School's name."), Length(max=200)])
    submit = SubmitField("Add School")


class LocationForm(FlaskForm):
    site = StringField("Site or campus", default="Main campus", validators=[Length(max=100)])
    building = StringField("Building", validators=[DataRequired("Enter the building."), Length(max=200)])
    room = StringField("Room", validators=[DataRequired("Enter the room."), Length(max=100)])
    submit = SubmitField("Add location")
