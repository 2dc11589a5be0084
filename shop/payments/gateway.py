"""The adapter to the payment provider (Stripe): plain values in, small frozen dataclasses out.

This module is pure I/O with Stripe. It never touches the database, and it must never be called while a database
transaction is open: a call can take up to STRIPE_TIMEOUT_SECONDS, and holding row locks (or a connection) for
that long is the caller's mistake to avoid. Commit (or roll back) first, call the gateway, then record the outcome
in a new transaction.

Money is integer fen (分); the currency is a lower-case ISO code ("cny").

Configuration, read from the Flask config when each call is made (see docs/payments.md):

    STRIPE_SECRET_KEY            default "sk_test_localstripe" (what the local emulator accepts)
    STRIPE_PUBLISHABLE_KEY       default "pk_test_localstripe"
    STRIPE_API_BASE              None = real Stripe; "http://127.0.0.1:8420" = the localstripe emulator
    STRIPE_WEBHOOK_SECRET        the endpoint's signing secret ("whsec_..."); required by verify_webhook
    STRIPE_PAYMENT_METHOD_TYPES  default ["card", "alipay", "wechat_pay"]
    STRIPE_JS_URL                default https://js.stripe.com/v3/, or f"{STRIPE_API_BASE}/js.stripe.com/v3/"
    STRIPE_TIMEOUT_SECONDS       default 20: every call to Stripe has this timeout
    STRIPE_MAX_NETWORK_RETRIES   default 2 with real Stripe, 0 with the emulator (it ignores idempotency keys)

A set STRIPE_API_BASE means "the emulator": the one behavioural difference (server-side confirmation with a
card) is handled in `confirm_with_card`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import current_app

REAL_STRIPE_JS_URL = "https://js.stripe.com/v3/"
DEFAULT_PAYMENT_METHOD_TYPES = ("card", "alipay", "wechat_pay")
BROWSER_WALLETS = ("alipay", "wechat_pay")
DEFAULT_TIMEOUT_SECONDS = 20.0
# What a card can be given as: a Token from Stripe.js createToken (the emulator's fake Stripe.js offers only this),
# the Card inside such a token, or a PaymentMethod from createPaymentMethod (real Stripe.js).
CARD_REFERENCE_PREFIXES = ("tok_", "card_", "pm_")
# A cancel that Stripe refuses because the intent is already in one of these states is not an error for us.
FINAL_STATES = frozenset({"canceled", "succeeded"})


# The webhook secret that `make run` gives the local emulator: it is in the repository, so anyone can sign with it.
DEMO_WEBHOOK_SECRET = "whsec_fupin_demo"  # noqa: S105 (public on purpose: this is the one to refuse)


def refuse_demo_secret_with_real_stripe(config: Mapping[str, Any]) -> None:
    """Start-up check: the demo webhook secret is refused unless payments go to the local emulator.

    With real Stripe (no STRIPE_API_BASE) a known secret would let anyone sign events; the app does not start.
    """
    if config.get("STRIPE_WEBHOOK_SECRET") == DEMO_WEBHOOK_SECRET and not config.get("STRIPE_API_BASE"):
        raise RuntimeError(
            f"STRIPE_WEBHOOK_SECRET is the demo secret {DEMO_WEBHOOK_SECRET!r}, published in the repository, while "
            "payments go to real Stripe (STRIPE_API_BASE is not set). Set the secret of your Stripe webhook "
            "endpoint, or STRIPE_API_BASE to the local emulator."
        )


class PaymentProviderError(Exception):
    """Stripe refused a request or could not be reached. `message` is safe to log; no secrets in it."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code  # Stripe's error code when it gave one (e.g. "card_declined", "resource_missing")
        self.http_status = http_status  # None when Stripe was not reached (timeout, connection refused)


class PaymentDeclined(PaymentProviderError):
    """The card was declined. `intent` is the intent's state after the decline when it could be found."""

    def __init__(self, message: str, *, code: str | None, intent: IntentInfo | None):
        super().__init__(message, code=code, http_status=402)
        self.intent = intent


