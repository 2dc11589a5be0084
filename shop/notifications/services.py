"""Queue e-mails inside a use case; send them after the commit. A failure to send never undoes anything."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, g
from sqlalchemy import select, update

from shop.accounts.models import User, UserRole
from shop.accounts.roles import Role
from shop.extensions import db
from shop.notifications.models import OutboxEmail
from shop.types import utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


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


def send_pending(limit: int = 50) -> int:
    """Send what waits in the outbox over SMTP (MAIL_SERVER); returns how many were sent. Never raises."""
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    sent = 0
    try:
        waiting = db.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
            .order_by(OutboxEmail.id)
            .limit(limit)
        ).all()
        db.session.commit()
        if not waiting:
            return 0
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            for email in waiting:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = (
                    config["MAIL_FROM"],
                    email.to_address,
                    email.subject,
                )
                message.set_content(email.body)
                try:
                    smtp.send_message(message)
                except smtplib.SMTPException as error:
                    db.session.execute(
                        update(OutboxEmail)
                        .where(OutboxEmail.id == email.id)
                        .values(attempts=OutboxEmail.attempts + 1, last_error=str(error)[:500])
                    )
                else:
                    db.session.execute(
                        update(OutboxEmail)
                        .where(OutboxEmail.id == email.id)
                        .values(sent_at=utcnow(), attempts=OutboxEmail.attempts + 1)
                    )
                    sent += 1
                db.session.commit()
    except (OSError, smtplib.SMTPException) as error:
        db.session.rollback()
        log.warning("sending e-mail failed; it stays in the outbox: %s", error)
    return sent


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
