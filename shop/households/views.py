"""Pages of households: the registry for reviewers, its import, benefit links and sourcing.

The household shares are settlement's settings (the settlement area's pages); the product page shows the share
form that settlement registers for it (see `product_share_panel`), as households never import settlement."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import (
    COOPERATIVE_STAFF,
    COOPERATIVE_STAFF_AND_OPERATORS,
    COUNTY_REVIEWERS_AND_OPERATORS,
    HOUSEHOLD_VIEWERS,
    LINK_PARTIES,
    REVIEWERS_AND_OPERATORS,
    allow,
)
from shop.catalog.services import get_product
from shop.cooperatives.services import get_cooperative, require_manager
from shop.errors import DomainError
from shop.households import imports, registry
from shop.households import links as benefit_links
from shop.households.forms import (
    ImportForm,
    LinkActionForm,
    LinkProposalForm,
    SourcingForm,
)
from shop.households.labels import (
    COLUMN_LABELS,
    HOUSEHOLD_STATUS_LABELS,
    LINK_ACTION_LABELS,
    LINK_ACTOR_LABELS,
    LINK_STATUS_LABELS,
    LINK_TYPE_LABELS,
)
from shop.households.models import HouseholdStatus
from shop.households.privacy import HouseholdView
from shop.households.rules import MAX_LINK_WEIGHT
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error

bp = Blueprint("households", __name__)


@bp.context_processor
def _limits() -> dict:
    """The limits the pages' number inputs state (the rules hold them; the services check them)."""
    return {"max_link_weight": MAX_LINK_WEIGHT}


@bp.app_context_processor
def household_labels():
    return {
        "household_status_labels": HOUSEHOLD_STATUS_LABELS,
        "link_type_labels": LINK_TYPE_LABELS,
        "link_status_labels": LINK_STATUS_LABELS,
        "link_action_labels": LINK_ACTION_LABELS,
        "link_actor_labels": LINK_ACTOR_LABELS,
    }


def ledger_url(household: HouseholdView) -> str | None:
    """The household's ledger (台账), for those who may read it: the people who see its personal data."""
    if not household.personal_data_visible:
        return None
    return url_for("settlement.household_ledger", household_id=household.id)


@bp.route("/households/")
@allow(REVIEWERS_AND_OPERATORS)
def index():
    filters = {
        "county_code": request.args.get("county_code", "").strip() or None,
        "township": request.args.get("township", "").strip() or None,
        "village": request.args.get("village", "").strip() or None,
        "status": request.args.get("status") if request.args.get("status") in set(HouseholdStatus) else None,
        "q": request.args.get("q", "").strip()[:32] or None,
    }
    page = registry.list_households(current_user, **filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "households/list.html",
        page=page,
        filters=filters,
        counties=registry.counties_in_scope(current_user),
        may_import=imports.may_import(current_user),
        pending=len(benefit_links.pending_links(current_user)) if imports.may_import(current_user) else 0,
    )


@bp.route("/households/import", methods=["GET", "POST"])
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
def import_page():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        try:
            report = imports.import_households(current_user, form.file.data.read())
        except DomainError as error:
            show_domain_error(form, error)
            g.use_case_failed = True
        else:
            flash(
                _("Households imported: %(n)d; rows refused: %(bad)d.", n=report.imported, bad=len(report.errors)),
                "success" if not report.errors else "warning",
            )
    if report is not None:  # a report is a success, even with refused rows: the good rows are committed
        return render_template("households/import.html", form=form, report=report, column_labels=COLUMN_LABELS)
    return render_form("households/import.html", form, report=None, column_labels=COLUMN_LABELS)


@bp.route("/households/<int:household_id>")
@allow(HOUSEHOLD_VIEWERS)
def detail(household_id: int):
    household = registry.get_household(current_user, household_id)
    links = benefit_links.links_of_household(current_user, household_id)
    return render_template(
        "households/detail.html",
        household=household,
        links=[benefit_links.link_view(current_user, link) for link in links],
        action_form=LinkActionForm(formdata=None),
        ledger_url=ledger_url(household),
    )


