"""Jobs of orders, for cron: `flask orders expire`, `flask orders complete`, `flask orders refunds-reconcile`."""

import click
from flask.cli import AppGroup

from shop.notifications.outbox import send_pending
from shop.orders import services
from shop.orders.expiry import expire_unpaid_orders
from shop.orders.payback import reconcile_approved
from shop.unit_of_work import use_case

orders_cli = AppGroup("orders", help="Orders.")


@orders_cli.command("expire")
def expire_command():
    """Cancel unpaid orders past their time (their PaymentIntent first) and release their stock."""
    expired = expire_unpaid_orders()  # one unit of work per order, around the provider's cancel
    send_pending()
    click.echo(f"expired: {len(expired)} {' '.join(str(i) for i in expired)}".rstrip())


@orders_cli.command("complete")
def complete_command():
    """Deliver shipments overdue for confirmation, then complete orders whose refund window has passed."""
    with use_case():
        delivered = services.deliver_overdue_shipments()
        completed = services.complete_orders()
    click.echo(f"delivered automatically: {len(delivered)}; completed: {len(completed)}")


@orders_cli.command("refunds-reconcile")
def refunds_reconcile_command():
    """Finish refunds left approved but not paid back (a crash while the provider was asked)."""
    outcomes = reconcile_approved()
    send_pending()
    for refund_id, outcome in outcomes.items():
        click.echo(f"refund {refund_id}: {outcome}")
    click.echo(f"reconciled refunds: {len(outcomes)}")
