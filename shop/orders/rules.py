"""Order, shipment and refund state machines as data; `shop.workflow.apply_move` applies them.

Capacities: "buyer", "cooperative", "operator", "provider" (payment webhooks), "job".
"""

from __future__ import annotations

from shop.orders.models import OrderStatus as O
from shop.orders.models import RefundStatus as R
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

# A refund is asked for (it is created "requested"; shop.orders.refunds). Approving reserves its amount and
# quantities; the provider is asked only after that is committed, and its answer is a second move: paid back,
# or back to "requested" when the provider did not make it (the reconcile job takes either move after a crash).
REFUND_TRANSITIONS: dict[tuple[str, str], Move] = {
    (R.REQUESTED, "approve"): _move(R.APPROVED, "cooperative", "operator"),
    (R.REQUESTED, "reject"): _move(R.REJECTED, "cooperative", "operator", reason_required=True),
    (R.APPROVED, "pay_back"): _move(R.SUCCEEDED, "cooperative", "operator", "job"),
    (R.APPROVED, "reopen"): _move(R.REQUESTED, "cooperative", "operator", "job"),
}
