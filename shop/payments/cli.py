"""Jobs of payments, for cron: `flask payments reconcile`; and `flask notifications send`."""

import click
from flask.cli import AppGroup

from shop.notifications.outbox import send_pending
from shop.payments import flows

notifications_cli = AppGroup("notifications", help="E-mail notifications.")
payments_cli = AppGroup("payments", help="Payments through the provider.")


@notifications_cli.command("send")
def send_command():
    """Send the e-mails waiting in the outbox (after a mail server was down, for instance)."""
    click.echo(f"sent: {send_pending(limit=500)}")


@payments_cli.command("reconcile")
def reconcile_command():
    """Finish payments stuck being set up, re-read the PaymentIntents still awaiting payment (for webhooks that
    never came), then give back payments that arrived after their order was cancelled."""
    outcomes = flows.reconcile()  # units of work around each provider call
    for intent_id, outcome in outcomes.items():
        click.echo(f"{intent_id}: {outcome}")
    refunded = flows.refund_due_payments()
    send_pending()
    click.echo(f"refunded late payments of orders: {' '.join(str(i) for i in refunded) or 'none'}")
