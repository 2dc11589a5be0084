"""Use cases of payment records: open an attempt, record what the provider answered, judge a webhook event.

Every function here works in its caller's unit of work and never commits: the entry points (shop/payments/flows.py
for the steps around a provider call, the web request, a CLI command) commit once. The provider itself is called
only by the flows, never from here. A payment's state moves only through PAYMENT_WORKFLOW (shop.workflow), and
each move appends a PaymentEvent. Payments knows orders by id only and announces what happened to a payment with
the signals of shop/payments/signals.py; it never imports orders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, text, update

from shop.errors import DomainError, InvalidTransition
from shop.extensions import db
from shop.ledger import services as ledger
from shop.payments import gateway, signals
from shop.payments.labels import PAYMENT_ACTION_LABELS, PAYMENT_STATUS_LABELS
from shop.payments.models import (
    OPEN_STATES,
    OPEN_STATES_SQL,
    Payment,
    PaymentEvent,
    PaymentFlag,
    PaymentProvider,
    PaymentState,
    ProviderEvent,
)
from shop.payments.rules import PAYMENT_TRANSITIONS
from shop.references import order_id_from_reference
from shop.types import insert_ignoring_duplicates, utcnow
from shop.workflow import Applied, Workflow, apply_move

log = logging.getLogger(__name__)


class PaymentUnavailable(DomainError):
    status = 503
    code = "payment_unavailable"


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


# The provider's event being processed, if a webhook brought the news: each move made meanwhile records its id.
_provider_event: ContextVar[str | None] = ContextVar("provider_event", default=None)


@contextmanager
def news_from(event_id: str | None) -> Iterator[None]:
    token = _provider_event.set(event_id)
    try:
        yield
    finally:
        _provider_event.reset(token)


def _record_move(applied: Applied) -> PaymentEvent:
    return PaymentEvent(
        payment_id=applied.row.id,
        action=applied.action,
        from_state=applied.origin,
        to_state=applied.to,
        actor_id=applied.actor.id if applied.actor is not None else None,
        capacity=applied.capacity,
        reason=applied.reason,
        provider_event_id=_provider_event.get(),
        at=applied.at,
    )


PAYMENT_WORKFLOW = Workflow(
    "payment",
    Payment,
    PAYMENT_TRANSITIONS,
    record=_record_move,
    state_column="state",
    state_labels=PAYMENT_STATUS_LABELS,
    action_labels=PAYMENT_ACTION_LABELS,
)

# How the provider's status of an intent that is not (yet) paid moves our payment.
_ANSWER_ACTIONS = {
    "requires_payment_method": "await_method",
    "requires_confirmation": "await_method",
    "requires_action": "require_action",
    "processing": "process",
    "requires_capture": "process",
    "canceled": "cancel",
}


def move_payment(payment: Payment, action: str, capacity: str, reason: str = "", **values) -> Payment:
    """Move a payment along its table (a conditional UPDATE, 409 on a lost race, an event appended)."""
    apply_move(
        PAYMENT_WORKFLOW,
        payment,
        action,
        actor=None,
        capacities={capacity},
        reason=reason,
        updated_at=utcnow(),
        **values,
    )
    return payment


# --- Reading ----------------------------------------------------------------------------------------------------


def get_payment(payment_id: int) -> Payment:
    return db.session.get(Payment, payment_id)


def payment_by_intent(intent_id: str) -> Payment | None:
    """The payment whose intent this is: only an intent the shop itself created and recorded."""
    return db.session.scalar(
        select(Payment).where(Payment.provider == PaymentProvider.STRIPE, Payment.provider_reference == intent_id)
    )


def open_payment_of(order_id: int) -> Payment | None:
    """The order's attempt that may still take money (at most one: a unique index says so)."""
    return db.session.scalar(select(Payment).where(Payment.order_id == order_id, Payment.state.in_(OPEN_STATES)))


def stuck_payments(older_than: datetime) -> list[int]:
    """Attempts whose intent creation never got an answer recorded (a crash, or the provider was down)."""
    return list(
        db.session.scalars(
            select(Payment.id)
            .where(
                Payment.state.in_([PaymentState.CREATING, PaymentState.CREATE_FAILED]),
                Payment.updated_at < older_than,
            )
            .order_by(Payment.id)
        )
    )


