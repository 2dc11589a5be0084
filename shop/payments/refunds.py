"""Refunds of paid orders: the buyer asks, the cooperative or an operator decides, the provider pays back.

Never more than was paid, also when two approvals race: approval first reserves the amount on the order
and the quantities on its lines with conditional UPDATEs (`… WHERE refunded_fen + :a <= paid_fen`) and
commits; only then is the provider asked (no lock held); its answer is recorded in a second transaction,
and a failure gives the reservation back. A later `charge.refunded` event finds the refund by its id and
counts nothing twice.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select, update

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.notifications import services as notifications
from shop.orders import services as orders
from shop.orders.labels import ORDER_STATUS_LABELS
from shop.orders.models import Order, OrderLine, OrderStatus, Refund, RefundLine, RefundStatus
from shop.payments import gateway
from shop.payments.models import PaymentFlag
from shop.payments.services import PaymentUnavailable
from shop.settlement import services as settlement
from shop.types import utcnow

REFUNDABLE = (OrderStatus.PAID, OrderStatus.COMPLETED)
log = logging.getLogger(__name__)


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
    orders.record_event(
        order,
        "refund_requested",
        order.status,
        order.status,
        actor,
        _role_of(actor, order),
        note=f"#{refund.id}: {refund.reason}",
    )
    db.session.flush()
    return refund


def _role_of(user: User, order: Order) -> str:
    if user.id == order.buyer_id:
        return "buyer"
    return "operator" if user.has_role(Role.OPERATOR) else "cooperative"


def _may_decide(user: User, refund: Refund) -> bool:
    if user.has_role(Role.OPERATOR):
        return True
    if refund.order.status == OrderStatus.COMPLETED:
        return False  # after completion, only an operator refunds
    cooperatives = {rl.order_line.cooperative_id for rl in refund.lines}
    return bool(cooperatives) and cooperatives <= user.cooperative_ids()


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
    refund = get_refund(user, refund_id)
    if not _may_decide(user, refund):
        raise NotAllowed(_("Only the cooperative of these lines or an operator decides this refund."))
    if not note.strip():
        raise ValidationFailed.on("note", _("Say why the refund is refused."))
    changed = db.session.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == RefundStatus.REQUESTED)
        .values(status=RefundStatus.REJECTED, decided_by_id=user.id, decided_at=utcnow(), decision_note=note.strip())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("This refund was already decided."))
    db.session.expire(refund)
    orders.record_event(
        refund.order,
        "refund_rejected",
        refund.order.status,
        refund.order.status,
        user,
        _role_of(user, refund.order),
        note=f"#{refund.id}: {note.strip()}",
    )
    db.session.flush()
    notifications.refund_decided(refund)
    return refund


def approve(user: User, refund_id: int, note: str = "") -> Refund:
    """Reserve, commit, ask the provider, record its answer. Raises Conflict when it would exceed what was paid."""
    refund = get_refund(user, refund_id)
    if not _may_decide(user, refund):
        raise NotAllowed(_("Only the cooperative of these lines or an operator decides this refund."))
    order = refund.order
    if order.status not in REFUNDABLE:
        raise InvalidTransition(_("Only a paid order can be refunded."))
    _paid_through_provider(order)
    claimed = db.session.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == RefundStatus.REQUESTED)
        .values(status=RefundStatus.APPROVED, decided_by_id=user.id, decided_at=utcnow(), decision_note=note.strip())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise InvalidTransition(_("This refund was already decided."))
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
    intent_id, amount = order.payment_intent_id, refund.amount_fen
    db.session.commit()  # the reservation holds before the provider is asked
    try:
        answer = gateway.refund(intent_id, amount, idempotency_key=f"refund-{refund.id}")
    except gateway.PaymentProviderError as error:
        # The provider's own words stay in the log (they can name ids and internals); the refund waits for a
        # decision again, so approving it once more retries this very row instead of adding one per attempt.
        log.warning("refund %s of order %s failed at the provider: %s", refund.id, order.id, error)
        _give_back(refund.id)
        raise PaymentUnavailable(
            _("The payment service did not answer; nothing was refunded. Try approving again in a moment.")
        ) from error
    return _record_success(user, refund.id, answer.id)


def _give_back(refund_id: int) -> None:
    """Undo the reservation of a refund the provider did not make, and put it back to await a decision."""
    refund = db.session.get(Refund, refund_id)
    db.session.execute(
        update(Order).where(Order.id == refund.order_id).values(refunded_fen=Order.refunded_fen - refund.amount_fen)
    )
    for refund_line in refund.lines:
        db.session.execute(
            update(OrderLine)
            .where(OrderLine.id == refund_line.order_line_id)
            .values(refunded_quantity=OrderLine.refunded_quantity - refund_line.quantity)
        )
    refund.status, refund.decided_by_id, refund.decided_at = RefundStatus.REQUESTED, None, None
    refund.decision_note = ""
    db.session.commit()


def _record_success(user: User, refund_id: int, provider_refund_id: str) -> Refund:
    refund = db.session.get(Refund, refund_id)
    refund.status, refund.provider_refund_id, refund.completed_at = RefundStatus.SUCCEEDED, provider_refund_id, utcnow()
    if refund.return_stock:
        for refund_line in refund.lines:
            db.session.execute(
                update(Product)
                .where(Product.id == refund_line.order_line.product_id)
                .values(stock=Product.stock + refund_line.quantity)
            )
    settlement.post_refund(refund)
    order = refund.order
    orders.record_event(
        order,
        "refund",
        order.status,
        order.status,
        user,
        _role_of(user, order),
        note=f"#{refund.id}: {refund.amount_fen} fen ({provider_refund_id})",
    )
    db.session.flush()
    notifications.refund_decided(refund)
    return refund


def operator_refund(operator: User, order_id: int, items, reason: str, return_stock: bool = False) -> Refund:
    """After-sales: an operator refunds lines of a paid or completed order directly."""
    order = orders.get_order(operator, order_id)
    if not operator.has_role(Role.OPERATOR):
        raise NotAllowed(_("Only operators refund directly."))
    if order.status not in REFUNDABLE:
        raise InvalidTransition(_("Only a paid order can be refunded."))
    if not reason.strip():
        raise ValidationFailed.on("reason", _("Say why."))
    _paid_through_provider(order)
    refund = _waiting_same(order, items) or _new_refund(operator, order, items, reason, return_stock)
    db.session.commit()
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


def reconcile_charge_refunded(charge: dict) -> str:
    """A charge.refunded event: refunds we made are known by id (nothing counted twice); others are flagged."""
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
