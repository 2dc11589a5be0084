"""Pages of buyer organizations."""

from __future__ import annotations

from flask import Blueprint

from shop.organizations import services

bp = Blueprint("organizations", __name__)


@bp.record_once
def _tell_accounts_which_organizations_exist(state) -> None:
    """A role grant names an organization; accounts do not import organizations, so this area hands them the check."""
    state.app.extensions.setdefault("accounts", {}).setdefault("grant_scopes", {})["organization"] = (
        services.organization_exists
    )
