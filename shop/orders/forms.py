"""Forms and words of the cart, checkout, payment and order pages (labels are lazy: evaluated when shown)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Regexp

from shop.cart.services import MAX_QUANTITY

ORDER_STATUS_LABELS = {
    "pending_payment": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
SHIPMENT_STATUS_LABELS = {
    "awaiting_shipment": _l("Awaiting shipment"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
}
PAYMENT_STATUS_LABELS = {
    "not_started": _l("Not started"),
    "creating": _l("Being set up"),
    "create_failed": _l("Setup failed, will retry"),
    "requires_payment_method": _l("Waiting for a card"),
    "requires_confirmation": _l("Waiting for confirmation"),
    "requires_action": _l("Waiting for card authentication"),
    "processing": _l("Processing"),
    "succeeded": _l("Paid"),
    "declined": _l("Card declined"),
    "failed": _l("Failed"),
    "canceled": _l("Cancelled"),
    "refund_due": _l("Paid after cancellation: refund due"),
    "refunded_after_cancel": _l("Refunded"),
    "amount_mismatch": _l("Amount mismatch: under review"),
}
EVENT_LABELS = {
    "place": _l("Order placed"),
    "pay": _l("Payment received"),
    "cancel": _l("Order cancelled"),
    "complete": _l("Order completed"),
    "ship": _l("Shipped"),
    "deliver": _l("Receipt confirmed"),
}
ACTOR_LABELS = {
    "buyer": _l("buyer"),
    "cooperative": _l("cooperative"),
    "operator": _l("operator"),
    "provider": _l("payment provider"),
    "job": _l("scheduled job"),
}
FLAG_LABELS = {
    "amount_mismatch": _l("Amount does not match the order"),
    "paid_after_cancel": _l("Paid after the order was cancelled"),
    "unknown_intent": _l("Payment that matches no order"),
}

QUANTITY_MESSAGE = _l("Choose a quantity from 1 to %(n)d.", n=MAX_QUANTITY)


class AddToCartForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired(), Regexp(r"^[1-9][0-9]{0,9}$")])
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


class CheckoutForm(FlaskForm):
    """The shipping address; the services check it again (mobile, county-level district)."""

    checkout_key = HiddenField(validators=[DataRequired(), Regexp(r"^[A-Za-z0-9_-]{8,64}$")])
    recipient = StringField(_l("Recipient"), validators=[DataRequired(), Length(max=40)])
    mobile = StringField(
        _l("Mobile number"),
        validators=[
            DataRequired(),
            Regexp(r"^\s*1[3-9][0-9]{9}\s*$", message=_l("A mainland mobile number: 11 digits starting with 13–19.")),
        ],
    )
    district_code = StringField(
        _l("District code"),
        validators=[DataRequired(), Regexp(r"^\s*[0-9]{6}\s*$", message=_l("Six digits."))],
    )
    detail = StringField(_l("Street, building and room"), validators=[DataRequired(), Length(max=200)])


class PayForm(FlaskForm):
    """What Stripe.js made in the browser (a token); the page's script fills it in and submits."""

    card = HiddenField(
        validators=[
            DataRequired(_l("Enter the card details, then pay.")),
            Length(min=4, max=255, message=_l("Enter the card details, then pay.")),
        ]
    )


class ShipForm(FlaskForm):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=40)])
    tracking_number = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=40)])
