"""The payout line's state machine as data; `shop.payouts.services.PAYOUT_LINE_WORKFLOW` applies it through
`shop.workflow`, the one mechanism that moves a state.

A line enters a batch in transit; the bank's answer moves it once, to paid or to failed. Only operators record
it (capacity "operator")."""

from __future__ import annotations

from enum import StrEnum

from shop.payouts.models import PayoutLineStatus as P
from shop.workflow import Move
from shop.workflow import move as _move


class PayoutLineAction(StrEnum):
    PAY = "pay"  # the bank confirmed the transfer
    FAIL = "fail"  # the bank returned it: the amount goes back to the payee's payable


PAYOUT_LINE_TRANSITIONS: dict[tuple[str, str], Move] = {
    (P.IN_TRANSIT, PayoutLineAction.PAY): _move(P.PAID, "operator"),
    (P.IN_TRANSIT, PayoutLineAction.FAIL): _move(P.FAILED, "operator"),
}

# The bank's answer for a line, as the API and the batch page name it, and the action that records it.
ACTION_FOR_OUTCOME = {P.PAID: PayoutLineAction.PAY, P.FAILED: PayoutLineAction.FAIL}
