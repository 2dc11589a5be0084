"""What of an order each viewer sees.

An order can hold parts of several cooperatives. Its buyer and operators see all of it; the staff of a
cooperative see only their cooperatives' parts: their shipments and lines, the refunds (and refund lines) of
those lines, the history of those parts, and totals computed from those parts alone. Another cooperative's
products, prices, quantities and amounts never reach them, neither on the order page nor in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.orders.models import Order, OrderEvent, OrderLine, Refund, RefundLine, RefundStatus, Shipment

# A refund counts in refunded_fen from its approval (the amount is reserved then), as Order.refunded_fen does.
COUNTED_REFUNDS = (RefundStatus.APPROVED, RefundStatus.SUCCEEDED)
REFUND_ACTIONS = ("refund_requested", "refund_approved", "refund_rejected", "refund", "refund_reopened")


@dataclass(frozen=True)
class RefundPart:
    """A refund as one cooperative sees it: only its own lines, and the amount of those lines."""

    id: int
    order_id: int
    status: str
    amount_fen: int
    reason: str
    return_stock: bool
    decision_note: str
    provider_refund_id: str | None
    created_at: datetime
    decided_at: datetime | None
    completed_at: datetime | None
    lines: list[RefundLine]


@dataclass(frozen=True)
class EventPart:
    action: str
    from_state: str
    to_state: str
    actor_role: str
    note: str
    at: datetime
    shipment_id: int | None


@dataclass(frozen=True)
class CooperativeOrderView:
    """The order as the staff of some of its cooperatives see it; the same names as Order for the page and API."""

    id: int
    reference: str
    buyer_id: int
    status: str
    currency: str
    payment_status: str
    recipient: str
    mobile: str
    district_code: str
    address_detail: str
    placed_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    shipments: list[Shipment]
    lines: list[OrderLine]
    refunds: list[RefundPart]
    events: list[EventPart]
    items_fen: int
    shipping_fen: int
    total_fen: int
    paid_fen: int
    refunded_fen: int


def sees_whole_order(user: User, order: Order) -> bool:
    return order.buyer_id == user.id or user.has_role(Role.OPERATOR)


def order_as_seen_by(user: User, order: Order) -> Order | CooperativeOrderView:
    """The order itself for its buyer and operators; for cooperative staff, their cooperatives' parts only.

    The caller has already found the order visible to the user (`services.get_order`)."""
    if sees_whole_order(user, order):
        return order
    return cooperative_part(order, user.cooperative_ids())


def cooperative_part(order: Order, cooperative_ids: set[int]) -> CooperativeOrderView:
    shipments = [s for s in order.shipments if s.cooperative_id in cooperative_ids]
    own_shipments = {s.id for s in shipments}
    lines = [line for line in order.lines if line.shipment_id in own_shipments]
    own_lines = {line.id for line in lines}
    refunds = [_refund_part(refund, own_lines) for refund in order.refunds]
    visible_refunds = [refund for refund in refunds if refund is not None]
    items_fen = sum(line.line_total_fen for line in lines)
    shipping_fen = sum(s.shipping_fee_fen for s in shipments)
    total_fen = items_fen + shipping_fen
    return CooperativeOrderView(
        id=order.id,
        reference=order.reference,
        buyer_id=order.buyer_id,
        status=order.status,
        currency=order.currency,
        payment_status=order.payment_status,
        recipient=order.recipient,
        mobile=order.mobile,
        district_code=order.district_code,
        address_detail=order.address_detail,
        placed_at=order.placed_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        shipments=shipments,
        lines=lines,
        refunds=visible_refunds,
        events=_events(order, own_shipments, {r.id: r for r in order.refunds}, own_lines),
        items_fen=items_fen,
        shipping_fen=shipping_fen,
        total_fen=total_fen,
        # A payment covers the whole order: once it is paid in full, so is each part.
        paid_fen=total_fen if order.paid_fen and order.paid_fen >= order.total_fen else 0,
        refunded_fen=sum(r.amount_fen for r in visible_refunds if r.status in COUNTED_REFUNDS),
    )


def _refund_part(refund: Refund, own_lines: set[int]) -> RefundPart | None:
    lines = [line for line in refund.lines if line.order_line_id in own_lines]
    if not lines:
        return None
    return RefundPart(
        id=refund.id,
        order_id=refund.order_id,
        status=refund.status,
        amount_fen=sum(line.amount_fen for line in lines),
        reason=refund.reason,
        return_stock=refund.return_stock,
        decision_note=refund.decision_note,
        provider_refund_id=refund.provider_refund_id,
        created_at=refund.created_at,
        decided_at=refund.decided_at,
        completed_at=refund.completed_at,
        lines=lines,
    )


def _events(order: Order, own_shipments: set[int], refunds: dict[int, Refund], own_lines: set[int]) -> list[EventPart]:
    """The order's own events and those of the viewer's parts; a refund's events only when the refund touches
    the viewer's lines, and without the note (it may state an amount of other lines) unless all its lines are
    the viewer's."""
    shown = []
    for event in order.events:
        if event.shipment_id is not None and event.shipment_id not in own_shipments:
            continue
        note = event.note
        if event.action in REFUND_ACTIONS:
            refund = refunds.get(_refund_id(event))
            touched = [line.order_line_id in own_lines for line in refund.lines] if refund else []
            if not any(touched):
                continue
            if not all(touched):
                note = f"#{refund.id}"
        shown.append(_event_part(event, note))
    return shown


def _refund_id(event: OrderEvent) -> int | None:
    """Refund events are noted "#<refund id>: …" (shop.orders.refunds)."""
    head = event.note.split(":", 1)[0]
    return int(head[1:]) if head.startswith("#") and head[1:].isdigit() else None


def _event_part(event: OrderEvent, note: str) -> EventPart:
    return EventPart(
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        actor_role=event.actor_role,
        note=note,
        at=event.at,
        shipment_id=event.shipment_id,
    )
