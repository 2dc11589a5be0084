"""Money is integer fen (分) everywhere; these helpers only convert for people."""

from __future__ import annotations

import re

YUAN = re.compile(r"^\s*([0-9]{1,9})(?:\.([0-9]{1,2}))?\s*$")  # ASCII digits only


def format_fen(amount_fen: int | None) -> str:
    if amount_fen is None:
        return ""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}¥{yuan:,}.{fen:02d}"


def parse_yuan(text: str) -> int | None:
    """'12.5' → 1250 fen, exactly (no float); None when it is not an amount in yuan."""
    match = YUAN.match(text or "")
    if match is None:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def yuan_amount(amount_fen: int) -> str:
    """For files (bank batches, CSV exports): 1250 → '12.50', 0 → '0.00', -5 → '-0.05'."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}{yuan}.{fen:02d}"


def fen_to_yuan(amount_fen: int) -> str:
    """For a form field: 1250 → '12.50', 0 → ''."""
    return f"{amount_fen // 100}.{amount_fen % 100:02d}" if amount_fen else ""
