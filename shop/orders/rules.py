"""Order and shipment state machines as data (the one function that applies them is in services)."""

from __future__ import annotations

from dataclasses import dataclass

from shop.orders.models import OrderStatus as O
from shop.orders.models import ShipmentStatus as S


@dataclass(frozen=True)
class Move:
    to: str
    actors: frozenset[str]  # "buyer", "cooperative", "operator", "provider" (payment webhooks), "job"


def _move(to, *actors) -> Move:
    return Move(to, frozenset(actors))


ORDER_TRANSITIONS: dict[tuple[str, str], Move] = {
    (O.PENDING_PAYMENT, "pay"): _move(O.PAID, "provider", "job"),
    (O.PENDING_PAYMENT, "cancel"): _move(O.CANCELLED, "buyer", "job", "operator"),
    (O.PAID, "complete"): _move(O.COMPLETED, "job"),
}

SHIPMENT_TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.AWAITING, "ship"): _move(S.SHIPPED, "cooperative"),
    (S.SHIPPED, "deliver"): _move(S.DELIVERED, "buyer", "job"),
}