class InvalidWebhook(Exception):
    """A webhook request that is not provably from Stripe: missing or wrong signature, stale timestamp."""


class MalformedWebhook(InvalidWebhook):
    """A correctly signed body that is no event: not JSON, not an object, nested too deeply, no id or type."""


@dataclass(frozen=True)
class IntentInfo:
    id: str
    client_secret: str | None
    status: str  # Stripe's: requires_payment_method, requires_confirmation, requires_action, processing,
    # requires_capture, canceled, succeeded
    amount_fen: int
    currency: str
    order_reference: str | None = None  # metadata["order"], as given to create_payment_intent
    last_error_code: str | None = None  # last_payment_error.code, e.g. "card_declined"


@dataclass(frozen=True)
class RefundInfo:
    id: str
    amount_fen: int
    status: str  # Stripe's: pending, requires_action, succeeded, failed, canceled
    metadata: Mapping[str, str] = field(default_factory=dict)  # as given to `refund` (the shop's refund id)


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    publishable_key: str | None
    api_base: str | None
    webhook_secret: str | None
    payment_method_types: tuple[str, ...]
    js_url: str
    timeout_seconds: float
    max_network_retries: int

    @property
    def uses_emulator(self) -> bool:
        return self.api_base is not None

    @property
    def browser_wallets(self) -> tuple[str, ...]:
        """The configured methods the buyer confirms in the browser with Stripe.js (confirmAlipayPayment,
        confirmWechatPayPayment). Only with real Stripe: the emulator's fake Stripe.js has neither."""
        if self.uses_emulator:
            return ()
        return tuple(kind for kind in BROWSER_WALLETS if kind in self.payment_method_types)


