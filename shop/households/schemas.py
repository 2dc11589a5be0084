import marshmallow as ma
from marshmallow import validate

from shop.households.models import HouseholdStatus, LinkStatus, LinkType
from shop.households.rules import MAX_LINK_WEIGHT
from shop.web.inputs import RowId

MASKED = (
    "Masked (e.g. 李**, 1311**********1234) unless the caller is an operator "
    "or a county reviewer of the household's county."
)


class HouseholdSchema(ma.Schema):
    """A household as the caller may see it (dumped from a privacy.HouseholdView)."""

    id = ma.fields.Integer()
    registry_number = ma.fields.String()
    county_code = ma.fields.String()
    county_name = ma.fields.String()
    township = ma.fields.String()
    village = ma.fields.String()
    members = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in HouseholdStatus]})
    head_name = ma.fields.String(metadata={"description": MASKED})
    id_number = ma.fields.String(metadata={"description": MASKED})
    payout_bank_name = ma.fields.String()
    payout_account_name = ma.fields.String(metadata={"description": MASKED})
    payout_account_number = ma.fields.String(metadata={"description": MASKED})
    personal_data_visible = ma.fields.Boolean(metadata={"description": "False when the personal fields are masked"})
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class HouseholdPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HouseholdSchema))
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    pages = ma.fields.Integer()


COUNTY_CODE = validate.Regexp(r"^\d{6}$", error="A region code has six digits.")


class HouseholdQuerySchema(ma.Schema):
    county_code = ma.fields.String(validate=COUNTY_CODE)
    township = ma.fields.String(validate=validate.Length(max=60))
    village = ma.fields.String(validate=validate.Length(max=60))
    status = ma.fields.String(validate=validate.OneOf([s.value for s in HouseholdStatus]))
    q = ma.fields.String(
        validate=validate.Length(max=32), metadata={"description": "Start of a registry number (never a name or ID)"}
    )
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class RowErrorSchema(ma.Schema):
    row = ma.fields.Integer(metadata={"description": "Line of the file (the header is line 1)"})
    registry_number = ma.fields.String()
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))


class ImportReportSchema(ma.Schema):
    encoding = ma.fields.String(metadata={"description": "utf-8, utf-8-sig or gbk, as detected"})
    rows = ma.fields.Integer(metadata={"description": "Data rows read"})
    imported = ma.fields.Integer(metadata={"description": "Rows written (created + updated)"})
    created = ma.fields.Integer()
    updated = ma.fields.Integer(metadata={"description": "Registry numbers already stored, updated in place"})
    errors = ma.fields.List(ma.fields.Nested(RowErrorSchema))


class LinkCreateSchema(ma.Schema):
    registry_number = ma.fields.String(required=True, validate=validate.Length(min=1, max=32))
    link_type = ma.fields.String(required=True, validate=validate.OneOf([t.value for t in LinkType]))
    weight = ma.fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=MAX_LINK_WEIGHT))
    note = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class LinkDecisionSchema(ma.Schema):
    note = ma.fields.String(load_default="", validate=validate.Length(max=1000))


class LinkQuerySchema(ma.Schema):
    status = ma.fields.String(validate=validate.OneOf([s.value for s in LinkStatus]))


class LinkEventSchema(ma.Schema):
    to_status = ma.fields.String(metadata={"enum": [s.value for s in LinkStatus]})
    actor_role = ma.fields.String(metadata={"description": "cooperative, county_reviewer or operator; '' if unknown"})
    note = ma.fields.String()
    at = ma.fields.AwareDateTime()


class LinkSchema(ma.Schema):
    """Dumped from a services.LinkView: its household is masked as for the caller."""

    id = ma.fields.Integer()
    cooperative_id = ma.fields.Integer()
    cooperative_name = ma.fields.String()
    household = ma.fields.Nested(HouseholdSchema)
    link_type = ma.fields.String()
    weight = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": [s.value for s in LinkStatus]})
    note = ma.fields.String()
    proposed_at = ma.fields.AwareDateTime()
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_note = ma.fields.String()
    allowed_actions = ma.fields.List(ma.fields.String())
    history = ma.fields.List(ma.fields.Nested(LinkEventSchema), metadata={"description": "Every change, oldest first"})


class SourcingSchema(ma.Schema):
    household_ids = ma.fields.List(
        RowId(),
        required=True,
        validate=validate.Length(max=1000),
        metadata={"description": "Households linked to the product's cooperative; empty: all its confirmed links"},
    )


class SourcingAnswerSchema(SourcingSchema):
    product_id = ma.fields.Integer()
