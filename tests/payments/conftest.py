"""Fixtures of the payment tests: a consumer's order awaiting payment, with its PaymentIntent at the emulator."""

from __future__ import annotations

import pytest

from shop.accounts.roles import Role
from tests.factories import SHENZHOU
from tests.payments.helpers import ADDRESS, bearer, order_row


@pytest.fixture
def bought(client, make):
    """A buyer who checked out 2 boxes of peaches (stock 20): the order awaits payment."""
    coop = make.cooperative(county=SHENZHOU, shipping_fee_fen=1000)
    product = make.product(coop, name="深州蜜桃礼盒", price_fen=8800, stock=20, unit="箱")
    buyer = bearer(make.token(make.user(Role.CONSUMER)))
    client.post("/api/v1/cart", json={"product_id": product, "quantity": 2}, headers=buyer)
    order = client.post("/api/v1/orders", json={"checkout_key": "pay-test-0001", **ADDRESS}, headers=buyer)
    assert order.status_code == 201, order.json
    return {"order": order.json, "buyer": buyer, "product": product, "coop": coop}


@pytest.fixture
def placed(app, bought):
    row = order_row(app, bought["order"]["id"])
    return {**bought, "row": row, "order": {**bought["order"], "payment_intent_id": row.payment_intent_id}}


@pytest.fixture(autouse=True)
def _ledger_sound_after_each_payment_test(app):
    """Every payment, late payment, refund and reconciliation leaves the ledger's invariants holding."""
    yield
    from shop.extensions import db
    from shop.settlement.check import breaches

    with app.app_context():
        db.session.rollback()
        assert breaches() == []
