import marshmallow as ma
from marshmallow import validate

from shop.cooperatives.models import CooperativeKind


class CooperativePublicSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    credit_code = ma.fields.String()
    kind = ma.fields.String()
    county_code = ma.fields.String()
    county_name = ma.fields.Function(lambda c: c.county.full_name)
    description = ma.fields.String()
    status = ma.fields.String()


class CooperativeSchema(CooperativePublicSchema):
    """Everything, for the cooperative's own staff and operators (contact and payout account included)."""

    address = ma.fields.String()
    contact_name = ma.fields.String()
    contact_phone = ma.fields.String()
    payout_bank_name = ma.fields.String()
    payout_account_name = ma.fields.String()
    payout_account_number = ma.fields.String()
    status_reason = ma.fields.String()
    shipping_fee_fen = ma.fields.Integer()
    free_shipping_threshold_fen = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


PHONE = validate.Regexp(r"^[0-9+\- ]{5,20}$", error="A phone number has 5 to 20 digits, spaces, + or -.")


class CooperativeUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=2, max=120))
    credit_code = ma.fields.String(validate=validate.Length(max=40))
    kind = ma.fields.Enum(CooperativeKind, by_value=True)
    county_code = ma.fields.String(validate=validate.Length(max=6))
    address = ma.fields.String(validate=validate.Length(max=200))
    contact_name = ma.fields.String(validate=validate.Length(max=60))
    contact_phone = ma.fields.String(validate=PHONE)
    description = ma.fields.String(validate=validate.Length(max=2000))
    payout_bank_name = ma.fields.String(validate=validate.Length(max=80))
    payout_account_name = ma.fields.String(validate=validate.Length(max=120))
    payout_account_number = ma.fields.String(validate=validate.Length(max=34))
    shipping_fee_fen = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=10**8))
    free_shipping_threshold_fen = ma.fields.Integer(
        strict=True, validate=validate.Range(min=0, max=10**8), metadata={"description": "0: no free shipping"}
    )


class CooperativeCreateSchema(CooperativeUpdateSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=2, max=120))
    credit_code = ma.fields.String(required=True, validate=validate.Length(max=40))
    county_code = ma.fields.String(required=True, validate=validate.Length(max=6))


class StatusChangeSchema(ma.Schema):
    reason = ma.fields.String(load_default="", validate=validate.Length(max=200))


class CooperativeQuerySchema(ma.Schema):
    county_code = ma.fields.String(validate=validate.Regexp(r"^\d{6}$", error="A region code has six digits."))
