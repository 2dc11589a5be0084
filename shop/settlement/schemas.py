"""Wire format of settlement: runs, a household's ledger, a cooperative's settlements, household shares."""

from __future__ import annotations

import marshmallow as ma

from shop.settlement.shares import share_refusal


class SettlementRunSchema(ma.Schema):
    id = ma.fields.Integer()
    started_at = ma.fields.AwareDateTime()
    lines_settled = ma.fields.Integer()
    shipments_settled = ma.fields.Integer()
    amount_fen = ma.fields.Integer()


class LedgerRowSchema(ma.Schema):
    entry_id = ma.fields.Integer()
    day = ma.fields.Date()
    code = ma.fields.String()
    amount_fen = ma.fields.Integer()
    order_reference = ma.fields.String()
    product_name = ma.fields.String()
    cooperative_name = ma.fields.String()
    link_type = ma.fields.String()
    payout_status = ma.fields.String(
        metadata={
            "description": "On payout rows: in_transit until the bank confirms the payout, then paid or failed "
            "(a failed payout's amount is back on the balance); empty on other rows"
        }
    )


class MonthTotalSchema(ma.Schema):
    month = ma.fields.String()
    amount_fen = ma.fields.Integer()


class SourceTotalSchema(ma.Schema):
    cooperative_name = ma.fields.String()
    link_type = ma.fields.String()
    amount_fen = ma.fields.Integer()


class HouseholdLedgerSchema(ma.Schema):
    household_id = ma.fields.Integer(attribute="household.id")
    registry_number = ma.fields.String(attribute="household.registry_number")
    balance_fen = ma.fields.Integer()
    earned_fen = ma.fields.Integer()
    paid_out_fen = ma.fields.Integer(metadata={"description": "Payouts the bank confirmed paid"})
    in_transit_fen = ma.fields.Integer(
        metadata={"description": "In a payout batch, not yet confirmed by the bank (neither owed nor paid out)"}
    )
    rows = ma.fields.List(ma.fields.Nested(LedgerRowSchema))
    by_month = ma.fields.Method("_by_month")
    by_source = ma.fields.Method("_by_source")

    def _by_month(self, ledger) -> list[dict]:
        return [{"month": month, "amount_fen": amount} for month, amount in ledger.by_month.items()]

    def _by_source(self, ledger) -> list[dict]:
        return [
            {"cooperative_name": cooperative, "link_type": link_type, "amount_fen": amount}
            for (cooperative, link_type), amount in ledger.by_source.items()
        ]


class SettledLineSchema(ma.Schema):
    day = ma.fields.Date()
    order_reference = ma.fields.String()
    product_name = ma.fields.String()
    amount_fen = ma.fields.Integer()
    fee_fen = ma.fields.Integer()
    cooperative_fen = ma.fields.Integer()
    households_fen = ma.fields.Integer()


class HouseholdIncomeSchema(ma.Schema):
    household_id = ma.fields.Integer()
    name = ma.fields.String()
    village = ma.fields.String()
    amount_fen = ma.fields.Integer()


class CooperativeSettlementsSchema(ma.Schema):
    cooperative_id = ma.fields.Integer(attribute="cooperative.id")
    cooperative_name = ma.fields.String(attribute="cooperative.name")
    total_fen = ma.fields.Integer()
    cooperative_fen = ma.fields.Integer()
    households_fen = ma.fields.Integer()
    shipping_fen = ma.fields.Integer()
    payable_fen = ma.fields.Integer()
    receivable_fen = ma.fields.Integer()
    payouts_in_transit_fen = ma.fields.Integer(
        metadata={"description": "In a payout batch, not yet confirmed by the bank (no longer in payable_fen)"}
    )
    paid_out_fen = ma.fields.Integer(metadata={"description": "Payouts the bank confirmed paid"})
    lines = ma.fields.List(ma.fields.Nested(SettledLineSchema))
    households = ma.fields.List(ma.fields.Nested(HouseholdIncomeSchema))


def fits_the_platform_fee(share_bp: int) -> None:
    """The fee + share rule (shop.settlement.shares.share_refusal), with the message the service gives
    (marshmallow does not validate a null, which a product's share may be)."""
    refusal = share_refusal(share_bp)
    if refusal is not None:
        raise ma.ValidationError(refusal)


class CooperativeShareSchema(ma.Schema):
    household_share_bp = ma.fields.Integer(
        required=True,
        strict=True,
        validate=fits_the_platform_fee,
        metadata={"description": "Basis points of each settled line (1000 = 10 %)"},
    )


class CooperativeShareAnswerSchema(ma.Schema):
    cooperative_id = ma.fields.Integer(attribute="id")
    household_share_bp = ma.fields.Integer()
    platform_fee_bp = ma.fields.Integer()


class ProductShareSchema(ma.Schema):
    household_share_bp = ma.fields.Integer(
        required=True,
        strict=True,
        allow_none=True,
        validate=fits_the_platform_fee,
        metadata={"description": "null: the cooperative's share"},
    )


class ProductShareAnswerSchema(ma.Schema):
    product_id = ma.fields.Integer()
    household_share_bp = ma.fields.Integer(allow_none=True)
    effective_household_share_bp = ma.fields.Integer()
    platform_fee_bp = ma.fields.Integer()
