"""The benefit link's state machine as data (no database, no Flask).

`shop.households.links.apply_link_action` is the one function that applies a move; nothing else assigns
a link's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shop.households.models import LinkStatus

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


@dataclass(frozen=True)
class Move:
    to: LinkStatus
    actors: frozenset[LinkActor]
    note_required: bool = False


def _move(to: LinkStatus, *actors: LinkActor, note_required: bool = False) -> Move:
    return Move(to, frozenset(actors), note_required)


L, A, R = LinkStatus, LinkAction, LinkActor
LINK_TRANSITIONS: dict[tuple[LinkStatus, LinkAction], Move] = {
    (L.PROPOSED, A.CONFIRM): _move(L.CONFIRMED, R.COUNTY_REVIEWER, R.OPERATOR),
    (L.PROPOSED, A.REJECT): _move(L.REJECTED, R.COUNTY_REVIEWER, R.OPERATOR, note_required=True),
    # The cooperative withdraws a proposal, or either side ends a confirmed link: later settlements skip it.
    (L.PROPOSED, A.END): _move(L.ENDED, R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR),
    (L.CONFIRMED, A.END): _move(L.ENDED, R.COOPERATIVE, R.COUNTY_REVIEWER, R.OPERATOR),
}
