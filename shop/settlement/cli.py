"""`flask settle` and `flask ledger check`."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from shop.unit_of_work import use_case

ledger_cli = AppGroup("ledger", help="The double-entry ledger.")


@ledger_cli.command("check")
def check_command() -> None:
    """Verify every ledger invariant; exit 1 on any breach."""
    from shop.settlement.check import breaches

    with use_case():
        found = breaches()
    for breach in found:
        click.echo(f"BREACH {breach}", err=True)
    if found:
        raise SystemExit(1)
    click.echo("ledger check: every invariant holds")


@click.command("settle")
@with_appcontext
def settle_command() -> None:
    """Settle every order line whose refund window has passed (idempotent)."""
    from shop.money import format_fen
    from shop.settlement.services import settle_due

    with use_case():
        run = settle_due()
        summary = (
            f"settlement run {run.id}: {run.lines_settled} lines, {run.shipments_settled} shipping fees, "
            f"{format_fen(run.amount_fen)}"
        )
    click.echo(summary)
