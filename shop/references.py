"""The order reference people and the provider see, `FO` and the order id in at least eight digits: the one
place that writes it and reads it back (order pages, e-mails, the provider's metadata, settlement reports)."""

from __future__ import annotations

from shop.web.inputs import row_id_or_none

ORDER_REFERENCE_PREFIX = "FO"
# The pattern of the text only; whether its number can be an order id at all is `order_id_from_reference`'s question.
ORDER_REFERENCE_PATTERN = r"^FO[0-9]{1,18}$"


def order_reference(order_id: int) -> str:
    """FO00000042 for order 42."""
    return f"{ORDER_REFERENCE_PREFIX}{order_id:08d}"


def order_id_from_reference(reference: str | None) -> int | None:
    """The order id a reference names (FO00000042 → 42), or None when the text is no reference or its number
    could not be a row id (a name proves nothing: callers use it for an operator's flag only)."""
    if not reference or not reference.startswith(ORDER_REFERENCE_PREFIX):
        return None
    digits = reference[len(ORDER_REFERENCE_PREFIX) :]
    return row_id_or_none(digits) if digits.isdigit() else None
