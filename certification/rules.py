"""The rules of certification as data and pure functions: no database, no Flask.

The transition table is the whole state machine; `certification.services.apply_transition` is the one
function that applies a move, and nothing else assigns a state.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from certification.models import State


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
    APPLICANT = "applicant"  # staff of the product's cooperative
    COUNTY_REVIEWER = "county_reviewer"  # of the origin county
    PROVINCE_REVIEWER = "province_reviewer"  # of the origin county's province
    SUPERVISOR = "supervisor"  # that province's reviewer, or a platform operator
    SIGNED_IN = "signed_in"  # anyone with an account
    JOB = "job"  # the scheduled job (`flask certification tick`), never a person


@dataclass(frozen=True)
class Move:
    to: State
    actor: Actor
    comment_required: bool = False


S, A = State, Action
TRANSITIONS: dict[tuple[State, Action], Move] = {
    (S.DRAFT, A.SUBMIT): Move(S.SUBMITTED, Actor.APPLICANT),
    (S.RETURNED, A.SUBMIT): Move(S.SUBMITTED, Actor.APPLICANT),
    (S.SUBMITTED, A.COUNTY_APPROVE): Move(S.COUNTY_APPROVED, Actor.COUNTY_REVIEWER),
    (S.SUBMITTED, A.RETURN): Move(S.RETURNED, Actor.COUNTY_REVIEWER, comment_required=True),
    (S.SUBMITTED, A.REJECT): Move(S.REJECTED, Actor.COUNTY_REVIEWER, comment_required=True),
    (S.COUNTY_APPROVED, A.RETURN): Move(S.RETURNED, Actor.PROVINCE_REVIEWER, comment_required=True),
    (S.COUNTY_APPROVED, A.REJECT): Move(S.REJECTED, Actor.PROVINCE_REVIEWER, comment_required=True),
    (S.COUNTY_APPROVED, A.PROVINCE_APPROVE): Move(S.PUBLIC_NOTICE, Actor.PROVINCE_REVIEWER),
    (S.PUBLIC_NOTICE, A.OBJECT): Move(S.PUBLIC_NOTICE, Actor.SIGNED_IN, comment_required=True),
    (S.PUBLIC_NOTICE, A.UPHOLD_OBJECTION): Move(S.REJECTED, Actor.PROVINCE_REVIEWER, comment_required=True),
    (S.PUBLIC_NOTICE, A.DISMISS_OBJECTION): Move(S.PUBLIC_NOTICE, Actor.PROVINCE_REVIEWER, comment_required=True),
    (S.PUBLIC_NOTICE, A.END_NOTICE): Move(S.CERTIFIED, Actor.JOB),
    (S.CERTIFIED, A.SUSPEND): Move(S.SUSPENDED, Actor.SUPERVISOR, comment_required=True),
    (S.SUSPENDED, A.REINSTATE): Move(S.CERTIFIED, Actor.SUPERVISOR),
    (S.CERTIFIED, A.REVOKE): Move(S.REVOKED, Actor.SUPERVISOR, comment_required=True),
    (S.SUSPENDED, A.REVOKE): Move(S.REVOKED, Actor.SUPERVISOR, comment_required=True),
    (S.CERTIFIED, A.EXPIRE): Move(S.EXPIRED, Actor.JOB),
    (S.SUSPENDED, A.EXPIRE): Move(S.EXPIRED, Actor.JOB),
    # A renewal that is certified replaces the product's earlier certificate.
    (S.CERTIFIED, A.SUPERSEDE): Move(S.SUPERSEDED, Actor.JOB),
    (S.SUSPENDED, A.SUPERSEDE): Move(S.SUPERSEDED, Actor.JOB),
}

FINAL_STATES = frozenset({S.REJECTED, S.REVOKED, S.EXPIRED, S.SUPERSEDED})


def moves_from(state: State) -> dict[Action, Move]:
    return {action: move for (origin, action), move in TRANSITIONS.items() if origin == state}


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
    """The Python twin of `certification.services.holds_valid_certificate` (tested against each other)."""
    return state == State.CERTIFIED and valid_from <= on <= valid_until


def certificate_number(province_code: str, year: int, sequence: int) -> str:
    """FP + the province's two digits + year + six-digit sequence, e.g. FP13-2026-000042."""
    return f"FP{province_code[:2]}-{year}-{sequence:06d}"
