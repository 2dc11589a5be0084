"""The provider's webhook: signed events, each processed once."""

from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from shop.access import PUBLIC, allow
from shop.errors import DomainError
from shop.payments import gateway, services

blp = Blueprint("payments_api", __name__, url_prefix="/api/v1/payments", description="Payment provider webhooks")


class BadWebhook(DomainError):
    status = 400
    code = "bad_signature"


class WebhookNotConfigured(DomainError):
    status = 503
    code = "webhooks_not_configured"


@blp.route("/stripe/webhook", methods=["POST"])
@allow(PUBLIC)
@blp.response(200)
@blp.doc(
    description="Called by Stripe. The `Stripe-Signature` header is verified; a bad or missing one is a "
    "400 and changes nothing."
)
def stripe_webhook():
    """Receive a Stripe event (signature verified with STRIPE_WEBHOOK_SECRET)."""
    try:
        event = gateway.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.InvalidWebhook as error:
        raise BadWebhook(_("The webhook signature is missing or wrong.")) from error
    except gateway.PaymentProviderError as error:  # no STRIPE_WEBHOOK_SECRET configured
        raise WebhookNotConfigured(_("Webhooks are not configured on this server.")) from error
    return {"received": True, "outcome": services.handle_event(event)}
