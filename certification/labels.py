"""Words for the certification codes, in the UI language (lazy: evaluated when shown)."""

from flask_babel import lazy_gettext as _l

from certification.models import DocumentKind, LinkageType

LINKAGE_LABELS = {
    LinkageType.PRODUCE_PURCHASE: _l("Buying the households' produce (订单收购)"),
    LinkageType.WAGES: _l("Wages for work (务工)"),
    LinkageType.DIVIDEND: _l("Dividends on shares (入股分红)"),
    LinkageType.GUARANTEED_RETURN: _l("Guaranteed returns (保底收益)"),
}
DOCUMENT_LABELS = {DocumentKind.QUALITY_REPORT: _l("Quality inspection report"), DocumentKind.OTHER: _l("Other")}

STATE_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted, awaiting county review"),
    "county_approved": _l("County approved, awaiting province review"),
    "returned": _l("Returned for changes"),
    "rejected": _l("Rejected"),
    "public_notice": _l("Under public notice"),
    "certified": _l("Certified"),
    "suspended": _l("Suspended"),
    "revoked": _l("Revoked"),
    "expired": _l("Expired"),
    "superseded": _l("Superseded by a renewal"),
}
ACTION_LABELS = {
    "submit": _l("Submit for review"),
    "county_approve": _l("Approve (county)"),
    "return": _l("Return for changes"),
    "reject": _l("Reject"),
    "province_approve": _l("Approve (province) and publish for notice"),
    "object": _l("Object"),
    "uphold_objection": _l("Uphold the objection (reject)"),
    "dismiss_objection": _l("Dismiss the objection"),
    "end_notice": _l("Notice period ended"),
    "suspend": _l("Suspend the certificate"),
    "reinstate": _l("Reinstate the certificate"),
    "revoke": _l("Revoke the certificate"),
    "expire": _l("Expired"),
    "supersede": _l("Superseded"),
}

ACTOR_REFUSALS = {
    "applicant": _l("Only staff of the product's cooperative may do this."),
    "county_reviewer": _l("Only a county reviewer of the product's origin county may do this."),
    "province_reviewer": _l("Only a province reviewer of the product's province may do this."),
    "supervisor": _l("Only a province reviewer of the product's province or a platform operator may do this."),
    "signed_in": _l("Please sign in first."),
    "job": _l("Only the scheduled job does this."),
}
# Returning and rejecting are the county reviewer's before county approval and the province reviewer's after.
REVIEWER_REFUSAL = _l("Only a reviewer of the product's origin county or of its province may do this.")
EVIDENCE_LABELS = {
    "origin_county_code": _l("Origin county code"),
    "production_base_address": _l("Production base address"),
    "annual_output": _l("Annual output"),
    "output_unit": _l("Unit of output"),
    "supply_capacity": _l("Supply capacity"),
    "declared_price_fen": _l("Declared price"),
    "market_price_fen": _l("Market price of the same grade"),
    "market_price_source": _l("Where the market price comes from"),
    "linkage_type": _l("How households benefit"),
    "linkage_description": _l("Benefit linkage in detail"),
    "linked_households": _l("Number of linked poor households"),
    "quality_report": _l("Quality inspection report"),
    "documents": _l("Documents"),
}
