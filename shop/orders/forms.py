"""Forms and words of the cart, checkout, payment and order pages (labels are lazy: evaluated when shown)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp

from shop.orders.labels import (  # noqa: F401  (re-exported: pages import them from here)
    ACTOR_LABELS,
    EVENT_LABELS,
    FLAG_LABELS,
    ORDER_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    SHIPMENT_STATUS_LABELS,
)
from shop.orders.models import Order, OrderLine


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


class RefundRequestForm(FlaskForm):
    """The buyer's request: a quantity per line (fields `line_<id>`, added by `refund_form`) and a reason."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why you want a refund.")), Length(max=500)])

    def items(self) -> list[tuple[int, int]]:
        """(order line id, quantity) for each line with a quantity above 0."""
        return [(line.id, field.data) for line, field in self.line_fields if field.data]


class OperatorRefundForm(RefundRequestForm):
    """An operator's direct refund; the operator decides whether the goods go back to stock."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=500)])
    return_stock = BooleanField(_l("Return the goods to stock"))


def refund_form(order: Order, form_class: type[RefundRequestForm] = RefundRequestForm, **kwargs) -> RefundRequestForm:
    """A refund form with one quantity field per line that still has something to refund (0 to what is left,
    net of requests awaiting a decision)."""

    class Form(form_class):
        pass

    open_lines: list[OrderLine] = []
    for line in order.lines:
        left = line.refundable_quantity
        if left <= 0:
            continue
        message = _l("Choose a quantity from 0 to %(n)d.", n=left)
        setattr(
            Form,
            f"line_{line.id}",
            IntegerField(line.product_name, default=0, validators=[Optional(), NumberRange(0, left, message)]),
        )
        open_lines.append(line)
    form = Form(**kwargs)
    form.line_fields = [(line, form[f"line_{line.id}"]) for line in open_lines]
    return form


BACK_TARGETS = ("list", "order")


class ApproveRefundForm(FlaskForm):
    note = StringField(_l("Note (optional)"), validators=[Length(max=500)])
    back = HiddenField(default="list", validators=[AnyOf(BACK_TARGETS)])


class RejectRefundForm(FlaskForm):
    note = StringField(_l("Why it is refused"), validators=[Length(max=500)])  # required: the service says so
    back = HiddenField(default="list", validators=[AnyOf(BACK_TARGETS)])
