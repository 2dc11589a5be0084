"""The provider's webhook: signed events, each processed once."""

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from shop.access import PUBLIC, allow
from shop.errors import DomainError
from shop.payments import flows, gateway
from shop.payments.schemas import ProviderEventSchema, field_messages
from shop.web.inputs import reads_its_own_body

blp = Blueprint("payments_api", __name__, url_prefix="/api/v1/payments", description="Payment provider webhooks")
# Start-up check, when create_app registers this blueprint (its config is final by then): the app does not start
# with the repository's demo webhook secret while payments go to real Stripe.
blp.record_once(lambda state: gateway.refuse_demo_secret_with_real_stripe(state.app.config))


class BadWebhook(DomainError):
    status = 400
    code = "bad_signature"


class MalformedEvent(DomainError):
    status = 400
    code = "malformed_event"


class WebhookNotConfigured(DomainError):
    status = 503
    code = "webhooks_not_configured"


@blp.route("/stripe/webhook", methods=["POST"])
@allow(PUBLIC)
@reads_its_own_body  # signed bytes, loaded by ProviderEventSchema: a malformed event is a 400 naming the field
@blp.response(200)
@blp.doc(
    description="Called by Stripe. The `Stripe-Signature` header is verified; a bad or missing one is a "
    "400 and changes nothing, and so is a signed event that is malformed (the answer names the field). "
    "A payment is recorded only for the intent the shop created for the order, as the provider reports it "
    "when asked: the event's own amount and status are not trusted. 503 when the provider cannot be asked "
    "(Stripe delivers the event again later)."
)
def stripe_webhook():
    """Receive a Stripe event (signature verified with STRIPE_WEBHOOK_SECRET)."""
    try:
        event = gateway.verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except gateway.MalformedWebhook as error:
        raise MalformedEvent(
            _("The event is signed but malformed; nothing was recorded."),
            fields={"json": [_("Not a JSON object of an event, with its id and type.")]},
        ) from error
    except gateway.InvalidWebhook as error:
        raise BadWebhook(_("The webhook signature is missing or wrong.")) from error
    except gateway.PaymentProviderError as error:  # no STRIPE_WEBHOOK_SECRET configured
        raise WebhookNotConfigured(_("Webhooks are not configured on this server.")) from error
    try:
        parsed = ProviderEventSchema().load(event)
    except ma.ValidationError as error:
        raise MalformedEvent(
            _("The event is signed but malformed; nothing was recorded."), fields=field_messages(error.messages)
        ) from error
    return {"received": True, "outcome": flows.handle_event(parsed)}  # its own units of work
