"""The payment workflow as data; `shop.workflow.apply_move` applies it (conditional UPDATE, event appended).

Capacities: "shop" (the shop's own steps around a provider call: created, creation failed, retried, cancelled with
its order), "provider" (what the provider answered when asked), "job" (the reconcile job, the demo seed).
"""

from __future__ import annotations

from shop.payments.models import PaymentState as P
from shop.workflow import Move
from shop.workflow import move as _move

# Where the provider's answer about an intent leads, from any state that still waits for the buyer.
_ANSWERS = {
    "await_method": P.REQUIRES_PAYMENT_METHOD,
    "require_action": P.REQUIRES_ACTION,
    "process": P.PROCESSING,
    "fail": P.FAILED,
}
_WAITING = (P.CREATING, P.REQUIRES_PAYMENT_METHOD, P.REQUIRES_ACTION, P.PROCESSING, P.FAILED)

PAYMENT_TRANSITIONS: dict[tuple[str, str], Move] = {
    **{
        (origin, action): _move(to, "provider", "job")
        for origin in _WAITING
        for action, to in _ANSWERS.items()
        if origin != to
    },
    **{(origin, "succeed"): _move(P.SUCCEEDED, "provider", "job") for origin in _WAITING},
    **{(origin, "mismatch"): _move(P.AMOUNT_MISMATCH, "provider", "job") for origin in _WAITING},
    **{(origin, "decline"): _move(P.DECLINED, "provider") for origin in _WAITING if origin != P.CREATING},
    **{(origin, "cancel"): _move(P.CANCELED, "shop", "provider", "job") for origin in (*_WAITING, P.CREATE_FAILED)},
    (P.CREATING, "create_failed"): _move(P.CREATE_FAILED, "shop"),
    (P.CREATE_FAILED, "retry"): _move(P.CREATING, "shop", "job"),
    # Money for an attempt the shop had cancelled with its order: held, then given back by the reconcile job.
    (P.CANCELED, "arrive_late"): _move(P.REFUND_DUE, "provider", "job"),
    (P.DECLINED, "arrive_late"): _move(P.REFUND_DUE, "provider", "job"),
    (P.REFUND_DUE, "refund_late"): _move(P.REFUNDED_AFTER_CANCEL, "job"),
}
