"""The pure rules: masking, the link transition table, the share limit."""

from __future__ import annotations

import pytest

from shop.households.models import LinkStatus
from shop.households.privacy import mask_account_number, mask_id_number, mask_name
from shop.households.rules import LINK_TRANSITIONS, LinkAction, LinkActor
from shop.settlement.rules import share_problem


@pytest.mark.parametrize(
    ("name", "masked"), [("李四光", "李**"), ("李四", "李*"), ("李", "李*"), ("欧阳娜娜", "欧***"), ("", "")]
)
def test_a_name_keeps_only_its_first_character(name, masked):
    assert mask_name(name) == masked


def test_an_id_number_keeps_its_first_and_last_four_characters():
    assert mask_id_number("13112419800101123X") == "1311**********123X"
    assert mask_account_number("6228480012345678") == "6228********5678"
    assert mask_account_number("12345678") == "********"  # too short to show both ends: nothing shown
    assert mask_id_number(None) == ""


S, A, R = LinkStatus, LinkAction, LinkActor


@pytest.mark.parametrize(
    ("origin", "action", "to", "actors"),
    [
        (S.PROPOSED, A.CONFIRM, S.CONFIRMED, {R.COUNTY_REVIEWER, R.OPERATOR}),
        (S.PROPOSED, A.REJECT, S.REJECTED, {R.COUNTY_REVIEWER, R.OPERATOR}),
        (S.PROPOSED, A.END, S.ENDED, {R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR}),
        (S.CONFIRMED, A.END, S.ENDED, {R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR}),
    ],
)
def test_each_move_of_the_link_table(origin, action, to, actors):
    move = LINK_TRANSITIONS[(origin, action)]
    assert move.to == to and move.actors == actors
    assert move.reason_required == (action == A.REJECT)


@pytest.mark.parametrize(
    ("origin", "action"),
    [
        (S.CONFIRMED, A.CONFIRM),
        (S.CONFIRMED, A.REJECT),
        (S.REJECTED, A.CONFIRM),
        (S.REJECTED, A.END),
        (S.ENDED, A.CONFIRM),
        (S.ENDED, A.END),
    ],
)
def test_forbidden_link_moves_are_not_in_the_table(origin, action):
    assert (origin, action) not in LINK_TRANSITIONS


def test_a_cooperative_never_confirms_its_own_link():
    assert all(R.COOPERATIVE not in m.actors for (_s, a), m in LINK_TRANSITIONS.items() if a == A.CONFIRM)


@pytest.mark.parametrize(
    ("share", "fee", "nullable", "problem"),
    [
        (1000, 0, False, None),
        (10000, 0, False, None),
        (0, 0, False, None),
        (-1, 0, False, "range"),
        (10001, 0, False, "range"),
        (True, 0, False, "range"),
        (9501, 500, False, "over_total"),
        (9500, 500, False, None),
        (None, 0, False, "range"),
        (None, 9000, True, None),
    ],
)
def test_share_limits(share, fee, nullable, problem):
    assert share_problem(share, fee, nullable=nullable) == problem


def _id(body: str) -> str:
    from stdnum.cn import ric

    return body + ric.calc_check_digit(body + "?")


def test_id_numbers_are_checked_by_length_check_digit_and_birth_date():
    from datetime import date

    from stdnum.exceptions import ValidationError

    from shop.households.csv_import import validate_id_number

    born_before_the_county_code = _id("13112419600101001")  # 饶阳 131124 exists since 1996; IDs since 1999
    assert validate_id_number(born_before_the_county_code.lower()) == born_before_the_county_code
    bad_check = born_before_the_county_code[:17] + ("0" if born_before_the_county_code[17] != "0" else "1")
    for wrong in (bad_check, _id("13112419800231001"), _id("13112420990101001"), "1311241980", "abc"):
        with pytest.raises(ValidationError):
            validate_id_number(wrong, today=date(2026, 6, 1))
