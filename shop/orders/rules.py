"""Order and shipment state machines as data; `shop.workflow.apply_move` applies them.

Capacities: "buyer", "cooperative", "operator", "provider" (payment webhooks), "job".
"""

from __future__ import annotations

from shop.orders.models import OrderStatus as O
from shop.orders.models import ShipmentStatus as S
from shop.workflow import Move
from shop.workflow import move as _move

ORDER_TRANSITIONS: dict[tuple[str, str], Move] = {
    (O.PENDING_PAYMENT, "pay"): _move(O.PAID, "provider", "job"),
    (O.PENDING_PAYMENT, "cancel"): _move(O.CANCELLED, "buyer", "job", "operator"),
    (O.PAID, "complete"): _move(O.COMPLETED, "job"),
}

SHIPMENT_TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.AWAITING, "ship"): _move(S.SHIPPED, "cooperative"),
    (S.SHIPPED, "deliver"): _move(S.DELIVERED, "buyer", "job"),
}
