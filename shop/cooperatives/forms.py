from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from shop.cooperatives.models import CooperativeKind
from shop.money import fen_to_yuan, parse_yuan
from shop.web.forms import yuan_amount

KIND_LABELS = {
    CooperativeKind.COOPERATIVE: _l("Cooperative"),
    CooperativeKind.WORKSHOP: _l("Poverty-relief workshop"),
    CooperativeKind.LEADING_ENTERPRISE: _l("Leading enterprise"),
}


class CooperativeProfileForm(FlaskForm):
    """What a cooperative's own staff may edit."""

    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=60)])
    contact_phone = StringField(
        _l("Contact phone"),
        validators=[Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message=_l("5 to 20 digits, spaces, + or -."))],
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    payout_bank_name = StringField(_l("Payout bank"), validators=[Optional(), Length(max=80)])
    payout_account_name = StringField(_l("Payout account name"), validators=[Optional(), Length(max=120)])
    payout_account_number = StringField(_l("Payout account number"), validators=[Optional(), Length(max=34)])
    shipping_fee_yuan = StringField(_l("Shipping fee per order (yuan)"), validators=[Optional(), yuan_amount])
    free_shipping_threshold_yuan = StringField(
        _l("Free shipping from (yuan; empty: never)"), validators=[Optional(), yuan_amount]
    )

    TEXT_FIELDS = (
        "address",
        "contact_name",
        "contact_phone",
        "description",
        "payout_bank_name",
        "payout_account_name",
        "payout_account_number",
    )

    def fill_money(self, cooperative) -> None:
        if not self.is_submitted():
            self.shipping_fee_yuan.data = fen_to_yuan(cooperative.shipping_fee_fen)
            self.free_shipping_threshold_yuan.data = fen_to_yuan(cooperative.free_shipping_threshold_fen)

    def data_for_service(self) -> dict:
        data = {name: getattr(self, name).data or "" for name in self.TEXT_FIELDS}
        data["shipping_fee_fen"] = parse_yuan(self.shipping_fee_yuan.data or "0") or 0
        data["free_shipping_threshold_fen"] = parse_yuan(self.free_shipping_threshold_yuan.data or "0") or 0
        return data


class CooperativeForm(CooperativeProfileForm):
    """Everything, for operators."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(min=2, max=120)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()])
    county_code = StringField(_l("County code"), validators=[DataRequired(), Length(max=6)])

    TEXT_FIELDS = (*CooperativeProfileForm.TEXT_FIELDS, "name", "credit_code", "kind", "county_code")


class SuspendForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
