"""Payments of consumer orders through the provider (Stripe, or the local emulator offline).

The provider is never called inside a database transaction that holds locks. Each use case here is an
entry point with explicit phases: commit what we intend, call the provider, record its answer in a second
transaction. Whatever a crash between the phases leaves behind, `flask payments reconcile` and
`flask orders expire` repair from the provider's own state.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from shop.accounts.models import User
from shop.errors import DomainError, InvalidTransition, NotAllowed, ValidationFailed
from shop.extensions import db
from shop.ledger import services as ledger
from shop.notifications import services as notifications
from shop.orders import services as orders
from shop.orders.labels import ORDER_STATUS_LABELS
from shop.orders.models import Order, OrderStatus
from shop.payments import gateway, signals
from shop.payments.models import PaymentFlag, ProviderEvent
from shop.types import insert_ignoring_duplicates, utcnow
from shop.web.inputs import row_id_or_none

log = logging.getLogger(__name__)
INTENT_WAIT_SECONDS = 10.0


class PaymentUnavailable(DomainError):
    status = 503
    code = "payment_unavailable"


def _commit() -> None:
    db.session.commit()


def ensure_payment_intent(order_id: int) -> Order:
    """One PaymentIntent per order, created after the order's transaction has committed.

    A request claims the creation by a conditional UPDATE and commits; only the winner calls the provider
    (with no lock held), then stores the intent. A concurrent retry of the same checkout waits for it.
    """
    claimed = db.session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.PENDING_PAYMENT,
            Order.payment_intent_id.is_(None),
            Order.payment_status.in_(["not_started", "create_failed"]),
        )
        .values(payment_status="creating")
        .execution_options(synchronize_session=False)
    ).rowcount
    _commit()
    order = db.session.get(Order, order_id)
    if not claimed:
        return _wait_for_intent(order)
    try:
        intent = gateway.create_payment_intent(
            amount_fen=order.total_fen,
            currency=order.currency,
            order_reference=order.reference,
            idempotency_key=f"order-{order.id}-payment-intent",
        )
    except gateway.PaymentProviderError as error:
        db.session.execute(update(Order).where(Order.id == order_id).values(payment_status="create_failed"))
        _commit()
        log.warning("payment intent for order %s failed: %s", order_id, error)
        raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    db.session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(payment_intent_id=intent.id, payment_client_secret=intent.client_secret, payment_status=intent.status)
    )
    _commit()
    db.session.refresh(order)
    return order


def _wait_for_intent(order: Order) -> Order:
    deadline = time.monotonic() + INTENT_WAIT_SECONDS
    while order.payment_status == "creating" and time.monotonic() < deadline:
        time.sleep(0.05)  # another request is talking to the provider for this order right now
        db.session.expire(order)
        db.session.rollback()
    return order


def checkout(buyer: User, address: orders.Address, checkout_key: str, lines: dict[int, int] | None = None) -> Order:
    """Place the order (one transaction), then set up its payment (provider call, second transaction).

    The config switch CHECKOUT_CREATES_PAYMENT_INTENT (default True) exists for measuring the database path
    alone (bench/checkout.py): when False, the PaymentIntent is not created here, and the payment page
    creates it on its first visit anyway (`pay_with_card` calls `ensure_payment_intent` when it is missing).
    """
    order = orders.place_order(buyer, address, checkout_key, lines)
    if (
        current_app.config.get("CHECKOUT_CREATES_PAYMENT_INTENT", True)
        and order.status == OrderStatus.PENDING_PAYMENT
        and order.payment_intent_id is None
    ):
        _commit()  # the order exists before the provider is called
        order = ensure_payment_intent(order.id)
    return order  # otherwise the request commits it, once, as every use case


# --- Events from the provider ------------------------------------------------------------------------


def _seen(event_id: str) -> bool:
    return db.session.scalar(select(ProviderEvent.id).where(ProviderEvent.event_id == event_id)) is not None


def _first_time(event_id: str, event_type: str, object_id: str) -> bool:
    """Record the event id; False when it was processed before (a replay, or a concurrent delivery)."""
    statement = (
        insert_ignoring_duplicates(ProviderEvent, ["event_id"])
        .values(event_id=event_id, event_type=event_type, object_id=object_id, received_at=utcnow())
        .returning(ProviderEvent.id)
    )
    return db.session.execute(statement).scalar_one_or_none() is not None


def _flag(order: Order | None, intent_id: str, kind: str, amount_fen: int, detail: str) -> None:
    db.session.add(
        PaymentFlag(
            order_id=order.id if order else None,
            payment_intent_id=intent_id,
            kind=kind,
            amount_fen=amount_fen,
            detail=detail,
        )
    )


def _order_paid_by(intent_id: str) -> Order | None:
    """The order whose payment is this intent: only the intent the shop itself created and stored for it."""
    return db.session.scalar(select(Order).where(Order.payment_intent_id == intent_id))


def _order_named_by(reference: str | None) -> Order | None:
    """The order an intent's metadata names (FO…), for an operator's flag only: a name proves nothing."""
    digits = reference[2:] if reference and reference.startswith("FO") else ""
    order_id = row_id_or_none(digits) if digits.isdigit() else None
    return db.session.get(Order, order_id) if order_id is not None else None


def _record_intent(intent: gateway.IntentInfo) -> str:
    """A succeeded intent as the provider reported it when asked: pay its order if amount and currency match
    the order's; otherwise flag it for an operator (the money is held in suspense).

    Only the provider's own answer comes here (never an event's body), and the order is found only by the intent
    id stored at checkout: an intent that names an order in its metadata but is not that order's pays nothing."""
    order = _order_paid_by(intent.id)
    amount, currency = intent.amount_fen, intent.currency.lower()
    if order is None:
        named = _order_named_by(intent.order_reference)
        why = "a payment the provider confirms for an intent the shop never created for an order"
        _flag(named, intent.id, "unknown_intent", amount, why)
        ledger.receive_unmatched(intent.id, amount, None, why)  # real money at the provider: held for an operator
        return "flagged: unknown intent"
    if order.status in (OrderStatus.PAID, OrderStatus.COMPLETED):
        return "already paid"
    if order.status == OrderStatus.CANCELLED:
        _flag(order, intent.id, "paid_after_cancel", amount, "paid after the order expired or was cancelled")
        ledger.receive_unmatched(intent.id, amount, order.id, "paid after the order expired or was cancelled")
        order.payment_status = "refund_due"
        return "flagged: refund due"
    if amount != order.total_fen or currency != order.currency:
        _flag(
            order,
            intent.id,
            "amount_mismatch",
            amount,
            f"paid {amount} {currency}, the order is {order.total_fen} {order.currency}",
        )
        ledger.receive_unmatched(intent.id, amount, order.id, "the amount or currency differs from the order's")
        order.payment_status = "amount_mismatch"
        return "flagged: amount mismatch"
    orders.transition_order(
        order,
        "pay",
        None,
        "provider",
        note=intent.id,
        paid_fen=amount,
        paid_at=utcnow(),
        payment_status="succeeded",
    )
    ledger.receive_payment(order.id, intent.id, amount)
    notifications.order_paid(order)
    return "paid"


