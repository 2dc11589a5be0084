"""Use cases of households: the registry and its CSV import, benefit links, product sourcing, household shares.

Who may see which household is decided here (`household_scope`); how much of it they see is decided by
`shop.households.privacy`. Every answer about a household goes out as a `HouseholdView`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.cooperatives.services import require_manager
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, PayloadTooLarge, ValidationFailed
from shop.extensions import db
from shop.households import csv_import
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
from shop.households.rules import LINK_TRANSITIONS, LinkAction, LinkActor, share_problem
from shop.regions.models import Region
from shop.types import utcnow

MAX_WEIGHT = 10000
MAX_PER_PAGE = 100
# Links that let a cooperative's staff see the (masked) household: not a rejected proposal.
VISIBLE_LINK_STATUSES = (LinkStatus.PROPOSED, LinkStatus.CONFIRMED, LinkStatus.ENDED)


# --- Who sees which household -----------------------------------------------------------------------


def household_scope(user: User) -> ColumnElement[bool]:
    """The households a user may see at all (masked or not): operators all; county reviewers their
    counties; province reviewers their provinces; cooperative staff the households linked to their cooperative."""
    if user.has_role(Role.OPERATOR):
        return sa.true()
    conditions: list[ColumnElement[bool]] = []
    counties = user.region_codes(Role.COUNTY_REVIEWER)
    if counties:
        conditions.append(Household.county_code.in_(counties))
    provinces = [code[:2] for code in user.region_codes(Role.PROVINCE_REVIEWER)]
    if provinces:
        conditions.append(func.substr(Household.county_code, 1, 2).in_(provinces))
    cooperatives = user.cooperative_ids()
    if cooperatives:
        conditions.append(
            Household.id.in_(
                select(BenefitLink.household_id).where(
                    BenefitLink.cooperative_id.in_(cooperatives), BenefitLink.status.in_(VISIBLE_LINK_STATUSES)
                )
            )
        )
    return or_(*conditions) if conditions else sa.false()


def may_import(user: User) -> bool:
    return user.has_role(Role.OPERATOR) or bool(user.region_codes(Role.COUNTY_REVIEWER))


def may_import_into(user: User, county_code: str) -> bool:
    return user.has_role(Role.OPERATOR) or county_code in user.region_codes(Role.COUNTY_REVIEWER)


def _visible_household(user: User, household_id: int) -> Household:
    household = db.session.scalar(select(Household).where(Household.id == household_id, household_scope(user)))
    if household is None:
        raise NotFound(_("No such household."))
    return household


def get_household(user: User, household_id: int) -> HouseholdView:
    """One household as this user may see it; 404 when it is outside their scope."""
    return household_view(user, _visible_household(user, household_id))


@dataclass(frozen=True)
class HouseholdPage:
    items: list[HouseholdView]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_households(
    user: User,
    *,
    county_code: str | None = None,
    township: str | None = None,
    village: str | None = None,
    status: str | None = None,
    q: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> HouseholdPage:
    """Households in the user's scope, filtered; `q` matches the start of a registry number only, never a
    name or ID number (that would let a masked viewer probe personal data)."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    query = select(Household).where(household_scope(user))
    if county_code:
        query = query.where(Household.county_code == county_code)
    if township:
        query = query.where(Household.township == township.strip())
    if village:
        query = query.where(Household.village == village.strip())
    if status:
        query = query.where(Household.status == status)
    if q:
        query = query.where(Household.registry_number.startswith(q.strip(), autoescape=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Household.county_code, Household.registry_number).limit(per_page).offset((page - 1) * per_page)
    )
    return HouseholdPage([household_view(user, h) for h in rows], total, page, per_page)


def counties_in_scope(user: User) -> list[Region]:
    """The counties with households this user may see (for the list's filter)."""
    codes = select(Household.county_code).where(household_scope(user)).distinct()
    return list(db.session.scalars(select(Region).where(Region.code.in_(codes)).order_by(Region.code)))


# --- Import from the county office's CSV --------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    registry_number: str
    fields: dict[str, list[str]]


