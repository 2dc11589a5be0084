"""Whoever holds the webhook secret can sign any body: an event is a notification, the provider is the truth.

A payment is recorded only for the intent the shop created for the order, as the provider (the real emulator)
reports it when asked; a signed but malformed event is refused before anything is stored. The events are signed
with the configured secret by Stripe's real scheme, as the other webhook tests do.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shop import create_app
from shop.extensions import db
from shop.ledger.models import Account, JournalEntry
from shop.payments import gateway
from shop.payments.models import PaymentFlag, ProviderEvent
from tests.payments.helpers import order_row, post_event, succeeded_event
from tests.stripe_emulator import _free_port

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")

MADE_UP_INTENT = "pi_1MadeUpByWhoeverHoldsTheSecret"


def ledger_balances() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Account.key, Account.balance_fen).where(Account.balance_fen != 0)).all())


def nothing_booked() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == 0


def test_a_signed_event_for_a_made_up_intent_naming_the_order_changes_nothing(app, client, placed, stripe_config):
    """The attack of issue #12: a made-up intent id, metadata.order = the order, its amount, a valid signature."""
    forged = succeeded_event({**placed["order"], "payment_intent_id": MADE_UP_INTENT}, event_id="evt_forged_1")
    answer = post_event(client, forged, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.status_code == 200 and answer.json["outcome"] == "flagged: unknown intent"
    row = order_row(app, placed["order"]["id"])
    assert (row.status, row.paid_fen, row.payment_intent_id) == (
        "pending_payment",
        0,
        placed["row"].payment_intent_id,
    )
    flags = [(f.kind, f.order_id, f.payment_intent_id, f.amount_fen) for f in db.session.query(PaymentFlag)]
    assert flags == [("unknown_intent", placed["order"]["id"], MADE_UP_INTENT, 0)]
    assert nothing_booked() and ledger_balances() == {}  # the provider never received this money


def test_an_order_reference_past_the_id_column_names_no_order(app, client, placed, stripe_config):
    """FO and 18 digits is well-formed, but no Integer id is that large: the flag names no order (was a 500 on
    PostgreSQL, whose id column refused the number)."""
    order = {**placed["order"], "payment_intent_id": MADE_UP_INTENT, "reference": "FO" + "9" * 18}
    answer = post_event(
        client, succeeded_event(order, event_id="evt_far_reference"), stripe_config["STRIPE_WEBHOOK_SECRET"]
    )
    assert answer.status_code == 200 and answer.json["outcome"] == "flagged: unknown intent"
    assert [(f.kind, f.order_id) for f in db.session.query(PaymentFlag)] == [("unknown_intent", None)]
    assert nothing_booked()


def test_a_signed_success_event_for_the_orders_own_unpaid_intent_pays_nothing(app, client, placed, stripe_config):
    """The stored intent is real but unpaid at the emulator: the event's "succeeded" is not believed."""
    answer = post_event(client, succeeded_event(placed["order"]), stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.json["outcome"] == "flagged: not confirmed by the provider"
    assert order_row(app, placed["order"]["id"]).status == "pending_payment"
    assert [f.kind for f in db.session.query(PaymentFlag)] == ["unconfirmed_event"]
    assert nothing_booked()


def test_a_real_payment_of_another_intent_naming_the_order_is_held_for_an_operator(app, client, placed, stripe_config):
    """The emulator has a paid intent whose metadata names the order, but the shop did not create it: the money
    is real (the provider confirms it), so it is held in suspense, and the order is not touched."""
    other = gateway.create_payment_intent(
        amount_fen=placed["order"]["total_fen"],
        currency="cny",
        order_reference=placed["order"]["reference"],
        idempotency_key="not-the-shops-intent",
        payment_method="pm_card_visa",
        confirm=True,
    )
    event = succeeded_event({**placed["order"], "payment_intent_id": other.id}, event_id="evt_other_intent")
    answer = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.json["outcome"] == "flagged: unknown intent"
    row = order_row(app, placed["order"]["id"])
    assert (row.status, row.payment_intent_id) == ("pending_payment", placed["row"].payment_intent_id)
    assert [(f.kind, f.order_id, f.amount_fen) for f in db.session.query(PaymentFlag)] == [
        ("unknown_intent", placed["order"]["id"], 18600)
    ]
    assert ledger_balances() == {"provider_clearing": 18600, "suspense": 18600}


def test_when_the_provider_cannot_be_asked_the_event_is_refused_for_a_retry_and_nothing_is_stored(
    app, client, placed, stripe_config, localstripe_server, monkeypatch
):
    from tests.payments.helpers import pay_with_card

    pay_with_card(placed["row"].payment_intent_id, localstripe_server)
    event = succeeded_event(placed["order"], event_id="evt_provider_down")
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{_free_port()}")  # nobody listens
    down = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert down.status_code == 503 and down.json["error"]["code"] == "payment_unavailable"
    assert db.session.query(ProviderEvent).count() == 0 and order_row(app, placed["order"]["id"]).status == (
        "pending_payment"
    )
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", localstripe_server)
    again = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])  # Stripe delivers it again
    assert again.json["outcome"] == "paid" and order_row(app, placed["order"]["id"]).status == "paid"


