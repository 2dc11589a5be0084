"""The jobs as cron runs them: `flask orders expire` and `flask payments reconcile`, entry points that run their
steps as units of work around the provider's calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.extensions import db
from shop.orders.models import Order
from shop.types import utcnow
from tests.payments.helpers import order_row, pay_with_card

pytestmark = pytest.mark.usefixtures("stripe_config")


def test_flask_orders_expire_cancels_an_unpaid_order_past_its_time(app, placed):
    with app.app_context():
        db.session.execute(sa.update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert f"expired: 1 {placed['order']['id']}" in result.output
    row = order_row(app, placed["order"]["id"])
    assert (row.status, row.payment_status) == ("cancelled", "canceled")


def test_flask_payments_reconcile_pays_an_order_whose_webhook_never_came(app, placed, localstripe_server):
    with app.app_context():
        pay_with_card(placed["row"].payment_intent_id, localstripe_server)
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert f"{placed['row'].payment_intent_id}: paid" in result.output
    assert "refunded late payments of orders: none" in result.output
    assert order_row(app, placed["order"]["id"]).status == "paid"