def intents_awaiting_payment() -> list[str]:
    """The intents of attempts still waiting for the buyer, for the reconcile job to read again."""
    return list(
        db.session.scalars(
            select(Payment.provider_reference)
            .where(
                Payment.state.in_(OPEN_STATES - {PaymentState.CREATING, PaymentState.CREATE_FAILED}),
                Payment.provider_reference.is_not(None),
            )
            .order_by(Payment.id)
        )
    )


def refunds_due() -> list[int]:
    return list(
        db.session.scalars(select(Payment.id).where(Payment.state == PaymentState.REFUND_DUE).order_by(Payment.id))
    )


def unresolved_flags() -> list[PaymentFlag]:
    return list(
        db.session.scalars(select(PaymentFlag).where(PaymentFlag.resolved_at.is_(None)).order_by(PaymentFlag.id.desc()))
    )


# --- Setting up an attempt (the steps around the provider's create call) -------------------------------------


def open_payment(order_id: int, amount_fen: int, currency: str) -> tuple[Payment, bool]:
    """The attempt to set up for an order: a new payment in "creating" (True: the caller asks the provider for its
    intent), or the order's open attempt as it is (False: someone else set it up, or is setting it up now).

    A payment whose creation failed is claimed again by the move "retry" (True); of two claims one wins."""
    now = utcnow()
    statement = (
        insert_ignoring_duplicates(Payment, ["order_id"], where=text(OPEN_STATES_SQL))
        .values(
            order_id=order_id,
            amount_fen=amount_fen,
            currency=currency,
            provider=PaymentProvider.STRIPE,
            state=PaymentState.CREATING,
            created_at=now,
            updated_at=now,
        )
        .returning(Payment.id)
    )
    made = db.session.execute(statement).scalar_one_or_none()
    if made is not None:
        db.session.add(
            PaymentEvent(
                payment_id=made, action="open", from_state="", to_state=PaymentState.CREATING, capacity="shop", at=now
            )
        )
        db.session.flush()
        return get_payment(made), True
    payment = open_payment_of(order_id)
    if payment is not None and payment.state == PaymentState.CREATE_FAILED:
        try:
            move_payment(payment, "retry", "shop")
        except InvalidTransition:
            return payment, False  # another request claimed it first
        return payment, True
    return payment, False


def claim_stuck(payment_id: int, older_than: datetime) -> bool:
    """Claim an attempt whose creation never got an answer recorded, for the reconcile job to ask again (True when
    this run won it: a failed one moves "retry", a stuck one is touched by a conditional UPDATE)."""
    payment = get_payment(payment_id)
    if payment.state == PaymentState.CREATE_FAILED:
        try:
            move_payment(payment, "retry", "job", _("the reconcile job asks the payment service again"))
        except InvalidTransition:
            return False
        return True
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.state == PaymentState.CREATING, Payment.updated_at < older_than)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(payment)
    return claimed == 1


