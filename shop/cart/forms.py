"""Forms of the cart pages (labels are lazy: evaluated when shown)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from shop.cart.services import MAX_QUANTITY
from shop.web.inputs import is_row_id

QUANTITY_MESSAGE = _l("Choose a quantity from 1 to %(n)d.", n=MAX_QUANTITY)


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired(), is_row_id])
    quantity = IntegerField(
        _l("Quantity"),
        default=1,
        validators=[InputRequired(QUANTITY_MESSAGE), NumberRange(min=1, max=MAX_QUANTITY, message=QUANTITY_MESSAGE)],
    )


class CartQuantityForm(FlaskForm):
    quantity = IntegerField(
        _l("Quantity"),
        validators=[InputRequired(QUANTITY_MESSAGE), NumberRange(min=1, max=MAX_QUANTITY, message=QUANTITY_MESSAGE)],
    )
