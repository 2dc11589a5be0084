from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from shop.households.labels import LINK_TYPE_LABELS
from shop.households.rules import MAX_LINK_WEIGHT, LinkAction


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file from the county office"), validators=[FileRequired(_l("Choose a CSV file."))])


class LinkProposalForm(FlaskForm):
    registry_number = StringField(_l("Registry number of the household"), validators=[DataRequired(), Length(max=32)])
    link_type = SelectField(
        _l("Type of link"), choices=[SelectChoice(t.value, label) for t, label in LINK_TYPE_LABELS.items()]
    )
    weight = IntegerField(_l("Weight"), default=1, validators=[DataRequired(), NumberRange(min=1, max=MAX_LINK_WEIGHT)])
    note = TextAreaField(_l("Note for the county reviewer"), validators=[Optional(), Length(max=1000)])


class LinkActionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf([a.value for a in LinkAction])])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])
    back = HiddenField()


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SourcingForm(FlaskForm):
    household_ids = CheckboxListField(_l("Households this product buys from"), coerce=int, choices=[])
