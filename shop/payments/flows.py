"""The steps of payment use cases that call the provider, for entry points only (webhook route, CLI commands,
and the order flows of the orders area, orders/checkout.py, that views and API routes call).

The provider is never called inside a database transaction: each flow runs its steps as separate units of work
(`shop.unit_of_work.use_case`): record the intent (commit), call the provider (no transaction open), record the
answer (commit). Whatever a crash between the steps leaves behind (an attempt stuck in "creating", an intent the
provider made but the shop never recorded, a success never told), `flask payments reconcile` repairs from the
provider's own state. The use cases inside each step are in shop/payments/services.py and never commit.

A flow commits, so it refuses to start while its caller holds changes not yet flushed: a flow is not a service,
and must not be called inside another use case.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from flask_babel import gettext as _

from shop.extensions import db
from shop.payments import gateway, services
from shop.payments.models import Payment, PaymentState
from shop.payments.services import PaymentUnavailable
from shop.references import order_reference
from shop.types import utcnow
from shop.unit_of_work import use_case

log = logging.getLogger(__name__)
INTENT_WAIT_SECONDS = 10.0
# An attempt "creating" for longer than this lost its request (a crash between the steps): the reconcile job asks
# the provider again with the attempt's own idempotency key, so an intent the provider already made is the answer.
STUCK_AFTER = timedelta(minutes=5)


def no_caller_work() -> None:
    """Refuse to commit someone else's half-done work: a flow starts with nothing pending in the session."""
    session = db.session
    if session.new or session.deleted or any(session.is_modified(obj) for obj in session.dirty):
        raise RuntimeError(
            "a flow that commits was called with unsaved changes of its caller's: call it from an entry point"
        )


def _idempotency_key(payment_id: int) -> str:
    return f"payment-{payment_id}-intent"


def set_up_payment(order_id: int, amount_fen: int, currency: str) -> Payment:
    """The order's attempt with its PaymentIntent: made now, or the one that exists (waiting while a concurrent
    retry of the same checkout is making it). Raises PaymentUnavailable when the provider does not answer."""
    no_caller_work()
    with use_case():
        payment, mine = services.open_payment(order_id, amount_fen, currency)
        payment_id, amount_fen, currency = payment.id, payment.amount_fen, payment.currency  # what it records
    if not mine:
        return _wait_while_creating(payment_id)
    return _create_intent(payment_id, order_id, amount_fen, currency)


def _create_intent(payment_id: int, order_id: int, amount_fen: int, currency: str) -> Payment:
    """Ask the provider for the attempt's intent (no transaction open), then record its answer in a unit of its own."""
    try:
        intent = gateway.create_payment_intent(
            amount_fen=amount_fen,
            currency=currency,
            order_reference=order_reference(order_id),
            idempotency_key=_idempotency_key(payment_id),
        )
    except gateway.PaymentProviderError as error:
        with use_case():
            services.record_create_failed(payment_id)
        log.warning("payment intent of payment %s (order %s) failed: %s", payment_id, order_id, error)
        raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    with use_case():
        payment = services.record_created(payment_id, intent)
        state, stored = payment.state, payment.provider_reference
    if state == PaymentState.CANCELED or stored != intent.id:
        # The order was cancelled while the intent was being made, or another run recorded its own intent first:
        # this one must never take money.
        gateway.cancel_payment_intent(intent.id)
    return payment


def _wait_while_creating(payment_id: int) -> Payment:
    deadline = time.monotonic() + INTENT_WAIT_SECONDS
    payment = services.get_payment(payment_id)
    while payment.state == PaymentState.CREATING and time.monotonic() < deadline:
        time.sleep(0.05)  # another request is talking to the provider for this order right now
        db.session.rollback()
        payment = services.get_payment(payment_id)
    return payment


def reread_intent(intent_id: str) -> str:
    """Read the intent from the provider now and record its answer as its webhook would (committed): the outcome
    of recording a success, else the intent's status. Raises gateway.PaymentProviderError."""
    no_caller_work()
    db.session.rollback()
    intent = gateway.retrieve_payment_intent(intent_id)
    with use_case():
        return services.record_answer(intent)


def cancel_intent(intent_id: str) -> str | None:
    """Cancel an intent at the provider (its order is being cancelled). None when it is cancelled; when the buyer
    paid first, the success is recorded (committed) and its outcome returned ("paid", "flagged: …"): the caller
    then does not cancel the order. The attempt itself moves with its order's cancellation."""
    no_caller_work()
    db.session.rollback()
    intent = gateway.cancel_payment_intent(intent_id)
    if intent.status != "succeeded":
        return None
    with use_case():
        return services.record_answer(intent)


