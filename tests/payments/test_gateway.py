"""The payment adapter against the real local Stripe emulator (localstripe); see tests/stripe_emulator.py.

Card numbers are Stripe's test cards as the emulator knows them (localstripe/resources.py, PaymentMethod):
4242424242424242 pays; 4000000000000341 is declined at payment time; 4000002500003155 asks for 3-D Secure.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from shop.payments import gateway
from shop.payments.gateway import (
    IntentInfo,
    InvalidWebhook,
    PaymentDeclined,
    PaymentProviderError,
    RefundInfo,
)

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"
THREE_D_SECURE_CARD = "4000002500003155"


@pytest.fixture(autouse=True)
def _app_context(app, stripe_config) -> Iterator[None]:
    with app.app_context():
        yield


def key() -> str:
    return uuid.uuid4().hex


def browser_token(base_url: str, number: str = GOOD_CARD) -> dict:
    """What the emulator's fake Stripe.js `createToken` does in the browser: POST /v1/tokens with the publishable
    key in the form (no secret key)."""
    form = {
        "card[number]": number,
        "card[exp_month]": "12",
        "card[exp_year]": "2030",
        "card[cvc]": "123",
        "key": "pk_test_localstripe",
        "payment_user_agent": "localstripe",
    }
    request = urllib.request.Request(
        f"{base_url}/v1/tokens",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def stripe_client(base_url: str) -> stripe.StripeClient:
    """Direct access to the emulator, for what the adapter does not offer (checking refunds, events)."""
    return stripe.StripeClient("sk_test_localstripe", base_addresses={"api": base_url})


def new_intent(amount_fen: int = 12_345, order: str = "FP-TEST") -> IntentInfo:
    return gateway.create_payment_intent(
        amount_fen=amount_fen, currency="cny", order_reference=order, idempotency_key=key()
    )


def paid_intent(base_url: str, amount_fen: int = 10_000) -> IntentInfo:
    intent = new_intent(amount_fen)
    paid = gateway.confirm_with_card(intent.id, browser_token(base_url)["id"])
    assert paid.status == "succeeded"
    return paid


# --- creating, confirming, reading -------------------------------------------------------------------------------


def test_create_intent_in_fen():
    intent = new_intent(12_345, order="FP-20261124-0001")

    assert intent.id.startswith("pi_")
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert (intent.status, intent.amount_fen, intent.currency) == ("requires_payment_method", 12_345, "cny")
    assert intent.order_reference == "FP-20261124-0001"
    assert gateway.retrieve_payment_intent(intent.id) == intent


def test_confirm_with_token_from_stripe_js_succeeds(localstripe_server):
    intent = new_intent(8_800)
    token = browser_token(localstripe_server)
    assert token["id"].startswith("tok_") and token["card"]["id"].startswith("card_")

    paid = gateway.confirm_with_card(intent.id, token["id"])

    assert (paid.id, paid.status, paid.amount_fen, paid.last_error_code) == (intent.id, "succeeded", 8_800, None)
    assert gateway.retrieve_payment_intent(intent.id).status == "succeeded"


def test_confirm_with_the_tokens_card_id_succeeds(localstripe_server):
    intent = new_intent()
    card_id = browser_token(localstripe_server)["card"]["id"]

    assert gateway.confirm_with_card(intent.id, card_id).status == "succeeded"


def test_confirm_with_payment_method_succeeds(localstripe_server):
    """A pm_ id, as real Stripe.js createPaymentMethod gives; made here through the emulator's API."""
    method = stripe_client(localstripe_server).v1.payment_methods.create(
        params={"type": "card", "card": {"number": GOOD_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    intent = new_intent()

    assert gateway.confirm_with_card(intent.id, method.id).status == "succeeded"


def test_create_and_confirm_in_one_call(localstripe_server):
    card_id = browser_token(localstripe_server)["card"]["id"]

    paid = gateway.create_payment_intent(
        amount_fen=500,
        currency="cny",
        order_reference="FP-ONE-CALL",
        idempotency_key=key(),
        payment_method=card_id,
        confirm=True,
    )

    assert (paid.status, paid.amount_fen, paid.order_reference) == ("succeeded", 500, "FP-ONE-CALL")


def test_declined_card_raises_payment_declined_with_the_intents_state(localstripe_server):
    intent = new_intent(6_600)

    with pytest.raises(PaymentDeclined) as declined:
        gateway.confirm_with_card(intent.id, browser_token(localstripe_server, DECLINED_CARD)["id"])

    assert declined.value.code == "card_declined"
    assert declined.value.http_status == 402
    assert declined.value.message == "Your card was declined."
    assert isinstance(declined.value, PaymentProviderError)
    after = declined.value.intent
    assert (after.id, after.status, after.last_error_code) == (intent.id, "requires_payment_method", "card_declined")
    assert gateway.retrieve_payment_intent(intent.id) == after


def test_declined_card_on_create_and_confirm_still_finds_the_intent(localstripe_server):
    """The emulator's decline names only the charge; the adapter follows it to the intent."""
    card_id = browser_token(localstripe_server, DECLINED_CARD)["card"]["id"]

    with pytest.raises(PaymentDeclined) as declined:
        gateway.create_payment_intent(
            amount_fen=700,
            currency="cny",
            order_reference="FP-DECLINED",
            idempotency_key=key(),
            payment_method=card_id,
            confirm=True,
        )

    after = declined.value.intent
    assert after is not None and after.id.startswith("pi_")
    assert (after.status, after.order_reference, after.last_error_code) == (
        "requires_payment_method",
        "FP-DECLINED",
        "card_declined",
    )


def test_three_d_secure_card_requires_action(localstripe_server):
    intent = new_intent()

    after = gateway.confirm_with_card(intent.id, browser_token(localstripe_server, THREE_D_SECURE_CARD)["id"])

    assert after.status == "requires_action"  # the browser finishes with stripe.confirmCardPayment(client_secret)


def test_confirm_refuses_what_is_not_a_card_reference():
    intent = new_intent()
    with pytest.raises(ValueError, match="expected a Stripe token"):
        gateway.confirm_with_card(intent.id, "4242424242424242")


def test_unknown_intent_is_a_provider_error():
    with pytest.raises(PaymentProviderError) as error:
        gateway.retrieve_payment_intent("pi_doesnotexist")
    assert error.value.http_status == 404
    assert "pi_doesnotexist" in error.value.message


@pytest.mark.parametrize("amount", [0, -100, 12.5, True, "100", None])
def test_amount_must_be_positive_integer_fen(amount):
    with pytest.raises(ValueError, match="amount_fen"):
        gateway.create_payment_intent(amount_fen=amount, currency="cny", order_reference="FP-X", idempotency_key=key())


@pytest.mark.parametrize("currency", ["CNY", "yuan", "", None])
def test_currency_must_be_a_lower_case_code(currency):
    with pytest.raises(ValueError, match="currency"):
        gateway.create_payment_intent(amount_fen=100, currency=currency, order_reference="FP-X", idempotency_key=key())


# --- cancelling ----------------------------------------------------------------------------------------------------


def test_cancel_then_cancel_again_returns_the_canceled_state():
    intent = new_intent()

    first = gateway.cancel_payment_intent(intent.id)
    second = gateway.cancel_payment_intent(intent.id)  # the emulator refuses (400); the adapter reads the state

    assert first.status == second.status == "canceled"
    assert gateway.retrieve_payment_intent(intent.id).status == "canceled"


def test_cancel_of_a_succeeded_intent_returns_succeeded(localstripe_server):
    paid = paid_intent(localstripe_server)

    assert gateway.cancel_payment_intent(paid.id).status == "succeeded"


def test_cancel_of_an_unknown_intent_is_a_provider_error():
    with pytest.raises(PaymentProviderError) as error:
        gateway.cancel_payment_intent("pi_doesnotexist")
    assert error.value.http_status == 404


# --- refunds -------------------------------------------------------------------------------------------------------


def test_partial_refund_then_the_rest(localstripe_server):
    paid = paid_intent(localstripe_server, amount_fen=10_000)

    first = gateway.refund(paid.id, 2_500, key())
    rest = gateway.refund(paid.id, 7_500, key())

    assert isinstance(first, RefundInfo)
    assert (first.amount_fen, first.status) == (2_500, "succeeded")
    assert (rest.amount_fen, rest.status) == (7_500, "succeeded")
    assert first.id != rest.id
    refunds = stripe_client(localstripe_server).v1.refunds.list(params={"payment_intent": paid.id}).to_dict()
    assert sorted(r["amount"] for r in refunds["data"]) == [2_500, 7_500]


def test_refund_of_an_unpaid_intent_is_a_provider_error():
    intent = new_intent()
    with pytest.raises(PaymentProviderError, match="Refunding"):
        gateway.refund(intent.id, 100, key())


def test_refund_amount_must_be_positive_integer_fen(localstripe_server):
    paid = paid_intent(localstripe_server)
    with pytest.raises(ValueError, match="amount_fen"):
        gateway.refund(paid.id, 0, key())


def test_emulator_limit_refunds_above_the_amount_paid_are_accepted(localstripe_server):
    """Measured, not wished: the emulator does not refuse this (real Stripe does). The caller keeps its own ledger
    of refunded amounts; if this test fails, localstripe changed: update docs/payments.md."""
    paid = paid_intent(localstripe_server, amount_fen=1_000)

    assert gateway.refund(paid.id, 5_000, key()).status == "succeeded"


def test_emulator_limit_no_charge_refunded_event(localstripe_server):
    """The emulator records every event it sends (GET /v1/events); a refund makes none. Our webhook tests
    simulate charge.refunded with sign_webhook_payload instead."""
    paid = paid_intent(localstripe_server)
    gateway.refund(paid.id, 100, key())

    events = stripe_client(localstripe_server).v1.events.list(params={"type": "charge.refunded"}).to_dict()
    assert events["data"] == []
    succeeded = (
        stripe_client(localstripe_server)
        .v1.events.list(params={"type": "payment_intent.succeeded", "limit": 1000})
        .to_dict()
    )
    assert paid.id in {e["data"]["object"]["id"] for e in succeeded["data"]}  # events are recorded, just not that one


# --- webhooks ------------------------------------------------------------------------------------------------------


def event_payload(event_type: str = "charge.refunded", **obj) -> bytes:
    event = {
        "id": f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": "ch_simulated", "object": "charge", "amount_refunded": 2_500, **obj}},
    }
    return json.dumps(event).encode()


def test_verify_webhook_accepts_a_correctly_signed_payload(stripe_config):
    payload = event_payload(payment_intent="pi_abc")
    header = gateway.sign_webhook_payload(payload, stripe_config["STRIPE_WEBHOOK_SECRET"])

    event = gateway.verify_webhook(payload, header)

    assert event["type"] == "charge.refunded"
    assert event["data"]["object"]["payment_intent"] == "pi_abc"
    assert type(event) is dict


def test_sign_webhook_payload_is_stripes_scheme(stripe_config):
    payload = event_payload()
    secret = stripe_config["STRIPE_WEBHOOK_SECRET"]

    ours = gateway.sign_webhook_payload(payload, secret, timestamp=1_700_000_000)

    assert ours == stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, 1_700_000_000)
    assert ours.startswith("t=1700000000,v1=")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda payload, header: (payload.replace(b"2500", b"9999"), header), id="changed-body"),
        pytest.param(
            lambda payload, header: (payload, gateway.sign_webhook_payload(payload, "whsec_wrong")), id="wrong-secret"
        ),
        pytest.param(lambda payload, header: (payload, None), id="missing-header"),
        pytest.param(lambda payload, header: (payload, ""), id="empty-header"),
        pytest.param(lambda payload, header: (payload, "garbage"), id="malformed-header"),
        pytest.param(lambda payload, header: (payload, header.split(",")[0]), id="no-v1"),
    ],
)
def test_verify_webhook_refuses_a_bad_or_missing_signature(stripe_config, tamper):
    payload = event_payload()
    header = gateway.sign_webhook_payload(payload, stripe_config["STRIPE_WEBHOOK_SECRET"])
    payload, header = tamper(payload, header)

    with pytest.raises(InvalidWebhook):
        gateway.verify_webhook(payload, header)


