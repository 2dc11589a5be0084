"""The bulk order workflow as data; `shop.workflow.apply_move` applies it.

Capacities: "purchaser", "approver" (of the same organization; never the submitter, which the service checks),
"admin" (the organization's), "job". Approval of an order above the organization's threshold takes two approvers:
the service asks for "approve_first" (→ first_approved) when a second one is needed, "approve" otherwise. After
"ordered" the bulk order lives as its order (payment, shipping, acceptance, refunds): cancelling it then cancels
the order, by the order's workflow.
"""

from __future__ import annotations

from shop.bulk.models import BulkOrderStatus as B
from shop.workflow import Move
from shop.workflow import move as _move

BULK_ORDER_TRANSITIONS: dict[tuple[str, str], Move] = {
    (B.DRAFT, "submit"): _move(B.SUBMITTED, "purchaser"),
    (B.SUBMITTED, "approve_first"): _move(B.FIRST_APPROVED, "approver"),
    (B.SUBMITTED, "approve"): _move(B.ORDERED, "approver"),
    (B.FIRST_APPROVED, "approve"): _move(B.ORDERED, "approver"),
    (B.SUBMITTED, "return"): _move(B.DRAFT, "approver", reason_required=True),
    (B.FIRST_APPROVED, "return"): _move(B.DRAFT, "approver", reason_required=True),
    (B.SUBMITTED, "reject"): _move(B.REJECTED, "approver", reason_required=True),
    (B.FIRST_APPROVED, "reject"): _move(B.REJECTED, "approver", reason_required=True),
    (B.DRAFT, "cancel"): _move(B.CANCELLED, "purchaser", "admin"),
    (B.SUBMITTED, "cancel"): _move(B.CANCELLED, "purchaser", "admin"),
    (B.FIRST_APPROVED, "cancel"): _move(B.CANCELLED, "purchaser", "admin"),
}
