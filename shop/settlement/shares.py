"""The settings that decide each settled line's split: the platform fee (configuration) and the household share
of each cooperative and product, kept within `shop.settlement.rules.fee_and_share_fit`."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from shop.accounts.models import User
from shop.catalog.models import Product
from shop.catalog.services import get_product
from shop.cooperatives.models import Cooperative
from shop.cooperatives.services import require_manager
from shop.errors import ValidationFailed
from shop.extensions import db
from shop.settlement.rules import household_share_bp, share_problem


def platform_fee_bp() -> int:
    """The platform's fee in basis points of each settled line (`PLATFORM_FEE_BP`)."""
    return current_app.config["PLATFORM_FEE_BP"]


def share_refusal(share_bp: int | None, *, nullable: bool = False) -> str | None:
    """Why this household share may not be set with today's platform fee (a message), or None when it fits.

    The services, the forms and the API schemas all refuse a share with this one message."""
    fee = platform_fee_bp()
    problem = share_problem(share_bp, fee, nullable=nullable)
    if problem == "range":
        return _("A share in basis points: a whole number from 0 to 10000 (1000 is 10 per cent).")
    if problem == "over_total":
        return _("The platform fee (%(fee)d bp) plus this share would exceed 10000 bp (all of the amount).", fee=fee)
    return None


def check_share(share_bp: int | None, *, nullable: bool = False) -> None:
    refusal = share_refusal(share_bp, nullable=nullable)
    if refusal is not None:
        raise ValidationFailed.on("household_share_bp", refusal)


def set_cooperative_share(actor: User, cooperative_id: int, share_bp: int) -> Cooperative:
    """The cooperative's household share of each settled line, in basis points (its staff or operators)."""
    cooperative = require_manager(actor, cooperative_id)
    check_share(share_bp)
    cooperative.household_share_bp = share_bp
    db.session.flush()
    return cooperative


def set_product_share(actor: User, product_id: int, share_bp: int | None) -> Product:
    """A product's own household share (None: its cooperative's)."""
    product = get_product(product_id)
    require_manager(actor, product.cooperative_id)
    check_share(share_bp, nullable=True)
    product.household_share_bp = share_bp
    db.session.flush()
    return product


def effective_share_bp(product: Product) -> int:
    """The share a line of this product gives its households (the rule of `household_share_bp`)."""
    return household_share_bp(product.household_share_bp, product.cooperative.household_share_bp)
