"""JSON API of certification, and the public verification of certificates."""

from __future__ import annotations

from flask import current_app, request, send_from_directory
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from certification import applications, certificates, jobs, notices, reviews
from certification.schemas import (
    ApplicationCreateSchema,
    ApplicationQuerySchema,
    ApplicationSchema,
    ApplicationSummarySchema,
    CalendarDaySchema,
    CalendarQuerySchema,
    DocumentSchema,
    EvidenceSchema,
    ObjectionCreateSchema,
    QueueItemSchema,
    TickResultSchema,
    TransitionSchema,
    VerificationSchema,
)
from shop import uploads
from shop.access import COOPERATIVE_STAFF, OPERATORS, PUBLIC, REVIEWERS, SIGNED_IN, allow
from shop.errors import ValidationFailed
from shop.extensions import limiter

blp = Blueprint(
    "certification_api",
    __name__,
    url_prefix="/api/v1/certification",
    description="Certification of poverty-relief products (扶贫产品认定)",
)
certificates_blp = Blueprint(
    "certificates_api", __name__, url_prefix="/api/v1/certificates", description="Public verification of certificates"
)
BEARER = [{"bearerAuth": []}]


def application_detail(application) -> dict:
    fields = ApplicationSchema().fields
    detail = {name: getattr(application, name) for name in fields if hasattr(application, name)}
    detail["allowed_actions"] = [a.value for a in reviews.allowed_actions(current_user, application)]
    detail["changes_since_previous_version"] = applications.changes_since_previous_version(application)
    return detail


@blp.route("/applications", methods=["POST"])
@allow(COOPERATIVE_STAFF)
@blp.arguments(ApplicationCreateSchema)
@blp.response(201, ApplicationSchema)
@blp.doc(security=BEARER)
def create_application(payload):
    """Start an application (draft) for one of the cooperative's products."""
    product_id = payload.pop("product_id")
    if "linkage_type" in payload:
        payload["linkage_type"] = payload["linkage_type"].value
    return application_detail(applications.create_application(current_user, product_id, payload))


@blp.route("/applications", methods=["GET"])
@allow(SIGNED_IN)
@blp.arguments(ApplicationQuerySchema, location="query")
@blp.response(200, ApplicationSummarySchema(many=True))
@blp.doc(security=BEARER)
def list_applications(query):
    """Applications the caller may see: their cooperative's, their region's, and those under public notice."""
    return applications.list_applications(current_user, **query)


@blp.route("/applications/<int:application_id>", methods=["GET"])
@allow(SIGNED_IN)
@blp.response(200, ApplicationSchema)
@blp.doc(security=BEARER)
def get_application(application_id):
    """One application with its evidence, versions, documents, objections, full history and allowed actions."""
    return application_detail(applications.get_application(current_user, application_id))


@blp.route("/applications/<int:application_id>", methods=["PATCH"])
@allow(COOPERATIVE_STAFF)
@blp.arguments(EvidenceSchema)
@blp.response(200, ApplicationSchema)
@blp.doc(security=BEARER)
def update_application(payload, application_id):
    """Edit the evidence while the application is a draft or returned."""
    if "linkage_type" in payload:
        payload["linkage_type"] = payload["linkage_type"].value
    return application_detail(applications.update_application(current_user, application_id, payload))


@blp.route("/applications/<int:application_id>/documents", methods=["POST"])
@allow(COOPERATIVE_STAFF)
@blp.response(201, DocumentSchema)
@blp.doc(
    security=BEARER,
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string", "enum": ["quality_report", "other"]},
                    },
                }
            }
        }
    },
)
def upload_document(application_id):
    """Attach a PDF, JPEG or PNG (checked by content), e.g. the quality inspection report."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed.on("file", _("Attach the document as the multipart field 'file'."))
    kind = request.form.get("kind", "quality_report")
    return applications.add_document(current_user, application_id, kind, upload.filename or "", upload.read())


@blp.route("/documents/<int:document_id>", methods=["GET"])
@allow(SIGNED_IN)
@blp.doc(
    security=BEARER,
    responses={
        "200": {
            "description": "The document as uploaded (checked on upload: a PDF, a JPEG or a PNG)",
            "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in uploads.DOCUMENT_TYPES},
        }
    },
)
def download_document(document_id):
    """A document of an application, for its cooperative, its reviewers and operators."""
    document = applications.get_document(current_user, document_id)
    return send_from_directory(
        uploads.upload_dir("certification"),
        document.stored_name,
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.original_name,
    )


@blp.route("/applications/<int:application_id>/transitions", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(TransitionSchema)
@blp.response(200, ApplicationSchema)
@blp.doc(security=BEARER)
def transition(payload, application_id):
    """Act on an application: 403 names who may, 409 names the state when the action is not possible now."""
    reviews.apply_transition(
        current_user, application_id, payload["action"], payload["comment"], objection_id=payload["objection_id"]
    )
    return application_detail(applications.get_application(current_user, application_id))


@blp.route("/applications/<int:application_id>/objections", methods=["POST"])
@allow(SIGNED_IN)
@blp.arguments(ObjectionCreateSchema)
@blp.response(201, ApplicationSchema)
@blp.doc(security=BEARER)
def raise_objection(payload, application_id):
    """Object to an application under public notice (anyone signed in; a reason is required)."""
    reviews.apply_transition(current_user, application_id, "object", payload["reason"])
    return application_detail(applications.get_application(current_user, application_id))


@blp.route("/queue", methods=["GET"])
@allow(REVIEWERS)
@blp.response(200, QueueItemSchema(many=True))
@blp.doc(security=BEARER)
def review_queue():
    """What waits for the caller's review, oldest first, with days waiting."""
    return reviews.review_queue(current_user)


@blp.route("/tick", methods=["POST"])
@allow(OPERATORS)
@blp.response(200, TickResultSchema)
@blp.doc(security=BEARER)
def run_tick():
    """End public notices that are over and expire certificates (what the scheduled job does)."""
    return jobs.tick()


@blp.route("/calendar", methods=["GET"])
@allow(SIGNED_IN)
@blp.arguments(CalendarQuerySchema, location="query")
@blp.response(200, CalendarDaySchema(many=True))
@blp.doc(security=BEARER)
def calendar(query):
    """Public holidays and make-up working days (调休) of a year."""
    return notices.calendar_days(query["year"])


@blp.route("/calendar", methods=["PUT"])
@allow(OPERATORS)
@blp.arguments(CalendarDaySchema)
@blp.response(200, CalendarDaySchema)
@blp.doc(security=BEARER)
def set_calendar_day(payload):
    """Mark a day as a public holiday or a make-up working day."""
    return notices.set_calendar_day(current_user, payload["day"], payload["kind"], payload["name"])


@certificates_blp.route("/<certificate_no>", methods=["GET"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["VERIFY_RATE_LIMIT"])
@certificates_blp.response(200, VerificationSchema)
def verify_certificate(certificate_no):
    """Check a certificate number from a package: product, cooperative, origin, status and validity."""
    return certificates.verification_of(certificates.certificate_by_number(certificate_no))
