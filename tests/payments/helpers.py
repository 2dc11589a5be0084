"""Helpers of the payment tests: an order placed and paid through the API and the real emulator."""

from __future__ import annotations

import json

from sqlalchemy.orm import selectinload

from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order
from shop.payments import gateway
from tests.payments.test_gateway import GOOD_CARD, browser_token

ADDRESS = {
    "recipient": "王小明",
    "mobile": "13800138000",
    "district_code": "110105",
    "detail": "朝阳路 1 号 2 单元 301",
}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def order_row(app, order_id) -> Order:
    """The order as stored, detached, with its payments (its payment state is derived from them)."""
    with app.app_context():
        order = db.session.get(Order, order_id, options=[selectinload(Order.payments)])
        db.session.expunge(order)
        return order


def stock(app, product_id) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).stock


def pay_with_card(intent_id: str, base_url: str, number: str = GOOD_CARD):
    """What the payment page does: Stripe.js makes a token in the browser, the server confirms with it."""
    with_token = browser_token(base_url, number)
    return gateway.confirm_with_card(intent_id, with_token["id"])


def post_event(client, event: dict, secret: str, signature: str | None = None):
    payload = json.dumps(event).encode()
    signature = signature if signature is not None else gateway.sign_webhook_payload(payload, secret)
    return client.post(
        "/api/v1/payments/stripe/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )


def paid_at_provider(order: dict, base_url: str, event_id: str = "evt_test_1") -> dict:
    """The buyer pays the order's intent at the emulator (the shop is not told): the succeeded event that the
    provider would then send, for posting signed to the shop. The shop reads the intent back before it believes
    an event, so a success event needs a real payment behind it."""
    pay_with_card(order["payment_intent_id"], base_url)
    return succeeded_event(order, event_id)


def succeeded_event(order: dict, event_id: str = "evt_test_1", amount: int | None = None, currency: str = "cny"):
    """What a payment_intent.succeeded event says; whether it is true is the provider's to say."""
    return {
        "id": event_id,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": order["payment_intent_id"],
                "object": "payment_intent",
                "amount": amount or order["total_fen"],
                "currency": currency,
                "status": "succeeded",
                "metadata": {"order": order["reference"]},
            }
        },
    }
