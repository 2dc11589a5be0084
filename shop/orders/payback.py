"""Entry points that pay refunds back through the provider: the only code of refunds that commits.

The provider is never asked inside a database transaction, so paying a refund back is three units of work, each
committed on its own (`shop.unit_of_work.use_case`):

1. approve the refund and reserve its amount and quantities (`refunds.approve` or `refunds.refund_directly`):
   committed, so a second approval racing this one sees the reservation and is refused (409);
2. ask the provider (`refunds.ask_provider`), with no transaction open;
3. record its answer: paid back (`refunds.record_paid_back`), or, when the provider did not make it, the
   reservation is given back and the refund waits for a decision again (`refunds.reopen`, then a 503).

A crash between 1 and 3 leaves the refund "approved" with its amount reserved. `reconcile_approved` (the job
`flask orders refunds-reconcile`) finds such refunds once they are older than any request could still be
running, asks the provider whether it made them (our refund's id is in the provider's metadata), and records
the answer: paid back, or back to awaiting a decision.

The views, the API and the CLI call these functions; a web request's own commit afterwards finds nothing left.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask_babel import gettext as _

from shop.accounts.models import User
from shop.errors import DomainError
from shop.orders import refunds
from shop.orders.models import Refund
from shop.payments import gateway
from shop.payments.services import PaymentUnavailable
from shop.types import utcnow
from shop.unit_of_work import use_case

log = logging.getLogger(__name__)
# An approval younger than this may still be waiting for the provider's answer (its timeout and retries are
# far shorter): the reconcile job leaves it alone, so it never undoes a refund that is being paid back.
RECONCILE_AFTER = timedelta(minutes=15)


def approve(user: User, refund_id: int, note: str = "") -> Refund:
    """The lines' cooperative or an operator approves a requested refund, and the provider pays it back.

    Raises Conflict (409) when it would give back more than was paid, PaymentUnavailable (503) when the
    provider did not make it (then nothing was refunded and the refund waits for a decision again)."""
    with use_case():
        payback = refunds.approve(user, refund_id, note)
    return _pay_back(payback, user, refunds.decider_capacity(user))


def refund_directly(operator: User, order_id: int, items, reason: str, return_stock: bool = False) -> Refund:
    """After-sales: an operator refunds lines of a paid or completed order at once (as `approve` does)."""
    with use_case():
        payback = refunds.refund_directly(operator, order_id, items, reason, return_stock)
    return _pay_back(payback, operator, "operator")


def _pay_back(payback: refunds.PayBack, actor: User, capacity: str) -> Refund:
    try:
        made = refunds.ask_provider(payback)
    except gateway.PaymentProviderError as error:
        # The provider's own words stay in the log (they can name ids and internals).
        log.warning("refund %s failed at the provider: %s", payback.refund_id, error)
        with use_case():
            refunds.reopen(payback.refund_id, actor, capacity, _("the payment service did not make the refund"))
        raise PaymentUnavailable(
            _("The payment service did not answer; nothing was refunded. Try approving again in a moment.")
        ) from error
    with use_case():
        return refunds.record_paid_back(payback.refund_id, made.id, actor, capacity)


def reconcile_approved(now: datetime | None = None) -> dict[int, str]:
    """Finish the refunds left approved by a crash between the steps: paid back when the provider made them,
    otherwise back to awaiting a decision (their reservation given back). One unit of work per refund; the
    outcome of each by refund id."""
    with use_case():
        left = refunds.left_approved((now or utcnow()) - RECONCILE_AFTER)
    outcomes = {}
    for payback in left:
        try:
            made = refunds.made_at_provider(payback)
        except gateway.PaymentProviderError as error:
            log.warning("reading the refunds of refund %s at the provider failed: %s", payback.refund_id, error)
            outcomes[payback.refund_id] = "provider unavailable: left approved"
            continue
        try:
            with use_case():
                if made is not None and made.status not in ("failed", "canceled"):
                    refunds.record_paid_back(payback.refund_id, made.id, None, "job")
                    outcomes[payback.refund_id] = f"paid back ({made.id})"
                else:
                    refunds.reopen(payback.refund_id, None, "job", _("the payment service never made the refund"))
                    outcomes[payback.refund_id] = "back to requested"
        except DomainError as refusal:  # it moved meanwhile: whoever moved it recorded it
            outcomes[payback.refund_id] = f"skipped: {refusal.message}"
    return outcomes
