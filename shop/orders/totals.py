"""Checkout totals, the one rule the checkout page shows and the order is written with: the lines split by
cooperative (one shipment each), each part's items and its shipping fee (the cooperative's own rule), the sums."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from shop.catalog.models import Product


class Line(Protocol):
    """A product and how many of it: a cart line (shop.cart.services.CartLine), or a line being ordered."""

    product: Product
    quantity: int


@dataclass(frozen=True)
class Part:
    """One cooperative's part: its lines (as given), the amount of its items and its shipping fee."""

    cooperative: Any  # shop.cooperatives.models.Cooperative
    lines: list[Any]
    items_fen: int
    shipping_fen: int


@dataclass(frozen=True)
class CheckoutTotals:
    parts: list[Part]

    @property
    def items_fen(self) -> int:
        return sum(part.items_fen for part in self.parts)

    @property
    def shipping_fen(self) -> int:
        return sum(part.shipping_fen for part in self.parts)

    @property
    def total_fen(self) -> int:
        return self.items_fen + self.shipping_fen


def checkout_totals(lines: Iterable[Line]) -> CheckoutTotals:
    """The parts of an order and its totals, in the order the cooperatives first appear among the lines."""
    by_cooperative: dict[int, list[Line]] = {}
    for line in lines:
        by_cooperative.setdefault(line.product.cooperative_id, []).append(line)
    parts = []
    for part_lines in by_cooperative.values():
        cooperative = part_lines[0].product.cooperative
        items_fen = sum(line.product.price_fen * line.quantity for line in part_lines)
        parts.append(Part(cooperative, part_lines, items_fen, cooperative.shipping_fee_for(items_fen)))
    return CheckoutTotals(parts)