@bp.route("/households/links/pending")
@allow(COUNTY_REVIEWERS_AND_OPERATORS)
def pending():
    links = [benefit_links.link_view(current_user, link) for link in benefit_links.pending_links(current_user)]
    return render_template("households/pending.html", links=links, action_form=LinkActionForm(formdata=None))


@bp.route("/households/links/<int:link_id>/act", methods=["POST"])
@allow(LINK_PARTIES)
def act_on_link(link_id: int):
    form = LinkActionForm()
    link = benefit_links.get_link(current_user, link_id)
    targets = {
        "pending": url_for("households.pending"),
        "household": url_for("households.detail", household_id=link.household_id),
        "cooperative": url_for("households.cooperative_links", cooperative_id=link.cooperative_id),
    }
    target = targets.get(form.back.data or "", targets["household"])
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("The form expired: please try again.")), target)
    try:
        benefit_links.apply_link_action(current_user, link_id, form.action.data, form.note.data or "")
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Done."), "success")
    return redirect(target)


@bp.route("/coop/links")
@allow(COOPERATIVE_STAFF)
def my_links():
    """Staff of one cooperative go straight to its links; staff of several choose."""
    managed = sorted(current_user.cooperative_ids())
    if len(managed) == 1:
        return redirect(url_for("households.cooperative_links", cooperative_id=managed[0]))
    return render_template("households/choose.html", cooperatives=[get_cooperative(i) for i in managed])


@bp.route("/coop/<int:cooperative_id>/links", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def cooperative_links(cooperative_id: int):
    cooperative = require_manager(current_user, cooperative_id)
    form = LinkProposalForm()
    if form.validate_on_submit():
        try:
            benefit_links.propose_link(
                current_user,
                cooperative_id,
                form.registry_number.data,
                form.link_type.data,
                form.weight.data,
                form.note.data or "",
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Link proposed; the county reviewer of the household's county will confirm it."), "success")
            return redirect(url_for("households.cooperative_links", cooperative_id=cooperative_id))
    links = [
        benefit_links.link_view(current_user, link)
        for link in benefit_links.links_of_cooperative(current_user, cooperative_id)
    ]
    return render_form(
        "households/cooperative_links.html",
        form,
        cooperative=cooperative,
        links=links,
        action_form=LinkActionForm(formdata=None),
    )


def product_share_panel():
    """The product page's household-share panel, or None when no area provides one.

    The share is settlement's setting and settlement imports households, not the reverse: settlement registers
    a panel factory in `app.extensions["households"]["product_share_panel"]`, called as
    `factory(product, posted=...)`. The panel has `form` (its fields prefixed "share-"), `submitted(formdata)`,
    `save(actor)` (returns the message to flash) and `template` (included by households/product.html)."""
    return current_app.extensions.get("households", {}).get("product_share_panel")


@bp.route("/coop/products/<int:product_id>/households", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def product_households(product_id: int):
    """A product's own share (settlement's panel) and the households it buys from (its sourcing)."""
    product = get_product(product_id)
    require_manager(current_user, product.cooperative_id)
    panel_factory = product_share_panel()
    share_panel = panel_factory(product, posted=request.method == "POST") if panel_factory else None
    sourcing_form = SourcingForm(prefix="sourcing")
    households = benefit_links.linked_households(current_user, product.cooperative_id)
    sourcing_form.household_ids.choices = [
        (h.id, f"{h.registry_number} · {h.head_name} · {h.village}") for h in households
    ]
    submitted = None
    if request.method == "POST":
        submitted = share_panel.form if share_panel and share_panel.submitted(request.form) else sourcing_form
    if submitted is not None and submitted.validate_on_submit():
        try:
            if share_panel is not None and submitted is share_panel.form:
                flash(share_panel.save(current_user), "success")
            else:
                benefit_links.set_product_sourcing(current_user, product_id, sourcing_form.household_ids.data or [])
                flash(_("Sourcing saved."), "success")
        except DomainError as error:
            show_domain_error(submitted, error)
        else:
            return redirect(url_for("households.product_households", product_id=product_id))
    if request.method == "GET":
        sourcing_form.household_ids.data = benefit_links.sourcing_of(current_user, product_id)
    status = 422 if submitted is not None else 200
    return render_template(
        "households/product.html",
        product=product,
        share_panel=share_panel,
        sourcing_form=sourcing_form,
        households=households,
    ), status
