"""Who sees a household's personal data, and the one way it is masked for everyone else.

Personal data: the head of household's name and ID number, and the payout account (account name and
number). It is shown in full only to platform operators and to the county reviewers of the household's
own county; every other page, API answer or export shows it masked (`李**`, `1311**********1234`).
Other areas (ledger pages, payouts) reuse `can_see_personal_data` and `household_view`, never their own rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shop.accounts.roles import Role

MASK = "*"


class HasCounty(Protocol):
    county_code: str


def can_see_personal_data(user, household: HasCounty) -> bool:
    """True for operators and the county reviewers of the household's county; False for anyone else."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.OPERATOR):
        return True
    return household.county_code in user.region_codes(Role.COUNTY_REVIEWER)


def mask_name(name: str | None) -> str:
    """Keep the first character (the family name), mask the rest: 李四光 → 李**."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + MASK * max(len(name) - 1, 1)


def mask_number(number: str | None, keep: int = 4) -> str:
    """Keep the first and last `keep` characters: 131124198001011234 → 1311**********1234.

    A number too short to keep both ends is masked entirely (nothing of it is worth showing)."""
    number = (number or "").strip()
    if not number:
        return ""
    if len(number) <= 2 * keep:
        return MASK * len(number)
    return number[:keep] + MASK * (len(number) - 2 * keep) + number[-keep:]


def mask_id_number(id_number: str | None) -> str:
    return mask_number(id_number)


def mask_account_number(account_number: str | None) -> str:
    return mask_number(account_number)


@dataclass(frozen=True)
class HouseholdView:
    """A household as one viewer may see it: personal fields already masked when they must be.

    Pages and API answers render this, never the model, so no template can show a raw ID number by accident."""

    id: int
    registry_number: str
    county_code: str
    county_name: str
    township: str
    village: str
    members: int
    status: str
    head_name: str
    id_number: str
    payout_bank_name: str
    payout_account_name: str
    payout_account_number: str
    personal_data_visible: bool
    created_at: datetime | None
    updated_at: datetime | None


def household_view(user, household) -> HouseholdView:
    """The household as `user` may see it (full for operators and its county's reviewers, else masked)."""
    full = can_see_personal_data(user, household)
    county = getattr(household, "county", None)
    return HouseholdView(
        id=household.id,
        registry_number=household.registry_number,
        county_code=household.county_code,
        county_name=county.full_name if county is not None else household.county_code,
        township=household.township,
        village=household.village,
        members=household.members,
        status=household.status,
        head_name=household.head_name if full else mask_name(household.head_name),
        id_number=household.id_number if full else mask_id_number(household.id_number),
        payout_bank_name=household.payout_bank_name,
        payout_account_name=(household.payout_account_name if full else mask_name(household.payout_account_name)),
        payout_account_number=(
            household.payout_account_number if full else mask_account_number(household.payout_account_number)
        ),
        personal_data_visible=full,
        created_at=household.created_at,
        updated_at=household.updated_at,
    )
