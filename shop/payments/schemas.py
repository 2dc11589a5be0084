"""The wire format of the provider's webhook events: what the shop reads of a signed event.

A valid signature proves who sent a body, not that the body is well-formed (whoever holds the webhook secret can
sign anything), so every event is loaded here before anything is stored: a malformed one is answered 400, naming
the field, and leaves no row. What the shop then believes about money comes from the provider itself
(`services.handle_event` reads the intent back); the event only says which intent to read.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shop.references import ORDER_REFERENCE_PATTERN

INT64_MAX = 2**63 - 1
# Ids are kept in String(64) columns (provider_events, payment_flags, payments.provider_reference); Stripe's own ids
# are letters, digits and underscores (evt_…, pi_…, ch_…, re_…), which also keeps them safe in provider URLs.
PROVIDER_ID = r"^[A-Za-z0-9_]{1,64}$"
INTENT_ID = r"^pi_[A-Za-z0-9_]{1,61}$"
EVENT_TYPE = r"^[a-z0-9_.]{1,64}$"
# Order.reference is "FO" and the order id (shop/references.py). The pattern only bounds the text; whether the number
# can be an order id at all is `order_id_from_reference`'s question.
ORDER_REFERENCE = ORDER_REFERENCE_PATTERN


class Fen(ma.fields.Integer):
    """An amount in fen: a JSON integer (not a string, a fraction or true/false) within 64 bits."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(min=0, max=INT64_MAX), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _id(pattern: str = PROVIDER_ID, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Regexp(pattern, error="Not a provider id."), **kwargs)


class IntentMetadataSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    order = ma.fields.String(validate=validate.Regexp(ORDER_REFERENCE, error="Not an order reference (FO…)."))


class PaymentIntentSchema(ma.Schema):
    """data.object of payment_intent.* events."""

    class Meta:
        unknown = ma.EXCLUDE

    id = _id(INTENT_ID, required=True)
    amount = Fen(required=True)
    currency = ma.fields.String(validate=validate.Regexp(r"^[a-z]{3}$", error="Not a currency code."))
    metadata = ma.fields.Nested(IntentMetadataSchema, load_default=dict)


class ProviderRefundSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    id = _id(required=True)
    amount = Fen(load_default=0)


class ProviderRefundListSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    data = ma.fields.List(ma.fields.Nested(ProviderRefundSchema), load_default=list)


class ChargeSchema(ma.Schema):
    """data.object of charge.refunded."""

    class Meta:
        unknown = ma.EXCLUDE

    id = _id(required=True)
    payment_intent = _id(INTENT_ID, allow_none=True, load_default=None)
    refunds = ma.fields.Nested(ProviderRefundListSchema, load_default=dict)


class OtherObjectSchema(ma.Schema):
    """data.object of any other event type: only its id is kept (the shop ignores these events)."""

    class Meta:
        unknown = ma.EXCLUDE

    id = _id(load_default="")


OBJECT_SCHEMAS: dict[str, type[ma.Schema]] = {
    "payment_intent.succeeded": PaymentIntentSchema,
    "payment_intent.payment_failed": PaymentIntentSchema,
    "payment_intent.canceled": PaymentIntentSchema,
    "charge.refunded": ChargeSchema,
}


class EventDataSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    object = ma.fields.Dict(required=True)


class ProviderEventSchema(ma.Schema):
    """A verified event: loads to {"id", "type", "object"}, with `object` checked by the schema of its type."""

    class Meta:
        unknown = ma.EXCLUDE

    id = _id(required=True)
    type = ma.fields.String(required=True, validate=validate.Regexp(EVENT_TYPE, error="Not an event type."))
    data = ma.fields.Nested(EventDataSchema, required=True)

    @ma.post_load
    def _load_object(self, event: dict, **kwargs) -> dict:
        schema = OBJECT_SCHEMAS.get(event["type"], OtherObjectSchema)
        try:
            loaded = schema().load(event.pop("data")["object"])
        except ma.ValidationError as error:
            raise ma.ValidationError({"data": {"object": error.messages}}) from error
        return {**event, "object": loaded}


def field_messages(messages: dict, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as one level of dotted field names ("data.object.amount")."""
    fields: dict[str, list[str]] = {}
    for key, value in messages.items():
        # A nested object of the wrong type is reported under "_schema": name the field itself.
        name = prefix if key == ma.exceptions.SCHEMA and prefix else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            fields.update(field_messages(value, name))
        else:
            fields[name] = [str(message) for message in value] if isinstance(value, list) else [str(value)]
    return fields
