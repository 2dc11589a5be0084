"""The household registry: who may see which household, and the registry's lists.

Who may see which household is decided here (`household_scope`); how much of it they see is decided by
`shop.households.privacy`. Every answer about a household goes out as a `HouseholdView`. The CSV import is in
`shop.households.imports`, benefit links and product sourcing in `shop.households.links`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, or_, select

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import NotFound
from shop.extensions import db
from shop.households.models import BenefitLink, Household, LinkStatus
from shop.households.privacy import HouseholdView, household_view
from shop.regions.models import Region

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


def visible_household(user: User, household_id: int) -> Household:
    """The household itself (not a view of it), when this user may see it; 404 otherwise."""
    household = db.session.scalar(select(Household).where(Household.id == household_id, household_scope(user)))
    if household is None:
        raise NotFound(_("No such household."))
    return household


def get_household(user: User, household_id: int) -> HouseholdView:
    """One household as this user may see it; 404 when it is outside their scope."""
    return household_view(user, visible_household(user, household_id))


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
