"""Refunds when the provider cannot make them: the demo's seeded order (never paid through the provider) and a
provider that does not answer. Neither leaves a new row per attempt, nor shows the provider's reply to the user."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.accounts import services as accounts
from shop.accounts.roles import Role
from shop.demo.data import DEMO_PASSWORD
from shop.extensions import db
from shop.orders.models import Order, Refund
from tests.conftest import login
from tests.orders import test_refunds
from tests.orders.test_refunds import ask, order_of
from tests.payments.helpers import bearer
from tests.stripe_emulator import _free_port

paid = test_refunds.paid  # the paid order of the refund tests (a fixture), here for the same stories

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")


def refund_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Refund))


def test_the_seeded_demo_order_says_why_it_cannot_be_refunded_and_leaves_no_row(app, client, make):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    consumer = accounts.user_by_email("consumer@fupin.demo")
    order = db.session.scalar(select(Order).where(Order.buyer_id == consumer.id))
    assert (order.status, order.payment_status, order.payment_intent_id) == ("paid", "demo", None)
    line = order.lines[0]
    body = {"lines": [{"order_line_id": line.id, "quantity": 1}], "reason": "试一试退款"}
    english = {"Accept-Language": "en"}
    for who in (bearer(make.token(consumer.id)), bearer(make.token(make.user(Role.OPERATOR)))):
        for _attempt in range(2):
            refused = client.post(f"/api/v1/orders/{order.id}/refunds", json=body, headers={**who, **english})
            assert refused.status_code == 409, refused.json
            assert "not paid through the payment service" in refused.json["error"]["message"]
    assert refund_rows() == 0
    login(client, "consumer@fupin.demo", DEMO_PASSWORD)  # the order page offers no refund form for it
    page = client.get(f"/orders/{order.id}", headers=english).get_data(as_text=True)
    assert "refund-request-form" not in page and "paid outside the payment service" in page


def test_a_provider_that_does_not_answer_leaves_the_request_waiting_and_approving_again_retries_it(
    app, client, paid, localstripe_server, monkeypatch
):
    asked = ask(client, paid, [("蜜桃礼盒", 1)]).json
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{_free_port()}")  # nobody listens
    for _attempt in range(2):
        failed = client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["staff"])
        assert failed.status_code == 503 and failed.json["error"]["code"] == "payment_unavailable"
        message = failed.json["error"]["message"]
        assert "pi_" not in message and "HTTP" not in message and "Stripe" not in message  # no raw provider reply
        db.session.expire_all()
        refund = db.session.get(Refund, asked["id"])
        assert (refund.status, refund.decided_by_id) == ("requested", None)
        assert db.session.get(Order, paid["order"]["id"]).refunded_fen == 0
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe_server)
    done = client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["staff"])
    assert done.status_code == 200 and done.json["status"] == "succeeded"
    assert refund_rows() == 1


def test_an_operators_direct_refund_that_the_provider_did_not_make_is_not_repeated_as_new_rows(
    app, client, paid, localstripe_server, monkeypatch
):
    body = {"lines": [{"order_line_id": paid["lines"]["小米"], "quantity": 1}], "reason": "售后：物流损坏"}
    url = f"/api/v1/orders/{paid['order']['id']}/refunds"
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{_free_port()}")
    assert client.post(url, json=body, headers=paid["operator"]).status_code == 503
    assert client.post(url, json=body, headers=paid["operator"]).status_code == 503
    assert refund_rows() == 1 and db.session.scalar(select(Refund.status)) == "requested"
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe_server)
    done = client.post(url, json=body, headers=paid["operator"])  # the same refund, once the provider is back
    assert done.status_code == 201 and done.json["status"] == "succeeded"
    assert refund_rows() == 1 and order_of(client, paid)["refunded_fen"] == 2600
