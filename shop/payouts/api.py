"""JSON API of payout batches (operators only)."""

from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from shop.access import OPERATORS, allow
from shop.payouts import services
from shop.payouts.schemas import BatchCreateSchema, BatchSchema, OutcomesSchema
from shop.web.downloads import CSV_RESPONSE_DOC, csv_download

blp = Blueprint("payouts_api", __name__, url_prefix="/api/v1/payouts", description="Payout batches (代发)")
BEARER = [{"bearerAuth": []}]


@blp.route("/batches", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(BatchCreateSchema)
@blp.response(201, BatchSchema)
@blp.doc(security=BEARER)
def create_batch(payload):
    """Pay every cooperative and household payable balance: moved into payouts in transit at once."""
    return services.create_batch(current_user, payload["period_start"], payload["period_end"])


@blp.route("/batches", methods=["GET"])
@allow(OPERATORS)
@blp.response(200, BatchSchema(many=True))
@blp.doc(security=BEARER)
def list_batches():
    return services.list_batches(current_user)


@blp.route("/batches/<int:batch_id>", methods=["GET"])
@allow(OPERATORS)
@blp.response(200, BatchSchema)
@blp.doc(security=BEARER)
def get_batch(batch_id):
    return services.get_batch(current_user, batch_id)


@blp.route("/batches/<int:batch_id>.csv", methods=["GET"])
@allow(OPERATORS)
@blp.doc(security=BEARER, responses={"200": CSV_RESPONSE_DOC})
def batch_csv(batch_id):
    """The bank's batch transfer file (代发), UTF-8 with BOM so that spreadsheet programs read the Chinese."""
    batch = services.get_batch(current_user, batch_id)
    return csv_download(services.batch_file_rows(batch), f"{batch.reference}.csv")


@blp.route("/batches/<int:batch_id>/paid", methods=["POST"])
@allow(OPERATORS)
@blp.arguments(OutcomesSchema)
@blp.response(200, BatchSchema)
@blp.doc(security=BEARER)
def record_paid(payload, batch_id):
    """The bank's answer: lines paid or failed (a failed line's amount goes back to its payable)."""
    if not payload["lines"]:
        return services.mark_all_paid(current_user, batch_id, payload["note"])
    outcomes = {line["id"]: line["outcome"] for line in payload["lines"]}
    return services.record_outcomes(current_user, batch_id, outcomes, payload["note"])
