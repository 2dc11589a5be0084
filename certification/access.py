"""Who may see an application and in which capacities they may act on it.

The capacities are the actors of the transition table (`certification.rules.Actor`); the role recorded on an
event is the account's role in which the capacity is held (a supervisor is a province reviewer or an operator).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func, or_

from certification.models import Application, State
from certification.rules import Actor
from shop.accounts.models import User
from shop.accounts.roles import Role

# The capacities of the people who take part in an application's review (what makes someone a party to it).
PARTIES = (Actor.APPLICANT, Actor.COUNTY_REVIEWER, Actor.PROVINCE_REVIEWER)


def acting_role(actor: str, user: User | None, application: Application) -> str | None:
    """The role in which this user may act as `actor` on this application, or None."""
    if actor == Actor.JOB:
        return "job" if user is None else None
    if user is None or not user.is_authenticated:
        return None
    if actor == Actor.APPLICANT and application.cooperative_id in user.cooperative_ids():
        return Role.COOPERATIVE_STAFF
    if actor == Actor.COUNTY_REVIEWER and application.origin_county_code in user.region_codes(Role.COUNTY_REVIEWER):
        return Role.COUNTY_REVIEWER
    province_reviewer = application.province_code in user.region_codes(Role.PROVINCE_REVIEWER)
    if actor in (Actor.PROVINCE_REVIEWER, Actor.SUPERVISOR) and province_reviewer:
        return Role.PROVINCE_REVIEWER
    if actor == Actor.SUPERVISOR and user.has_role(Role.OPERATOR):
        return Role.OPERATOR
    if actor == Actor.SIGNED_IN:
        return "signed_in"
    return None


def capacities(user: User | None, application: Application) -> frozenset[str]:
    """Every capacity in which this user may act on this application (None is the scheduled job)."""
    return frozenset(actor for actor in Actor if acting_role(actor, user, application) is not None)


def can_view(user: User | None, application: Application) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(Role.OPERATOR) or application.state == State.PUBLIC_NOTICE:
        return True
    return any(acting_role(actor, user, application) for actor in PARTIES)


def is_party(user: User, application: Application) -> bool:
    """An operator, or someone who applies for or reviews it (more than the public sees during the notice)."""
    return user.has_role(Role.OPERATOR) or any(acting_role(actor, user, application) for actor in PARTIES)


def visible_to(user: User) -> ColumnElement[bool]:
    """`can_view` as SQL, for lists: the user's cooperatives, regions, and what is under public notice."""
    if user.has_role(Role.OPERATOR):
        return sa.true()
    province_prefixes = [code[:2] for code in user.region_codes(Role.PROVINCE_REVIEWER)]
    return or_(
        Application.cooperative_id.in_(user.cooperative_ids()),
        Application.origin_county_code.in_(user.region_codes(Role.COUNTY_REVIEWER)),
        func.substr(Application.origin_county_code, 1, 2).in_(province_prefixes),
        Application.state == State.PUBLIC_NOTICE,
    )