def _succeeded_event(claimed: dict, intent: gateway.IntentInfo | None) -> str:
    """A payment_intent.succeeded event, judged by what the provider said about the intent (`intent`, None when
    it does not know it): the event is a notification, the provider is the truth."""
    if intent is not None and intent.status == "succeeded":
        return _record_intent(intent)
    order = _order_paid_by(claimed["id"]) or _order_named_by(claimed["metadata"].get("order"))
    if intent is None:
        _flag(order, claimed["id"], "unknown_intent", 0, "an event for an intent the provider does not know")
        return "flagged: unknown intent"
    _flag(
        order,
        intent.id,
        "unconfirmed_event",
        0,
        f"the event says succeeded, the provider says {intent.status}",
    )
    return "flagged: not confirmed by the provider"


def handle_event(event: dict) -> str:
    """Process one verified and parsed provider event (`schemas.ProviderEventSchema`), once; events may come late,
    twice or out of order. Commits before it asks the provider about an intent, so call it as an entry point.

    Raises PaymentUnavailable (503: the provider retries the delivery) when the provider cannot be asked; then
    nothing about the event is stored."""
    event_id, event_type, obj = event["id"], event["type"], event["object"]
    if _seen(event_id):
        return "duplicate"
    provider_intent = None
    if event_type == "payment_intent.succeeded":
        _commit()  # no transaction is open while the provider is asked
        try:
            provider_intent = gateway.find_payment_intent(obj["id"])
        except gateway.PaymentProviderError as error:
            log.warning("reading payment intent %s for event %s failed: %s", obj["id"], event_id, error)
            raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    if not _first_time(event_id, event_type, obj.get("id", "")):
        return "duplicate"
    if event_type == "payment_intent.succeeded":
        outcome = _succeeded_event(obj, provider_intent)
    elif event_type == "charge.refunded":
        answers = [str(answer) for _receiver, answer in signals.charge_refunded.send(charge=obj) if answer]
        outcome = "; ".join(answers) or "ignored: nobody reconciles refunds"
    elif event_type in ("payment_intent.payment_failed", "payment_intent.canceled"):
        # These change only the label of an order still awaiting payment, never money or the order's state.
        order = _order_paid_by(obj["id"])
        if order is not None and order.status == OrderStatus.PENDING_PAYMENT:
            order.payment_status = "failed" if event_type.endswith("failed") else "canceled"
            outcome = order.payment_status
        else:
            outcome = "ignored: order not awaiting payment"
    else:
        outcome = "ignored"
    db.session.execute(update(ProviderEvent).where(ProviderEvent.event_id == event_id).values(outcome=outcome))
    db.session.flush()
    return outcome


