"""Forms of settlement's pages: the household share of a cooperative and of a product."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, Optional, ValidationError

from shop.settlement.shares import share_refusal


def fits_the_platform_fee(form, field) -> None:
    """The fee + share rule (shop.settlement.shares.share_refusal), with the message the service gives."""
    refusal = share_refusal(field.data)
    if refusal is not None:
        raise ValidationError(refusal)


class ShareForm(FlaskForm):
    household_share_bp = IntegerField(
        _l("Household share (basis points)"),
        validators=[InputRequired(message=_l("Enter 0 to 10000.")), fits_the_platform_fee],
    )


class ProductShareForm(FlaskForm):
    household_share_bp = IntegerField(
        _l("This product's household share (basis points; empty: the cooperative's)"),
        validators=[Optional(), fits_the_platform_fee],  # Optional: an empty field is the cooperative's share
    )
