"""Words for the households area's codes, in the UI language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from shop.households.models import HouseholdStatus, LinkStatus, LinkType
from shop.households.rules import LinkAction, LinkActor

HOUSEHOLD_STATUS_LABELS = {
    HouseholdStatus.REGISTERED_POOR: _l("Registered poor household"),
    HouseholdStatus.LIFTED_OUT: _l("Household lifted out of poverty"),
    HouseholdStatus.MONITORED: _l("Monitored household"),
}

LINK_TYPE_LABELS = {
    LinkType.PRODUCE_PURCHASE: _l("Purchase of their produce"),
    LinkType.WAGES: _l("Wages"),
    LinkType.DIVIDEND: _l("Dividends on shares"),
    LinkType.GUARANTEED_RETURN: _l("Guaranteed return"),
}

LINK_STATUS_LABELS = {
    LinkStatus.PROPOSED: _l("Proposed"),
    LinkStatus.CONFIRMED: _l("Confirmed"),
    LinkStatus.REJECTED: _l("Rejected"),
    LinkStatus.ENDED: _l("Ended"),
}

# In which capacity someone acted on a link (its history).
LINK_ACTOR_LABELS = {
    LinkActor.COOPERATIVE: _l("Cooperative"),
    LinkActor.COUNTY_REVIEWER: _l("County reviewer"),
    LinkActor.OPERATOR: _l("Operator"),
}

LINK_ACTION_LABELS = {
    LinkAction.CONFIRM: _l("Confirm"),
    LinkAction.REJECT: _l("Reject"),
    LinkAction.END: _l("End"),
}

# What an import report calls each column (the canonical English header).
COLUMN_LABELS = {
    "registry_number": _l("Registry number"),
    "head_name": _l("Head of household"),
    "id_number": _l("ID number"),
    "county_code": _l("County code"),
    "township": _l("Township"),
    "village": _l("Village"),
    "members": _l("Members"),
    "status": _l("Household type"),
    "bank": _l("Bank"),
    "account_name": _l("Account name"),
    "account_number": _l("Account number"),
    "file": _l("File"),
    "row": _l("Row"),
}
