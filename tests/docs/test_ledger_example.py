"""The worked example of docs/ledger.md is what the code computes: the split of the settled line and the reversal
of a refund after settlement, to the fen, as the page's tables show them."""

from __future__ import annotations

from pathlib import Path

from shop.ledger.models import Part
from shop.settlement.rules import LinkWeight, split_line, split_reversal

LEDGER_MD = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"

# Household 7 through link 21 (weight 2); household 9 through links 30 and 31 (weight 1 each).
LINKS = [LinkWeight(31, 9, 1), LinkWeight(21, 7, 2), LinkWeight(30, 9, 1)]
LINE_FEN, FEE_BP, HOUSEHOLD_BP, REFUND_FEN = 8970, 300, 1500, 2990

SETTLED = [
    ("`platform_fee` (fee)", Part.FEE, None, 269),
    ("`household_payable:7` (household, link 21)", Part.HOUSEHOLD, 21, 673),
    ("`household_payable:9` (household, link 30)", Part.HOUSEHOLD, 30, 337),
    ("`household_payable:9` (household, link 31)", Part.HOUSEHOLD, 31, 336),
    ("`cooperative_payable:3` (cooperative)", Part.COOPERATIVE, None, 7355),
]
TAKEN_BACK = [90, 224, 112, 112, 2452]  # in the order of SETTLED


def worked_example() -> str:
    text = LEDGER_MD.read_text(encoding="utf-8")
    start = text.index("### A worked example, to the fen")
    return text[start : text.index("\n### ", start + 1)]


def test_the_settled_line_splits_as_the_page_says():
    parts = split_line(LINE_FEN, FEE_BP, HOUSEHOLD_BP, LINKS)
    assert [(p.part, p.link_id, p.amount_fen) for p in parts] == [(part, link, fen) for _, part, link, fen in SETTLED]
    assert sum(p.amount_fen for p in parts) == LINE_FEN


def test_the_refund_after_settlement_takes_back_what_the_page_says():
    taken = split_reversal(REFUND_FEN, [fen for *_, fen in SETTLED])
    assert taken == TAKEN_BACK
    assert sum(taken) == REFUND_FEN


def test_the_page_shows_these_amounts_in_its_tables():
    rows = [line for line in worked_example().splitlines() if line.startswith("| ")]
    for (label, _part, _link, given), back in zip(SETTLED, TAKEN_BACK, strict=True):
        assert f"| {label} | | {given} |" in rows, label
        assert f"| {label} | {back} | |" in rows, label
    assert f"| total | {LINE_FEN} | {LINE_FEN} |" in rows
    assert f"| total | {REFUND_FEN} | {REFUND_FEN} |" in rows
