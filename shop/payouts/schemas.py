"""Wire format of payout batches."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from shop.payouts.models import PayoutLineStatus
from shop.web.inputs import RowId


class BatchCreateSchema(ma.Schema):
    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(required=True)


class PayoutLineSchema(ma.Schema):
    id = ma.fields.Integer()
    cooperative_id = ma.fields.Integer(allow_none=True)
    household_id = ma.fields.Integer(allow_none=True)
    amount_fen = ma.fields.Integer()
    bank_name = ma.fields.String()
    account_name = ma.fields.String()
    account_number = ma.fields.String()
    status = ma.fields.String()
    note = ma.fields.String()


class BatchSchema(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    created_at = ma.fields.AwareDateTime()
    total_fen = ma.fields.Integer()
    lines = ma.fields.List(ma.fields.Nested(PayoutLineSchema))


class OutcomeSchema(ma.Schema):
    id = RowId(required=True)
    outcome = ma.fields.String(
        required=True, validate=validate.OneOf([PayoutLineStatus.PAID.value, PayoutLineStatus.FAILED.value])
    )


class OutcomesSchema(ma.Schema):
    """The bank's answer. No lines: every line still in transit was paid."""

    lines = ma.fields.List(ma.fields.Nested(OutcomeSchema), load_default=list)
    note = ma.fields.String(load_default="", validate=validate.Length(max=500))
