import marshmallow as ma
from flask_babel import gettext as _
from marshmallow import validate

from shop.web.inputs import RowId


class CartItemInputSchema(ma.Schema):
    product_id = RowId(required=True)
    quantity = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=100_000),
        metadata={"description": "The quantity to hold in the cart (0 removes)"},
    )


class CartLineSchema(ma.Schema):
    product_id = ma.fields.Function(lambda line: line.product.id)
    name = ma.fields.Function(lambda line: line.product.name)
    unit = ma.fields.Function(lambda line: line.product.unit)
    unit_price_fen = ma.fields.Function(lambda line: line.product.price_fen)
    quantity = ma.fields.Integer()
    line_total_fen = ma.fields.Integer()
    listed = ma.fields.Boolean(metadata={"description": "False when the product is no longer on sale"})
    cooperative = ma.fields.Function(lambda line: line.product.cooperative.name)


class CartSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(CartLineSchema))
    items_fen = ma.fields.Integer()


class DirectLineSchema(ma.Schema):
    product_id = RowId(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class CheckoutSchema(ma.Schema):
    checkout_key = ma.fields.String(
        required=True,
        validate=validate.Length(min=8, max=64),
        metadata={"description": "A key the client makes once per checkout; a retry with it returns the same order"},
    )
    recipient = ma.fields.String(required=True, validate=validate.Length(max=40))
    mobile = ma.fields.String(required=True, validate=validate.Length(max=20))
    district_code = ma.fields.String(required=True, validate=validate.Length(max=6))
    detail = ma.fields.String(required=True, validate=validate.Length(max=200))
    lines = ma.fields.List(
        ma.fields.Nested(DirectLineSchema),
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "A direct order of these lines (each product once); the cart is then left as it is. "
            "Without it, the order is made of the cart."
        },
    )

    @ma.validates("lines")
    def each_product_once(self, lines, **_kwargs):
        # Lines that failed their own fields come without them (their errors are reported already).
        product_ids = [line["product_id"] for line in lines if "product_id" in line]
        if len(set(product_ids)) != len(product_ids):
            raise ma.ValidationError(_("Each product once: add up the quantities of a product into one line."))


class OrderLineSchema(ma.Schema):
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    product_name = ma.fields.String()
    cooperative_name = ma.fields.String()
    unit = ma.fields.String()
    unit_price_fen = ma.fields.Integer()
    quantity = ma.fields.Integer()
    line_total_fen = ma.fields.Integer()
    refunded_quantity = ma.fields.Integer()
    refundable_quantity = ma.fields.Integer(
        metadata={
            "description": "What may still be asked back: bought − refunded − asked for in requests awaiting a decision"
        }
    )


class ShipmentSchema(ma.Schema):
    id = ma.fields.Integer()
    cooperative_id = ma.fields.Integer()
    cooperative_name = ma.fields.String()
    shipping_fee_fen = ma.fields.Integer()
    status = ma.fields.String()
    carrier = ma.fields.String()
    tracking_number = ma.fields.String()
    shipped_at = ma.fields.AwareDateTime(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(OrderLineSchema))


class OrderEventSchema(ma.Schema):
    action = ma.fields.String()
    from_state = ma.fields.String()
    to_state = ma.fields.String()
    actor_role = ma.fields.String()
    note = ma.fields.String()
    at = ma.fields.AwareDateTime()


class OrderSchema(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    status = ma.fields.String()
    currency = ma.fields.String()
    items_fen = ma.fields.Integer()
    shipping_fen = ma.fields.Integer()
    total_fen = ma.fields.Integer()
    paid_fen = ma.fields.Integer()
    refunded_fen = ma.fields.Integer()
    payment_status = ma.fields.String()
    recipient = ma.fields.String()
    mobile = ma.fields.String()
    district_code = ma.fields.String()
    address_detail = ma.fields.String()
    placed_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()
    paid_at = ma.fields.AwareDateTime(allow_none=True)
    shipments = ma.fields.List(ma.fields.Nested(ShipmentSchema))
    events = ma.fields.List(ma.fields.Nested(OrderEventSchema))
    refunds = ma.fields.List(ma.fields.Nested("RefundSchema"))


class PlacedOrderSchema(OrderSchema):
    payment_client_secret = ma.fields.String(
        allow_none=True,
        metadata={"description": "For Stripe.js on the payment page; null while the payment is being set up"},
    )


class ShipSchema(ma.Schema):
    carrier = ma.fields.String(required=True, validate=validate.Length(min=1, max=40))
    tracking_number = ma.fields.String(required=True, validate=validate.Length(max=40))


class PaymentSchema(ma.Schema):
    card = ma.fields.String(
        required=True,
        validate=validate.Length(min=4, max=255),
        metadata={"description": "What Stripe.js made in the browser: a token (tok_…) or a PaymentMethod (pm_…)"},
    )


class RefundLineInputSchema(ma.Schema):
    order_line_id = RowId(required=True)
    quantity = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100_000))


class RefundRequestSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(RefundLineInputSchema), required=True, validate=validate.Length(min=1))
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))
    return_stock = ma.fields.Boolean(load_default=False, metadata={"description": "Put the units back in stock"})


class RefundDecisionSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class RefundLineSchema(ma.Schema):
    order_line_id = ma.fields.Integer()
    quantity = ma.fields.Integer()
    amount_fen = ma.fields.Integer()


class RefundSchema(ma.Schema):
    id = ma.fields.Integer()
    order_id = ma.fields.Integer()
    status = ma.fields.String()
    amount_fen = ma.fields.Integer()
    reason = ma.fields.String()
    return_stock = ma.fields.Boolean()
    decision_note = ma.fields.String()
    provider_refund_id = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(RefundLineSchema))
