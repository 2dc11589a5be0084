"""JSON API of settlement: start a run, read a household's ledger and a cooperative's settlements."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, COUNTY_REVIEWERS_AND_OPERATORS, OPERATORS, allow
from shop.settlement import reports, services
from shop.settlement.schemas import CooperativeSettlementsSchema, HouseholdLedgerSchema, SettlementRunSchema

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
