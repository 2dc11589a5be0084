"""The benefit link's state machine as data.

`shop.households.links.LINK_WORKFLOW` gives this table to `shop.workflow`, whose `apply_move` is the one
function that moves a link; nothing else assigns a link's status.
"""

from __future__ import annotations

from enum import StrEnum

from shop.households.models import LinkStatus
from shop.workflow import Move
from shop.workflow import move as _move

# A link's weight is its part of the household share, relative to the cooperative's other links.
MAX_LINK_WEIGHT = 10000


class LinkAction(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    END = "end"


class LinkActor(StrEnum):
    COOPERATIVE = "cooperative"  # staff of the link's cooperative
    COUNTY_REVIEWER = "county_reviewer"  # of the household's county
    OPERATOR = "operator"


L, A, R = LinkStatus, LinkAction, LinkActor
LINK_TRANSITIONS: dict[tuple[LinkStatus, LinkAction], Move] = {
    (L.PROPOSED, A.CONFIRM): _move(L.CONFIRMED, R.COUNTY_REVIEWER, R.OPERATOR),
    (L.PROPOSED, A.REJECT): _move(L.REJECTED, R.COUNTY_REVIEWER, R.OPERATOR, reason_required=True),
    # The cooperative withdraws a proposal, or either side ends a confirmed link: later settlements skip it.
    (L.PROPOSED, A.END): _move(L.ENDED, R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR),
    (L.CONFIRMED, A.END): _move(L.ENDED, R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR),
}

# In which capacity an event names someone who holds several (a reviewer who also works for the cooperative).
LINK_CAPACITY_ORDER = (R.COUNTY_REVIEWER, R.OPERATOR, R.COOPERATIVE)
