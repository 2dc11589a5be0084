"""JSON API of households: the registry (masked by role), its CSV import, benefit links and sourcing.

The household shares are settlement's settings (the settlement area's API serves them)."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import (
    COOPERATIVE_STAFF_AND_OPERATORS,
    COUNTY_REVIEWERS_AND_OPERATORS,
    HOUSEHOLD_VIEWERS,
    LINK_PARTIES,
    allow,
)
from shop.errors import ValidationFailed
from shop.households import imports, registry
from shop.households import links as benefit_links
from shop.households.rules import LinkAction
from shop.households.schemas import (
    HouseholdPageSchema,
    HouseholdQuerySchema,
    HouseholdSchema,
    ImportReportSchema,
    LinkCreateSchema,
    LinkDecisionSchema,
    LinkQuerySchema,
    LinkSchema,
    SourcingAnswerSchema,
    SourcingSchema,
)

blp = Blueprint(
    "households_api", __name__, url_prefix="/api/v1", description="Beneficiary households and benefit links (利益联结)"
)
BEARER = [{"bearerAuth": []}]


@blp.route("/households", methods=["GET"])
@allow(HOUSEHOLD_VIEWERS)
@blp.arguments(HouseholdQuerySchema, location="query")
@blp.response(200, HouseholdPageSchema)
@blp.doc(security=BEARER)
def list_households(query):
    """Households in the caller's scope: operators all, county reviewers their county, province reviewers their
    province, cooperative staff those linked to their cooperative. Personal fields are masked except for
    operators and the county reviewers of the household's county."""
    return registry.list_households(current_user, **query)


@blp.route("/households/<int:household_id>", methods=["GET"])
@allow(HOUSEHOLD_VIEWERS)
@blp.response(200, HouseholdSchema)
@blp.doc(security=BEARER)
def get_household(household_id):
    """One household (masked as in the list); 404 outside the caller's scope."""
    return registry.get_household(current_user, household_id)


@blp.route("/households/import", methods=["POST"])
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
@blp.response(200, ImportReportSchema)
@blp.doc(
    security=BEARER,
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        }
    },
)
def import_households():
    """Import the county office's CSV (UTF-8, UTF-8 with BOM or GBK; Chinese or English headers).

    Good rows are written, bad rows are reported with their line and field errors (never half-written). A
    registry number already stored is updated in place. County reviewers import their own county only."""
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed.on("file", _("Attach the CSV file as the multipart field 'file'."))
    return imports.import_households(current_user, upload.read())


@blp.route("/cooperatives/<int:cooperative_id>/links", methods=["GET"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(200, LinkSchema(many=True))
@blp.doc(security=BEARER)
def cooperative_links(cooperative_id):
    """The cooperative's benefit links, every status."""
    return [
        benefit_links.link_view(current_user, link)
        for link in benefit_links.links_of_cooperative(current_user, cooperative_id)
    ]


@blp.route("/cooperatives/<int:cooperative_id>/links", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(LinkCreateSchema)
@blp.response(201, LinkSchema)
@blp.doc(security=BEARER)
def propose_link(payload, cooperative_id):
    """Propose a link to a household named by its registry number; it shares income once the household's
    county reviewer confirms it. The household is shown masked."""
    link = benefit_links.propose_link(current_user, cooperative_id, **payload)
    return benefit_links.link_view(current_user, link)


@blp.route("/links", methods=["GET"])
@allow(LINK_PARTIES)
@blp.arguments(LinkQuerySchema, location="query")
@blp.response(200, LinkSchema(many=True))
@blp.doc(security=BEARER)
def list_links(query):
    """Links the caller may act on (county reviewers: their counties'; staff: their cooperatives'), oldest first."""
    return [benefit_links.link_view(current_user, link) for link in benefit_links.list_links(current_user, **query)]


def _act(link_id: int, action: LinkAction, note: str):
    link = benefit_links.apply_link_action(current_user, link_id, action, note)
    return benefit_links.link_view(current_user, link)


@blp.route("/links/<int:link_id>/confirm", methods=["POST"])
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
@blp.arguments(LinkDecisionSchema)
@blp.response(200, LinkSchema)
@blp.doc(security=BEARER)
def confirm_link(payload, link_id):
    """Confirm a proposed link (county reviewer of the household's county, or operator); 409 if already decided."""
    return _act(link_id, LinkAction.CONFIRM, payload["note"])


@blp.route("/links/<int:link_id>/reject", methods=["POST"])
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
@blp.arguments(LinkDecisionSchema)
@blp.response(200, LinkSchema)
@blp.doc(security=BEARER)
def reject_link(payload, link_id):
    """Reject a proposed link (a note saying why is required)."""
    return _act(link_id, LinkAction.REJECT, payload["note"])


@blp.route("/links/<int:link_id>/end", methods=["POST"])
@allow(LINK_PARTIES)
@blp.arguments(LinkDecisionSchema)
@blp.response(200, LinkSchema)
@blp.doc(security=BEARER)
def end_link(payload, link_id):
    """End a link (or withdraw a proposal): later settlements no longer share income with it."""
    return _act(link_id, LinkAction.END, payload["note"])


@blp.route("/products/<int:product_id>/sourcing", methods=["GET"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(200, SourcingAnswerSchema)
@blp.doc(security=BEARER)
def get_sourcing(product_id):
    """The households a product's income is narrowed to (empty: every confirmed link of its cooperative)."""
    return {"product_id": product_id, "household_ids": benefit_links.sourcing_of(current_user, product_id)}


@blp.route("/products/<int:product_id>/sourcing", methods=["PUT"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(SourcingSchema)
@blp.response(200, SourcingAnswerSchema)
@blp.doc(security=BEARER)
def set_sourcing(payload, product_id):
    """Narrow a product to some of its cooperative's linked households (empty list: no narrowing)."""
    return {
        "product_id": product_id,
        "household_ids": benefit_links.set_product_sourcing(current_user, product_id, payload["household_ids"]),
    }
