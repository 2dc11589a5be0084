from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certification.applications import latest_applications
from shop.access import COOPERATIVE_STAFF, COOPERATIVE_STAFF_AND_OPERATORS, OPERATORS, allow
from shop.accounts.forms import EmptyForm
from shop.catalog.services import not_on_sale_reasons, products_of
from shop.cooperatives import services
from shop.cooperatives.forms import KIND_LABELS, CooperativeForm, CooperativeProfileForm, SuspendForm
from shop.cooperatives.models import CooperativeStatus
from shop.errors import DomainError, NotFound
from shop.timeutil import business_date
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error

bp = Blueprint("cooperatives", __name__)


@bp.route("/coop/")
@allow(COOPERATIVE_STAFF)
def dashboard():
    """The cooperative's home: with one cooperative go straight to it."""
    managed = sorted(current_user.cooperative_ids())
    if len(managed) == 1:
        return redirect(url_for("cooperatives.cooperative_home", cooperative_id=managed[0]))
    cooperatives = [services.get_cooperative(i) for i in managed]
    return render_template("cooperatives/choose.html", cooperatives=cooperatives)


@bp.route("/coop/<int:cooperative_id>")
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def cooperative_home(cooperative_id: int):
    cooperative = services.require_manager(current_user, cooperative_id)
    products = products_of(cooperative_id)
    return render_template(
        "cooperatives/dashboard.html",
        cooperative=cooperative,
        products=products,
        kind_labels=KIND_LABELS,
        applications=latest_applications([p.id for p in products]),
        not_on_sale=not_on_sale_reasons(products),  # the listing rule's own parts, never the on-sale switch alone
        today=business_date(),
    )


@bp.route("/coop/<int:cooperative_id>/profile", methods=["GET", "POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def edit_profile(cooperative_id: int):
    cooperative = services.require_manager(current_user, cooperative_id)
    form = CooperativeProfileForm(obj=cooperative)
    form.fill_money(cooperative)
    if form.validate_on_submit():
        try:
            services.update_cooperative(current_user, cooperative_id, form.data_for_service())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Profile saved."), "success")
            return redirect(url_for("cooperatives.cooperative_home", cooperative_id=cooperative_id))
    return render_form("cooperatives/profile.html", form, cooperative=cooperative)


@bp.route("/ops/cooperatives")
@allow(OPERATORS)
def ops_list():
    return render_template(
        "cooperatives/ops_list.html", cooperatives=services.list_cooperatives(), kind_labels=KIND_LABELS
    )


@bp.route("/ops/cooperatives/new", methods=["GET", "POST"])
@allow(OPERATORS)
def ops_new():
    form = CooperativeForm()
    if form.validate_on_submit():
        try:
            cooperative = services.create_cooperative(current_user, form.data_for_service())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Cooperative %(name)s registered.", name=cooperative.name), "success")
            return redirect(url_for("cooperatives.ops_edit", cooperative_id=cooperative.id))
    return render_form("cooperatives/ops_edit.html", form, cooperative=None)


@bp.route("/ops/cooperatives/<int:cooperative_id>", methods=["GET", "POST"])
@allow(OPERATORS)
def ops_edit(cooperative_id: int):
    cooperative = services.get_cooperative(cooperative_id)
    form = CooperativeForm(obj=cooperative)
    form.fill_money(cooperative)
    if form.validate_on_submit():
        try:
            services.update_cooperative(current_user, cooperative_id, form.data_for_service())
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Cooperative saved."), "success")
            return redirect(url_for("cooperatives.ops_edit", cooperative_id=cooperative_id))
    return render_form(
        "cooperatives/ops_edit.html",
        form,
        cooperative=cooperative,
        suspend_form=SuspendForm(),
        reinstate_form=EmptyForm(),
    )


@bp.route("/ops/cooperatives/<int:cooperative_id>/status/<status>", methods=["POST"])
@allow(OPERATORS)
def ops_set_status(cooperative_id: int, status: str):
    if status not in (CooperativeStatus.ACTIVE, CooperativeStatus.SUSPENDED):
        raise NotFound(_("No such status."))
    form = SuspendForm() if status == CooperativeStatus.SUSPENDED else EmptyForm()
    target = url_for("cooperatives.ops_edit", cooperative_id=cooperative_id)
    if not form.validate_on_submit():
        return redirect_after_refusal(DomainError(_("Say why the cooperative is suspended.")), target)
    try:
        reason = form.reason.data if status == CooperativeStatus.SUSPENDED else ""
        services.set_status(current_user, cooperative_id, CooperativeStatus(status), reason)
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Status changed."), "success")
    return redirect(target)