@dataclass
class ImportReport:
    encoding: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def import_households(actor: User, data: bytes) -> ImportReport:
    """Import a registry CSV (UTF-8, UTF-8 with BOM or GBK; Chinese or English headers).

    Each good row is written in its own savepoint, so a bad row never blocks the good ones and is never
    half-written; the report names every bad row (its line in the file) and what is wrong with it.
    A registry number already stored is updated in place (the county office's newer export is the truth),
    provided it stays in the same county; a county reviewer imports only into their own county.
    """
    if not may_import(actor):
        raise NotAllowed(_("Only county reviewers and operators import households."))
    if len(data) > current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"]:
        raise PayloadTooLarge(
            _("The file is too large (at most %(n)d KB).", n=current_app.config["HOUSEHOLD_IMPORT_MAX_BYTES"] // 1024),
            fields={"file": [_("The file is too large.")]},
        )
    try:
        text, encoding = csv_import.decode(data)
        rows = csv_import.read_rows(text)
    except csv_import.UnreadableFile as error:
        raise ValidationFailed.on("file", str(error)) from None
    max_rows = current_app.config["HOUSEHOLD_IMPORT_MAX_ROWS"]
    if len(rows) > max_rows:
        raise PayloadTooLarge(
            _("The file has %(rows)d rows; import at most %(n)d at a time.", rows=len(rows), n=max_rows),
            fields={"file": [_("Too many rows.")]},
        )
    report = ImportReport(encoding=encoding, rows=len(rows))
    counties = _county_codes({row.raw["county_code"] for row in rows})
    seen_registry: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    for row in rows:
        csv_import.check_row(row)
        _check_row_scope(actor, row, counties, seen_registry, seen_id)
        if not row.errors:
            try:
                # On SQLite the savepoint may be the outermost transaction and commit on release; each row is
                # still all-or-nothing, which is the promise made here.
                with db.session.begin_nested():
                    created = _write_row(row.values)
            except ValidationFailed as error:
                row.errors.update(error.fields)
            except IntegrityError:
                row.error("registry_number", _("Another import wrote this household just now; import the row again."))
            else:
                report.created += created
                report.updated += not created
                seen_registry[row.values["registry_number"]] = row.line
                seen_id[row.values["id_number"]] = row.line
        if row.errors:
            report.errors.append(RowError(row.line, row.raw["registry_number"], row.errors))
    return report


def _county_codes(codes: set[str]) -> set[str]:
    """Which of these codes are counties (the import checks each row against this, not one query a row)."""
    found = db.session.scalars(select(Region.code).where(Region.code.in_(codes), Region.level == "county"))
    return set(found)


def _check_row_scope(
    actor: User, row: csv_import.ParsedRow, counties: set[str], seen_registry: dict, seen_id: dict
) -> None:
    raw = row.raw
    county_code = raw["county_code"]
    if county_code and "county_code" not in row.errors:
        if county_code not in counties:
            row.error("county_code", _("Unknown county code %(code)s.", code=county_code))
        elif not may_import_into(actor, county_code):
            row.error("county_code", _("You may import households of your own county only."))
    if raw["registry_number"] in seen_registry:
        row.error(
            "registry_number", _("Repeats the household of line %(line)d.", line=seen_registry[raw["registry_number"]])
        )
    id_number = row.values.get("id_number") if row.values else None
    if id_number in seen_id:
        row.error("id_number", _("The same ID number as line %(line)d.", line=seen_id[id_number]))


def _write_row(values: dict) -> bool:
    """Create or update one household from a checked row; True when it was created."""
    household = db.session.scalar(
        select(Household).where(Household.registry_number == values["registry_number"]).with_for_update()
    )
    if household is not None and household.county_code != values["county_code"]:
        raise ValidationFailed.on(
            "county_code",
            _(
                "This registry number belongs to a household of county %(code)s; it cannot move county by import.",
                code=household.county_code,
            ),
        )
    clash = db.session.scalar(
        select(Household.id).where(
            Household.id_number == values["id_number"],
            Household.registry_number != values["registry_number"],
        )
    )
    if clash is not None:
        raise ValidationFailed.on("id_number", _("Another household is registered with this ID number."))
    created = household is None
    if created:
        household = Household(**values)
        db.session.add(household)
    else:
        for name, value in values.items():
            setattr(household, name, value)
    db.session.flush()
    return created


# --- Benefit links ------------------------------------------------------------------------------------


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
        allowed_actions=[a.value for a in allowed_link_actions(user, link)],
        history=[LinkEventView(e.to_status, e.actor_role, e.note, e.at) for e in link.events],
    )


def _check_link_fields(link_type: str, weight) -> None:
    if link_type not in {t.value for t in LinkType}:
        raise ValidationFailed.on("link_type", _("Unknown type of benefit link."))
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise ValidationFailed.on("weight", _("A whole number from 1 to %(n)d.", n=MAX_WEIGHT))


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
    _record_link_event(link, "", LinkStatus.PROPOSED, actor, link_actors(actor, link), link.note)
    return link


# In which capacity an event says someone acted, when they hold several.
_ACTOR_PRECEDENCE = (LinkActor.COUNTY_REVIEWER, LinkActor.OPERATOR, LinkActor.COOPERATIVE)


def _record_link_event(
    link: BenefitLink, origin: str, to: str, actor: User, capacities: set[LinkActor], note: str
) -> None:
    role = next((r for r in _ACTOR_PRECEDENCE if r in capacities), "")
    db.session.add(
        BenefitLinkEvent(
            link_id=link.id, from_status=origin, to_status=to, actor_id=actor.id, actor_role=role, note=note
        )
    )
    db.session.flush()


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


