"""Benefit links (利益联结) between cooperatives and households, and product sourcing (which linked households
a product's income is narrowed to): proposing, deciding and ending links, and who sees which of them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.catalog.services import get_product
from shop.cooperatives.models import Cooperative
from shop.cooperatives.services import require_manager
from shop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.households.labels import LINK_ACTION_LABELS, LINK_STATUS_LABELS
from shop.households.models import (
    ACTIVE_LINK_STATUSES,
    BenefitLink,
    BenefitLinkEvent,
    Household,
    LinkStatus,
    LinkType,
    ProductSourcing,
)
from shop.households.privacy import HouseholdView, household_view
from shop.households.registry import visible_household
from shop.households.rules import LINK_CAPACITY_ORDER, LINK_TRANSITIONS, MAX_LINK_WEIGHT, LinkAction, LinkActor
from shop.types import utcnow
from shop.workflow import Applied, Workflow, check_move, write_move


@dataclass(frozen=True)
class LinkView:
    """A link with its household as the viewer may see it."""

    id: int
    cooperative_id: int
    cooperative_name: str
    household: HouseholdView
    link_type: str
    weight: int
    status: str
    note: str
    proposed_at: object
    decided_at: object
    decision_note: str
    allowed_actions: list[str]
    history: list[LinkEventView]


@dataclass(frozen=True)
class LinkEventView:
    """One step of a link's history: to which status, in which capacity, when, why (the actor's id stays in
    the database for audits)."""

    to_status: str
    actor_role: str
    note: str
    at: object


def link_view(user: User, link: BenefitLink) -> LinkView:
    cooperative = db.session.get(Cooperative, link.cooperative_id)
    return LinkView(
        id=link.id,
        cooperative_id=link.cooperative_id,
        cooperative_name=cooperative.name if cooperative else "",
        household=household_view(user, link.household),
        link_type=link.link_type,
        weight=link.weight,
        status=link.status,
        note=link.note,
        proposed_at=link.proposed_at,
        decided_at=link.decided_at,
        decision_note=link.decision_note,
        allowed_actions=allowed_link_actions(user, link),
        history=[LinkEventView(e.to_status, e.actor_role, e.note, e.at) for e in link.events],
    )


def _check_link_fields(link_type: str, weight) -> None:
    if link_type not in {t.value for t in LinkType}:
        raise ValidationFailed.on("link_type", _("Unknown type of benefit link."))
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_LINK_WEIGHT:
        raise ValidationFailed.on("weight", _("A whole number from 1 to %(n)d.", n=MAX_LINK_WEIGHT))


def propose_link(
    actor: User, cooperative_id: int, registry_number: str, link_type: str, weight: int = 1, note: str = ""
) -> BenefitLink:
    """A cooperative proposes a link to a household it names by registry number; the county confirms it.

    The answer shows the household masked: naming a registry number teaches its proposer nothing personal."""
    require_manager(actor, cooperative_id)
    _check_link_fields(link_type, weight)
    registry_number = (registry_number or "").strip()
    household = db.session.scalar(select(Household).where(Household.registry_number == registry_number))
    if household is None:
        raise ValidationFailed.on("registry_number", _("No household has this registry number."))
    if len(note or "") > 1000:
        raise ValidationFailed.on("note", _("At most %(n)d characters.", n=1000))
    duplicate = db.session.scalar(
        select(BenefitLink.id).where(
            BenefitLink.cooperative_id == cooperative_id,
            BenefitLink.household_id == household.id,
            BenefitLink.link_type == link_type,
            BenefitLink.status.in_(ACTIVE_LINK_STATUSES),
        )
    )
    if duplicate is not None:
        raise _duplicate_link()
    link = BenefitLink(
        cooperative_id=cooperative_id,
        household_id=household.id,
        link_type=link_type,
        weight=weight,
        status=LinkStatus.PROPOSED,
        note=(note or "").strip(),
        proposed_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():  # a concurrent identical proposal loses on the unique index, cleanly
            db.session.add(link)
            db.session.flush()
    except IntegrityError:
        raise _duplicate_link() from None
    # The proposal creates the link: its first event, from no status (not a move of the table).
    capacities = link_actors(actor, link)
    capacity = LINK_WORKFLOW.first_capacity(capacities) if capacities else ""
    db.session.add(_link_event(link, "", LinkStatus.PROPOSED, actor, capacity, link.note))
    db.session.flush()
    return link


def _record_link_move(applied: Applied) -> BenefitLinkEvent:
    """The event of a link's move (shop.workflow appends it): who, in which capacity, when, from, to, why."""
    return _link_event(
        applied.row, applied.origin, applied.to, applied.actor, applied.capacity, applied.reason, at=applied.at
    )


