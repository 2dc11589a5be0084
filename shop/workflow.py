"""The one mechanism that moves a record from one state to another, for every workflow of the shop.

A workflow is data: the mapped class whose rows move, the column that holds their state, and a transition table
`{(from_state, action): Move}`. `apply_move` is the only code that changes a state: it checks that the action
exists and that the actor may ever take it (before looking at the state, so an outsider learns nothing of it),
then the move from the row's current state, the capacity in which the actor takes it and the reason it needs;
it writes the new state by a conditional UPDATE (`... WHERE state = <the state checked>`), so of two people
acting at once one wins and the other gets a 409; and it appends the workflow's event (who, in which capacity,
when, from, to, why). Nothing else assigns a state.

A use case with guards of its own (a certification that needs its evidence, a refund that needs its lines) calls
`check_move` first, runs its guards, then `write_move` with the values the move also writes. Foundations only:
certification uses this module as the shop's areas do.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update

from shop.errors import InvalidTransition, NotAllowed, ValidationFailed
from shop.extensions import db
from shop.types import utcnow


@dataclass(frozen=True)
class Move:
    """One row of a transition table: the state it leads to, the capacities that may take it, and whether the
    actor must say why."""

    to: str
    actors: frozenset[str]
    reason_required: bool = False


def move(to: str, *actors: str, reason_required: bool = False) -> Move:
    return Move(to, frozenset(actors), reason_required)


@dataclass(frozen=True)
class Applied:
    """A move that was written: what the event of the workflow records."""

    row: Any
    action: str
    origin: str
    to: str
    actor: Any  # the acting User, or None for a job or the payment provider
    capacity: str
    reason: str
    at: Any  # the UTC time of the move
    event: Any = None  # the event `record` built, once written


WORKFLOWS: dict[str, Workflow] = {}  # every workflow by name, as its module defines it (the tests walk them all)


@dataclass(frozen=True)
class Workflow:
    """A state machine: rows of `model` move along `transitions`; `record` builds the event of a move."""

    name: str
    model: type
    transitions: Mapping[tuple[str, str], Move]
    record: Callable[[Applied], Any] | None = None
    state_column: str = "status"
    # How people read states and actions in messages; the codes are used where a label is missing.
    state_labels: Mapping[str, Any] = field(default_factory=dict)
    action_labels: Mapping[str, Any] = field(default_factory=dict)
    reason_field: str = "note"  # the input field that carries the reason, named in a 422
    refusal: Callable[[str], str] | None = None  # the 403 message for an action (default: a generic one)
    # The 403 once the move from the row's state is known, naming who takes that move (default: `refusal`).
    move_refusal: Callable[[Move], str] | None = None
    # The 409 when the table has no such move from the row's state, given the action and the state (codes).
    not_possible: Callable[[str, str], str] | None = None
    reason_missing: Callable[[], str] | None = None  # the 422 message when a required reason is blank
    lost_race: Callable[[], str] | None = None  # the 409 message when the row changed meanwhile
    # In which capacity the event says someone acted when they hold several that may take the move: the first
    # of these they hold; capacities not listed come after, by name (the default: by name only).
    capacity_order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        WORKFLOWS[self.name] = self

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(action for _state, action in self.transitions)

    @property
    def states(self) -> frozenset[str]:
        return frozenset(s for s, _a in self.transitions) | frozenset(m.to for m in self.transitions.values())

    def moves_from(self, state: str) -> dict[str, Move]:
        return {action: m for (origin, action), m in self.transitions.items() if origin == state}

    def actions_for(self, state: str, capacities: Collection[str]) -> list[str]:
        """The actions someone with these capacities may take from this state, in table order."""
        held = frozenset(capacities)
        return [action for action, m in self.moves_from(state).items() if m.actors & held]

    def may_ever(self, action: str, capacities: Collection[str]) -> bool:
        held = frozenset(capacities)
        return any(m.actors & held for (_s, a), m in self.transitions.items() if a == action)

    def first_capacity(self, capacities: Collection[str]) -> str:
        """The capacity an event names, of several held (see capacity_order)."""
        order = {capacity: rank for rank, capacity in enumerate(self.capacity_order)}
        return min(capacities, key=lambda capacity: (order.get(capacity, len(order)), str(capacity)))

    def state_label(self, state: str) -> str:
        return str(self.state_labels.get(state, state))

    def action_label(self, action: str) -> str:
        return str(self.action_labels.get(action, action))


@dataclass(frozen=True)
class CheckedMove:
    """A move that may be written: the workflow, the row as read, and who takes it in which capacity."""

    workflow: Workflow
    row: Any
    action: str
    origin: str
    move: Move
    actor: Any
    capacity: str
    reason: str


def check_move(
    workflow: Workflow, row: Any, action: str, *, actor: Any, capacities: Collection[str], reason: str = ""
) -> CheckedMove:
    """Check an action on a row without writing anything: raises ValidationFailed (unknown action, reason
    missing), NotAllowed (the actor may not take it) or InvalidTransition (not possible from this state)."""
    action = str(action)
    reason = (reason or "").strip()
    if action not in workflow.actions:
        raise ValidationFailed.on("action", _("Unknown action."))
    if not workflow.may_ever(action, capacities):
        raise NotAllowed(workflow.refusal(action) if workflow.refusal else _("You may not do this."))
    origin = str(getattr(row, workflow.state_column))
    chosen = workflow.transitions.get((origin, action))
    if chosen is None:
        raise InvalidTransition(
            workflow.not_possible(action, origin)
            if workflow.not_possible
            else _(
                "“%(action)s” is not possible while it is “%(state)s” (%(code)s).",
                action=workflow.action_label(action),
                state=workflow.state_label(origin),
                code=origin,
            ),
            fields={workflow.state_column: [origin]},
        )
    held = chosen.actors & frozenset(capacities)
    if not held:
        if workflow.move_refusal:
            raise NotAllowed(workflow.move_refusal(chosen))
        raise NotAllowed(workflow.refusal(action) if workflow.refusal else _("You may not do this."))
    if chosen.reason_required and not reason:
        message = workflow.reason_missing() if workflow.reason_missing else None
        raise ValidationFailed.on(
            workflow.reason_field, message or _("Say why (a reason is required for this action).")
        )
    return CheckedMove(workflow, row, action, origin, chosen, actor, workflow.first_capacity(held), reason)


def write_move(checked: CheckedMove, **values: Any) -> Applied:
    """Write a checked move: the new state (and `values`) by a conditional UPDATE, then the event."""
    workflow, row = checked.workflow, checked.row
    state = getattr(workflow.model, workflow.state_column)
    changed = db.session.execute(
        update(workflow.model)
        .where(workflow.model.id == row.id, state == checked.origin)
        .values({workflow.state_column: checked.move.to, **values})
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise InvalidTransition(workflow.lost_race() if workflow.lost_race else _("It changed meanwhile; reload it."))
    db.session.expire(row)
    applied = Applied(
        row, checked.action, checked.origin, checked.move.to, checked.actor, checked.capacity, checked.reason, utcnow()
    )
    if workflow.record is not None:
        event = workflow.record(applied)
        if event is not None:
            db.session.add(event)
            applied = replace(applied, event=event)
    return applied


def apply_move(
    workflow: Workflow,
    row: Any,
    action: str,
    *,
    actor: Any,
    capacities: Collection[str],
    reason: str = "",
    **values: Any,
) -> Applied:
    """Check and write one move (see the module's docstring); the caller flushes or commits."""
    checked = check_move(workflow, row, action, actor=actor, capacities=capacities, reason=reason)
    return write_move(checked, **values)
