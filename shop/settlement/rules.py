"""The split of one settled line (docs/ledger.md), in Python: the reference the SQL path is tested against."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shop.ledger.models import Part
from shop.ledger.split import largest_remainder

# The whole of an amount in basis points (10000 bp = 100 %): the one constant for it. The database's CHECK
# constraints write it as a literal; tests/settlement/test_share_rules.py checks that they agree.
BASIS_POINTS = 10_000


def fee_and_share_fit(fee_bp: int, share_bp: int) -> bool:
    """Whether a platform fee and a household share (basis points) fit in one line: neither negative, and
    together at most the whole, so the cooperative's part is never negative. The one statement of the rule:
    settlement, the share settings, their forms and schemas all ask it."""
    return fee_bp >= 0 and share_bp >= 0 and fee_bp + share_bp <= BASIS_POINTS


def share_problem(share_bp: int | None, platform_fee_bp: int, *, nullable: bool = False) -> str | None:
    """What is wrong with a household share in basis points, as a message key; None when it is fine.

    "range": not a whole number from 0 to the whole; "over_total": the platform fee plus the share exceed it."""
    if share_bp is None:
        return None if nullable else "range"
    if isinstance(share_bp, bool) or not isinstance(share_bp, int) or not 0 <= share_bp <= BASIS_POINTS:
        return "range"
    if not fee_and_share_fit(max(platform_fee_bp, 0), share_bp):
        return "over_total"
    return None


def household_share_bp(product_share_bp: int | None, cooperative_share_bp: int) -> int:
    """The household share of a product's line: the product's own, or else its cooperative's."""
    return product_share_bp if product_share_bp is not None else cooperative_share_bp


# The same choice in SQL, for the set-based settlement (shop/settlement/sql.py formats it with its table
# aliases); tests/settlement/test_share_rules.py checks it against household_share_bp on generated data.
HOUSEHOLD_SHARE_SQL = "COALESCE({product}.household_share_bp, {cooperative}.household_share_bp)"


@dataclass(frozen=True)
class LinkWeight:
    """A confirmed benefit link sharing in the line: its household and weight."""

    link_id: int
    household_id: int
    weight: int


@dataclass(frozen=True)
class LinePart:
    part: Part
    amount_fen: int
    link_id: int | None = None
    household_id: int | None = None


def split_line(amount_fen: int, fee_bp: int, household_bp: int, links: Sequence[LinkWeight]) -> list[LinePart]:
    """Split a line's net amount into the platform fee, the households (one part per link) and the cooperative.

    [fee, households, cooperative] by largest remainder; the household share by link weight, ties broken by
    household id then link id; no confirmed link: the household share goes to the cooperative. Zero parts are
    left out, so every part is > 0 and the parts sum to the amount."""
    if not fee_and_share_fit(fee_bp, household_bp):
        raise ValueError("fee and household shares must be ≥ 0 and together at most 10000 basis points")
    fee, households, cooperative = largest_remainder(
        amount_fen, [fee_bp, household_bp, BASIS_POINTS - fee_bp - household_bp]
    )
    ordered = sorted(links, key=lambda link: (link.household_id, link.link_id))
    household_parts: list[LinePart] = []
    if ordered:
        for link, share in zip(ordered, largest_remainder(households, [link.weight for link in ordered]), strict=True):
            household_parts.append(LinePart(Part.HOUSEHOLD, share, link.link_id, link.household_id))
    else:
        cooperative += households
    parts = [LinePart(Part.FEE, fee), *household_parts, LinePart(Part.COOPERATIVE, cooperative)]
    return [part for part in parts if part.amount_fen > 0]


def split_reversal(amount_fen: int, remaining: Sequence[int]) -> list[int]:
    """How much each part gives back of a refund of a settled line: largest remainder over what each part still
    holds of the line (received minus earlier refunds), in the parts' order. No part gives back more than it
    holds, and refunds adding up to the line give every part back exactly."""
    if amount_fen > sum(remaining):
        raise ValueError("a refund cannot take back more than the line's parts still hold")
    if amount_fen == 0:
        return [0] * len(remaining)
    return largest_remainder(amount_fen, list(remaining))
