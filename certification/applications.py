"""Applications before review: create one, edit its evidence, attach documents, list them.

Products and cooperatives are read through light table constructs by foreign key: this package never
imports the shop's commerce (catalogue, orders, payments, ledger).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import select

from certification.access import acting_role, can_view, is_party, visible_to
from certification.labels import ACTOR_REFUSALS, STATE_LABELS
from certification.models import (
    EDITABLE_STATES,
    EVIDENCE_FIELDS,
    OPEN_STATES,
    Application,
    Document,
    DocumentKind,
    LinkageType,
    State,
    Version,
)
from certification.rules import Actor
from shop import uploads
from shop.accounts.models import User
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.regions.services import require_region

# The commerce tables, by name and foreign key only.
PRODUCTS = sa.table("products", sa.column("id"), sa.column("cooperative_id"), sa.column("name"))
COOPERATIVES = sa.table("cooperatives", sa.column("id"), sa.column("name"))

MAX_TEXT = {"production_base_address": 200, "supply_capacity": 200, "market_price_source": 200,
            "linkage_description": 5000, "output_unit": 8}  # fmt: skip
MAX_AMOUNT = 10**12


def product_row(product_id: int, *, lock: bool = False):
    """The product's id, cooperative, name and cooperative's name; `lock` holds the product row until commit."""
    query = (
        select(PRODUCTS.c.id, PRODUCTS.c.cooperative_id, PRODUCTS.c.name, COOPERATIVES.c.name.label("cooperative"))
        .join(COOPERATIVES, COOPERATIVES.c.id == PRODUCTS.c.cooperative_id)
        .where(PRODUCTS.c.id == product_id)
    )
    if lock:
        query = query.with_for_update(of=PRODUCTS)
    row = db.session.execute(query).one_or_none()
    if row is None:
        raise ValidationFailed.on("product_id", _("No such product."))
    return row


def product_name(product_id: int) -> str | None:
    return db.session.scalar(select(PRODUCTS.c.name).where(PRODUCTS.c.id == product_id))


def product_origin(product_id: int) -> str | None:
    products = sa.table("products", sa.column("id"), sa.column("origin_county_code"))
    return db.session.scalar(select(products.c.origin_county_code).where(products.c.id == product_id))


# --- Evidence ------------------------------------------------------------------------------------------


def _check_evidence(changes: dict) -> dict:
    clean = {}
    for field, value in changes.items():
        if field not in EVIDENCE_FIELDS:
            raise ValidationFailed.on(field, _("Unknown field."))
        clean[field] = value.strip() if isinstance(value, str) else value
    if "origin_county_code" in clean:
        clean["origin_county_code"] = require_region(
            clean["origin_county_code"], level="county", field="origin_county_code"
        )
    if "linkage_type" in clean and clean["linkage_type"] not in {t.value for t in LinkageType}:
        raise ValidationFailed.on("linkage_type", _("Unknown type of benefit linkage."))
    for field, limit in MAX_TEXT.items():
        if field in clean and (not isinstance(clean[field], str) or len(clean[field]) > limit):
            raise ValidationFailed.on(field, _("At most %(n)d characters.", n=limit))
    for field in ("annual_output", "declared_price_fen", "market_price_fen", "linked_households"):
        if field in clean:
            value = clean[field]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
                raise ValidationFailed.on(field, _("A whole number from 0 to 10^12."))
    return clean


def missing_evidence(application: Application) -> dict[str, list[str]]:
    """What a submission still lacks, by field."""
    missing = {}
    required = _("Required before submitting.")
    for field in ("production_base_address", "supply_capacity", "market_price_source", "linkage_description"):
        if not getattr(application, field):
            missing[field] = [required]
    for field in ("annual_output", "declared_price_fen", "market_price_fen", "linked_households"):
        if not getattr(application, field):
            missing[field] = [_("Must be more than zero.")]
    if not any(d.kind == DocumentKind.QUALITY_REPORT for d in application.documents):
        missing["quality_report"] = [_("Attach the quality inspection report.")]
    return missing


def evidence_of(application: Application) -> dict:
    return {field: getattr(application, field) for field in EVIDENCE_FIELDS}


def version_of(application: Application, user: User) -> Version:
    """The evidence and documents as submitted now, kept as the application's latest version."""
    return Version(
        application_id=application.id,
        number=application.version_count,
        evidence=evidence_of(application),
        document_ids=[d.id for d in application.documents],
        submitted_by_id=user.id,
    )


