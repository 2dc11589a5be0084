"""Queue e-mails inside a use case: written to the outbox with the change they announce, never sent here.

The sending job is an entry point of its own (shop/notifications/outbox.py), run after the commit."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from shop.accounts.models import User, UserRole
from shop.accounts.roles import Role
from shop.extensions import db
from shop.notifications.models import OutboxEmail


def queue(to_address: str, subject: str, body: str) -> None:
    """Add an e-mail to the outbox in the current transaction (it is sent only if that commits)."""
    db.session.add(OutboxEmail(to_address=to_address, subject=subject[:200], body=body))
    g.outbox_has_mail = True


def staff_addresses(cooperative_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(User.email)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.COOPERATIVE_STAFF, UserRole.cooperative_id == cooperative_id, User.active)
        )
    )


# --- What the shop tells people (always in Chinese: the buyers and cooperatives are in China) ---------------


def _zh(text: str, **values) -> str:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale("zh"):
        return _(text, **values)


def order_paid(order) -> None:
    from shop.money import format_fen

    buyer = db.session.get(User, order.buyer_id)
    queue(
        buyer.email,
        _zh("Payment received for order %(ref)s", ref=order.reference),
        _zh(
            "We received %(amount)s for order %(ref)s. The cooperatives will ship it soon.",
            amount=format_fen(order.paid_fen),
            ref=order.reference,
        ),
    )
    for shipment in order.shipments:
        lines = "\n".join(f"- {line.product_name} × {line.quantity} {line.unit}" for line in shipment.lines)
        for address in staff_addresses(shipment.cooperative_id):
            queue(
                address,
                _zh("New paid order %(ref)s to ship", ref=order.reference),
                _zh("Order %(ref)s is paid. Please ship:", ref=order.reference) + "\n" + lines,
            )


def shipment_sent(shipment) -> None:
    order = shipment.order
    buyer = db.session.get(User, order.buyer_id)
    queue(
        buyer.email,
        _zh("Your order %(ref)s is on its way", ref=order.reference),
        _zh(
            "%(coop)s shipped your order %(ref)s with %(carrier)s, tracking number %(number)s.",
            coop=shipment.cooperative_name,
            ref=order.reference,
            carrier=shipment.carrier,
            number=shipment.tracking_number,
        ),
    )


def refund_decided(refund) -> None:
    from shop.money import format_fen

    order = refund.order
    buyer = db.session.get(User, order.buyer_id)

    def message(amount_fen: int) -> tuple[str, str]:
        if refund.status == "succeeded":
            return (
                _zh("Refund of %(amount)s for order %(ref)s", amount=format_fen(amount_fen), ref=order.reference),
                _zh("%(amount)s is on its way back to your payment method.", amount=format_fen(amount_fen)),
            )
        return _zh("Your refund request for order %(ref)s was declined", ref=order.reference), refund.decision_note

    queue(buyer.email, *message(refund.amount_fen))
    for cooperative_id in sorted({refund_line.order_line.cooperative_id for refund_line in refund.lines}):
        # Each cooperative hears of its own lines' amount: the rest is another cooperative's business.
        own_fen = sum(rl.amount_fen for rl in refund.lines if rl.order_line.cooperative_id == cooperative_id)
        for address in staff_addresses(cooperative_id):
            queue(address, *message(own_fen))
