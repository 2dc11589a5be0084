"""Pages of settlement: a household's ledger (一户一台账, printable and as CSV), a cooperative's settled income,
the operators' settlement page with its button, and the household share of a cooperative and of its products
(the product's share is a panel on the households' product page, registered below)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from shop.access import COOPERATIVE_STAFF_AND_OPERATORS, COUNTY_REVIEWERS_AND_OPERATORS, OPERATORS, allow
from shop.accounts.models import User
from shop.catalog.models import Product
from shop.catalog.services import products_of
from shop.cooperatives.services import require_manager
from shop.errors import DomainError
from shop.extensions import db
from shop.households.labels import LINK_TYPE_LABELS
from shop.money import format_fen
from shop.settlement import reports, services, shares
from shop.settlement.forms import ProductShareForm, ShareForm
from shop.settlement.models import SettlementRun
from shop.settlement.rules import BASIS_POINTS
from shop.web.downloads import csv_download, yuan_cell
from shop.web.forms import render_form, show_domain_error

bp = Blueprint("settlement", __name__)


class ProductSharePanel:
    """The product's household share as a card of the households' product page (`households.product_households`,
    which also holds the product's sourcing). Households do not import settlement, so settlement registers this
    panel for them; the page calls `ProductSharePanel(product, posted=...)` and saves through it."""

    template = "settlement/product_share_panel.html"
    basis_points = BASIS_POINTS

    def __init__(self, product: Product, *, posted: bool) -> None:
        self.product = product
        # A posted form shows what was typed; a fresh one the product's share.
        self.form = ProductShareForm(prefix="share", obj=None if posted else product)

    def submitted(self, formdata) -> bool:
        """Whether this panel's form is the one posted (the page holds two forms)."""
        return self.form.household_share_bp.name in formdata

    def save(self, actor: User) -> str:
        """Set the product's share from the validated form; returns the message to flash."""
        shares.set_product_share(actor, self.product.id, self.form.household_share_bp.data)
        return _("Household share saved.")


@bp.record_once
def _give_households_the_product_share_panel(state) -> None:
    state.app.extensions.setdefault("households", {})["product_share_panel"] = ProductSharePanel


def entry_label(code: str, payout_status: str = "") -> str:
    """What a ledger row is, for people: a payout says "paid out" only once the bank has confirmed it."""
    if code == "payout":
        return {
            "paid": _("Paid out (confirmed by the bank)"),
            "failed": _("Payout failed at the bank"),
        }.get(payout_status, _("Payout in transit (not yet confirmed by the bank)"))
    labels = {
        "settle": _("Settled sale"),
        "refund_settled": _("Refund taken back"),
        "payout_failed": _("Payout failed, back on the balance"),
    }
    return labels.get(code, code)


@bp.route("/households/<int:household_id>/ledger")
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
def household_ledger(household_id: int):
    ledger = reports.household_ledger(current_user, household_id)
    return render_template(
        "settlement/household_ledger.html", ledger=ledger, entry_label=entry_label, link_labels=LINK_TYPE_LABELS
    )


@bp.route("/households/<int:household_id>/ledger.csv")
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
def household_ledger_csv(household_id: int):
    ledger = reports.household_ledger(current_user, household_id)
    rows: list[list] = [
        [_("Date"), _("Entry"), _("Order"), _("Product"), _("Cooperative"), _("Link type"), _("Amount (yuan)")]
    ]
    for row in ledger.rows:
        rows.append(
            [
                row.day.isoformat(),
                entry_label(row.code, row.payout_status),
                row.order_reference,
                row.product_name,
                row.cooperative_name,
                str(LINK_TYPE_LABELS.get(row.link_type, row.link_type)) if row.link_type else "",
                yuan_cell(row.amount_fen),  # a number: a refund taken back stays -12.00, not text
            ]
        )
    name = f"household-{ledger.household.registry_number}-ledger.csv"
    return csv_download(rows, name)


@bp.route("/coop/<int:cooperative_id>/settlements")
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def cooperative_settlements(cooperative_id: int):
    report = reports.cooperative_settlements(current_user, cooperative_id)
    return render_template("settlement/cooperative.html", report=report)


class SettleForm(FlaskForm):
    """Only the CSRF token: the run settles whatever is due."""


@bp.route("/ops/settlement", methods=["GET", "POST"])
@allow(OPERATORS)
def ops_settlement():
    form = SettleForm()
    if form.validate_on_submit():
        run = services.settle_due(current_user)
        flash(
            _(
                "Settled %(lines)d lines and %(shipments)d shipping fees: %(amount)s.",
                lines=run.lines_settled,
                shipments=run.shipments_settled,
                amount=format_fen(run.amount_fen),
            ),
            "success",
        )
        return redirect(url_for("settlement.ops_settlement"))
    runs = db.session.scalars(select(SettlementRun).order_by(SettlementRun.id.desc()).limit(20)).all()
    return render_template("settlement/ops.html", form=form, runs=runs)


@bp.route("/coop/<int:cooperative_id>/household-share", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def cooperative_share(cooperative_id: int):
    cooperative = require_manager(current_user, cooperative_id)
    form = ShareForm(obj=cooperative)
    if form.validate_on_submit():
        try:
            shares.set_cooperative_share(current_user, cooperative_id, form.household_share_bp.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Household share saved."), "success")
            return redirect(url_for("settlement.cooperative_share", cooperative_id=cooperative_id))
    return render_form(
        "settlement/share.html",
        form,
        cooperative=cooperative,
        products=products_of(cooperative_id),
        platform_fee_bp=shares.platform_fee_bp(),
        basis_points=BASIS_POINTS,
    )
