"""One rule each: the order reference (written and read back by one pair of functions) and checkout totals (the
page and the written order use the same function)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from shop.orders.totals import checkout_totals
from shop.references import order_id_from_reference, order_reference


@pytest.mark.parametrize("order_id", [1, 42, 99_999_999, 100_000_000, 2**31 - 1])
def test_a_reference_reads_back_as_its_order(order_id):
    reference = order_reference(order_id)
    assert reference.startswith("FO") and len(reference) >= 10
    assert order_id_from_reference(reference) == order_id


def test_order_42_is_fo00000042():
    assert order_reference(42) == "FO00000042"


@pytest.mark.parametrize("text", [None, "", "FO", "FOabc", "fo00000042", "XO00000042", "FO-1", "FO" + "9" * 19])
def test_what_is_no_reference_names_no_order(text):
    assert order_id_from_reference(text) is None


def _cooperative(cid, free_from):
    return SimpleNamespace(id=cid, shipping_fee_for=lambda items: 0 if items >= free_from else 800)


def _line(pid, cooperative, price, quantity):
    product = SimpleNamespace(id=pid, cooperative_id=cooperative.id, cooperative=cooperative, price_fen=price)
    return SimpleNamespace(product=product, quantity=quantity)


def test_checkout_totals_split_by_cooperative_with_each_ones_shipping_rule():
    peaches, eggs = _cooperative(1, free_from=10_000), _cooperative(2, free_from=5_000)
    lines = [_line(10, peaches, 8800, 2), _line(20, eggs, 1200, 1), _line(11, peaches, 500, 1)]
    totals = checkout_totals(lines)
    assert [(p.cooperative.id, [line.product.id for line in p.lines]) for p in totals.parts] == [
        (1, [10, 11]),
        (2, [20]),
    ]
    assert [(p.items_fen, p.shipping_fen) for p in totals.parts] == [(18100, 0), (1200, 800)]
    assert (totals.items_fen, totals.shipping_fen, totals.total_fen) == (19300, 800, 20100)
    assert checkout_totals([]).total_fen == 0