def settings() -> StripeSettings:
    """The STRIPE_* settings of the current app, with their defaults (templates need js_url and publishable_key)."""
    config = current_app.config
    api_base = config.get("STRIPE_API_BASE") or None
    if api_base is not None:
        api_base = api_base.rstrip("/")
    types = config.get("STRIPE_PAYMENT_METHOD_TYPES", DEFAULT_PAYMENT_METHOD_TYPES)
    if isinstance(types, str):
        types = [part.strip() for part in types.split(",") if part.strip()]
    types = tuple(types)
    if not types or not all(isinstance(t, str) and t for t in types):
        raise PaymentProviderError("STRIPE_PAYMENT_METHOD_TYPES must be a non-empty list of names")
    js_url = stripe_js_url()
    retries = config.get("STRIPE_MAX_NETWORK_RETRIES")
    if retries is None:
        retries = 0 if api_base else 2
    return StripeSettings(
        secret_key=config.get("STRIPE_SECRET_KEY") or "sk_test_localstripe",
        publishable_key=config.get("STRIPE_PUBLISHABLE_KEY") or "pk_test_localstripe",
        api_base=api_base,
        webhook_secret=config.get("STRIPE_WEBHOOK_SECRET") or None,
        payment_method_types=types,
        js_url=js_url,
        timeout_seconds=float(config.get("STRIPE_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)),
        max_network_retries=int(retries),
    )


def stripe_js_url() -> str:
    """Where pages load Stripe.js from: STRIPE_JS_URL, else the emulator's copy, else Stripe's own (the CSP of
    every answer names its origin, so this is kept cheaper than the whole of settings())."""
    config = current_app.config
    if config.get("STRIPE_JS_URL"):
        return config["STRIPE_JS_URL"]
    api_base = (config.get("STRIPE_API_BASE") or "").rstrip("/")
    return f"{api_base}/js.stripe.com/v3/" if api_base else REAL_STRIPE_JS_URL


@functools.lru_cache(maxsize=8)
def _client_for(secret_key: str, api_base: str | None, timeout: float, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        http_client=stripe.RequestsClient(timeout=timeout),
        max_network_retries=retries,
    )


def _client(current: StripeSettings | None = None) -> stripe.StripeClient:
    s = current or settings()
    return _client_for(s.secret_key, s.api_base, s.timeout_seconds, s.max_network_retries)


@contextmanager
def _stripe_call(action: str) -> Iterator[None]:
    """Every Stripe error becomes a PaymentProviderError saying what we were doing."""
    try:
        yield
    except stripe.StripeError as error:
        raise _provider_error(action, error) from error


def _provider_error(action: str, error: stripe.StripeError) -> PaymentProviderError:
    if isinstance(error, stripe.APIConnectionError):
        detail = "Stripe could not be reached (timeout or connection refused)"
    else:
        detail = error.user_message or str(error) or type(error).__name__
    status = f" (HTTP {error.http_status})" if error.http_status else ""
    return PaymentProviderError(f"{action} failed{status}: {detail}", code=error.code, http_status=error.http_status)


def _as_dict(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _intent_info(obj: Any) -> IntentInfo:
    data = _as_dict(obj)
    metadata = data.get("metadata") or {}
    error = data.get("last_payment_error") or {}
    return IntentInfo(
        id=data["id"],
        client_secret=data.get("client_secret"),
        status=data["status"],
        amount_fen=int(data["amount"]),
        currency=data["currency"],
        order_reference=metadata.get("order"),
        last_error_code=error.get("code"),
    )


def _check_amount(amount_fen: Any) -> None:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValueError(f"amount_fen must be a positive integer number of fen, not {amount_fen!r}")


def _check_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, not {value!r}")


def _check_currency(currency: Any) -> None:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.islower()):
        raise ValueError(f"currency must be a lower-case ISO 4217 code such as 'cny', not {currency!r}")


def create_payment_intent(
    *,
    amount_fen: int,
    currency: str,
    order_reference: str,
    idempotency_key: str,
    payment_method: str | None = None,
    confirm: bool = False,
) -> IntentInfo:
    """Create a PaymentIntent for `amount_fen` with metadata {"order": order_reference}.

    The payment method types come from STRIPE_PAYMENT_METHOD_TYPES. `idempotency_key` is sent to Stripe, which
    answers a repeated request with the first answer (the emulator ignores it: never rely on it in tests).
    `payment_method` is a "pm_..." (or, with the emulator, "card_...") id; a Stripe.js token goes through
    `confirm_with_card` instead. With confirm=True a decline raises PaymentDeclined.
    Never call this inside a database transaction (see the module docstring).
    """
    _check_amount(amount_fen)
    _check_currency(currency)
    _check_text("order_reference", order_reference)
    _check_text("idempotency_key", idempotency_key)
    current = settings()
    params: dict[str, Any] = {
        "amount": amount_fen,
        "currency": currency,
        "metadata": {"order": order_reference},
        "payment_method_types": list(current.payment_method_types),
    }
    if payment_method is not None:
        _check_text("payment_method", payment_method)
        params["payment_method"] = payment_method
    if confirm:
        params["confirm"] = True
    client = _client(current)
    try:
        intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.CardError as error:
        raise _declined(client, error, intent_id=None) from error
    except stripe.StripeError as error:
        raise _provider_error("Creating the payment intent", error) from error
    return _intent_info(intent)


def confirm_with_card(intent_id: str, card_token_or_payment_method: str) -> IntentInfo:
    """Attach a card to the intent and confirm it, server-side: the ONE place that hides the emulator's difference.

    `card_token_or_payment_method` is what the browser produced:
    - "tok_...": a Token from Stripe.js `createToken` (the emulator's fake Stripe.js only offers this one);
    - "card_...": the Card inside such a token (token.card.id);
    - "pm_...": a PaymentMethod from Stripe.js `createPaymentMethod` (real Stripe.js; the emulator's does nothing,
      but its API creates them, e.g. `PaymentMethod.create(type="card", ...)` in tests).

    Real Stripe: one call, `confirm(payment_method=pm_...)`, or `payment_method_data[card][token]` for a token.
    Emulator: its confirm endpoint refuses a `payment_method` ("Not implemented") and it cannot use a token as a
    payment method, so a token is first resolved to its card id, the intent is updated with the card, then
    confirmed. The answer is the same: status "succeeded", "requires_action" (3-D Secure: the browser finishes
    with stripe.confirmCardPayment(client_secret)) or "processing"; a decline raises PaymentDeclined.
    Never call this inside a database transaction (see the module docstring).
    """
    _check_text("intent_id", intent_id)
    reference = card_token_or_payment_method
    if not isinstance(reference, str) or not reference.startswith(CARD_REFERENCE_PREFIXES):
        raise ValueError(f"expected a Stripe token (tok_), card (card_) or payment method (pm_), not {reference!r}")
    current = settings()
    client = _client(current)
    try:
        if current.uses_emulator:
            if reference.startswith("tok_"):
                with _stripe_call("Reading the card token"):
                    reference = _as_dict(client.v1.tokens.retrieve(reference))["card"]["id"]
            with _stripe_call("Attaching the card to the payment intent"):
                client.v1.payment_intents.update(intent_id, params={"payment_method": reference})
            intent = client.v1.payment_intents.confirm(intent_id)
        elif reference.startswith("tok_"):
            intent = client.v1.payment_intents.confirm(
                intent_id, params={"payment_method_data": {"type": "card", "card": {"token": reference}}}
            )
        else:
            intent = client.v1.payment_intents.confirm(intent_id, params={"payment_method": reference})
    except stripe.CardError as error:
        raise _declined(client, error, intent_id=intent_id) from error
    except stripe.StripeError as error:
        raise _provider_error("Confirming the payment intent", error) from error
    return _intent_info(intent)


def _declined(client: stripe.StripeClient, error: stripe.CardError, *, intent_id: str | None) -> PaymentDeclined:
    """A PaymentDeclined carrying the intent's state after the decline, when it can be found.

    Real Stripe names the intent in the error; the emulator names only the failed charge, whose payment_intent
    field leads to it. A failure to look it up leaves `intent` None: the decline itself is the news.
    """
    body = (error.json_body or {}).get("error") or {}
    if intent_id is None:
        named = body.get("payment_intent")
        intent_id = named.get("id") if isinstance(named, Mapping) else named
    intent = None
    try:
        if intent_id is None and body.get("charge"):
            intent_id = _as_dict(client.v1.charges.retrieve(body["charge"])).get("payment_intent")
            if isinstance(intent_id, Mapping):
                intent_id = intent_id.get("id")
        if intent_id:
            intent = _intent_info(client.v1.payment_intents.retrieve(intent_id))
    except stripe.StripeError:
        intent = None
    message = error.user_message or "The card was declined."
    return PaymentDeclined(message, code=error.code or "card_declined", intent=intent)


def retrieve_payment_intent(intent_id: str) -> IntentInfo:
    """The intent's current state at Stripe. Never call this inside a database transaction."""
    _check_text("intent_id", intent_id)
    with _stripe_call(f"Reading payment intent {intent_id}"):
        return _intent_info(_client().v1.payment_intents.retrieve(intent_id))


def find_payment_intent(intent_id: str) -> IntentInfo | None:
    """The intent's current state at Stripe, or None when Stripe has no such intent (HTTP 404).

    For checking what an event claims: an id the provider does not know is an answer, not an outage. Any other
    failure raises PaymentProviderError. Never call this inside a database transaction.
    """
    try:
        return retrieve_payment_intent(intent_id)
    except PaymentProviderError as error:
        if error.http_status == 404:
            return None
        raise


def cancel_payment_intent(intent_id: str) -> IntentInfo:
    """Cancel the intent; an intent that is already canceled or succeeded is returned as it is, without error.

    Check the returned status: "succeeded" means the buyer paid before the cancel (refund, or honour the order).
    Any other refusal raises PaymentProviderError. Never call this inside a database transaction.
    """
    _check_text("intent_id", intent_id)
    client = _client()
    try:
        return _intent_info(client.v1.payment_intents.cancel(intent_id))
    except stripe.InvalidRequestError as error:
        refusal = error
    except stripe.StripeError as error:
        raise _provider_error(f"Cancelling payment intent {intent_id}", error) from error
    with _stripe_call(f"Reading payment intent {intent_id} after a refused cancel"):
        current = _intent_info(client.v1.payment_intents.retrieve(intent_id))
    if current.status in FINAL_STATES:
        return current
    raise PaymentProviderError(
        f"Cancelling payment intent {intent_id} in status {current.status} was refused: "
        f"{refusal.user_message or refusal}",
        code=refusal.code,
        http_status=refusal.http_status,
    )


def refund(
    intent_id: str, amount_fen: int, idempotency_key: str, metadata: Mapping[str, str] | None = None
) -> RefundInfo:
    """Refund `amount_fen` of the intent's payment (call again for the rest: partial refunds add up).

    `idempotency_key` makes a retried refund a no-op at Stripe (the emulator ignores it). The caller keeps its
    own ledger of what was refunded: the emulator does not refuse refunds above the amount paid (Stripe does).
    `metadata` names the caller's own record, so `refunds_of` can find the refund after a crash.
    Never call this inside a database transaction.
    """
    _check_text("intent_id", intent_id)
    _check_amount(amount_fen)
    _check_text("idempotency_key", idempotency_key)
    params: dict[str, Any] = {"payment_intent": intent_id, "amount": amount_fen}
    if metadata:
        params["metadata"] = dict(metadata)
    with _stripe_call(f"Refunding {amount_fen} fen of payment intent {intent_id}"):
        created = _client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    return _refund_info(_as_dict(created))


def refunds_of(intent_id: str) -> list[RefundInfo]:
    """Every refund the provider made of the intent's payment, with its metadata. Never call this inside a
    database transaction."""
    _check_text("intent_id", intent_id)
    with _stripe_call(f"Listing the refunds of payment intent {intent_id}"):
        listed = _client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
        return [_refund_info(_as_dict(item)) for item in listed.auto_paging_iter()]


def _refund_info(data: dict[str, Any]) -> RefundInfo:
    metadata = {str(k): str(v) for k, v in (data.get("metadata") or {}).items()}
    return RefundInfo(id=data["id"], amount_fen=int(data["amount"]), status=data["status"], metadata=metadata)


def verify_webhook(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """The event in a webhook request, as a plain dict, once its Stripe-Signature is checked against
    STRIPE_WEBHOOK_SECRET (and its timestamp is within Stripe's 5-minute tolerance).

    Pass the request body exactly as received (request.get_data()), never re-encoded JSON.
    Raises InvalidWebhook for a missing or wrong signature, a stale timestamp or a body that is not an event;
    PaymentProviderError when STRIPE_WEBHOOK_SECRET is not set (a configuration error, not the sender's).
    """
    secret = settings().webhook_secret
    if not secret:
        raise PaymentProviderError("STRIPE_WEBHOOK_SECRET is not set: webhooks cannot be verified")
    if not isinstance(payload, bytes | bytearray):
        raise TypeError("payload must be the raw request body (bytes)")
    try:
        stripe.Webhook.construct_event(payload, signature_header, secret)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook(f"invalid Stripe signature: {error.user_message or error}") from error
    # The signature checked out (construct_event verifies before it parses), but Stripe's event builder assumes a
    # JSON object: a signed list, string or number makes it fail with AttributeError, a deep one with RecursionError.
    except (ValueError, RecursionError, AttributeError, TypeError) as error:  # ValueError: not JSON, not UTF-8
        raise MalformedWebhook(f"webhook body is not a JSON event: {type(error).__name__}") from error
    event = json.loads(payload)
    if not isinstance(event, dict) or not isinstance(event.get("type"), str) or not event.get("id"):
        raise MalformedWebhook("webhook body is not a Stripe event (no id or type)")
    return event


def sign_webhook_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for `payload`, by Stripe's scheme: t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">.

    For tests: to post events the emulator never sends (it sends no charge.refunded) to our own webhook endpoint.
    """
    if timestamp is None:
        timestamp = int(time.time())
    signed = str(int(timestamp)).encode("ascii") + b"." + bytes(payload)
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"
