"""Refunds of paid orders: the buyer asks, the cooperative or an operator decides, the provider pays back.

The states move along `REFUND_TRANSITIONS` (shop/orders/rules.py) through shop.workflow, and every move is an
event of the order. These services never commit and never call the provider themselves: paying a refund back
is three units of work that an entry point runs (shop/orders/payback.py): `approve` (or `refund_directly`)
reserves the amount on the order and the quantities on its lines with conditional UPDATEs
(`… WHERE refunded_fen + :a <= paid_fen`), so never more than was paid, also when two approvals race; it
returns the `PayBack` to ask the provider for, once that is committed; then `record_paid_back` or `reopen`
records the provider's answer. A `charge.refunded` event finds the refunds by their ids and counts nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.notifications import services as notifications
from shop.orders import services as orders
from shop.orders.labels import EVENT_LABELS, ORDER_STATUS_LABELS, REFUND_STATUS_LABELS
from shop.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Refund, RefundLine, RefundStatus
from shop.orders.rules import REFUND_TRANSITIONS
from shop.orders.signals import refund_paid_back
from shop.payments import gateway
from shop.payments.models import PaymentFlag
from shop.types import utcnow
from shop.workflow import Applied, CheckedMove, Workflow, apply_move, check_move, write_move

REFUNDABLE = (OrderStatus.PAID, OrderStatus.COMPLETED)
# The order event of each move of a refund (a refund's events are the order's: its page shows one history).
REFUND_EVENTS = {
    "approve": "refund_approved",
    "reject": "refund_rejected",
    "pay_back": "refund",
    "reopen": "refund_reopened",
}


def _refund_event(refund: Refund, action: str, actor: User | None, capacity: str, note: str) -> OrderEvent:
    """Refund events are noted "#<refund id>: …" (shop.orders.visibility shows them to the lines' cooperatives)."""
    order = refund.order
    return orders.record_event(
        order,
        action,
        order.status,
        order.status,
        actor,
        capacity,
        note=f"#{refund.id}: {note}" if note else f"#{refund.id}",
    )


def _record_move(applied: Applied) -> OrderEvent:
    return _refund_event(applied.row, REFUND_EVENTS[applied.action], applied.actor, applied.capacity, applied.reason)


REFUND_WORKFLOW = Workflow(
    "refund",
    Refund,
    REFUND_TRANSITIONS,
    record=_record_move,
    state_labels=REFUND_STATUS_LABELS,
    action_labels={action: EVENT_LABELS[event] for action, event in REFUND_EVENTS.items()},
    reason_field="note",
    refusal=lambda _action: _("Only the cooperative of these lines or an operator decides this refund."),
    lost_race=lambda: _("This refund was already decided."),
)


@dataclass(frozen=True)
class PayBack:
    """What the provider is asked to pay back for an approved refund, read before the provider is called."""

    refund_id: int
    intent_id: str
    amount_fen: int

    @property
    def idempotency_key(self) -> str:
        return f"refund-{self.refund_id}"


def _paid_through_provider(order: Order) -> None:
    """Only money the provider holds can be given back through it: the demo's seeded order was recorded as paid
    without an intent (shop/demo/households.py), and refusing before any row is written leaves nothing behind."""
    if not order.payment_intent_id:
        raise InvalidTransition(
            _("This order was not paid through the payment service (it is demo data), so it cannot be refunded.")
        )


def _lines_of(order: Order, items: list[tuple[int, int]]) -> list[tuple[OrderLine, int]]:
    by_id = {line.id: line for line in order.lines}
    chosen = []
    if not items:
        raise ValidationFailed.on("lines", _("Choose what to refund."))
    db.session.expire(order, ["refunds"])  # requests made earlier in this session count too
    for line_id, quantity in items:
        line = by_id.get(line_id)
        if line is None:
            raise ValidationFailed.on("lines", _("Line %(id)d is not part of this order.", id=line_id))
        left = line.refundable_quantity
        if left <= 0 and line.quantity - line.refunded_quantity > 0:  # what is left waits for a decision
            raise Conflict(
                _("%(name)s: a refund of it is already waiting for a decision.", name=line.product_name),
                fields={"lines": [_("Already asked for.")]},
            )
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= left:
            raise ValidationFailed.on("lines", _("%(name)s: refund 1 to %(n)d.", name=line.product_name, n=left))
        chosen.append((line, quantity))
    return chosen


def request_refund(
    buyer: User, order_id: int, items: list[tuple[int, int]], reason: str, return_stock: bool = False
) -> Refund:
    """The buyer asks for whole lines or quantities back, with a reason, before the order is completed."""
    order = orders.get_order(buyer, order_id)
    if order.buyer_id != buyer.id:
        raise NotAllowed(_("Only the buyer asks for a refund."))
    if order.status != OrderStatus.PAID:
        raise InvalidTransition(
            _(
                "A refund can be asked for while the order is paid (it is %(state)s); after "
                "completion, ask the platform's operators.",
                state=ORDER_STATUS_LABELS.get(order.status, order.status),
            )
        )
    if not reason.strip():
        raise ValidationFailed.on("reason", _("Say why you want a refund."))
    _paid_through_provider(order)
    return _new_refund(buyer, order, items, reason, return_stock)


def _new_refund(actor: User, order: Order, items, reason: str, return_stock: bool) -> Refund:
    # Two requests at the same moment would both see the quantity as still free: the order's row lock makes the
    # second wait for the first to commit, then count its request (PostgreSQL; SQLite writes one at a time).
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    chosen = _lines_of(order, items)
    refund = Refund(
        order_id=order.id,
        amount_fen=sum(line.unit_price_fen * q for line, q in chosen),
        reason=reason.strip(),
        return_stock=return_stock,
        requested_by_id=actor.id,
    )
    db.session.add(refund)
    db.session.flush()
    for line, quantity in chosen:
        db.session.add(
            RefundLine(
                refund_id=refund.id, order_line_id=line.id, quantity=quantity, amount_fen=line.unit_price_fen * quantity
            )
        )
    # Asking is not a move (the refund is born "requested"), but it is an event of the order all the same.
    _refund_event(refund, "refund_requested", actor, _role_of(actor, order), refund.reason)
    db.session.flush()
    return refund


def _role_of(user: User, order: Order) -> str:
    if user.id == order.buyer_id:
        return "buyer"
    return decider_capacity(user)


def decider_capacity(user: User) -> str:
    """The capacity in which a user decides refunds (who may decide which is `_may_decide`)."""
    return "operator" if user.has_role(Role.OPERATOR) else "cooperative"


def _may_decide(user: User, refund: Refund) -> bool:
    if user.has_role(Role.OPERATOR):
        return True
    if refund.order.status == OrderStatus.COMPLETED:
        return False  # after completion, only an operator refunds
    cooperatives = {rl.order_line.cooperative_id for rl in refund.lines}
    return bool(cooperatives) and cooperatives <= user.cooperative_ids()


def _require_decider(user: User, refund: Refund) -> None:
    if not _may_decide(user, refund):
        raise NotAllowed(_("Only the cooperative of these lines or an operator decides this refund."))


def _check_decision(user: User, refund: Refund, action: str, note: str) -> CheckedMove:
    try:
        return check_move(REFUND_WORKFLOW, refund, action, actor=user, capacities={decider_capacity(user)}, reason=note)
    except InvalidTransition as refused:
        raise InvalidTransition(_("This refund was already decided.")) from refused


def get_refund(user: User, refund_id: int) -> Refund:
    refund = db.session.get(Refund, refund_id)
    if refund is None:
        raise NotFound(_("No such refund."))
    orders.get_order(user, refund.order_id)  # visible to the buyer, its cooperatives and operators
    return refund


def refunds_to_decide(user: User) -> list[Refund]:
    """Requested refunds of paid orders that this staff member may decide (all their lines are of the
    user's cooperatives), oldest first. A read-only query."""
    cooperative_ids = user.cooperative_ids()
    if not cooperative_ids:
        return []
    candidates = db.session.scalars(
        select(Refund)
        .join(Order, Order.id == Refund.order_id)
        .where(
            Refund.status == RefundStatus.REQUESTED,
            Order.status == OrderStatus.PAID,
            Refund.id.in_(
                select(RefundLine.refund_id)
                .join(OrderLine, OrderLine.id == RefundLine.order_line_id)
                .where(OrderLine.cooperative_id.in_(cooperative_ids))
            ),
        )
        .order_by(Refund.id)
    )
    return [refund for refund in candidates if _may_decide(user, refund)]


def reject(user: User, refund_id: int, note: str) -> Refund:
    """The lines' cooperative or an operator refuses a refund, saying why; the buyer is told."""
    refund = get_refund(user, refund_id)
    _require_decider(user, refund)
    if not note.strip():
        raise ValidationFailed.on("note", _("Say why the refund is refused."))
    checked = _check_decision(user, refund, "reject", note)
    write_move(checked, decided_by_id=user.id, decided_at=utcnow(), decision_note=note.strip())
    db.session.flush()
    notifications.refund_decided(refund)
    return refund


def approve(user: User, refund_id: int, note: str = "") -> PayBack:
    """The first step of paying a refund back: approve it and reserve its amount on the order and its quantities
    on the lines. Raises Conflict when that would give back more than was paid (or more than was bought).

    The caller commits before it asks the provider for the returned PayBack (shop/orders/payback.py)."""
    refund = get_refund(user, refund_id)
    _require_decider(user, refund)
    order = refund.order
    if order.status not in REFUNDABLE:
        raise InvalidTransition(_("Only a paid order can be refunded."))
    _paid_through_provider(order)
    checked = _check_decision(user, refund, "approve", note)
    write_move(checked, decided_by_id=user.id, decided_at=utcnow(), decision_note=note.strip())
    reserved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.refunded_fen + refund.amount_fen <= Order.paid_fen)
        .values(refunded_fen=Order.refunded_fen + refund.amount_fen)
        .execution_options(synchronize_session=False)
    ).rowcount
    if reserved != 1:
        raise Conflict(
            _("This refund would give back more than was paid."), fields={"amount_fen": [str(refund.amount_fen)]}
        )
    for refund_line in refund.lines:
        taken = db.session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == refund_line.order_line_id,
                OrderLine.refunded_quantity + refund_line.quantity <= OrderLine.quantity,
            )
            .values(refunded_quantity=OrderLine.refunded_quantity + refund_line.quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken != 1:
            raise Conflict(_("More of this line would be refunded than was bought."))
    db.session.flush()
    _expire_reserved(order)
    return PayBack(refund.id, order.payment_intent_id, refund.amount_fen)


def refund_directly(operator: User, order_id: int, items, reason: str, return_stock: bool = False) -> PayBack:
    """After-sales: an operator refunds lines of a paid or completed order directly (asked and approved at once).

    A waiting request for exactly these lines (a direct refund the provider did not make) is approved again
    rather than a row added per attempt. Returns the PayBack to ask the provider for, as `approve` does."""
    order = orders.get_order(operator, order_id)
    if not operator.has_role(Role.OPERATOR):
        raise NotAllowed(_("Only operators refund directly."))
    if order.status not in REFUNDABLE:
        raise InvalidTransition(_("Only a paid order can be refunded."))
    if not reason.strip():
        raise ValidationFailed.on("reason", _("Say why."))
    _paid_through_provider(order)
    refund = _waiting_same(order, items) or _new_refund(operator, order, items, reason, return_stock)
    return approve(operator, refund.id, reason)


def _waiting_same(order: Order, items) -> Refund | None:
    """A waiting request for exactly these lines and quantities, e.g. a direct refund that the provider did not
    make: asking again retries it rather than adding a row per attempt."""
    wanted = sorted((line_id, quantity) for line_id, quantity in items)
    db.session.expire(order, ["refunds"])
    for refund in order.refunds:
        if (
            refund.status == RefundStatus.REQUESTED
            and sorted((rl.order_line_id, rl.quantity) for rl in refund.lines) == wanted
        ):
            return refund
    return None


def ask_provider(payback: PayBack) -> gateway.RefundInfo:
    """The second step: ask the provider to pay back. Call it with no transaction open (the reservation is
    committed); the refund's id goes with it, so `made_at_provider` finds it after a crash."""
    return gateway.refund(
        payback.intent_id,
        payback.amount_fen,
        idempotency_key=payback.idempotency_key,
        metadata={"refund": str(payback.refund_id)},
    )


def made_at_provider(payback: PayBack) -> gateway.RefundInfo | None:
    """The refund the provider made for this PayBack, if any (it says which by our refund's id). No transaction
    may be open."""
    for made in gateway.refunds_of(payback.intent_id):
        if made.metadata.get("refund") == str(payback.refund_id) and made.amount_fen == payback.amount_fen:
            return made
    return None


def record_paid_back(refund_id: int, provider_refund_id: str, actor: User | None, capacity: str) -> Refund:
    """The third step when the provider made the refund: the refund is paid back, its stock returns when asked,
    settlement posts its reversal, and the buyer and the cooperatives are told. Once only: a refund already
    recorded with this provider id (by the reconcile job, say) is returned as it is."""
    refund = db.session.get(Refund, refund_id)
    if refund.status == RefundStatus.SUCCEEDED and refund.provider_refund_id == provider_refund_id:
        return refund
    apply_move(
        REFUND_WORKFLOW,
        refund,
        "pay_back",
        actor=actor,
        capacities={capacity},
        reason=f"{refund.amount_fen} fen ({provider_refund_id})",
        provider_refund_id=provider_refund_id,
        completed_at=utcnow(),
    )
    if refund.return_stock:
        for refund_line in refund.lines:
            db.session.execute(
                update(Product)
                .where(Product.id == refund_line.order_line.product_id)
                .values(stock=Product.stock + refund_line.quantity)
            )
    if not refund_paid_back.send(refund=refund):
        raise RuntimeError("a refund was paid back but no ledger posted it: settlement's receiver is not connected")
    db.session.flush()
    notifications.refund_decided(refund)
    return refund


def reopen(refund_id: int, actor: User | None, capacity: str, why: str) -> Refund:
    """The third step when the provider did not make the refund: its reservation is given back and it waits for
    a decision again, so approving it once more retries this very row instead of adding one per attempt."""
    refund = db.session.get(Refund, refund_id)
    apply_move(
        REFUND_WORKFLOW,
        refund,
        "reopen",
        actor=actor,
        capacities={capacity},
        reason=why,
        decided_by_id=None,
        decided_at=None,
        decision_note="",
    )
    db.session.execute(
        update(Order)
        .where(Order.id == refund.order_id)
        .values(refunded_fen=Order.refunded_fen - refund.amount_fen)
        .execution_options(synchronize_session=False)
    )
    for refund_line in refund.lines:
        db.session.execute(
            update(OrderLine)
            .where(OrderLine.id == refund_line.order_line_id)
            .values(refunded_quantity=OrderLine.refunded_quantity - refund_line.quantity)
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
    _expire_reserved(refund.order)
    return refund


def _expire_reserved(order: Order) -> None:
    """Read the order's and its lines' reserved amounts again: the conditional UPDATEs wrote them in SQL."""
    db.session.expire(order, ["refunded_fen"])
    for line in order.lines:
        db.session.expire(line, ["refunded_quantity"])


def left_approved(decided_before: datetime) -> list[PayBack]:
    """Refunds approved before `decided_before` whose provider's answer was never recorded (a crash between the
    steps), oldest first. A read-only query."""
    rows = db.session.execute(
        select(Refund.id, Order.payment_intent_id, Refund.amount_fen)
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.status == RefundStatus.APPROVED, Refund.decided_at < decided_before)
        .order_by(Refund.id)
    ).all()
    return [PayBack(refund_id, intent_id, amount) for refund_id, intent_id, amount in rows]


# --- What the provider reports -----------------------------------------------------------------------


def on_charge_refunded(_sender, charge: dict, **_extra) -> str:
    """A charge.refunded event (shop.payments.signals.charge_refunded): the refunds we made are known by their
    provider id (nothing is counted twice: the event changes no amount); others are flagged for an operator.
    Returns the event's outcome for the provider-event log."""
    refunds = ((charge.get("refunds") or {}).get("data")) or []
    unknown = [
        r
        for r in refunds
        if r.get("id") and db.session.scalar(select(Refund.id).where(Refund.provider_refund_id == r["id"])) is None
    ]
    for r in unknown:
        order = db.session.scalar(select(Order).where(Order.payment_intent_id == charge.get("payment_intent")))
        db.session.add(
            PaymentFlag(
                order_id=order.id if order else None,
                payment_intent_id=charge.get("payment_intent") or "",
                kind="unknown_refund",
                amount_fen=int(r.get("amount") or 0),
                detail=f"refund {r['id']} was not made through the shop",
            )
        )
    return f"refunds known: {len(refunds) - len(unknown)}, flagged: {len(unknown)}"


def connect_signals() -> None:
    """Subscribe to what payments announces (called once by the app factory; connecting again changes nothing)."""
    from shop.payments import signals

    signals.charge_refunded.connect(on_charge_refunded)
