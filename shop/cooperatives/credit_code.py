"""Unified social credit codes (统一社会信用代码, GB 32100).

stdnum's `validate` wants digits in the first two places and so refuses registration authorities written
as letters, e.g. `N` for village collective economic organisations (农业农村部门) or `Y` (other). The check
character is the standard's, computed by stdnum; the format check is ours and admits every authority.
"""

from __future__ import annotations

import re

from stdnum.cn.uscc import calc_check_digit

# GB 32100 alphabet: digits and capitals without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CHAR = f"[{ALPHABET}]"
FORMAT = re.compile(
    rf"^(?P<authority>{_CHAR})(?P<entity_type>{_CHAR})(?P<region>\d{{6}})(?P<organization>{_CHAR}{{9}})"
    rf"(?P<check>{_CHAR})$"
)


class InvalidCreditCode(ValueError):
    pass


def normalize(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper()


def validate_credit_code(code: str) -> str:
    """The normalized code, or InvalidCreditCode saying what is wrong."""
    code = normalize(code)
    if len(code) != 18:
        raise InvalidCreditCode("length")
    if FORMAT.match(code) is None:
        raise InvalidCreditCode("format")
    if calc_check_digit(code[:17]) != code[17]:
        raise InvalidCreditCode("check")
    return code


def with_check_character(first17: str) -> str:
    """Complete 17 characters with their check character (used by the demo data)."""
    return first17 + calc_check_digit(first17)
