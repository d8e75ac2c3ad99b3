"""Forms of the day page: run the day-end, open the next day, the holiday calendar."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import DataRequired, Length


class RunDayEndForm(FlaskForm):
    business_date = HiddenField(validators=[DataRequired(), Length(max=10)])


class OpenDayForm(FlaskForm):
    pass


class HolidayForm(FlaskForm):
    holiday_date = DateField("Date", validators=[DataRequired(message="Give the date of the holiday.")])
    name = StringField("Holiday", validators=[DataRequired(message="Give the holiday a name."), Length(max=120)])
