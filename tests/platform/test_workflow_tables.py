"""Every transition table of the shop, move by move: each allowed move is taken by exactly the capacities its
row names, and every other (state, action) pair is refused. The tables come from the one registry of
shop.workflow, so a workflow added anywhere is tested here without another line."""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

import pytest

from shop.errors import InvalidTransition, NotAllowed, ValidationFailed
from shop.workflow import WORKFLOWS, check_move

# Every module of the shop is imported, so every table registers itself wherever it is defined.
EXPECTED = {"order", "shipment", "refund", "payment", "cooperative", "benefit_link", "payout_line", "certification"}

for package in ("shop", "certification"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
        importlib.import_module(module.name)


def _pairs():
    for name in sorted(WORKFLOWS):
        workflow = WORKFLOWS[name]
        for state in sorted(workflow.states):
            for action in sorted(workflow.actions):
                yield pytest.param(name, state, action, id=f"{name}:{state}:{action}")


def _capacities(workflow) -> frozenset[str]:
    return frozenset().union(*(m.actors for m in workflow.transitions.values()))


def _row(workflow, state):
    return SimpleNamespace(id=1, **{workflow.state_column: state})


def test_every_workflow_is_registered():
    assert set(WORKFLOWS) >= EXPECTED


@pytest.mark.parametrize(("name", "state", "action"), list(_pairs()))
def test_a_move_is_taken_only_by_the_capacities_its_row_names(app, name, state, action):
    workflow = WORKFLOWS[name]
    row = _row(workflow, state)
    everyone = _capacities(workflow)
    allowed = workflow.transitions.get((state, action))
    if allowed is None:
        with pytest.raises((InvalidTransition, NotAllowed)):
            check_move(workflow, row, action, actor=None, capacities=everyone, reason="why")
        return
    for capacity in sorted(allowed.actors):
        checked = check_move(workflow, row, action, actor=None, capacities={capacity}, reason="why")
        assert (checked.move.to, checked.capacity, checked.origin) == (allowed.to, capacity, state)
    for capacity in sorted(everyone - allowed.actors):
        with pytest.raises(NotAllowed):
            check_move(workflow, row, action, actor=None, capacities={capacity}, reason="why")
    if allowed.reason_required:
        with pytest.raises(ValidationFailed):
            check_move(workflow, row, action, actor=None, capacities=allowed.actors, reason="  ")


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_an_unknown_action_names_the_action_field(app, name):
    workflow = WORKFLOWS[name]
    state = sorted(workflow.states)[0]
    with pytest.raises(ValidationFailed) as refused:
        check_move(workflow, _row(workflow, state), "no_such_action", actor=None, capacities={"operator"})
    assert "action" in refused.value.fields
