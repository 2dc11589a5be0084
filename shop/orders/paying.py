"""What an order does when payments announce something about one of its payments (shop/payments/signals.py).

Orders depends on payments, never the reverse: payments records the provider's answer and sends a signal; the
receivers here, connected once by `connect` at app creation, move the order in the same unit of work.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import update

from shop.extensions import db
from shop.notifications import services as notifications
from shop.orders import services as orders
from shop.orders.models import Order, OrderStatus
from shop.payments import signals
from shop.payments.models import Payment
from shop.types import utcnow

log = logging.getLogger(__name__)


def take_payment(payment: Payment, *, capacity: str = "provider", note: str = "", **_extra) -> None:
    """A succeeded payment counts towards its order: what the order received adds up, and the order is paid once
    its total is reached (its payments may come in parts)."""
    order = db.session.get(Order, payment.order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        # Payments cancels an order's open attempt when the order is cancelled, so a success for a cancelled order
        # arrives as payment_arrived_late; an order already paid in full cannot take more.
        log.error("payment %s succeeded for order %s, which is %s", payment.id, order.id, order.status)
        return
    received = order.paid_fen + payment.amount_fen
    if received < order.total_fen:
        db.session.execute(update(Order).where(Order.id == order.id).values(paid_fen=received))
        db.session.expire(order)
        return
    orders.transition_order(order, "pay", None, capacity, note=note, paid_fen=received, paid_at=utcnow())
    if capacity == "provider":
        notifications.order_paid(order)


def connect(app: Flask) -> None:
    """Subscribe the order's receivers. Called by create_app; blinker keys receivers by identity, so a second app in
    the same process (the tests make several) does not subscribe them twice."""
    signals.payment_succeeded.connect(take_payment, weak=False)
