"""Unified social credit codes: real published codes pass; malformed ones are refused with the reason."""

import pytest
from stdnum.cn import uscc

from shop.cooperatives.credit_code import InvalidCreditCode, validate_credit_code, with_check_character

# Codes printed on the business licences of well-known companies (public registry data).
REAL_CODES = [
    "914403001922038216",  # Huawei Technologies Co., Ltd.
    "9144030071526726XG",  # Shenzhen Tencent Computer Systems Co., Ltd.
    "91330100716105852F",  # Alibaba (China) Co., Ltd.
    "91110108551385082Q",  # Beijing Xiaomi Technology Co., Ltd.
    "91110000600037341L",  # the example of python-stdnum's documentation
]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert validate_credit_code(code) == code


def test_spaces_dashes_and_lower_case_are_normalized():
    assert validate_credit_code(" 9144 0300-7152 6726xg ") == "9144030071526726XG"


def test_village_collective_codes_with_authority_N_are_admitted_although_stdnum_refuses_them():
    code = with_check_character("N2131124MF0000001")
    assert validate_credit_code(code) == code
    assert not uscc.is_valid(code)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91440300192203821", "length"),
        ("9144030019220382166", "length"),
        ("", "length"),
        ("914403001922038217", "check"),  # one character changed
        ("9144030071526726XH", "check"),
        ("91440A001922038216", "format"),  # letters where the region code's digits stand
        ("9144030019220382I6", "format"),  # I is not in the alphabet
        ("O14403001922038216", "format"),
    ],
)
def test_malformed_codes_are_refused_with_the_reason(code, reason):
    with pytest.raises(InvalidCreditCode) as refused:
        validate_credit_code(code)
    assert str(refused.value) == reason
