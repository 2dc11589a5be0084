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


# --- The remittance reference (识别码) of an order paid by corporate bank transfer --------------------------------
# `FP`, the order id in at least eight digits, and a check character (ISO 7064 MOD 37-36, python-stdnum), so a
# mistyped reference in a transfer's remark is caught rather than applied to another order.
REMITTANCE_PREFIX = "FP"


def remittance_reference(order_id: int) -> str:
    """FP00000042 plus its check character, for order 42."""
    from stdnum.iso7064 import mod_37_36

    body = f"{REMITTANCE_PREFIX}{order_id:08d}"
    return body + mod_37_36.calc_check_digit(body)


def order_id_from_remittance(text: str | None) -> int | None:
    """The order id a remittance reference names, found anywhere in a transfer's remark (case and spaces do not
    matter); None when there is none, or its check character is wrong (a typo), or its number is no row id."""
    import re

    from stdnum.iso7064 import mod_37_36

    if not text:
        return None
    compact = re.sub(r"\s+", "", text).upper()
    for start in (found.start() for found in re.finditer(REMITTANCE_PREFIX, compact)):
        # The shortest valid reference at this place: digits may follow it in a remark ("FP…K 2026年").
        for digits in range(8, 19):
            candidate = compact[start : start + len(REMITTANCE_PREFIX) + digits + 1]
            body = candidate[len(REMITTANCE_PREFIX) : -1]
            if (
                len(candidate) == len(REMITTANCE_PREFIX) + digits + 1
                and body.isdigit()
                and mod_37_36.is_valid(candidate)
            ):
                return row_id_or_none(body)
    return None
