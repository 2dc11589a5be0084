"""Jobs of orders and payments, for cron: `flask orders expire`, `flask payments reconcile`."""

import click
from flask.cli import AppGroup

from shop.notifications.outbox import send_pending
from shop.orders import services as order_services
from shop.payments import services
from shop.unit_of_work import use_case

orders_cli = AppGroup("orders", help="Orders.")
notifications_cli = AppGroup("notifications", help="E-mail notifications.")


@notifications_cli.command("send")
def send_command():
    """Send the e-mails waiting in the outbox (after a mail server was down, for instance)."""
    click.echo(f"sent: {send_pending(limit=500)}")


payments_cli = AppGroup("payments", help="Payments through the provider.")


@orders_cli.command("expire")
def expire_command():
    """Cancel unpaid orders past their time (their PaymentIntent first) and release their stock."""
    expired = services.expire_unpaid_orders()
    send_pending()
    click.echo(f"expired: {len(expired)} {' '.join(str(i) for i in expired)}".rstrip())


@orders_cli.command("complete")
def complete_command():
    """Deliver shipments overdue for confirmation, then complete orders whose refund window has passed."""
    with use_case():
        delivered = order_services.deliver_overdue_shipments()
        completed = order_services.complete_orders()
    click.echo(f"delivered automatically: {len(delivered)}; completed: {len(completed)}")


@payments_cli.command("reconcile")
def reconcile_command():
    """Re-read the PaymentIntents of orders awaiting payment (for webhooks that never came)."""
    outcomes = services.reconcile()
    for intent_id, outcome in outcomes.items():
        click.echo(f"{intent_id}: {outcome}")
    refunded = services.refund_due_payments()
    send_pending()
    click.echo(f"refunded late payments of orders: {' '.join(str(i) for i in refunded) or 'none'}")