def changes_since_previous_version(application: Application) -> list[dict]:
    """What the applicant changed between the last two submissions (what a reviewer re-reads)."""
    if len(application.versions) < 2:
        return []
    before, after = application.versions[-2], application.versions[-1]
    changes = [
        {"field": field, "before": before.evidence.get(field), "after": after.evidence.get(field)}
        for field in EVIDENCE_FIELDS
        if before.evidence.get(field) != after.evidence.get(field)
    ]
    added = sorted(set(after.document_ids) - set(before.document_ids))
    if added:
        changes.append({"field": "documents", "before": before.document_ids, "after": after.document_ids})
    return changes


# --- Read, create, edit, documents ---------------------------------------------------------------------------


def get_application(user: User, application_id: int) -> Application:
    """An application as this user may see it; 404 when there is none or it is not theirs to see."""
    application = db.session.get(Application, application_id)
    if application is None or not can_view(user, application):
        raise NotFound(_("No such application."))
    return application


def create_application(user: User, product_id: int, evidence: dict) -> Application:
    """A draft application of a cooperative for one of its products."""
    product = product_row(product_id)
    if product.cooperative_id not in user.cooperative_ids():
        raise NotAllowed(_("Only staff of the product's cooperative may apply for it."))
    clean = _check_evidence(evidence)
    if "origin_county_code" not in clean:
        raise ValidationFailed.on("origin_county_code", _("This field is required."))
    open_one = db.session.scalar(
        select(Application.id).where(Application.product_id == product_id, Application.state.in_(OPEN_STATES))
    )
    if open_one is not None:
        raise Conflict(
            _("This product already has an application in progress (no. %(id)d).", id=open_one),
            fields={"product_id": [_("An application is already in progress.")]},
        )
    application = Application(
        product_id=product_id,
        cooperative_id=product.cooperative_id,
        product_name=product.name,
        cooperative_name=product.cooperative,
        created_by_id=user.id,
        **clean,
    )
    db.session.add(application)
    db.session.flush()
    return application


def _require_editable(user: User, application: Application) -> None:
    if acting_role(Actor.APPLICANT, user, application) is None:
        raise NotAllowed(str(ACTOR_REFUSALS[Actor.APPLICANT]))
    if application.state not in EDITABLE_STATES:
        raise InvalidTransition(
            _(
                "The application is “%(state)s” (%(code)s): it can be edited only as a draft or when returned.",
                state=STATE_LABELS[application.state],
                code=application.state,
            )
        )


def update_application(user: User, application_id: int, changes: dict) -> Application:
    """Edit the evidence of a draft or returned application."""
    application = get_application(user, application_id)
    _require_editable(user, application)
    for field, value in _check_evidence(changes).items():
        setattr(application, field, value)
    db.session.flush()
    return application


def add_document(user: User, application_id: int, kind: str, filename: str, data: bytes) -> Document:
    """Attach a document (checked by content) to a draft or returned application."""
    application = get_application(user, application_id)
    _require_editable(user, application)
    if kind not in {k.value for k in DocumentKind}:
        raise ValidationFailed.on("kind", _("Unknown kind of document."))
    checked = uploads.inspect_document(data, field="file")  # images re-encoded: no metadata, no trailing bytes
    document = Document(
        application=application,
        kind=kind,
        original_name=(filename or "document")[-200:],
        stored_name=uploads.store("certification", checked.data, checked.extension),
        content_type=checked.content_type,
        size_bytes=len(checked.data),
        uploaded_by_id=user.id,
    )
    db.session.add(document)
    db.session.flush()
    return document


def get_document(user: User, document_id: int) -> Document:
    """A document for the application's parties; the public sees an application under notice, not its files."""
    document = db.session.get(Document, document_id)
    if (
        document is None
        or not can_view(user, document.application)
        or (document.application.state == State.PUBLIC_NOTICE and not is_party(user, document.application))
    ):
        raise NotFound(_("No such document."))
    return document


# --- Lists -------------------------------------------------------------------------------------------------


def list_applications(
    user: User, state: str | None = None, county: str | None = None, cooperative_id: int | None = None
) -> list[Application]:
    query = select(Application).where(visible_to(user)).order_by(Application.id.desc())
    if state:
        query = query.where(Application.state == state)
    if county:
        query = query.where(Application.origin_county_code == county)
    if cooperative_id:
        query = query.where(Application.cooperative_id == cooperative_id)
    return list(db.session.scalars(query.limit(500)))


def latest_applications(product_ids: list[int]) -> dict[int, Application]:
    """The newest application of each product (for a cooperative's overview)."""
    latest: dict[int, Application] = {}
    query = select(Application).where(Application.product_id.in_(product_ids)).order_by(Application.id)
    for application in db.session.scalars(query):
        latest[application.product_id] = application
    return latest
