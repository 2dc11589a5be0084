"""JSON API of settlement: start a run, read a household's ledger and a cooperative's settlements, set the
household share of a cooperative or a product."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, COUNTY_REVIEWERS_AND_OPERATORS, OPERATORS, allow
from shop.settlement import reports, services, shares
from shop.settlement.schemas import (
    CooperativeSettlementsSchema,
    CooperativeShareAnswerSchema,
    CooperativeShareSchema,
    HouseholdLedgerSchema,
    ProductShareAnswerSchema,
    ProductShareSchema,
    SettlementRunSchema,
)

blp = Blueprint("settlement_api", __name__, url_prefix="/api/v1", description="Settlement and household ledgers")
BEARER = [{"bearerAuth": []}]


@blp.route("/settlement/runs", methods=["POST"])
@allow(OPERATORS)
@blp.response(201, SettlementRunSchema)
@blp.doc(security=BEARER)
def start_run():
    """Settle every line whose refund window has passed with no refund open; returns what it settled.
    Running it again settles nothing twice."""
    return services.settle_due(current_user)


@blp.route("/households/<int:household_id>/ledger", methods=["GET"])
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
@blp.response(200, HouseholdLedgerSchema)
@blp.doc(security=BEARER)
def household_ledger(household_id):
    """The household's ledger (一户一台账): every amount with its order, product, cooperative and link type;
    totals by month and by source. For the county reviewers of its county and operators."""
    return reports.household_ledger(current_user, household_id)


@blp.route("/cooperatives/<int:cooperative_id>/settlements", methods=["GET"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.response(200, CooperativeSettlementsSchema)
@blp.doc(security=BEARER)
def cooperative_settlements(cooperative_id):
    """The cooperative's settled lines and the households its sales supported (names masked)."""
    return reports.cooperative_settlements(current_user, cooperative_id)


@blp.route("/cooperatives/<int:cooperative_id>/household-share", methods=["PUT"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(CooperativeShareSchema)
@blp.response(200, CooperativeShareAnswerSchema)
@blp.doc(security=BEARER)
def set_cooperative_share(payload, cooperative_id):
    """Set the cooperative's household share (basis points); refused when PLATFORM_FEE_BP + share > 10000."""
    cooperative = shares.set_cooperative_share(current_user, cooperative_id, payload["household_share_bp"])
    return {
        "id": cooperative.id,
        "household_share_bp": cooperative.household_share_bp,
        "platform_fee_bp": shares.platform_fee_bp(),
    }


@blp.route("/products/<int:product_id>/household-share", methods=["PUT"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
@blp.arguments(ProductShareSchema)
@blp.response(200, ProductShareAnswerSchema)
@blp.doc(security=BEARER)
def set_product_share(payload, product_id):
    """Set a product's own household share (null: its cooperative's)."""
    product = shares.set_product_share(current_user, product_id, payload["household_share_bp"])
    return {
        "product_id": product.id,
        "household_share_bp": product.household_share_bp,
        "effective_household_share_bp": shares.effective_share_bp(product),
        "platform_fee_bp": shares.platform_fee_bp(),
    }
