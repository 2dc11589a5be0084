"""Orders paid through the real local Stripe emulator: one PaymentIntent per order, signed webhooks processed
once in any order, expiry, late payments, reconciliation, shipping and receipt.

What the emulator cannot do (wrong amounts, replays at will) is covered with events signed by Stripe's real
signing scheme (`gateway.sign_webhook_payload`), and said so at each test.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shop.extensions import db
from shop.ledger.models import Account, JournalEntry
from shop.orders import services as order_services
from shop.orders.expiry import expire_unpaid_orders
from shop.orders.models import Order
from shop.payments import flows, gateway
from shop.payments.models import Payment, PaymentFlag, ProviderEvent
from shop.types import utcnow
from tests.payments.helpers import (
    ADDRESS,
    bearer,
    order_row,
    paid_at_provider,
    pay_with_card,
    post_event,
    stock,
    succeeded_event,
)
from tests.payments.test_gateway import browser_token

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")  # the gateway reads the app config


def test_checkout_creates_one_payment_intent_in_cny_fen(app, client, placed, localstripe_server):
    order = placed["order"]
    assert order["payment_client_secret"] and order["payment_status"] == "requires_payment_method"
    intent = gateway.retrieve_payment_intent(placed["row"].payment_intent_id)
    assert (intent.amount_fen, intent.currency, intent.order_reference) == (2 * 8800 + 1000, "cny", order["reference"])
    again = client.post("/api/v1/orders", json={"checkout_key": "pay-test-0001", **ADDRESS}, headers=placed["buyer"])
    assert again.json["id"] == order["id"] and again.json["payment_client_secret"] == order["payment_client_secret"]
    assert order_row(app, order["id"]).payment_intent_id == placed["row"].payment_intent_id


def test_paying_and_the_emulators_webhook_mark_the_order_paid(
    app, client, placed, localstripe_server, localstripe_webhook
):
    """The emulator posts the real, signed payment_intent.succeeded event; the shop accepts it once."""
    intent = pay_with_card(placed["row"].payment_intent_id, localstripe_server)
    assert intent.status == "succeeded"
    delivered = localstripe_webhook.wait_for(
        lambda e: e.get("type") == "payment_intent.succeeded" and e["data"]["object"]["id"] == intent.id
    )
    forward = {"Stripe-Signature": delivered.headers["Stripe-Signature"]}
    first = client.post(
        "/api/v1/payments/stripe/webhook", data=delivered.body, content_type="application/json", headers=forward
    )
    assert first.status_code == 200 and first.json["outcome"] == "paid"
    replay = client.post(
        "/api/v1/payments/stripe/webhook", data=delivered.body, content_type="application/json", headers=forward
    )
    assert replay.json["outcome"] == "duplicate"
    paid = client.get(f"/api/v1/orders/{placed['order']['id']}", headers=placed["buyer"]).json
    assert (paid["status"], paid["paid_fen"], paid["payment_status"]) == ("paid", 18600, "succeeded")
    assert [e["action"] for e in paid["events"]] == ["place", "pay"]


def test_a_bad_or_missing_signature_is_400_and_changes_nothing(app, client, placed, stripe_config):
    event = succeeded_event(placed["order"])
    assert post_event(client, event, "whsec_someone_else").status_code == 400
    assert post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"], signature="").status_code == 400
    assert order_row(app, placed["order"]["id"]).status == "pending_payment"
    with app.app_context():
        assert db.session.query(ProviderEvent).count() == 0


def ledger_balances() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Account.key, Account.balance_fen).where(Account.balance_fen != 0)).all())


def test_a_wrong_amount_is_flagged_with_the_providers_figures_not_the_events(app, client, placed, stripe_config):
    """The provider says the order's intent was paid 100 fen; the event claims the order's full amount.

    The shop always creates the intent for the order's total, so the emulator cannot be made to pay another
    amount for it: the order's stored intent is replaced in the database by a real intent of 100 fen paid at
    the emulator (what a changed intent at the provider looks like). The event is signed by the real scheme."""
    cheap = gateway.create_payment_intent(
        amount_fen=100,
        currency="cny",
        order_reference=placed["order"]["reference"],
        idempotency_key="wrong-amount",
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert cheap.status == "succeeded"
    db.session.execute(sa.update(Payment).values(provider_reference=cheap.id))
    db.session.commit()
    event = succeeded_event({**placed["order"], "payment_intent_id": cheap.id})  # says 18600 fen
    answer = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.json["outcome"] == "flagged: amount mismatch"
    assert order_row(app, placed["order"]["id"]).status == "pending_payment"
    with app.app_context():
        assert [(f.kind, f.amount_fen) for f in db.session.query(PaymentFlag)] == [("amount_mismatch", 100)]
        # The money the provider holds is in the ledger, in suspense for an operator, not as the order's payment.
        assert ledger_balances() == {"provider_clearing": 100, "suspense": 100}


def test_events_out_of_order_end_in_the_same_state(app, client, placed, stripe_config, localstripe_server):
    """A late payment_failed or canceled after the success does not undo the payment (signed events)."""
    secret = stripe_config["STRIPE_WEBHOOK_SECRET"]
    intent = placed["order"]["payment_intent_id"]
    assert post_event(client, paid_at_provider(placed["order"], localstripe_server), secret).json["outcome"] == "paid"
    for n, kind in enumerate(["payment_intent.payment_failed", "payment_intent.canceled"]):
        late = {"id": f"evt_late_{n}", "type": kind, "data": {"object": {"id": intent, "amount": 18600}}}
        assert post_event(client, late, secret).json["outcome"].startswith("ignored")
    assert order_row(app, placed["order"]["id"]).status == "paid"


def test_expiry_cancels_the_intent_first_then_releases_the_stock_once(app, placed):
    assert stock(app, placed["product"]) == 18
    with app.app_context():
        db.session.execute(sa.update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert expire_unpaid_orders() == [placed["order"]["id"]]
        assert expire_unpaid_orders() == []
    assert stock(app, placed["product"]) == 20
    assert order_row(app, placed["order"]["id"]).status == "cancelled"
    assert gateway.retrieve_payment_intent(placed["row"].payment_intent_id).status == "canceled"


def test_a_payment_made_before_expiry_was_processed_pays_the_order(app, placed, localstripe_server):
    pay_with_card(placed["row"].payment_intent_id, localstripe_server)  # its webhook never reaches the shop
    with app.app_context():
        db.session.execute(sa.update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert expire_unpaid_orders() == []
    assert order_row(app, placed["order"]["id"]).status == "paid"
    assert stock(app, placed["product"]) == 18


def test_a_success_event_for_an_intent_the_provider_reports_cancelled_changes_nothing(
    app, client, placed, stripe_config
):
    """The order expired and its intent was cancelled at the emulator; a signed event then claims it succeeded.
    The provider says "canceled": nothing is paid, refunded or booked, and an operator is told."""
    with app.app_context():
        db.session.execute(sa.update(Order).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        expire_unpaid_orders()
    answer = post_event(client, succeeded_event(placed["order"]), stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.status_code == 200 and answer.json["outcome"] == "flagged: not confirmed by the provider"
    row = order_row(app, placed["order"]["id"])
    assert (row.status, row.paid_fen) == ("cancelled", 0) and row.payment_status != "refund_due"
    with app.app_context():
        assert [(f.kind, f.amount_fen) for f in db.session.query(PaymentFlag)] == [("unconfirmed_event", 0)]
        assert ledger_balances() == {}


def test_reconcile_pays_an_order_whose_webhook_never_came(app, placed, localstripe_server):
    pay_with_card(placed["row"].payment_intent_id, localstripe_server)
    with app.app_context():
        outcomes = flows.reconcile()
    assert outcomes == {placed["row"].payment_intent_id: "paid"}
    assert order_row(app, placed["order"]["id"]).status == "paid"


def test_the_buyer_cancels_an_unpaid_order(app, client, placed):
    response = client.post(f"/api/v1/orders/{placed['order']['id']}/cancel", headers=placed["buyer"])
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert stock(app, placed["product"]) == 20
    again = client.post(f"/api/v1/orders/{placed['order']['id']}/cancel", headers=placed["buyer"])
    assert again.status_code == 409


def test_a_paid_order_is_shipped_by_its_cooperative_and_received_by_the_buyer(
    app, client, make, placed, stripe_config, localstripe_server
):
    post_event(client, paid_at_provider(placed["order"], localstripe_server), stripe_config["STRIPE_WEBHOOK_SECRET"])
    order_id = placed["order"]["id"]
    other_staff = bearer(make.token(make.staff(make.cooperative())))
    refused = client.post(
        f"/api/v1/orders/{order_id}/shipments",
        headers=other_staff,
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    assert refused.status_code == 404  # not this cooperative's order
    staff = bearer(make.token(make.staff(placed["coop"])))
    bad = client.post(
        f"/api/v1/orders/{order_id}/shipments", headers=staff, json={"carrier": "顺丰", "tracking_number": "??"}
    )
    assert bad.status_code == 422 and "tracking_number" in bad.json["error"]["fields"]
    shipped = client.post(
        f"/api/v1/orders/{order_id}/shipments",
        headers=staff,
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    assert shipped.status_code == 200 and shipped.json["shipments"][0]["status"] == "shipped"
    received = client.post(f"/api/v1/orders/{order_id}/receipt", headers=placed["buyer"])
    assert received.json["shipments"][0]["status"] == "delivered"
    actions = [e["action"] for e in received.json["events"]]
    assert actions == ["place", "pay", "ship", "deliver"]


def test_paying_with_a_card_token_from_the_browser_pays_the_order(app, client, placed, localstripe_server):
    token = browser_token(localstripe_server)["id"]
    paid = client.post(f"/api/v1/orders/{placed['order']['id']}/payment", json={"card": token}, headers=placed["buyer"])
    assert paid.status_code == 200, paid.json
    assert (paid.json["status"], paid.json["paid_fen"]) == ("paid", 18600)


def test_a_declined_card_can_be_followed_by_another_card(app, client, placed, localstripe_server):
    declined_token = browser_token(localstripe_server, "4000000000000341")["id"]
    declined = client.post(
        f"/api/v1/orders/{placed['order']['id']}/payment", json={"card": declined_token}, headers=placed["buyer"]
    )
    assert declined.status_code == 402 and declined.json["error"]["code"] == "payment_declined"
    first_intent = placed["row"].payment_intent_id
    row = order_row(app, placed["order"]["id"])
    assert row.status == "pending_payment" and row.payment_intent_id not in (None, first_intent)
    assert gateway.retrieve_payment_intent(first_intent).status == "canceled"
    good = browser_token(localstripe_server)["id"]
    paid = client.post(f"/api/v1/orders/{placed['order']['id']}/payment", json={"card": good}, headers=placed["buyer"])
    assert paid.status_code == 200 and paid.json["status"] == "paid"


def test_a_card_reference_that_stripe_js_did_not_make_is_refused(client, placed):
    response = client.post(
        f"/api/v1/orders/{placed['order']['id']}/payment", json={"card": "4242424242424242"}, headers=placed["buyer"]
    )
    assert response.status_code == 422 and "card" in response.json["error"]["fields"]


def test_shipments_are_delivered_automatically_and_orders_complete_after_the_refund_window(
    app, client, make, placed, stripe_config, localstripe_server
):
    post_event(client, paid_at_provider(placed["order"], localstripe_server), stripe_config["STRIPE_WEBHOOK_SECRET"])
    order_id = placed["order"]["id"]
    staff = bearer(make.token(make.staff(placed["coop"])))
    client.post(
        f"/api/v1/orders/{order_id}/shipments",
        headers=staff,
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    days = app.config["AUTO_DELIVERY_DAYS"]
    assert order_services.deliver_overdue_shipments(utcnow() + timedelta(days=days - 1)) == []
    later = utcnow() + timedelta(days=days + 1)
    assert len(order_services.deliver_overdue_shipments(later)) == 1
    db.session.commit()
    window = app.config["REFUND_WINDOW_DAYS"]
    assert order_services.complete_orders(later + timedelta(days=window - 1)) == []
    assert order_services.complete_orders(later + timedelta(days=window + 1)) == [order_id]
    db.session.commit()
    events = client.get(f"/api/v1/orders/{order_id}", headers=placed["buyer"]).json["events"]
    assert [(e["action"], e["actor_role"]) for e in events][-2:] == [("deliver", "job"), ("complete", "job")]


def test_a_payment_for_an_order_cancelled_meanwhile_is_given_back_by_the_reconcile_job(
    app, client, placed, stripe_config, localstripe_server
):
    """The buyer paid at the provider while the shop had already cancelled the order (stock released)."""
    intent = pay_with_card(placed["row"].payment_intent_id, localstripe_server)
    order_services.cancel_order(db.session.get(Order, placed["order"]["id"]), None, "job", "not paid in time")
    db.session.commit()
    event = succeeded_event({**placed["order"], "payment_intent_id": intent.id})
    assert post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"]).json["outcome"] == "flagged: refund due"
    assert flows.refund_due_payments() == [placed["order"]["id"]]
    assert order_row(app, placed["order"]["id"]).payment_status == "refunded_after_cancel"
    assert flows.refund_due_payments() == []  # once
    # In the ledger: received into suspense (it matched no live order), then given back: nothing left anywhere.
    codes = db.session.scalars(sa.select(JournalEntry.code).order_by(JournalEntry.id)).all()
    assert codes == ["payment_suspense", "suspense_returned"]
    assert ledger_balances() == {}
