"""Splitting an amount of fen by weights: the largest-remainder method, the one split every part of the shop uses.

The same rule is written in SQL for set-based settlement (shop/settlement/sql.py); tests hold the two together."""

from __future__ import annotations

from collections.abc import Sequence


def largest_remainder(amount_fen: int, weights: Sequence[int]) -> list[int]:
    """Split `amount_fen` over `weights`: each part gets floor(amount × w / Σw), and the fen left over go one
    each to the parts with the largest remainders, ties broken by position in the list.

    The parts always sum to the amount; a zero weight gets zero. Weights must be ≥ 0 with a positive sum."""
    if amount_fen < 0:
        raise ValueError("amount must not be negative")
    if any(weight < 0 for weight in weights) or sum(weights) <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    total = sum(weights)
    floors = [amount_fen * weight // total for weight in weights]
    remainders = [amount_fen * weight % total for weight in weights]
    left_over = amount_fen - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:left_over]:
        floors[index] += 1
    return floors
