import marshmallow as ma
from flask import url_for
from marshmallow import validate

from certification.models import DocumentKind, LinkageType
from certification.rules import Action
from shop.web.inputs import RowId


def verify_url(certificate_no: str) -> str:
    return url_for("certification.verify", certificate_no=certificate_no, _external=True)


COUNTY = validate.Regexp(r"^\d{6}$", error="A region code has six digits.")


def _amount(**kwargs):
    return ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=10**12), **kwargs)


class EvidenceSchema(ma.Schema):
    origin_county_code = ma.fields.String(validate=COUNTY)
    production_base_address = ma.fields.String(validate=validate.Length(max=200))
    annual_output = _amount()
    output_unit = ma.fields.String(validate=validate.Length(max=8))
    supply_capacity = ma.fields.String(validate=validate.Length(max=200))
    declared_price_fen = _amount(metadata={"description": "Declared price of one unit, in fen"})
    market_price_fen = _amount(metadata={"description": "Market price of the same grade it was compared with, in fen"})
    market_price_source = ma.fields.String(validate=validate.Length(max=200))
    linkage_type = ma.fields.Enum(LinkageType, by_value=True)
    linkage_description = ma.fields.String(validate=validate.Length(max=5000))
    linked_households = ma.fields.Integer(strict=True, validate=validate.Range(min=0, max=2**31 - 1))  # Integer column


class ApplicationCreateSchema(EvidenceSchema):
    product_id = RowId(required=True)
    origin_county_code = ma.fields.String(required=True, validate=COUNTY)


class EventSchema(ma.Schema):
    id = ma.fields.Integer()
    action = ma.fields.String()
    from_state = ma.fields.String()
    to_state = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    actor_role = ma.fields.String()
    comment = ma.fields.String()
    at = ma.fields.AwareDateTime()


class VersionSchema(ma.Schema):
    number = ma.fields.Integer()
    evidence = ma.fields.Dict()
    document_ids = ma.fields.List(ma.fields.Integer())
    submitted_at = ma.fields.AwareDateTime()


class DocumentSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    original_name = ma.fields.String()
    content_type = ma.fields.String()
    size_bytes = ma.fields.Integer()
    uploaded_at = ma.fields.AwareDateTime()
    url = ma.fields.Function(lambda d: url_for("certification_api.download_document", document_id=d.id))


class ObjectionSchema(ma.Schema):
    id = ma.fields.Integer()
    reason = ma.fields.String()
    status = ma.fields.String()
    raised_at = ma.fields.AwareDateTime()
    resolution = ma.fields.String()
    resolved_at = ma.fields.AwareDateTime(allow_none=True)


class CertificateSchema(ma.Schema):
    certificate_no = ma.fields.String()
    status = ma.fields.String()
    product_id = ma.fields.Integer()
    product_name = ma.fields.String()
    cooperative_name = ma.fields.String()
    origin_county_code = ma.fields.String()
    valid_from = ma.fields.Date()
    valid_until = ma.fields.Date()
    verify_url = ma.fields.Function(
        lambda c: verify_url(c["certificate_no"] if isinstance(c, dict) else c.certificate_no)
    )


class ApplicationSummarySchema(EvidenceSchema):
    linkage_type = ma.fields.String()
    id = ma.fields.Integer()
    product_id = ma.fields.Integer()
    product_name = ma.fields.String()
    cooperative_id = ma.fields.Integer()
    cooperative_name = ma.fields.String()
    state = ma.fields.String()
    version_count = ma.fields.Integer()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    state_changed_at = ma.fields.AwareDateTime()
    notice_ends_on = ma.fields.Date(allow_none=True)
    created_at = ma.fields.AwareDateTime()


class ApplicationSchema(ApplicationSummarySchema):
    events = ma.fields.List(ma.fields.Nested(EventSchema))
    versions = ma.fields.List(ma.fields.Nested(VersionSchema))
    documents = ma.fields.List(ma.fields.Nested(DocumentSchema))
    objections = ma.fields.List(ma.fields.Nested(ObjectionSchema))
    certificate = ma.fields.Nested(CertificateSchema, allow_none=True)
    allowed_actions = ma.fields.List(ma.fields.String(), metadata={"description": "What the caller may do now"})
    changes_since_previous_version = ma.fields.List(ma.fields.Dict())


class ApplicationQuerySchema(ma.Schema):
    state = ma.fields.String(validate=validate.Length(max=20))
    county = ma.fields.String(validate=COUNTY)
    cooperative_id = RowId(strict=False)  # a query string carries text


class TransitionSchema(ma.Schema):
    action = ma.fields.Enum(Action, by_value=True, required=True)
    comment = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    objection_id = RowId(load_default=None, allow_none=True)


class ObjectionCreateSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=2000))


class DocumentUploadSchema(ma.Schema):
    kind = ma.fields.Enum(DocumentKind, by_value=True, load_default=DocumentKind.QUALITY_REPORT)


class QueueItemSchema(ma.Schema):
    stage = ma.fields.String()
    days_waiting = ma.fields.Integer()
    application = ma.fields.Nested(ApplicationSummarySchema)


class TickResultSchema(ma.Schema):
    certified = ma.fields.List(ma.fields.String())
    expired = ma.fields.List(ma.fields.String())


class CalendarDaySchema(ma.Schema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(["holiday", "workday"]))
    name = ma.fields.String(load_default="", validate=validate.Length(max=40))


class CalendarQuerySchema(ma.Schema):
    year = ma.fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class VerificationSchema(CertificateSchema):
    is_valid = ma.fields.Boolean()
    origin = ma.fields.String(metadata={"description": "Province, prefecture and county of origin"})
    status_text = ma.fields.String(metadata={"description": "The status in plain words"})
