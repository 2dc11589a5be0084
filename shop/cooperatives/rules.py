"""The cooperative's own state machine as data; `shop.workflow.apply_move` applies it.

Suspension is the operators' decision; the reason stays on the cooperative (its pages show it).
"""

from __future__ import annotations

from shop.cooperatives.models import CooperativeStatus
from shop.workflow import Move, move

COOPERATIVE_TRANSITIONS: dict[tuple[str, str], Move] = {
    (CooperativeStatus.ACTIVE, "suspend"): move(CooperativeStatus.SUSPENDED, "operator", reason_required=True),
    (CooperativeStatus.SUSPENDED, "reinstate"): move(CooperativeStatus.ACTIVE, "operator"),
}