def test_verify_webhook_refuses_a_stale_timestamp(stripe_config):
    payload = event_payload()
    header = gateway.sign_webhook_payload(
        payload, stripe_config["STRIPE_WEBHOOK_SECRET"], timestamp=int(time.time()) - 3600
    )
    with pytest.raises(InvalidWebhook, match="tolerance"):
        gateway.verify_webhook(payload, header)


def test_verify_webhook_refuses_a_signed_body_that_is_not_an_event(stripe_config):
    payload = b'{"hello": "world"}'
    header = gateway.sign_webhook_payload(payload, stripe_config["STRIPE_WEBHOOK_SECRET"])
    with pytest.raises(InvalidWebhook, match="not a Stripe event"):
        gateway.verify_webhook(payload, header)


def test_verify_webhook_without_a_secret_is_a_configuration_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", None)
    payload = event_payload()
    with pytest.raises(PaymentProviderError, match="STRIPE_WEBHOOK_SECRET"):
        gateway.verify_webhook(payload, gateway.sign_webhook_payload(payload, "whsec_any"))


def test_emulator_posts_a_signed_payment_intent_succeeded(localstripe_server, localstripe_webhook):
    paid = paid_intent(localstripe_server, amount_fen=4_321)

    delivery = localstripe_webhook.wait_for(
        lambda e: e.get("type") == "payment_intent.succeeded" and e["data"]["object"]["id"] == paid.id
    )

    event = gateway.verify_webhook(delivery.body, delivery.headers.get("Stripe-Signature"))
    intent = event["data"]["object"]
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 4_321, "cny")
    assert intent["metadata"] == {"order": "FP-TEST"}
    with pytest.raises(InvalidWebhook):  # the same delivery under another secret is refused
        gateway.verify_webhook(delivery.body, gateway.sign_webhook_payload(delivery.body, "whsec_other"))


