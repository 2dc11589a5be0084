"""Expiry of unpaid orders: a job (`flask orders expire`), in units of work around the provider's cancel."""

from __future__ import annotations

from flask_babel import gettext as _

from shop.errors import DomainError
from shop.extensions import db
from shop.orders import services
from shop.orders.checkout import open_payment
from shop.orders.models import Order, OrderStatus
from shop.payments import flows
from shop.unit_of_work import use_case


def expire_unpaid_orders() -> list[int]:
    """Cancel unpaid orders past their time and release their stock; the PaymentIntent is cancelled first.

    If the provider says the buyer paid meanwhile, the order is paid instead. Idempotent."""
    flows.no_caller_work()
    with use_case():
        due = services.expired_unpaid_orders()
    expired = []
    for order_id in due:
        with use_case():
            payment = open_payment(db.session.get(Order, order_id))
            intent_id = payment.provider_reference if payment is not None else None
        if intent_id and flows.cancel_intent(intent_id) is not None:
            continue  # paid before the cancel reached the provider: recorded, the order is paid
        try:
            with use_case():
                order = db.session.get(Order, order_id)
                if order.status != OrderStatus.PENDING_PAYMENT:
                    continue
                services.cancel_order(order, None, "job", _("not paid in time"))
        except DomainError:
            continue
        expired.append(order_id)
    return expired
