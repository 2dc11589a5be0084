"""Checkout and paying an order: the flows that views and API routes call, with the provider outside any
transaction.

Each flow is an entry point's sequence of units of work (`shop.unit_of_work.use_case`): the order is placed and
committed before the provider is asked for its PaymentIntent (shop/payments/flows.py), and what the provider
answers is recorded in a unit of its own. The use cases inside the steps (shop/orders/services.py,
shop/payments/services.py) never commit. When the config switch CHECKOUT_CREATES_PAYMENT_INTENT is False
(bench/checkout.py measures the database path alone), checkout is one use case that the request commits, and the
payment page sets up the intent on its first visit.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _

from shop.accounts.models import User
from shop.errors import InvalidTransition, NotAllowed, ValidationFailed
from shop.extensions import db
from shop.orders import services
from shop.orders.labels import ORDER_STATUS_LABELS
from shop.orders.models import Order, OrderStatus
from shop.payments import flows, gateway
from shop.payments.models import OPEN_STATES, Payment
from shop.payments.services import PaymentDeclined, PaymentUnavailable
from shop.unit_of_work import use_case

log = logging.getLogger(__name__)


def open_payment(order: Order) -> Payment | None:
    """The order's attempt that can still take money, with its intent (None when a new one must be set up)."""
    for payment in reversed(order.payments):
        if payment.state in OPEN_STATES and payment.provider_reference:
            return payment
    return None


def set_up_payment(order: Order) -> Order:
    """The order's attempt for what it still owes, with its PaymentIntent (made now, or the one a concurrent
    retry is making). Raises PaymentUnavailable when the provider does not answer."""
    order_id = order.id
    flows.set_up_payment(order_id, order.total_fen - order.paid_fen, order.currency)
    return db.session.get(Order, order_id)


def checkout(buyer: User, address: services.Address, checkout_key: str, lines: dict[int, int] | None = None) -> Order:
    """Place the order (one unit of work), then set up its payment (provider call, then a second unit)."""
    if not current_app.config.get("CHECKOUT_CREATES_PAYMENT_INTENT", True):
        return services.place_order(buyer, address, checkout_key, lines)  # the request commits it, once
    with use_case():  # the order exists before the provider is called
        order = services.place_order(buyer, address, checkout_key, lines)
        order_id, owed, currency = order.id, order.total_fen - order.paid_fen, order.currency
        wanted = order.status == OrderStatus.PENDING_PAYMENT and open_payment(order) is None
    if not wanted:
        return order
    flows.set_up_payment(order_id, owed, currency)
    return db.session.get(Order, order_id)


def _awaiting_payment(buyer: User, order_id: int, verb: str) -> Order:
    order = services.get_order(buyer, order_id)
    if order.buyer_id != buyer.id:
        raise NotAllowed(_("Only the buyer pays an order.") if verb == "pay" else _("Only the buyer cancels an order."))
    if order.status != OrderStatus.PENDING_PAYMENT:
        state = ORDER_STATUS_LABELS.get(order.status, order.status)
        if verb == "pay":
            raise InvalidTransition(_("This order is %(state)s: there is nothing to pay.", state=state))
        raise InvalidTransition(_("Only an unpaid order can be cancelled (this one is %(state)s).", state=state))
    return order


def pay_with_card(buyer: User, order_id: int, card_reference: str) -> Order:
    """Server-side confirmation with what Stripe.js made in the browser (a token or a PaymentMethod).

    A success pays the order at once (the webhook that follows finds it paid). A declined card ends that attempt
    and sets up a fresh one, so the buyer can try another card."""
    order = _awaiting_payment(buyer, order_id, "pay")
    payment = open_payment(order)
    if payment is None:
        order = set_up_payment(order)
        payment = open_payment(order)
        if payment is None:  # still being set up by a concurrent request
            raise PaymentUnavailable(_("The payment service did not answer; try again in a moment."))
    try:
        flows.confirm_with_card(payment.id, card_reference)
    except ValueError as error:
        raise ValidationFailed.on("card", _("This is not a card reference from Stripe.js.")) from error
    except PaymentDeclined:
        try:
            set_up_payment(db.session.get(Order, order_id))
        except PaymentUnavailable:
            log.warning("no fresh payment intent for order %s after a decline", order_id)
        raise
    return db.session.get(Order, order_id)


def prepare_wallet_payment(buyer: User, order_id: int) -> Order:
    """Alipay and WeChat Pay are confirmed in the browser (Stripe.js) with the intent's client secret: make sure
    the order has its intent before the payment page shows their buttons."""
    order = services.get_order(buyer, order_id)
    if order.buyer_id != buyer.id or order.status != OrderStatus.PENDING_PAYMENT or open_payment(order):
        return order
    return set_up_payment(order)


def refresh_payment(buyer: User, order_id: int, intent_id: str) -> Order:
    """The buyer is back from the provider (Alipay's return, WeChat Pay's QR code): read the intent now rather
    than wait for its webhook, and record a success the same way the webhook would (only once either way)."""
    order = services.get_order(buyer, order_id)
    payment = open_payment(order)
    awaiting = order.status == OrderStatus.PENDING_PAYMENT and payment is not None
    if order.buyer_id != buyer.id or not awaiting or payment.provider_reference != intent_id:
        return order
    try:
        flows.reread_intent(intent_id)
    except gateway.PaymentProviderError as error:
        log.warning("reading payment intent %s on the buyer's return failed: %s", intent_id, error)
        return db.session.get(Order, order_id)  # the webhook, or `flask payments reconcile`, records it later
    return db.session.get(Order, order_id)


def cancel_by_buyer(buyer: User, order_id: int) -> Order:
    """The buyer cancels an unpaid order: the PaymentIntent is cancelled first, then the stock released (the
    last step is the request's own unit of work)."""
    order = _awaiting_payment(buyer, order_id, "cancel")
    payment = open_payment(order)
    if payment is not None and flows.cancel_intent(payment.provider_reference) is not None:
        raise InvalidTransition(_("The order was paid meanwhile and cannot be cancelled."))
    order = db.session.get(Order, order_id)
    services.cancel_order(order, buyer, "buyer", _("cancelled by the buyer"))
    return order
