"""The review of an application, as the workflow "certification" of the shop's one transition mechanism.

`apply_transition` is the use case every move goes through: `shop.workflow.check_move` checks the table
(`certification.rules.TRANSITIONS`), the actor's capacity (`certification.access.capacities`) and the comment;
then the guard of the action, if it has one (`GUARDS`), checks what the table cannot and says what else the move
writes; `shop.workflow.write_move` writes the state by a conditional UPDATE (of two reviewers acting at once, one
wins and the other gets 409) and appends the event; then the effect of the action, if it has one (`EFFECTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select

from certification.access import acting_role, capacities
from certification.applications import missing_evidence, product_row, version_of
from certification.certificates import earlier_certified_applications, issue_certificate
from certification.labels import ACTION_LABELS, ACTOR_REFUSALS, REVIEWER_REFUSAL, STATE_LABELS
from certification.models import Application, Event, Objection, State
from certification.notices import notice_end, open_objections, the_open_objection
from certification.rules import TRANSITIONS, Action, Actor
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.timeutil import business_date
from shop.types import utcnow
from shop.workflow import Applied, Workflow, check_move, write_move

# --- The workflow ------------------------------------------------------------------------------------------


def _who_may(actors: frozenset[str]) -> str:
    """The 403 that names who may act: one capacity's words, or both reviewers' (return and reject)."""
    if len(actors) == 1:
        return str(ACTOR_REFUSALS[next(iter(actors))])
    return str(REVIEWER_REFUSAL)


def _refusal(action: str) -> str:
    return _who_may(frozenset().union(*(m.actors for (_s, a), m in TRANSITIONS.items() if a == action)))


def _not_possible(action: str, state: str) -> str:
    return _(
        "“%(action)s” is not possible while the application is “%(state)s” (%(code)s).",
        action=ACTION_LABELS[action],
        state=STATE_LABELS[state],
        code=state,
    )


def _record(applied: Applied) -> Event:
    """The event of a move: who, in which role (the account's role behind the capacity), from, to, why."""
    return Event(
        application_id=applied.row.id,
        action=applied.action,
        from_state=applied.origin,
        to_state=applied.to,
        actor_id=applied.actor.id if applied.actor else None,
        actor_role=str(acting_role(applied.capacity, applied.actor, applied.row)),
        comment=applied.reason,
        at=applied.at,
    )


WORKFLOW = Workflow(
    "certification",
    Application,
    TRANSITIONS,
    record=_record,
    state_column="state",
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
    reason_field="comment",
    refusal=_refusal,
    move_refusal=lambda move: _who_may(move.actors),
    not_possible=_not_possible,
    reason_missing=lambda: _("Say why (a comment is required for this action)."),
    lost_race=lambda: _("Someone else acted on this application just now; reload it."),
)


# --- Guards and effects, by action ------------------------------------------------------------------------


@dataclass
class Acting:
    """One move in the making, as its guard checks it and its effect completes it."""

    application: Application
    action: Action
    user: User | None
    comment: str
    today: date
    objection_id: int | None = None
    objection: Objection | None = None  # the open objection a decision is about, found by the guard


def _submission_is_complete(acting: Acting) -> dict:
    """Submit: the evidence is complete; the names are copied as the reviewers will judge them."""
    missing = missing_evidence(acting.application)
    if missing:
        raise ValidationFailed(_("The application is not complete."), fields=missing)
    # Locked: the catalogue refuses to rename a product under review, and locks it to check (see
    # shop.catalog.services.update_product), so the name copied here is the one that stays.
    product = product_row(acting.application.product_id, lock=True)
    return {
        "version_count": acting.application.version_count + 1,
        "submitted_at": utcnow(),
        "product_name": product.name,
        "cooperative_name": product.cooperative,
    }


def _county_approver_id(application: Application) -> int | None:
    approvals = [e for e in application.events if e.action == Action.COUNTY_APPROVE]
    return approvals[-1].actor_id if approvals else None


def _separation_of_duties(user: User | None, application: Application) -> str | None:
    if user is not None and user.id == _county_approver_id(application):
        return _("The reviewer who approved at county level cannot also approve at province level.")
    return None


def _province_approval(acting: Acting) -> dict:
    """Province approval: by another reviewer than the county's; the public notice starts."""
    refusal = _separation_of_duties(acting.user, acting.application)
    if refusal:
        raise NotAllowed(refusal)
    return {"notice_ends_on": notice_end(acting.today, current_app.config["NOTICE_WORKING_DAYS"])}


def _decision_on_an_objection(acting: Acting) -> dict:
    acting.objection = the_open_objection(acting.application, acting.objection_id)
    return {}


def _notice_is_over(acting: Acting) -> dict:
    if open_objections(acting.application):
        raise InvalidTransition(_("An objection is still open."))
    if acting.application.notice_ends_on is None or acting.today <= acting.application.notice_ends_on:
        raise InvalidTransition(_("The public notice has not ended yet."))
    return {}


def _validity_is_over(acting: Acting) -> dict:
    certificate = acting.application.certificate
    if certificate is None or certificate.valid_until >= acting.today:
        raise InvalidTransition(_("The certificate is still valid."))
    return {}


def _keep_the_version(acting: Acting) -> None:
    db.session.add(version_of(acting.application, acting.user))


def _record_the_objection(acting: Acting) -> None:
    db.session.add(Objection(application_id=acting.application.id, raised_by_id=acting.user.id, reason=acting.comment))


def _resolve_the_objection(acting: Acting) -> None:
    objection = acting.objection
    objection.status = "upheld" if acting.action == Action.UPHOLD_OBJECTION else "dismissed"
    objection.resolved_by_id, objection.resolved_at, objection.resolution = acting.user.id, utcnow(), acting.comment


def _certify(acting: Acting) -> None:
    """End of notice: the certificate is issued, and replaces any the product held before (a renewal)."""
    certificate = issue_certificate(acting.application, acting.today)
    for earlier_id in earlier_certified_applications(acting.application):
        apply_transition(None, earlier_id, Action.SUPERSEDE, certificate.certificate_no, today=acting.today)


# What an action checks beyond the table (raising, or returning what else the move writes) ...
GUARDS: dict[Action, Callable[[Acting], dict]] = {
    Action.SUBMIT: _submission_is_complete,
    Action.PROVINCE_APPROVE: _province_approval,
    Action.UPHOLD_OBJECTION: _decision_on_an_objection,
    Action.DISMISS_OBJECTION: _decision_on_an_objection,
    Action.END_NOTICE: _notice_is_over,
    Action.EXPIRE: _validity_is_over,
}
# ... and what it does once the state is written.
EFFECTS: dict[Action, Callable[[Acting], None]] = {
    Action.SUBMIT: _keep_the_version,
    Action.OBJECT: _record_the_objection,
    Action.UPHOLD_OBJECTION: _resolve_the_objection,
    Action.DISMISS_OBJECTION: _resolve_the_objection,
    Action.END_NOTICE: _certify,
}


# --- The use case ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransitionResult:
    application: Application
    event: Event


def apply_transition(
    user: User | None,
    application_id: int,
    action: Action | str,
    comment: str = "",
    *,
    objection_id: int | None = None,
    today: date | None = None,
) -> TransitionResult:
    """Apply one move of the table to an application (see the module's docstring); None is the scheduled job.

    Refusals: 422 (unknown action, comment missing, incomplete evidence), 404 (no such application), 403 (the
    user may not take this action, or approved it at county level), 409 (not possible in this state, or someone
    else acted just now).
    """
    today = today or business_date()
    try:
        action = Action(action)
    except ValueError:
        raise ValidationFailed.on("action", _("Unknown action.")) from None
    application = db.session.get(Application, application_id)
    if application is None:
        raise NotFound(_("No such application."))
    checked = check_move(
        WORKFLOW, application, action, actor=user, capacities=capacities(user, application), reason=comment
    )
    acting = Acting(application, action, user, checked.reason, today, objection_id)
    guard = GUARDS.get(action)
    values = guard(acting) if guard else {}
    applied = write_move(checked, state_changed_at=utcnow(), **values)
    effect = EFFECTS.get(action)
    if effect:
        effect(acting)
    db.session.flush()
    return TransitionResult(application, applied.event)


# --- What a reviewer sees ------------------------------------------------------------------------------------

# Actions the table allows that the page offers only when they can succeed.
_OFFERED_ONLY_IF: dict[Action, Callable[[User, Application], bool]] = {
    Action.PROVINCE_APPROVE: lambda user, application: not _separation_of_duties(user, application),
    Action.UPHOLD_OBJECTION: lambda _user, application: bool(open_objections(application)),
    Action.DISMISS_OBJECTION: lambda _user, application: bool(open_objections(application)),
}


def allowed_actions(user: User | None, application: Application) -> list[Action]:
    """The actions this user may take on this application now (for the UI); the job's are never offered."""
    held = capacities(user, application) - {Actor.JOB}
    return [
        Action(action)
        for action in WORKFLOW.actions_for(application.state, held)
        if _OFFERED_ONLY_IF.get(action, lambda _user, _application: True)(user, application)
    ]


@dataclass(frozen=True)
class QueueItem:
    application: Application
    stage: str
    days_waiting: int


def review_queue(user: User, today: date | None = None) -> list[QueueItem]:
    """What waits for this reviewer, oldest first: county stage, province stage, notices with objections."""
    today = today or business_date()
    county_codes = user.region_codes(Role.COUNTY_REVIEWER)
    prefixes = [code[:2] for code in user.region_codes(Role.PROVINCE_REVIEWER)]
    in_province = func.substr(Application.origin_county_code, 1, 2).in_(prefixes)
    has_open_objection = exists().where(Objection.application_id == Application.id, Objection.status == "open")
    query = (
        select(Application)
        .where(
            or_(
                sa.and_(Application.state == State.SUBMITTED, Application.origin_county_code.in_(county_codes)),
                sa.and_(Application.state == State.COUNTY_APPROVED, in_province),
                sa.and_(Application.state == State.PUBLIC_NOTICE, in_province, has_open_objection),
            )
        )
        .order_by(Application.state_changed_at, Application.id)
    )
    items = []
    for application in db.session.scalars(query):
        stage = {"submitted": "county", "county_approved": "province"}.get(application.state, "objection")
        waiting = (today - business_date(application.state_changed_at)).days
        items.append(QueueItem(application, stage, waiting))
    return items