def test_emulator_posts_payment_failed_for_a_declined_card(localstripe_server, localstripe_webhook):
    intent = new_intent()
    with pytest.raises(PaymentDeclined):
        gateway.confirm_with_card(intent.id, browser_token(localstripe_server, DECLINED_CARD)["id"])

    delivery = localstripe_webhook.wait_for(
        lambda e: e.get("type") == "payment_intent.payment_failed" and e["data"]["object"]["id"] == intent.id
    )
    assert gateway.verify_webhook(delivery.body, delivery.headers["Stripe-Signature"])["id"].startswith("evt_")


# --- what goes on the wire: a recording proxy in front of the emulator (the emulator does the work) ---------------


class _Proxy:
    def __init__(self, upstream: str, hang: threading.Event | None = None):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append((self.command, self.path, dict(self.headers.items()), body))
                if hang is not None:
                    hang.wait(30)  # never answers in time: the client's timeout must end the call
                    return
                forwarded = {k: v for k, v in self.headers.items() if k.lower() in {"authorization", "content-type"}}
                request = urllib.request.Request(
                    upstream + self.path, data=body or None, headers=forwarded, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, data = answer.status, answer.read()
                except urllib.error.HTTPError as refused:
                    status, data = refused.code, refused.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _relay

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recording_proxy(app, localstripe_server, monkeypatch) -> Iterator[_Proxy]:
    proxy = _Proxy(localstripe_server)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", proxy.url)
    yield proxy
    proxy.close()


def test_idempotency_keys_and_payment_method_types_are_sent(app, recording_proxy, localstripe_server, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_PAYMENT_METHOD_TYPES", ["card", "alipay"])

    intent = gateway.create_payment_intent(
        amount_fen=2_000, currency="cny", order_reference="FP-WIRE", idempotency_key="order-FP-WIRE-pay-1"
    )
    gateway.confirm_with_card(intent.id, browser_token(localstripe_server)["id"])
    gateway.refund(intent.id, 500, "order-FP-WIRE-refund-1")

    method, path, headers, body = recording_proxy.requests[0]
    assert (method, path) == ("POST", "/v1/payment_intents")
    assert headers["Idempotency-Key"] == "order-FP-WIRE-pay-1"
    form = urllib.parse.parse_qs(body.decode())
    assert form["amount"] == ["2000"] and form["currency"] == ["cny"] and form["metadata[order]"] == ["FP-WIRE"]
    assert [form[k][0] for k in sorted(k for k in form if k.startswith("payment_method_types"))] == ["card", "alipay"]
    refund_request = next(r for r in recording_proxy.requests if r[1] == "/v1/refunds")
    assert refund_request[2]["Idempotency-Key"] == "order-FP-WIRE-refund-1"
    assert all(r[2]["Authorization"] == "Bearer sk_test_localstripe" for r in recording_proxy.requests)


def test_every_call_has_a_timeout(app, monkeypatch):
    release = threading.Event()
    proxy = _Proxy("http://127.0.0.1:9", hang=release)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", proxy.url)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(PaymentProviderError) as error:
            gateway.retrieve_payment_intent("pi_slow")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        proxy.close()

    assert error.value.http_status is None
    assert "could not be reached" in error.value.message
    assert 0.4 <= elapsed < 5
    assert len(proxy.requests) == 1  # no retries against the emulator (it ignores idempotency keys)


def test_settings_defaults(app, monkeypatch):
    for name in ("STRIPE_API_BASE", "STRIPE_JS_URL", "STRIPE_PAYMENT_METHOD_TYPES", "STRIPE_SECRET_KEY"):
        monkeypatch.delitem(app.config, name, raising=False)
    real = gateway.settings()
    assert real.api_base is None and not real.uses_emulator
    assert real.js_url == "https://js.stripe.com/v3/"
    assert real.payment_method_types == ("card", "alipay", "wechat_pay")
    assert real.secret_key == "sk_test_localstripe"
    assert real.max_network_retries == 2

    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:8420/")
    emulated = gateway.settings()
    assert emulated.uses_emulator and emulated.api_base == "http://127.0.0.1:8420"
    assert emulated.js_url == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert emulated.max_network_retries == 0
