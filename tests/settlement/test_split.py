"""The largest-remainder split and the split of a settled line: properties that hold for every input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.ledger.models import Part
from shop.ledger.split import largest_remainder
from shop.settlement.rules import LinkWeight, split_line, split_reversal

amounts = st.integers(min_value=0, max_value=10**12)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=25).filter(lambda w: sum(w) > 0)


@given(amounts, weight_lists)
def test_parts_sum_to_the_whole_and_none_is_negative(amount, weights):
    parts = largest_remainder(amount, weights)
    assert sum(parts) == amount
    assert all(part >= 0 for part in parts)


@given(amounts, weight_lists)
def test_each_part_is_within_one_fen_of_its_exact_share(amount, weights):
    total = sum(weights)
    for part, weight in zip(largest_remainder(amount, weights), weights, strict=True):
        exact_times_total = amount * weight
        assert abs(part * total - exact_times_total) < total  # |part − exact| < 1 fen
        if weight == 0:
            assert part == 0


@given(amounts, weight_lists)
def test_the_split_is_stable(amount, weights):
    assert largest_remainder(amount, weights) == largest_remainder(amount, list(weights))


def test_ties_go_to_the_earlier_part():
    assert largest_remainder(1, [1, 1, 1]) == [1, 0, 0]
    assert largest_remainder(2, [1, 1, 1]) == [1, 1, 0]
    assert largest_remainder(5, [1, 2]) == [2, 3]  # 5/3 and 10/3: remainders 2 and 1, the first takes the fen


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        largest_remainder(-1, [1])
    with pytest.raises(ValueError):
        largest_remainder(10, [0, 0])


links = st.lists(
    st.tuples(st.integers(1, 50), st.integers(1, 1000)), min_size=0, max_size=20, unique_by=lambda t: t[0]
).map(lambda pairs: [LinkWeight(link_id=100 + i, household_id=h, weight=w) for i, (h, w) in enumerate(pairs)])
shares = st.tuples(st.integers(0, 10000), st.integers(0, 10000)).filter(lambda t: sum(t) <= 10000)


@given(amounts, shares, links)
def test_a_line_splits_exactly_with_no_zero_part(amount, fee_and_households, link_list):
    fee_bp, household_bp = fee_and_households
    parts = split_line(amount, fee_bp, household_bp, link_list)
    assert sum(part.amount_fen for part in parts) == amount
    assert all(part.amount_fen > 0 for part in parts)
    household_parts = [part for part in parts if part.part == Part.HOUSEHOLD]
    if not link_list:
        assert household_parts == []
    keys = [(part.household_id, part.link_id) for part in household_parts]
    assert keys == sorted(keys)  # households in id order, then link id


def test_without_links_the_household_share_goes_to_the_cooperative():
    assert [(p.part, p.amount_fen) for p in split_line(10000, 0, 1000, [])] == [(Part.COOPERATIVE, 10000)]


def test_a_household_with_two_links_gets_two_parts():
    parts = split_line(
        10000,
        0,
        1000,
        [LinkWeight(link_id=2, household_id=7, weight=1), LinkWeight(link_id=1, household_id=7, weight=1)],
    )
    assert [(p.link_id, p.amount_fen) for p in parts if p.part == Part.HOUSEHOLD] == [(1, 500), (2, 500)]


def test_shares_above_the_whole_are_refused():
    with pytest.raises(ValueError):
        split_line(100, 6000, 5000, [])


@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=20).filter(lambda r: sum(r) > 0),
    st.lists(st.integers(1, 10**6), max_size=8),
)
def test_refunds_never_take_back_more_than_a_part_holds_and_all_of_them_add_up(remaining, refund_sizes):
    holding = list(remaining)
    # Some partial refunds, then one of everything left: every part ends at exactly zero.
    for refund in [*(min(size, sum(holding)) for size in refund_sizes), None]:
        refund = sum(holding) if refund is None else min(refund, sum(holding))
        taken = split_reversal(refund, holding)
        assert sum(taken) == refund
        assert all(0 <= t <= h for t, h in zip(taken, holding, strict=True))
        holding = [h - t for h, t in zip(holding, taken, strict=True)]
    assert holding == [0] * len(remaining)


def test_three_one_fen_refunds_of_a_line_split_one_one_one():
    holding = [1, 1, 1]
    for _ in range(3):
        taken = split_reversal(1, holding)
        holding = [h - t for h, t in zip(holding, taken, strict=True)]
    assert holding == [0, 0, 0]
    with pytest.raises(ValueError):
        split_reversal(1, holding)