def _intent(order: dict, **changes) -> dict:
    intent = succeeded_event(order)["data"]["object"]
    intent.update(changes)
    return intent


MALFORMED = {
    "amount as a string": (lambda o: {"data": {"object": _intent(o, amount="18600")}}, "data.object.amount"),
    "amount with a fraction": (lambda o: {"data": {"object": _intent(o, amount=18600.5)}}, "data.object.amount"),
    "amount above 64 bits": (lambda o: {"data": {"object": _intent(o, amount=2**64)}}, "data.object.amount"),
    "amount true": (lambda o: {"data": {"object": _intent(o, amount=True)}}, "data.object.amount"),
    "no intent id": (
        lambda o: {"data": {"object": {k: v for k, v in _intent(o).items() if k != "id"}}},
        "data.object.id",
    ),
    "metadata a string": (lambda o: {"data": {"object": _intent(o, metadata="FO1")}}, "data.object.metadata"),
    "metadata a list": (lambda o: {"data": {"object": _intent(o, metadata=[o["reference"]])}}, "data.object.metadata"),
    "data.object a list": (lambda o: {"data": {"object": [_intent(o)]}}, "data.object"),
    "an event id of 5,000 characters": (lambda o: {"id": "evt_" + "x" * 4996}, "id"),
    "a huge order reference": (
        lambda o: {"data": {"object": _intent(o, metadata={"order": "FO99999999999999999999"})}},
        "data.object.metadata.order",
    ),
    "an intent id of 5,000 characters": (
        lambda o: {"data": {"object": _intent(o, id="pi_" + "x" * 4997)}},
        "data.object.id",
    ),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_signed_but_malformed_event_is_400_naming_the_field_and_stores_nothing(
    app, client, placed, stripe_config, localstripe_server, case
):
    from tests.payments.helpers import pay_with_card

    pay_with_card(placed["row"].payment_intent_id, localstripe_server)  # even a real payment is not taken this way
    change, field = MALFORMED[case]
    event = {**succeeded_event(placed["order"], event_id="evt_malformed"), **change(placed["order"])}
    answer = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["code"] == "malformed_event"
    assert field in answer.json["error"]["fields"]
    assert db.session.query(ProviderEvent).count() == 0 and db.session.query(PaymentFlag).count() == 0
    assert order_row(app, placed["order"]["id"]).status == "pending_payment" and nothing_booked()


def test_a_malformed_refund_event_is_refused_too(app, client, placed, stripe_config):
    charge = {"id": "ch_1", "payment_intent": placed["row"].payment_intent_id, "refunds": {"data": [{"id": []}]}}
    event = {"id": "evt_bad_refund", "type": "charge.refunded", "data": {"object": charge}}
    answer = post_event(client, event, stripe_config["STRIPE_WEBHOOK_SECRET"])
    assert answer.status_code == 400 and "data.object.refunds.data.0.id" in answer.json["error"]["fields"]
    assert db.session.query(ProviderEvent).count() == 0


SIGNED_BODIES_THAT_ARE_NO_EVENT = {
    "a list": b"[1, 2]",
    "a string": b'"payment_intent.succeeded"',
    "null": b"null",
    "not JSON": b"{not json",
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "a 5,000-digit number": b'{"id": "evt_1", "type": "x", "n": ' + b"9" * 5000 + b"}",
    "an event with a NUL in its id": b'{"id": "evt_\\u0000", "type": "x", "data": {"object": {}}}',
}


@pytest.mark.parametrize("body", SIGNED_BODIES_THAT_ARE_NO_EVENT.values(), ids=list(SIGNED_BODIES_THAT_ARE_NO_EVENT))
def test_a_signed_body_that_is_no_event_is_400_and_stores_nothing(app, client, placed, stripe_config, body):
    """Whoever holds the secret can sign anything: Stripe's own event builder must not turn it into a 500."""
    answer = client.post(
        "/api/v1/payments/stripe/webhook",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": gateway.sign_webhook_payload(body, stripe_config["STRIPE_WEBHOOK_SECRET"])},
    )
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.json["error"]["code"] == "malformed_event" and answer.json["error"]["fields"]
    assert db.session.query(ProviderEvent).count() == 0 and db.session.query(PaymentFlag).count() == 0
    assert order_row(app, placed["order"]["id"]).status == "pending_payment" and nothing_booked()


def test_the_demo_webhook_secret_is_refused_at_start_up_with_real_stripe(app):
    with pytest.raises(RuntimeError, match="demo secret"):
        create_app({"STRIPE_WEBHOOK_SECRET": gateway.DEMO_WEBHOOK_SECRET, "STRIPE_API_BASE": None})
    emulated = create_app(
        {"STRIPE_WEBHOOK_SECRET": gateway.DEMO_WEBHOOK_SECRET, "STRIPE_API_BASE": "http://127.0.0.1:8420"}
    )
    assert emulated.config["STRIPE_WEBHOOK_SECRET"] == gateway.DEMO_WEBHOOK_SECRET
