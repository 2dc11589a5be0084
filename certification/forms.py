from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from certification.labels import DOCUMENT_LABELS, LINKAGE_LABELS
from shop.money import parse_yuan


def yuan(form, field):
    if parse_yuan(field.data or "") is None:
        raise ValidationError(_l("Write the price in yuan, e.g. 12.50."))


class ApplicationForm(FlaskForm):
    origin_county_code = StringField(
        _l("Origin county code"), validators=[DataRequired(), Regexp(r"^\d{6}$", message=_l("Six digits."))]
    )
    production_base_address = StringField(_l("Production base address"), validators=[Optional(), Length(max=200)])
    annual_output = IntegerField(_l("Annual output"), default=0, validators=[Optional(), NumberRange(0, 10**12)])
    output_unit = StringField(_l("Unit of output"), default="kg", validators=[Optional(), Length(max=8)])
    supply_capacity = StringField(_l("Supply capacity"), validators=[Optional(), Length(max=200)])
    declared_price_yuan = StringField(_l("Declared price (yuan)"), validators=[Optional(), yuan])
    market_price_yuan = StringField(_l("Market price of the same grade (yuan)"), validators=[Optional(), yuan])
    market_price_source = StringField(_l("Where the market price comes from"), validators=[Optional(), Length(max=200)])
    linkage_type = SelectField(
        _l("How households benefit"), choices=[SelectChoice(k.value, v) for k, v in LINKAGE_LABELS.items()]
    )
    linkage_description = TextAreaField(_l("Benefit linkage in detail"), validators=[Optional(), Length(max=5000)])
    linked_households = IntegerField(
        _l("Number of linked poor households"), default=0, validators=[Optional(), NumberRange(0, 10**6)]
    )

    def evidence(self) -> dict:
        return {
            "origin_county_code": self.origin_county_code.data,
            "production_base_address": self.production_base_address.data or "",
            "annual_output": self.annual_output.data or 0,
            "output_unit": self.output_unit.data or "kg",
            "supply_capacity": self.supply_capacity.data or "",
            "declared_price_fen": parse_yuan(self.declared_price_yuan.data or "") or 0,
            "market_price_fen": parse_yuan(self.market_price_yuan.data or "") or 0,
            "market_price_source": self.market_price_source.data or "",
            "linkage_type": self.linkage_type.data,
            "linkage_description": self.linkage_description.data or "",
            "linked_households": self.linked_households.data or 0,
        }


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, v) for k, v in DOCUMENT_LABELS.items()])
    file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[DataRequired()])


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])
    objection_id = IntegerField(validators=[Optional()])


class ObjectionForm(FlaskForm):
    reason = TextAreaField(_l("Your objection"), validators=[DataRequired(), Length(max=2000)])


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("holiday", _l("Public holiday")),
            SelectChoice("workday", _l("Make-up working day (调休)")),
            SelectChoice("", _l("Ordinary day (remove)")),
        ],
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=40)])
