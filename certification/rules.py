"""The rules of certification as data and pure functions: no database, no Flask.

The transition table is the whole state machine, as rows of the shop's one mechanism (`shop.workflow.Move`);
`certification.reviews` registers it as the workflow "certification" and applies its moves, and nothing else
assigns a state.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from enum import StrEnum

from certification.models import State
from shop.workflow import Move, move


class Action(StrEnum):
    SUBMIT = "submit"
    COUNTY_APPROVE = "county_approve"
    RETURN = "return"
    REJECT = "reject"
    PROVINCE_APPROVE = "province_approve"
    OBJECT = "object"
    UPHOLD_OBJECTION = "uphold_objection"
    DISMISS_OBJECTION = "dismiss_objection"
    END_NOTICE = "end_notice"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    EXPIRE = "expire"
    SUPERSEDE = "supersede"


class Actor(StrEnum):
    """The capacities in which someone acts on an application (`certification.access.capacities` tells whose)."""

    APPLICANT = "applicant"  # staff of the product's cooperative
    COUNTY_REVIEWER = "county_reviewer"  # of the origin county
    PROVINCE_REVIEWER = "province_reviewer"  # of the origin county's province
    SUPERVISOR = "supervisor"  # that province's reviewer, or a platform operator
    SIGNED_IN = "signed_in"  # anyone with an account
    JOB = "job"  # the scheduled job (`flask certification tick`), never a person


S, A, P = State, Action, Actor
TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.DRAFT, A.SUBMIT): move(S.SUBMITTED, P.APPLICANT),
    (S.RETURNED, A.SUBMIT): move(S.SUBMITTED, P.APPLICANT),
    (S.SUBMITTED, A.COUNTY_APPROVE): move(S.COUNTY_APPROVED, P.COUNTY_REVIEWER),
    (S.SUBMITTED, A.RETURN): move(S.RETURNED, P.COUNTY_REVIEWER, reason_required=True),
    (S.SUBMITTED, A.REJECT): move(S.REJECTED, P.COUNTY_REVIEWER, reason_required=True),
    (S.COUNTY_APPROVED, A.RETURN): move(S.RETURNED, P.PROVINCE_REVIEWER, reason_required=True),
    (S.COUNTY_APPROVED, A.REJECT): move(S.REJECTED, P.PROVINCE_REVIEWER, reason_required=True),
    (S.COUNTY_APPROVED, A.PROVINCE_APPROVE): move(S.PUBLIC_NOTICE, P.PROVINCE_REVIEWER),
    (S.PUBLIC_NOTICE, A.OBJECT): move(S.PUBLIC_NOTICE, P.SIGNED_IN, reason_required=True),
    (S.PUBLIC_NOTICE, A.UPHOLD_OBJECTION): move(S.REJECTED, P.PROVINCE_REVIEWER, reason_required=True),
    (S.PUBLIC_NOTICE, A.DISMISS_OBJECTION): move(S.PUBLIC_NOTICE, P.PROVINCE_REVIEWER, reason_required=True),
    (S.PUBLIC_NOTICE, A.END_NOTICE): move(S.CERTIFIED, P.JOB),
    (S.CERTIFIED, A.SUSPEND): move(S.SUSPENDED, P.SUPERVISOR, reason_required=True),
    (S.SUSPENDED, A.REINSTATE): move(S.CERTIFIED, P.SUPERVISOR),
    (S.CERTIFIED, A.REVOKE): move(S.REVOKED, P.SUPERVISOR, reason_required=True),
    (S.SUSPENDED, A.REVOKE): move(S.REVOKED, P.SUPERVISOR, reason_required=True),
    (S.CERTIFIED, A.EXPIRE): move(S.EXPIRED, P.JOB),
    (S.SUSPENDED, A.EXPIRE): move(S.EXPIRED, P.JOB),
    # A renewal that is certified replaces the product's earlier certificate.
    (S.CERTIFIED, A.SUPERSEDE): move(S.SUPERSEDED, P.JOB),
    (S.SUSPENDED, A.SUPERSEDE): move(S.SUPERSEDED, P.JOB),
}

FINAL_STATES = frozenset({S.REJECTED, S.REVOKED, S.EXPIRED, S.SUPERSEDED})


def moves_from(state: str) -> dict[str, Move]:
    return {action: m for (origin, action), m in TRANSITIONS.items() if origin == state}


# --- Working days (Asia/Shanghai business dates) -------------------------------------------------------


def is_working_day(day: date, holidays: Collection[date], workdays: Collection[date]) -> bool:
    """Monday to Friday, except public holidays; a make-up working day (调休) counts even on a weekend."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: date, count: int, holidays: Collection[date], workdays: Collection[date]) -> date:
    """The date of the `count`-th working day after `start` (start itself does not count)."""
    if count < 1:
        raise ValueError("count must be at least 1")
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_working_day(day, holidays, workdays):
            remaining -= 1
    return day


# --- Validity ---------------------------------------------------------------------------------------


def validity_end(valid_from: date, years: int) -> date:
    """The last valid day: the day before the same date `years` later (29 February → 28 February)."""
    try:
        anniversary = valid_from.replace(year=valid_from.year + years)
    except ValueError:
        anniversary = valid_from.replace(year=valid_from.year + years, day=28)
        return anniversary
    return anniversary - timedelta(days=1)


def certificate_is_valid(state: str, valid_from: date, valid_until: date, on: date) -> bool:
    """The Python twin of `certification.certificates.holds_valid_certificate` (tested against each other)."""
    return state == State.CERTIFIED and valid_from <= on <= valid_until


def certificate_number(province_code: str, year: int, sequence: int) -> str:
    """FP + the province's two digits + year + six-digit sequence, e.g. FP13-2026-000042."""
    return f"FP{province_code[:2]}-{year}-{sequence:06d}"
