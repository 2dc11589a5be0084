"""Settlement depends on households (it splits income to them and reports per household), never the reverse."""

from __future__ import annotations

import ast
import pathlib

HOUSEHOLDS = pathlib.Path(__file__).resolve().parents[2] / "shop" / "households"
LATER_AREAS = ("shop.settlement", "shop.payouts", "shop.orders", "shop.payments")


def imported_modules(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_households_import_nothing_of_settlement_payouts_orders_or_payments():
    found = sorted(
        f"{path.name}: {name}"
        for path in HOUSEHOLDS.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith(LATER_AREAS)  # also `from shop import settlement`: "shop.settlement"
    )
    assert found == []
