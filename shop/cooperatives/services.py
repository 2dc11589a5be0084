"""Use cases of cooperatives: operators create, update and suspend them; their staff edit their profile."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cooperatives.credit_code import InvalidCreditCode, validate_credit_code
from shop.cooperatives.models import Cooperative, CooperativeStatus
from shop.cooperatives.rules import COOPERATIVE_TRANSITIONS
from shop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.regions.services import require_region
from shop.web.downloads import looks_like_formula
from shop.workflow import Workflow, apply_move

# What cooperative staff may change themselves; the rest (name, code, kind, county) is the operator's.
STAFF_EDITABLE = {
    "address",
    "contact_name",
    "contact_phone",
    "description",
    "payout_bank_name",
    "payout_account_name",
    "payout_account_number",
    "shipping_fee_fen",
    "free_shipping_threshold_fen",
}
OPERATOR_EDITABLE = STAFF_EDITABLE | {"name", "credit_code", "kind", "county_code"}
ACCOUNT_NUMBER = re.compile(r"^\d{8,30}$")

CREDIT_CODE_MESSAGES = {
    "length": _l("A unified social credit code has 18 characters."),
    "format": _l("This is not the format of a unified social credit code."),
    "check": _l("The check character of this unified social credit code is wrong."),
}


def check_credit_code(code: str) -> str:
    try:
        return validate_credit_code(code)
    except InvalidCreditCode as error:
        raise ValidationFailed.on("credit_code", str(CREDIT_CODE_MESSAGES[str(error)])) from error


def cooperative_exists(cooperative_id: int) -> bool:
    return db.session.get(Cooperative, cooperative_id) is not None


def get_cooperative(cooperative_id: int) -> Cooperative:
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound(_("No such cooperative."))
    return cooperative


def get_public_cooperative(cooperative_id: int) -> Cooperative:
    """A cooperative as the public may see it: active ones only."""
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None or not cooperative.is_active:
        raise NotFound(_("No such cooperative."))
    return cooperative


def may_manage(user: User, cooperative_id: int) -> bool:
    return user.has_role(Role.OPERATOR) or cooperative_id in user.cooperative_ids()


def require_manager(user: User, cooperative_id: int) -> Cooperative:
    """The cooperative, if this user is its staff or an operator."""
    cooperative = get_cooperative(cooperative_id)
    if not may_manage(user, cooperative_id):
        raise NotAllowed(_("You are not staff of this cooperative."))
    return cooperative


def _apply(cooperative: Cooperative, changes: dict) -> None:
    if "credit_code" in changes:
        code = check_credit_code(changes["credit_code"])
        clash = db.session.scalar(select(Cooperative.id).where(Cooperative.credit_code == code))
        if clash is not None and clash != cooperative.id:
            raise Conflict(
                _("Another cooperative has this credit code."), fields={"credit_code": [_("Already registered.")]}
            )
        changes["credit_code"] = code
    if "county_code" in changes:
        require_region(changes["county_code"], level="county", field="county_code")
    for field in ("shipping_fee_fen", "free_shipping_threshold_fen"):
        value = changes.get(field)
        if field in changes and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**8):
            raise ValidationFailed.on(field, _("An amount in fen from 0 to 100,000,000."))
    # These go into the operators' bank file; no real account holder or bank is named like a spreadsheet formula
    # (the export neutralises such cells anyway: this refuses them where they are typed, naming the field).
    for field in ("payout_account_name", "payout_bank_name"):
        if looks_like_formula(changes.get(field) or ""):
            raise ValidationFailed.on(
                field, _("A name cannot start with =, +, - or @: a spreadsheet would run it as a formula.")
            )
    number = changes.get("payout_account_number")
    if number and not ACCOUNT_NUMBER.match(number):
        raise ValidationFailed.on("payout_account_number", _("An account number has 8 to 30 digits."))
    for field, value in changes.items():
        setattr(cooperative, field, value.strip() if isinstance(value, str) else value)


def create_cooperative(actor: User, data: dict) -> Cooperative:
    """Register a supplier (operators only)."""
    unknown = set(data) - OPERATOR_EDITABLE
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], _("Unknown field."))
    for required in ("name", "credit_code", "county_code"):
        if not data.get(required):
            raise ValidationFailed.on(required, _("This field is required."))
    cooperative = Cooperative()
    _apply(cooperative, dict(data))
    db.session.add(cooperative)
    db.session.flush()
    return cooperative


def update_cooperative(actor: User, cooperative_id: int, changes: dict) -> Cooperative:
    cooperative = require_manager(actor, cooperative_id)
    allowed = OPERATOR_EDITABLE if actor.has_role(Role.OPERATOR) else STAFF_EDITABLE
    refused = set(changes) - allowed
    if refused:
        raise NotAllowed(
            _("Only platform operators may change %(fields)s.", fields=", ".join(sorted(refused))),
            fields={name: [_("Only platform operators may change this.")] for name in refused},
        )
    _apply(cooperative, dict(changes))
    db.session.flush()
    return cooperative


COOPERATIVE_WORKFLOW = Workflow(
    "cooperative",
    Cooperative,
    COOPERATIVE_TRANSITIONS,
    reason_field="reason",
    refusal=lambda _action: _("Only platform operators suspend or reinstate a cooperative."),
    reason_missing=lambda: _("Say why the cooperative is suspended."),
)


def set_status(actor: User, cooperative_id: int, status: CooperativeStatus, reason: str = "") -> Cooperative:
    """Suspend or reinstate a cooperative; a suspended cooperative's products leave the catalogue at once.
    Asking for the state it already has changes nothing."""
    cooperative = get_cooperative(cooperative_id)
    if cooperative.status == status:
        return cooperative
    action = "suspend" if status == CooperativeStatus.SUSPENDED else "reinstate"
    capacities = {"operator"} if actor.has_role(Role.OPERATOR) else set()
    apply_move(
        COOPERATIVE_WORKFLOW,
        cooperative,
        action,
        actor=actor,
        capacities=capacities,
        reason=reason,
        status_reason=reason.strip(),
    )
    db.session.flush()
    return cooperative


def list_cooperatives(status: str | None = None, county_code: str | None = None) -> list[Cooperative]:
    query = select(Cooperative).order_by(Cooperative.id)
    if status:
        query = query.where(Cooperative.status == status)
    if county_code:
        query = query.where(Cooperative.county_code == county_code)
    return list(db.session.scalars(query))