def _link_event(
    link: BenefitLink, origin: str, to: str, actor: User | None, capacity: str, note: str, at=None
) -> BenefitLinkEvent:
    return BenefitLinkEvent(
        link_id=link.id,
        from_status=origin,
        to_status=to,
        actor_id=actor.id if actor is not None else None,
        actor_role=capacity,
        note=note,
        at=at or utcnow(),
    )


LINK_WORKFLOW = Workflow(
    "benefit_link",
    BenefitLink,
    LINK_TRANSITIONS,
    record=_record_link_move,
    state_labels=LINK_STATUS_LABELS,
    action_labels=LINK_ACTION_LABELS,
    refusal=lambda _action: _(
        "Only the county reviewers of the household's county (or operators) decide on this link."
    ),
    lost_race=lambda: _("Someone else acted on this link just now; reload it."),
    capacity_order=LINK_CAPACITY_ORDER,
)


def _duplicate_link() -> Conflict:
    return Conflict(
        _("This cooperative already has such a link with this household (proposed or confirmed)."),
        fields={"registry_number": [_("Already linked.")]},
    )


def link_actors(user: User | None, link: BenefitLink) -> set[LinkActor]:
    """In which capacities this user may act on this link."""
    if user is None or not user.is_authenticated:
        return set()
    actors = set()
    if user.has_role(Role.OPERATOR):
        actors.add(LinkActor.OPERATOR)
    if link.household.county_code in user.region_codes(Role.COUNTY_REVIEWER):
        actors.add(LinkActor.COUNTY_REVIEWER)
    if link.cooperative_id in user.cooperative_ids():
        actors.add(LinkActor.COOPERATIVE)
    return actors


def allowed_link_actions(user: User | None, link: BenefitLink) -> list[str]:
    return LINK_WORKFLOW.actions_for(link.status, link_actors(user, link))


def apply_link_action(actor: User, link_id: int, action: LinkAction | str, note: str = "") -> BenefitLink:
    """Confirm, reject or end a link, by the one transition mechanism (shop.workflow): who acts is checked
    before the state (an outsider learns nothing of it), then the move; the status is written by a conditional
    UPDATE, so of two reviewers acting at once one wins and the other gets a 409; the event says who, in which
    capacity, when, from, to and why."""
    if str(action) not in LINK_WORKFLOW.actions:  # before looking the link up, as the action comes from the URL
        raise ValidationFailed.on("action", _("Unknown action."))
    note = (note or "").strip()
    link = db.session.get(BenefitLink, link_id)
    if link is None:
        raise NotFound(_("No such benefit link."))
    checked = check_move(LINK_WORKFLOW, link, action, actor=actor, capacities=link_actors(actor, link), reason=note)
    if len(note) > 1000:
        raise ValidationFailed.on("note", _("At most %(n)d characters.", n=1000))
    # The decision (who confirmed or rejected, when) stays on the link; every move is also an event.
    decision = {"decided_by_id": actor.id, "decided_at": utcnow(), "decision_note": note}
    write_move(checked, **({} if checked.action == LinkAction.END else decision))
    db.session.flush()
    db.session.expire(link)  # its events were read again when the event was made: read them with the new one
    return link


def get_link(user: User, link_id: int) -> BenefitLink:
    link = db.session.get(BenefitLink, link_id)
    if link is None:
        raise NotFound(_("No such benefit link."))
    if not link_actors(user, link):
        raise NotAllowed(_("This link is not of your cooperative or your county."))
    return link


def links_of_cooperative(actor: User, cooperative_id: int) -> list[BenefitLink]:
    require_manager(actor, cooperative_id)
    return list(
        db.session.scalars(
            select(BenefitLink)
            .where(BenefitLink.cooperative_id == cooperative_id)
            .options(joinedload(BenefitLink.household))
            .order_by(BenefitLink.id.desc())
        )
    )