def record_created(payment_id: int, intent: gateway.IntentInfo) -> Payment:
    """The provider made the attempt's intent: store its id and client secret, and where it stands."""
    payment = get_payment(payment_id)
    db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.provider_reference.is_(None))
        .values(provider_reference=intent.id, client_secret=intent.client_secret, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(payment)
    if payment.provider_reference == intent.id and payment.state == PaymentState.CREATING:
        follow_answer(payment, intent)
    return payment


def record_create_failed(payment_id: int) -> None:
    payment = get_payment(payment_id)
    if payment.state == PaymentState.CREATING:
        move_payment(payment, "create_failed", "shop", _("the payment service did not answer"))


def record_declined(payment_id: int, code: str) -> None:
    """The card was declined: this attempt is over (its intent is cancelled); the next one is a new payment."""
    payment = get_payment(payment_id)
    if payment.state in OPEN_STATES:
        move_payment(payment, "decline", "provider", code)
        signals.payment_failed.send(payment, capacity="provider")


def record_method(payment_id: int, method: str) -> None:
    """How the buyer pays this attempt (a card on the payment page), once known."""
    db.session.execute(update(Payment).where(Payment.id == payment_id, Payment.method.is_(None)).values(method=method))


def cancel_open_payments(order_id: int, capacity: str, reason: str = "") -> list[str]:
    """The order was cancelled: its open attempt takes no more money (a later success is a late payment). Returns
    the intents the caller must still cancel at the provider after committing (an intent being created now)."""
    payment = open_payment_of(order_id)
    if payment is None:
        return []
    move_payment(payment, "cancel", capacity, reason)
    return [payment.provider_reference] if payment.provider_reference else []


def record_outside_provider(order_id: int, amount_fen: int, currency: str, reference: str, reason: str) -> Payment:
    """A payment received outside any provider (the demo's seeded order): recorded, booked and announced as a
    provider's would be, with the `demo` provider, so it is never offered for a refund through the provider."""
    payment = Payment(
        order_id=order_id,
        provider=PaymentProvider.DEMO,
        provider_reference=reference,
        amount_fen=amount_fen,
        currency=currency,
        state=PaymentState.CREATING,
    )
    db.session.add(payment)
    db.session.flush()
    db.session.add(
        PaymentEvent(payment_id=payment.id, action="open", from_state="", to_state=payment.state, capacity="job")
    )
    move_payment(payment, "succeed", "job", reason, succeeded_at=utcnow())
    ledger.receive_payment(order_id, reference, amount_fen, payment_id=payment.id)
    signals.payment_succeeded.send(payment, capacity="job", note=reason)
    return payment


# --- The provider's answers -------------------------------------------------------------------------------------


def follow_answer(payment: Payment, intent: gateway.IntentInfo) -> None:
    """Move an attempt still waiting for the buyer to where the provider says its intent stands (not paid)."""
    action = _ANSWER_ACTIONS.get(intent.status)
    if action is None or payment.state not in OPEN_STATES:
        return
    if PAYMENT_TRANSITIONS.get((payment.state, action)) is None:
        return  # already there
    move_payment(payment, action, "provider", intent.last_error_code or "")
    if action == "cancel":
        signals.payment_failed.send(payment, capacity="provider")


def _flag(order_id: int | None, intent_id: str, kind: str, amount_fen: int, detail: str) -> None:
    db.session.add(
        PaymentFlag(order_id=order_id, payment_intent_id=intent_id, kind=kind, amount_fen=amount_fen, detail=detail)
    )


def _order_named_by(reference: str | None) -> int | None:
    """The order an intent's metadata names (FO…), for an operator's flag only: a name proves nothing. Known when
    the shop has an attempt to pay it (payments read no order table)."""
    order_id = order_id_from_reference(reference)
    if order_id is None:
        return None
    return db.session.scalar(select(Payment.order_id).where(Payment.order_id == order_id).limit(1))


def record_answer(intent: gateway.IntentInfo, capacity: str = "provider") -> str:
    """What the provider said about an intent when asked (never an event's body): a success is judged against the
    payment's own recorded amount and currency; any other status moves an attempt still waiting. Returns the
    outcome ("paid", "already paid", "flagged: …") or, when not paid, the intent's status."""
    if intent.status == "succeeded":
        return _record_success(intent, capacity)
    payment = payment_by_intent(intent.id)
    if payment is not None:
        follow_answer(payment, intent)
    return intent.status


def _record_success(intent: gateway.IntentInfo, capacity: str) -> str:
    """A succeeded intent as the provider reported it: pay its attempt when amount and currency are the attempt's;
    otherwise flag it for an operator (the money is held in suspense).

    Only the intent the shop created and recorded for a payment pays anything: an intent that names an order in its
    metadata but is no payment of the shop's pays nothing."""
    payment = payment_by_intent(intent.id)
    amount, currency = intent.amount_fen, intent.currency.lower()
    if payment is None:
        named = _order_named_by(intent.order_reference)
        why = "a payment the provider confirms for an intent the shop never created for an order"
        _flag(named, intent.id, "unknown_intent", amount, why)
        ledger.receive_unmatched(intent.id, amount, None, why)  # real money at the provider: held for an operator
        return "flagged: unknown intent"
    if payment.state == PaymentState.SUCCEEDED:
        return "already paid"
    if payment.state in (PaymentState.REFUND_DUE, PaymentState.REFUNDED_AFTER_CANCEL):
        return "flagged: refund due"
    if payment.state == PaymentState.AMOUNT_MISMATCH:
        return "flagged: amount mismatch"
    if payment.state in (PaymentState.CANCELED, PaymentState.DECLINED):
        why = "paid after the order expired or was cancelled"
        _flag(payment.order_id, intent.id, "paid_after_cancel", amount, why)
        ledger.receive_unmatched(intent.id, amount, payment.order_id, why, payment_id=payment.id)
        move_payment(payment, "arrive_late", capacity, why)
        signals.payment_arrived_late.send(payment, capacity=capacity)
        return "flagged: refund due"
    if amount != payment.amount_fen or currency != payment.currency:
        detail = f"paid {amount} {currency}, the payment is {payment.amount_fen} {payment.currency}"
        _flag(payment.order_id, intent.id, "amount_mismatch", amount, detail)
        ledger.receive_unmatched(
            intent.id,
            amount,
            payment.order_id,
            "the amount or currency differs from the order's",
            payment_id=payment.id,
        )
        move_payment(payment, "mismatch", capacity, detail)
        return "flagged: amount mismatch"
    move_payment(payment, "succeed", capacity, intent.id, succeeded_at=utcnow())
    ledger.receive_payment(payment.order_id, intent.id, amount, payment_id=payment.id)
    signals.payment_succeeded.send(payment, capacity=capacity, note=intent.id)
    return "paid"


def record_late_refund(payment_id: int, intent: gateway.IntentInfo) -> None:
    """The late payment was given back at the provider: out of suspense, and the attempt says so."""
    payment = get_payment(payment_id)
    move_payment(payment, "refund_late", "job", _("refunded: the order could no longer take it"))
    ledger.return_unmatched(intent.id, intent.amount_fen, payment.order_id, payment_id=payment.id)


# --- Events from the provider (the webhook) -------------------------------------------------------------------


def seen(event_id: str) -> bool:
    return db.session.scalar(select(ProviderEvent.id).where(ProviderEvent.event_id == event_id)) is not None


def _first_time(event_id: str, event_type: str, object_id: str) -> bool:
    """Record the event id; False when it was processed before (a replay, or a concurrent delivery)."""
    statement = (
        insert_ignoring_duplicates(ProviderEvent, ["event_id"])
        .values(event_id=event_id, event_type=event_type, object_id=object_id, received_at=utcnow())
        .returning(ProviderEvent.id)
    )
    return db.session.execute(statement).scalar_one_or_none() is not None


def _succeeded_event(claimed: dict, intent: gateway.IntentInfo | None) -> str:
    """A payment_intent.succeeded event, judged by what the provider said about the intent (`intent`, None when
    it does not know it): the event is a notification, the provider is the truth."""
    if intent is not None and intent.status == "succeeded":
        return _record_success(intent, "provider")
    payment = payment_by_intent(claimed["id"])
    order_id = payment.order_id if payment is not None else _order_named_by(claimed["metadata"].get("order"))
    if intent is None:
        _flag(order_id, claimed["id"], "unknown_intent", 0, "an event for an intent the provider does not know")
        return "flagged: unknown intent"
    _flag(order_id, intent.id, "unconfirmed_event", 0, f"the event says succeeded, the provider says {intent.status}")
    return "flagged: not confirmed by the provider"


def record_event(event: dict, provider_intent: gateway.IntentInfo | None) -> str:
    """Process one verified and parsed provider event (`schemas.ProviderEventSchema`) once, with what the provider
    answered about its intent (`provider_intent`, for payment_intent.succeeded); events may come late, twice or out
    of order. In the caller's unit of work (the webhook's flow asks the provider before it)."""
    event_id, event_type, obj = event["id"], event["type"], event["object"]
    if not _first_time(event_id, event_type, obj.get("id", "")):
        return "duplicate"
    with news_from(event_id):
        if event_type == "payment_intent.succeeded":
            outcome = _succeeded_event(obj, provider_intent)
        elif event_type == "charge.refunded":
            answers = [str(answer) for _receiver, answer in signals.charge_refunded.send(charge=obj) if answer]
            outcome = "; ".join(answers) or "ignored: nobody reconciles refunds"
        elif event_type in ("payment_intent.payment_failed", "payment_intent.canceled"):
            outcome = _failed_event(obj["id"], "fail" if event_type.endswith("failed") else "cancel")
        else:
            outcome = "ignored"
    db.session.execute(update(ProviderEvent).where(ProviderEvent.event_id == event_id).values(outcome=outcome))
    db.session.flush()
    return outcome


def _failed_event(intent_id: str, action: str) -> str:
    """payment_failed or canceled: they move only an attempt still waiting for the buyer, never money."""
    payment = payment_by_intent(intent_id)
    if payment is None or payment.state not in OPEN_STATES:
        return "ignored: order not awaiting payment"
    if PAYMENT_TRANSITIONS.get((payment.state, action)) is not None:
        move_payment(payment, action, "provider")
        signals.payment_failed.send(payment, capacity="provider")
    return "failed" if action == "fail" else "canceled"
