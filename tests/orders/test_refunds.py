"""Refunds through the real emulator's Refund API: partial and full, decided by the right people, never more
than was paid (also when two approvals race), recorded once and reconciled with charge.refunded."""

from __future__ import annotations

import json
import threading

import pytest

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.errors import DomainError
from shop.extensions import db
from shop.orders import payback
from shop.orders.models import Order
from shop.payments import gateway
from tests.factories import SHENZHOU
from tests.payments.helpers import ADDRESS, bearer
from tests.payments.test_gateway import browser_token

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")


@pytest.fixture
def paid(app, client, make, localstripe_server):
    """A paid order: 3 boxes of peaches (8800 fen) + 2 bags of millet (2600 fen), shipping 1000 fen."""
    coop = make.cooperative(county=SHENZHOU, shipping_fee_fen=1000)
    peaches = make.product(coop, name="蜜桃礼盒", price_fen=8800, stock=10, unit="箱")
    millet = make.product(coop, name="小米", price_fen=2600, stock=10, unit="袋")
    buyer_id = make.user(Role.CONSUMER)
    buyer = bearer(make.token(buyer_id))
    for product, quantity in ((peaches, 3), (millet, 2)):
        client.post("/api/v1/cart", json={"product_id": product, "quantity": quantity}, headers=buyer)
    order = client.post("/api/v1/orders", json={"checkout_key": "refund-test-01", **ADDRESS}, headers=buyer).json
    token = browser_token(localstripe_server)["id"]
    paid = client.post(f"/api/v1/orders/{order['id']}/payment", json={"card": token}, headers=buyer).json
    assert paid["status"] == "paid" and paid["paid_fen"] == 3 * 8800 + 2 * 2600 + 1000
    lines = {line["product_name"]: line["id"] for shipment in paid["shipments"] for line in shipment["lines"]}
    return {
        "order": paid,
        "buyer": buyer,
        "buyer_id": buyer_id,
        "lines": lines,
        "coop": coop,
        "peaches": peaches,
        "staff": bearer(make.token(make.staff(coop))),
        "operator": bearer(make.token(make.user(Role.OPERATOR))),
    }


def ask(client, paid, items, reason="坏果", return_stock=False):
    lines = [{"order_line_id": paid["lines"][name], "quantity": q} for name, q in items]
    return client.post(
        f"/api/v1/orders/{paid['order']['id']}/refunds",
        headers=paid["buyer"],
        json={"lines": lines, "reason": reason, "return_stock": return_stock},
    )


def same_request_again(paid, request: dict) -> int:
    """A second request for the same boxes written straight to the database, as if it had slipped past the
    request's check: approval must still refuse to pay more than was paid (defence in depth)."""
    from shop.orders.models import Refund, RefundLine

    refund = Refund(
        order_id=paid["order"]["id"],
        amount_fen=request["amount_fen"],
        reason="同一请求再次提交",
        requested_by_id=paid["buyer_id"],
    )
    db.session.add(refund)
    db.session.flush()
    for line in request["lines"]:
        db.session.add(
            RefundLine(
                refund_id=refund.id,
                order_line_id=line["order_line_id"],
                quantity=line["quantity"],
                amount_fen=line["amount_fen"],
            )
        )
    db.session.commit()
    return refund.id


def order_of(client, paid) -> dict:
    return client.get(f"/api/v1/orders/{paid['order']['id']}", headers=paid["buyer"]).json


def test_a_partial_refund_asked_by_the_buyer_and_approved_by_the_cooperative(app, client, paid):
    asked = ask(client, paid, [("蜜桃礼盒", 1)], return_stock=True)
    assert asked.status_code == 201 and asked.json["amount_fen"] == 8800 and asked.json["status"] == "requested"
    approved = client.post(f"/api/v1/refunds/{asked.json['id']}/approve", json={}, headers=paid["staff"])
    assert approved.status_code == 200 and approved.json["status"] == "succeeded"
    assert approved.json["provider_refund_id"].startswith("re_")
    order = order_of(client, paid)
    assert order["refunded_fen"] == 8800
    assert [r["status"] for r in order["refunds"]] == ["succeeded"]
    assert db.session.get(Product, paid["peaches"]).stock == 10 - 3 + 1


def test_refunds_adding_up_to_everything_paid_and_no_more(client, paid):
    first = ask(client, paid, [("蜜桃礼盒", 3), ("小米", 2)]).json
    assert client.post(f"/api/v1/refunds/{first['id']}/approve", json={}, headers=paid["staff"]).status_code == 200
    again = ask(client, paid, [("小米", 1)])
    assert again.status_code == 422  # nothing left of that line
    assert order_of(client, paid)["refunded_fen"] == 3 * 8800 + 2 * 2600