def refund_due_payments() -> list[int]:
    """Give back payments flagged as arriving after their order was cancelled (provider call per order)."""
    due = db.session.scalars(select(Order.id).where(Order.payment_status == "refund_due")).all()
    _commit()
    refunded = []
    for order_id in due:
        order = db.session.get(Order, order_id)
        intent = gateway.retrieve_payment_intent(order.payment_intent_id) if order.payment_intent_id else None
        if intent is None or intent.status != "succeeded":
            continue
        gateway.refund(intent.id, intent.amount_fen, idempotency_key=f"order-{order_id}-late-payment-refund")
        db.session.execute(
            update(Order)
            .where(Order.id == order_id, Order.payment_status == "refund_due")
            .values(payment_status="refunded_after_cancel")
        )
        ledger.return_unmatched(intent.id, intent.amount_fen, order_id)
        _commit()
        refunded.append(order_id)
    return refunded


# --- Jobs -------------------------------------------------------------------------------------------


def expire_unpaid_orders() -> list[int]:
    """Cancel unpaid orders past their time and release their stock; the PaymentIntent is cancelled first.

    If the provider says the buyer paid meanwhile, the order is paid instead. Idempotent.
    """
    expired = []
    for order_id in orders.expired_unpaid_orders():
        order = db.session.get(Order, order_id)
        intent_id = order.payment_intent_id
        _commit()  # no transaction is open while the provider is called
        if intent_id:
            intent = gateway.cancel_payment_intent(intent_id)
            if intent.status == "succeeded":
                _record_intent(intent)
                _commit()
                continue
        order = db.session.get(Order, order_id)
        if order.status == OrderStatus.PENDING_PAYMENT:
            try:
                orders.cancel_order(order, None, "job", _("not paid in time"))
            except DomainError:
                db.session.rollback()
                continue
            _commit()
            expired.append(order_id)
    return expired


def reconcile() -> dict[str, str]:
    """Re-read the intents of orders still awaiting payment and apply what the provider knows."""
    pending = db.session.scalars(
        select(Order.payment_intent_id).where(
            Order.status == OrderStatus.PENDING_PAYMENT, Order.payment_intent_id.is_not(None)
        )
    ).all()
    _commit()
    return {intent_id: _reread_intent(intent_id) for intent_id in pending}


def _reread_intent(intent_id: str) -> str:
    """Read the intent from the provider now and apply a success as its webhook would (committed): the outcome
    of recording it, else the intent's status. Never call this inside a transaction that holds locks."""
    intent = gateway.retrieve_payment_intent(intent_id)
    if intent.status != "succeeded":
        return intent.status
    outcome = _record_intent(intent)
    _commit()
    return outcome