def links_of_household(user: User, household_id: int) -> list[BenefitLink]:
    household = visible_household(user, household_id)
    query = select(BenefitLink).where(BenefitLink.household_id == household.id).order_by(BenefitLink.id.desc())
    if not (user.has_role(Role.OPERATOR) or household.county_code in user.region_codes(Role.COUNTY_REVIEWER)):
        # Others see only the links of the cooperatives they work for.
        query = query.where(BenefitLink.cooperative_id.in_(user.cooperative_ids()))
    return list(db.session.scalars(query))


def list_links(user: User, status: str | None = None) -> list[BenefitLink]:
    """Links the user may act on: operators all, county reviewers their counties', staff their cooperatives'."""
    query = select(BenefitLink).join(BenefitLink.household).options(joinedload(BenefitLink.household))
    if not user.has_role(Role.OPERATOR):
        query = query.where(
            or_(
                Household.county_code.in_(user.region_codes(Role.COUNTY_REVIEWER)),
                BenefitLink.cooperative_id.in_(user.cooperative_ids()),
            )
        )
    if status:
        query = query.where(BenefitLink.status == status)
    return list(db.session.scalars(query.order_by(BenefitLink.proposed_at, BenefitLink.id).limit(500)))


def pending_links(user: User) -> list[BenefitLink]:
    """Proposals waiting for this reviewer's decision (their counties; operators all), oldest first."""
    query = (
        select(BenefitLink)
        .join(BenefitLink.household)
        .options(joinedload(BenefitLink.household))
        .where(BenefitLink.status == LinkStatus.PROPOSED)
        .order_by(BenefitLink.proposed_at, BenefitLink.id)
    )
    if not user.has_role(Role.OPERATOR):
        query = query.where(Household.county_code.in_(user.region_codes(Role.COUNTY_REVIEWER)))
    return list(db.session.scalars(query.limit(500)))


# --- Product sourcing ---------------------------------------------------------------------------------


def managed_product(actor: User, product_id: int) -> Product:
    """A product whose cooperative this user manages (its staff, or an operator)."""
    product = get_product(product_id)
    require_manager(actor, product.cooperative_id)
    return product


def linked_households(actor: User, cooperative_id: int) -> list[HouseholdView]:
    """The households with a proposed or confirmed link to this cooperative (what a product may narrow to)."""
    require_manager(actor, cooperative_id)
    linked = select(BenefitLink.household_id).where(
        BenefitLink.cooperative_id == cooperative_id, BenefitLink.status.in_(ACTIVE_LINK_STATUSES)
    )
    rows = db.session.scalars(select(Household).where(Household.id.in_(linked)).order_by(Household.registry_number))
    return [household_view(actor, h) for h in rows]


def sourcing_of(actor: User, product_id: int) -> list[int]:
    """The households a product's income is narrowed to (empty: all the cooperative's confirmed links)."""
    managed_product(actor, product_id)
    return list(
        db.session.scalars(
            select(ProductSourcing.household_id)
            .where(ProductSourcing.product_id == product_id)
            .order_by(ProductSourcing.household_id)
        )
    )


def set_product_sourcing(actor: User, product_id: int, household_ids: list[int]) -> list[int]:
    """Narrow a product's household share to some of its cooperative's linked households (empty list: all)."""
    product = managed_product(actor, product_id)
    wanted = sorted(set(household_ids))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in wanted):
        raise ValidationFailed.on("household_ids", _("A list of household ids."))
    linked = set(
        db.session.scalars(
            select(BenefitLink.household_id).where(
                BenefitLink.cooperative_id == product.cooperative_id,
                BenefitLink.household_id.in_(wanted),
                BenefitLink.status.in_(ACTIVE_LINK_STATUSES),
            )
        )
    )
    strangers = [i for i in wanted if i not in linked]
    if strangers:
        raise ValidationFailed.on(
            "household_ids",
            _(
                "Not linked to the product's cooperative: %(ids)s.",
                ids=", ".join(str(i) for i in strangers),
            ),
        )
    db.session.execute(delete(ProductSourcing).where(ProductSourcing.product_id == product_id))
    db.session.add_all(ProductSourcing(product_id=product_id, household_id=i) for i in wanted)
    db.session.flush()
    return wanted
