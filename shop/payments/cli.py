"""Jobs of orders and payments, for cron: `flask orders expire`, `flask payments reconcile`."""

import click
from flask.cli import AppGroup

from shop.payments import services

orders_cli = AppGroup("orders", help="Orders.")
payments_cli = AppGroup("payments", help="Payments through the provider.")


@orders_cli.command("expire")
def expire_command():
    """Cancel unpaid orders past their time (their PaymentIntent first) and release their stock."""
    expired = services.expire_unpaid_orders()
    click.echo(f"expired: {len(expired)} {' '.join(str(i) for i in expired)}".rstrip())


@payments_cli.command("reconcile")
def reconcile_command():
    """Re-read the PaymentIntents of orders awaiting payment (for webhooks that never came)."""
    outcomes = services.reconcile()
    for intent_id, outcome in outcomes.items():
        click.echo(f"{intent_id}: {outcome}")
    refunded = services.refund_due_payments()
    click.echo(f"refunded late payments of orders: {' '.join(str(i) for i in refunded) or 'none'}")
