from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class BatchForm(FlaskForm):
    period_start = DateField(_l("Period from"), validators=[DataRequired()])
    period_end = DateField(_l("Period to"), validators=[DataRequired()])


class OutcomeForm(FlaskForm):
    """The bank's answer for one line, or (no line) for every line still in transit."""

    line_id = HiddenField(validators=[Optional()])
    outcome = SelectField(
        choices=[SelectChoice("paid", _l("Paid")), SelectChoice("failed", _l("Failed"))], validators=[DataRequired()]
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