def confirm_with_card(payment_id: int, card_reference: str) -> str:
    """Confirm the attempt's intent with a card from Stripe.js and record the answer: the outcome ("paid", …) or
    the intent's status. A declined card ends this attempt (its intent is cancelled) and raises PaymentDeclined;
    the caller sets up the next attempt. Raises ValueError for something that is no card reference."""
    no_caller_work()
    with use_case():
        intent_id = services.get_payment(payment_id).provider_reference
    try:
        intent = gateway.confirm_with_card(intent_id, card_reference)
    except gateway.PaymentDeclined as declined:
        gateway.cancel_payment_intent(intent_id)  # the emulator cannot retry a declined intent
        with use_case():
            services.record_method(payment_id, "card")
            services.record_declined(payment_id, declined.code or "card_declined")
        raise services.PaymentDeclined(
            _("The card was declined: %(reason)s", reason=declined.code or "card_declined"),
            fields={"card": [str(declined)]},
        ) from declined
    except gateway.PaymentProviderError as error:
        raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    with use_case():
        services.record_method(payment_id, "card")
        return services.record_answer(intent)


# --- The webhook -------------------------------------------------------------------------------------------------


def handle_event(event: dict) -> str:
    """Process one verified and parsed provider event, once. For a success, the provider is asked about the intent
    first (no transaction open), then the answer is recorded in one unit of work.

    Raises PaymentUnavailable (503: the provider retries the delivery) when the provider cannot be asked; then
    nothing about the event is stored."""
    no_caller_work()
    event_id, event_type, obj = event["id"], event["type"], event["object"]
    with use_case():
        if services.seen(event_id):
            return "duplicate"
    provider_intent = None
    if event_type == "payment_intent.succeeded":
        try:
            provider_intent = gateway.find_payment_intent(obj["id"])
        except gateway.PaymentProviderError as error:
            log.warning("reading payment intent %s for event %s failed: %s", obj["id"], event_id, error)
            raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    with use_case():
        return services.record_event(event, provider_intent)


# --- Jobs --------------------------------------------------------------------------------------------------------


def reconcile() -> dict[str, str]:
    """Repair what the webhooks and crashes left: finish attempts stuck in "creating" (asking the provider again
    with the same idempotency key, so an intent it already made is recorded, not doubled), then re-read the intents
    of attempts still waiting and apply what the provider knows. Returns {intent id: outcome or status}."""
    no_caller_work()
    with use_case():
        stuck = services.stuck_payments(utcnow() - STUCK_AFTER)
    outcomes: dict[str, str] = {}
    for payment_id in stuck:
        with use_case():
            mine = services.claim_stuck(payment_id, utcnow() - STUCK_AFTER)
            stuck_payment = services.get_payment(payment_id)
            order_id, amount_fen, currency = stuck_payment.order_id, stuck_payment.amount_fen, stuck_payment.currency
        if not mine:
            continue
        try:
            payment = _create_intent(payment_id, order_id, amount_fen, currency)
        except PaymentUnavailable:
            continue
        if payment.provider_reference:
            outcomes[payment.provider_reference] = payment.state
    with use_case():
        pending = services.intents_awaiting_payment()
    for intent_id in pending:
        try:
            outcomes[intent_id] = reread_intent(intent_id)
        except gateway.PaymentProviderError as error:
            log.warning("reconcile: reading payment intent %s failed: %s", intent_id, error)
            outcomes[intent_id] = "provider unavailable"
    return outcomes


def refund_due_payments() -> list[int]:
    """Give back payments that arrived after their order was cancelled (a provider call each); returns the orders."""
    no_caller_work()
    with use_case():
        due = [(p.id, p.order_id, p.provider_reference) for p in map(services.get_payment, services.refunds_due())]
    refunded = []
    for payment_id, order_id, intent_id in due:
        intent = gateway.retrieve_payment_intent(intent_id)
        if intent.status != "succeeded":
            continue
        gateway.refund(intent.id, intent.amount_fen, idempotency_key=f"payment-{payment_id}-late-payment-refund")
        with use_case():
            services.record_late_refund(payment_id, intent)
        refunded.append(order_id)
    return refunded