def allowed_link_actions(user: User | None, link: BenefitLink) -> list[LinkAction]:
    actors = link_actors(user, link)
    return [
        action for (status, action), move in LINK_TRANSITIONS.items() if status == link.status and move.actors & actors
    ]


def apply_link_action(actor: User, link_id: int, action: LinkAction | str, note: str = "") -> BenefitLink:
    """Confirm, reject or end a link: checks who acts, then the move; writes the status by a conditional
    UPDATE (… WHERE status = <the status checked>), so of two reviewers acting at once one wins, the other 409."""
    try:
        action = LinkAction(action)
    except ValueError:
        raise ValidationFailed.on("action", _("Unknown action.")) from None
    note = (note or "").strip()
    link = db.session.get(BenefitLink, link_id)
    if link is None:
        raise NotFound(_("No such benefit link."))
    actors = link_actors(actor, link)
    # Who may take this action at all is checked before the state, so an outsider learns nothing of it.
    may_ever = set().union(*(m.actors for (_s, a), m in LINK_TRANSITIONS.items() if a == action))
    if not (may_ever & actors):
        raise NotAllowed(_("Only the county reviewers of the household's county (or operators) decide on this link."))
    origin = LinkStatus(link.status)
    move = LINK_TRANSITIONS.get((origin, action))
    if move is None:
        raise InvalidTransition(
            _(
                "“%(action)s” is not possible while the link is “%(status)s” (%(code)s).",
                action=LINK_ACTION_LABELS[action],
                status=LINK_STATUS_LABELS[origin],
                code=origin.value,
            ),
            fields={"status": [origin.value]},
        )
    if not (move.actors & actors):
        raise NotAllowed(_("Only the county reviewers of the household's county (or operators) decide on this link."))
    if move.note_required and not note:
        raise ValidationFailed.on("note", _("Say why (a note is required for this action)."))
    if len(note) > 1000:
        raise ValidationFailed.on("note", _("At most %(n)d characters.", n=1000))
    # The decision (who confirmed or rejected, when) stays on the link; every move is also an event.
    decision = {"decided_by_id": actor.id, "decided_at": utcnow(), "decision_note": note}
    values = {} if action == LinkAction.END else decision
    changed = db.session.execute(
        update(BenefitLink)
        .where(BenefitLink.id == link.id, BenefitLink.status == origin)
        .values(status=move.to, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(_("Someone else acted on this link just now; reload it."))
    _record_link_event(link, origin, move.to, actor, move.actors & actors, note)
    db.session.expire(link)
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
    household = _visible_household(user, household_id)
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


def _managed_product(actor: User, product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
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
    _managed_product(actor, product_id)
    return list(
        db.session.scalars(
            select(ProductSourcing.household_id)
            .where(ProductSourcing.product_id == product_id)
            .order_by(ProductSourcing.household_id)
        )
    )


def set_product_sourcing(actor: User, product_id: int, household_ids: list[int]) -> list[int]:
    """Narrow a product's household share to some of its cooperative's linked households (empty list: all)."""
    product = _managed_product(actor, product_id)
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


# --- Household shares ---------------------------------------------------------------------------------


def platform_fee_bp() -> int:
    return current_app.config["PLATFORM_FEE_BP"]


def check_share(share_bp: int | None, *, nullable: bool = False) -> None:
    fee = platform_fee_bp()
    problem = share_problem(share_bp, fee, nullable=nullable)
    if problem == "range":
        raise ValidationFailed.on(
            "household_share_bp", _("A share in basis points: a whole number from 0 to 10000 (1000 is 10 per cent).")
        )
    if problem == "over_total":
        raise ValidationFailed.on(
            "household_share_bp",
            _("The platform fee (%(fee)d bp) plus this share would exceed 10000 bp (all of the amount).", fee=fee),
        )


def set_cooperative_share(actor: User, cooperative_id: int, share_bp: int) -> Cooperative:
    """The cooperative's household share of each settled line, in basis points (its staff or operators)."""
    cooperative = require_manager(actor, cooperative_id)
    check_share(share_bp)
    cooperative.household_share_bp = share_bp
    db.session.flush()
    return cooperative


def set_product_share(actor: User, product_id: int, share_bp: int | None) -> Product:
    """A product's own household share (None: its cooperative's)."""
    product = _managed_product(actor, product_id)
    check_share(share_bp, nullable=True)
    product.household_share_bp = share_bp
    db.session.flush()
    return product


def effective_share_bp(product: Product) -> int:
    return (
        product.household_share_bp if product.household_share_bp is not None else product.cooperative.household_share_bp
    )
