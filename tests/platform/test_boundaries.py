"""The shape of the code, checked: where commits happen, which area imports which, and that every state change
goes through the one mechanism. Each test names the files that break its rule."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CODE = [p for area in ("shop", "certification") for p in sorted((ROOT / area).rglob("*.py"))]

# Entry points own the unit of work: the app's request wrapper, CLI commands, jobs and the unit of work itself.
ENTRY_POINT_NAMES = {"api.py", "views.py", "cli.py", "unit_of_work.py", "outbox.py", "__init__.py"}


def _relative(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT))


def _tree(path: pathlib.Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(path: pathlib.Path) -> set[str]:
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _area(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "certification":
        return "certification"
    if parts[0] == "shop" and len(parts) > 1 and (ROOT / "shop" / parts[1]).is_dir():
        return parts[1]
    return None


def test_services_never_commit():
    """Only entry points commit: a service called inside another use case never commits the caller's work."""
    committing = [
        _relative(p)
        for p in CODE
        if p.name not in ENTRY_POINT_NAMES and re.search(r"\.commit\(", p.read_text(encoding="utf-8"))
    ]
    assert committing == [], "\n".join(committing)


def test_payments_never_import_orders():
    """One direction: orders use payments; payments announce what happened by signals."""
    offenders = [
        _relative(p)
        for p in (ROOT / "shop" / "payments").rglob("*.py")
        if any(m == "shop.orders" or m.startswith("shop.orders.") for m in _imported_modules(p))
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_areas_import_each_other_without_cycles():
    edges: dict[str, set[str]] = {}
    for path in CODE:
        source = _area(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if source is None:
            continue
        for module in _imported_modules(path):
            target = _area(module)
            if target and target != source:
                edges.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in edges.get(start, ())
        )

    cyclic = sorted(area for area in edges if reaches(area, area, {area}))
    assert cyclic == []


# An objection is decided only inside the application's own move (uphold or dismiss), whose event records it.
DECIDED_INSIDE_ANOTHER_MOVE = {("certification/reviews.py", "objection")}
STATE_NAMES = {"status", "state", "payment_status"}


def _statement_root(call: ast.AST) -> str:
    """The function a chained statement starts from: `update(X).where(...).values(...)` gives "update"."""
    node = call
    while True:
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                return node.func.id
            node = node.func
        elif isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.attr in ("update", "insert"):
                return node.attr  # dialect.insert(...), sa.update(...)
            node = node.value
        else:
            return ""


def test_no_state_is_assigned_outside_the_workflow_mechanism():
    """States change only in shop/workflow.py: no UPDATE that sets a status or state elsewhere, no assignment of
    one (a row's first state, given when it is inserted, is not a change)."""
    offenders = []
    for path in CODE:
        if _relative(path) == "shop/workflow.py":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values":
                names = {k.arg for k in node.keywords}
                if names & STATE_NAMES and not _statement_root(node.func.value).startswith("insert"):
                    offenders.append(f"{_relative(path)}:{node.lineno}")
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr in STATE_NAMES:
                        owner = target.value.id if isinstance(target.value, ast.Name) else ""
                        if (_relative(path), owner) not in DECIDED_INSIDE_ANOTHER_MOVE:
                            offenders.append(f"{_relative(path)}:{node.lineno}")
    assert offenders == [], "\n".join(offenders)
