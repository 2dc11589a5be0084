"""Sending what waits in the outbox: an entry point, run after the use case that wrote the mail has committed
(the request wrapper in `shop.create_app`, `flask notifications send`, the jobs of orders and payments).

Services only write outbox rows (shop/notifications/services.py); this job commits, and it commits once per
message on purpose: a message that went out is marked sent in its own unit of work at once, so when the mail
server drops the connection or the process dies later in the batch, nothing already sent is sent again and one
failing address is counted against itself only. No transaction is open while the mail server is talked to.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update

from shop.extensions import db
from shop.notifications.models import OutboxEmail
from shop.types import utcnow
from shop.unit_of_work import use_case

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def send_pending(limit: int = 50) -> int:
    """Send what waits in the outbox over SMTP (MAIL_SERVER); returns how many were sent. Never raises."""
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    sent = 0
    try:
        with use_case():  # read, and end the transaction before the mail server is called
            waiting = db.session.execute(
                select(OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.body)
                .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
                .order_by(OutboxEmail.id)
                .limit(limit)
            ).all()
        if not waiting:
            return 0
        config = current_app.config
        with smtplib.SMTP(config["MAIL_SERVER"], config.get("MAIL_PORT", 25), timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            for email_id, to_address, subject, body in waiting:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], to_address, subject
                message.set_content(body)
                try:
                    smtp.send_message(message)
                except smtplib.SMTPException as error:
                    with use_case():
                        db.session.execute(
                            update(OutboxEmail)
                            .where(OutboxEmail.id == email_id)
                            .values(attempts=OutboxEmail.attempts + 1, last_error=str(error)[:500])
                        )
                else:
                    with use_case():
                        db.session.execute(
                            update(OutboxEmail)
                            .where(OutboxEmail.id == email_id)
                            .values(sent_at=utcnow(), attempts=OutboxEmail.attempts + 1)
                        )
                    sent += 1
    except (OSError, smtplib.SMTPException) as error:
        db.session.rollback()
        log.warning("sending e-mail failed; it stays in the outbox: %s", error)
    return sent
