"""JSON API of the cart and orders."""

from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import (
    BUYERS,
    BUYERS_AND_OPERATORS,
    COOPERATIVE_STAFF,
    COOPERATIVE_STAFF_AND_OPERATORS,
    SIGNED_IN,
    allow,
)
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.orders import checkout, payback, refunds, services, visibility
from shop.orders.schemas import (
    CartItemInputSchema,
    CartSchema,
    CheckoutSchema,
    OrderSchema,
    PaymentSchema,
    PlacedOrderSchema,
    RefundDecisionSchema,
    RefundRequestSchema,
    RefundSchema,
    ShipSchema,
)

blp = Blueprint("orders_api", __name__, url_prefix="/api/v1", description="Cart and orders")
BEARER = [{"bearerAuth": []}]


def _cart_view(user) -> dict:
    lines = cart.lines_for(cart.quantities_of(user))
    return {"lines": lines, "items_fen": sum(line.line_total_fen for line in lines if line.listed)}


@blp.route("/cart", methods=["GET"])
@allow(BUYERS)
@blp.response(200, CartSchema)
@blp.doc(security=BEARER)
def get_cart():
    """The cart with today's prices (lines no longer on sale say so)."""
    return _cart_view(current_user)


@blp.route("/cart", methods=["POST"])
@allow(BUYERS)
@blp.arguments(CartItemInputSchema)
@blp.response(200, CartSchema)
@blp.doc(security=BEARER)
def set_cart_item(payload):
    """Set a product's quantity in the cart (0 removes it); stock and the minimum order are checked."""
    cart.set_quantity(current_user, payload["product_id"], payload["quantity"])
    return _cart_view(current_user)


@blp.route("/orders", methods=["POST"])
@allow(BUYERS)
@blp.arguments(CheckoutSchema)
@blp.response(201, PlacedOrderSchema)
@blp.doc(security=BEARER)
def place_order(payload):
    """Check out the cart, or order the given lines directly: re-checks certification, reserves stock, returns the
    order (retry-safe by checkout_key)."""
    address = services.Address(payload["recipient"], payload["mobile"], payload["district_code"], payload["detail"])
    lines = {line["product_id"]: line["quantity"] for line in payload["lines"]} if "lines" in payload else None
    return checkout.checkout(current_user, address, payload["checkout_key"], lines)


@blp.route("/orders", methods=["GET"])
@allow(BUYERS)
@blp.response(200, OrderSchema(many=True))
@blp.doc(security=BEARER)
def list_orders():
    """The caller's orders, newest first."""
    return services.orders_of(current_user)


@blp.route("/orders/<int:order_id>", methods=["GET"])
@allow(SIGNED_IN)
@blp.response(200, OrderSchema)
@blp.doc(security=BEARER)
def get_order(order_id):
    """One order: all of it for its buyer and operators; for the staff of its cooperatives, their own parts
    only (shipments, lines, refunds, history), with totals of those parts."""
    return visibility.order_as_seen_by(current_user, services.get_order(current_user, order_id))


@blp.route("/orders/<int:order_id>/shipments", methods=["POST"])
@allow(COOPERATIVE_STAFF)
@blp.arguments(ShipSchema)
@blp.response(200, OrderSchema)
@blp.doc(security=BEARER)
def ship(payload, order_id):
    """Ship the caller's cooperative's part of a paid order (carrier and tracking number)."""
    shipment = services.ship(current_user, order_id, payload["carrier"], payload["tracking_number"])
    return visibility.order_as_seen_by(current_user, shipment.order)


@blp.route("/orders/<int:order_id>/receipt", methods=["POST"])
@allow(BUYERS)
@blp.response(200, OrderSchema)
@blp.doc(security=BEARER)
def confirm_receipt(order_id):
    """The buyer confirms that the shipped parts arrived."""
    return services.confirm_receipt(current_user, order_id)


@blp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@allow(BUYERS)
@blp.response(200, OrderSchema)
@blp.doc(security=BEARER)
def cancel(order_id):
    """Cancel an unpaid order: its PaymentIntent is cancelled first, then its stock released."""
    return checkout.cancel_by_buyer(current_user, order_id)


@blp.route("/orders/<int:order_id>/payment", methods=["POST"])
@allow(BUYERS)
@blp.arguments(PaymentSchema)
@blp.response(200, PlacedOrderSchema)
@blp.doc(security=BEARER)
def pay(payload, order_id):
    """Pay with a card: the server confirms the PaymentIntent with what Stripe.js made (402 when declined)."""
    return checkout.pay_with_card(current_user, order_id, payload["card"])


def _items(payload) -> list[tuple[int, int]]:
    return [(line["order_line_id"], line["quantity"]) for line in payload["lines"]]


@blp.route("/orders/<int:order_id>/refunds", methods=["POST"])
@allow(BUYERS_AND_OPERATORS)
@blp.arguments(RefundRequestSchema)
@blp.response(201, RefundSchema)
@blp.doc(security=BEARER)
def request_refund(payload, order_id):
    """The buyer asks for lines or quantities back before completion; an operator refunds directly, also after."""
    if current_user.has_role(Role.OPERATOR) and services.get_order(current_user, order_id).buyer_id != current_user.id:
        return payback.refund_directly(
            current_user, order_id, _items(payload), payload["reason"], payload["return_stock"]
        )
    return refunds.request_refund(current_user, order_id, _items(payload), payload["reason"], payload["return_stock"])


@blp.route("/refunds/<int:refund_id>/approve", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(RefundDecisionSchema)
@blp.response(200, RefundSchema)
@blp.doc(security=BEARER)
def approve_refund(payload, refund_id):
    """Approve a refund: the provider pays it back (never more than was paid; 409 otherwise)."""
    return payback.approve(current_user, refund_id, payload["note"])


@blp.route("/refunds/<int:refund_id>/reject", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(RefundDecisionSchema)
@blp.response(200, RefundSchema)
@blp.doc(security=BEARER)
def reject_refund(payload, refund_id):
    """Refuse a refund, saying why."""
    return refunds.reject(current_user, refund_id, payload["note"])