def test_refund_above_paid_is_refused_even_though_the_emulator_would_pay_it(client, paid):
    """The emulator does not refuse refunds above the amount paid: the shop must."""
    one = ask(client, paid, [("蜜桃礼盒", 3)]).json
    two = {"id": same_request_again(paid, one)}  # asked twice for the same boxes, at the same moment
    assert client.post(f"/api/v1/refunds/{one['id']}/approve", json={}, headers=paid["staff"]).status_code == 200
    refused = client.post(f"/api/v1/refunds/{two['id']}/approve", json={}, headers=paid["staff"])
    assert refused.status_code == 409
    assert order_of(client, paid)["refunded_fen"] == 3 * 8800


def test_two_approvals_racing_never_refund_more_than_was_paid(app, client, make, paid):
    first = ask(client, paid, [("蜜桃礼盒", 3)]).json
    requests = [first["id"], same_request_again(paid, first)]
    operator = make.user(Role.OPERATOR)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def approve(refund_id):
        with app.app_context():
            start.wait(timeout=10)
            try:
                payback.approve(db.session.get(User, operator), refund_id)
                db.session.commit()
                outcomes.append("approved")
            except DomainError as refusal:
                db.session.rollback()
                outcomes.append(refusal.code)

    threads = [threading.Thread(target=approve, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["approved", "conflict"]
    db.session.expire_all()
    order = db.session.get(Order, paid["order"]["id"])
    assert order.refunded_fen == 3 * 8800 <= order.paid_fen


def test_only_the_lines_cooperative_or_an_operator_decides(client, make, paid):
    asked = ask(client, paid, [("小米", 1)]).json
    stranger_staff = bearer(make.token(make.staff(make.cooperative())))
    assert client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=stranger_staff).status_code == 404
    assert client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["buyer"]).status_code == 403
    no_reason = client.post(f"/api/v1/refunds/{asked['id']}/reject", json={"note": ""}, headers=paid["staff"])
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/api/v1/refunds/{asked['id']}/reject", json={"note": "已签收且无质量问题"}, headers=paid["staff"]
    )
    assert rejected.json["status"] == "rejected"
    late = client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["operator"])
    assert late.status_code == 409


def test_after_completion_only_an_operator_refunds(app, client, paid):
    db.session.execute(db.update(Order).values(status="completed"))
    db.session.commit()
    assert ask(client, paid, [("小米", 1)]).status_code == 409
    direct = client.post(
        f"/api/v1/orders/{paid['order']['id']}/refunds",
        headers=paid["operator"],
        json={"lines": [{"order_line_id": paid["lines"]["小米"], "quantity": 1}], "reason": "售后：物流损坏"},
    )
    assert direct.status_code == 201 and direct.json["status"] == "succeeded"


def test_a_charge_refunded_event_counts_nothing_twice_and_flags_unknown_refunds(app, client, paid, stripe_config):
    """The emulator sends no charge.refunded events: this one is signed with Stripe's real scheme."""
    asked = ask(client, paid, [("小米", 1)]).json
    done = client.post(f"/api/v1/refunds/{asked['id']}/approve", json={}, headers=paid["staff"]).json
    event = {
        "id": "evt_charge_refunded_1",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "object": "charge",
                "payment_intent": db.session.get(Order, paid["order"]["id"]).payment_intent_id,
                "refunds": {
                    "data": [
                        {"id": done["provider_refund_id"], "amount": 2600},
                        {"id": "re_made_in_the_dashboard", "amount": 500},
                    ]
                },
            }
        },
    }
    payload = json.dumps(event).encode()
    signature = gateway.sign_webhook_payload(payload, stripe_config["STRIPE_WEBHOOK_SECRET"])
    answer = client.post(
        "/api/v1/payments/stripe/webhook",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature},
    )
    assert answer.json["outcome"] == "refunds known: 1, flagged: 1"
    assert order_of(client, paid)["refunded_fen"] == 2600


def test_the_same_quantity_cannot_be_asked_for_twice_while_the_first_request_waits(client, paid):
    first = ask(client, paid, [("蜜桃礼盒", 2)])
    assert first.status_code == 201
    again = ask(client, paid, [("蜜桃礼盒", 2)])
    assert again.status_code == 422 and "lines" in again.json["error"]["fields"]  # only 1 box is left to ask for
    assert ask(client, paid, [("蜜桃礼盒", 1)]).status_code == 201
    third = ask(client, paid, [("蜜桃礼盒", 1)])
    assert third.status_code == 409 and third.json["error"]["fields"]["lines"]  # already waiting for a decision
    rejected = client.post(f"/api/v1/refunds/{first.json['id']}/reject", json={"note": "完好"}, headers=paid["staff"])
    assert rejected.status_code == 200
    assert ask(client, paid, [("蜜桃礼盒", 2)]).status_code == 201  # the rejected request frees its quantity