def cancel_by_buyer(buyer: User, order_id: int) -> Order:
    """The buyer cancels an unpaid order: the PaymentIntent is cancelled first, then the stock released."""
    order = orders.get_order(buyer, order_id)
    if order.buyer_id != buyer.id:
        raise NotAllowed(_("Only the buyer cancels an order."))
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(
            _(
                "Only an unpaid order can be cancelled (this one is %(state)s).",
                state=ORDER_STATUS_LABELS.get(order.status, order.status),
            )
        )
    intent_id = order.payment_intent_id
    _commit()
    if intent_id:
        intent = gateway.cancel_payment_intent(intent_id)
        if intent.status == "succeeded":
            _record_intent(intent)
            _commit()
            raise InvalidTransition(_("The order was paid meanwhile and cannot be cancelled."))
    order = db.session.get(Order, order_id)
    orders.cancel_order(order, buyer, "buyer", _("cancelled by the buyer"))
    return order


class PaymentDeclined(DomainError):
    status = 402
    code = "payment_declined"


def pay_with_card(buyer: User, order_id: int, card_reference: str) -> Order:
    """Server-side confirmation with what Stripe.js made in the browser (a token or a PaymentMethod).

    A success pays the order at once (the webhook that follows finds it paid). A declined card leaves the
    order awaiting payment with a fresh PaymentIntent, so the buyer can try another card.
    """
    order = orders.get_order(buyer, order_id)
    if order.buyer_id != buyer.id:
        raise NotAllowed(_("Only the buyer pays an order."))
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise InvalidTransition(
            _(
                "This order is %(state)s: there is nothing to pay.",
                state=ORDER_STATUS_LABELS.get(order.status, order.status),
            )
        )
    if order.payment_intent_id is None:
        order = ensure_payment_intent(order.id)
    intent_id = order.payment_intent_id
    _commit()
    try:
        intent = gateway.confirm_with_card(intent_id, card_reference)
    except ValueError as error:
        raise ValidationFailed.on("card", _("This is not a card reference from Stripe.js.")) from error
    except gateway.PaymentDeclined as declined:
        _replace_declined_intent(order_id, intent_id)
        raise PaymentDeclined(
            _("The card was declined: %(reason)s", reason=declined.code or "card_declined"),
            fields={"card": [str(declined)]},
        ) from declined
    except gateway.PaymentProviderError as error:
        raise PaymentUnavailable(_("The payment service did not answer; try again in a moment.")) from error
    if intent.status == "succeeded":
        _record_intent(intent)
    else:
        db.session.execute(update(Order).where(Order.id == order_id).values(payment_status=intent.status))
    _commit()
    return db.session.get(Order, order_id)


def prepare_wallet_payment(buyer: User, order_id: int) -> Order:
    """Alipay and WeChat Pay are confirmed in the browser (Stripe.js) with the intent's client secret: make sure
    the order has its intent before the payment page shows their buttons."""
    order = orders.get_order(buyer, order_id)
    if order.buyer_id != buyer.id or order.status != OrderStatus.PENDING_PAYMENT or order.payment_intent_id:
        return order
    return ensure_payment_intent(order.id)


def refresh_payment(buyer: User, order_id: int, intent_id: str) -> Order:
    """The buyer is back from the provider (Alipay's return, WeChat Pay's QR code): read the intent now rather
    than wait for its webhook, and record a success the same way the webhook would (only once either way)."""
    order = orders.get_order(buyer, order_id)
    awaiting = order.status == OrderStatus.PENDING_PAYMENT and order.payment_intent_id == intent_id
    if order.buyer_id != buyer.id or not awaiting:
        return order
    _commit()
    try:
        _reread_intent(intent_id)
    except gateway.PaymentProviderError as error:
        log.warning("reading payment intent %s on the buyer's return failed: %s", intent_id, error)
        return order  # the webhook, or `flask payments reconcile`, records it later
    return db.session.get(Order, order_id)


def _replace_declined_intent(order_id: int, intent_id: str) -> None:
    """After a decline, cancel the intent and set up a new one (the emulator cannot retry a declined intent)."""
    gateway.cancel_payment_intent(intent_id)
    db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.payment_intent_id == intent_id)
        .values(payment_intent_id=None, payment_client_secret=None, payment_status="declined")
    )
    _commit()
    db.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.payment_status == "declined")
        .values(payment_status="not_started")
    )
    _commit()
    ensure_payment_intent(order_id)


def unresolved_flags() -> list[PaymentFlag]:
    return list(
        db.session.scalars(select(PaymentFlag).where(PaymentFlag.resolved_at.is_(None)).order_by(PaymentFlag.id.desc()))
    )
