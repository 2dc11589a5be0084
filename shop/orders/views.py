"""Pages of checkout, payment and orders: for buyers, for the cooperatives that ship, for operators.

Thin views: a Flask-WTF form parses, one service acts, a template shows. The payment page loads Stripe.js
from the configured origin and our own script (no inline script: the CSP forbids it).
"""

from __future__ import annotations

from uuid import uuid4

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import BUYERS, COOPERATIVE_STAFF, COOPERATIVE_STAFF_AND_OPERATORS, OPERATORS, SIGNED_IN, allow
from shop.accounts.forms import EmptyForm
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.cart.views import current_quantities
from shop.errors import DomainError, NotFound
from shop.extensions import db, limiter
from shop.money import format_fen
from shop.orders import checkout as flows
from shop.orders import payback, refunds, services, visibility
from shop.orders.forms import (
    ACTOR_LABELS,
    EVENT_LABELS,
    FLAG_LABELS,
    ORDER_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    REFUND_STATUS_LABELS,
    SHIPMENT_STATUS_LABELS,
    ApproveRefundForm,
    CheckoutForm,
    OperatorRefundForm,
    PayForm,
    RefundRequestForm,
    RejectRefundForm,
    ShipForm,
    refund_form,
)
from shop.orders.models import OrderStatus, RefundStatus
from shop.orders.totals import checkout_totals
from shop.payments import gateway
from shop.payments import services as payments
from shop.payments.services import PaymentDeclined
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error
from shop.web.inputs import row_id

bp = Blueprint("orders", __name__)
OPS_PAGE_SIZE = 50


# --- Buyers ------------------------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
@allow(BUYERS)
def checkout():
    """Check out the cart, or with ?product=&quantity= ("buy now") that product alone, leaving the cart as it is."""
    form = CheckoutForm()
    if not form.is_submitted():
        form.checkout_key.data = uuid4().hex  # a double submit of this form returns the same order
    direct = _direct_line()
    if direct == {}:
        flash(_("Choose a quantity."), "warning")
        return redirect(url_for("catalog.catalogue"))
    lines = cart.lines_for(direct if direct is not None else current_quantities())
    if not lines and not form.is_submitted():
        flash(_("The cart is empty.") if direct is None else _("This product is not on sale."), "warning")
        return redirect(url_for("cart.show") if direct is None else url_for("catalog.catalogue"))
    if form.validate_on_submit():
        address = services.Address(form.recipient.data, form.mobile.data, form.district_code.data, form.detail.data)
        try:
            order = flows.checkout(current_user, address, form.checkout_key.data, direct)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return redirect(url_for("orders.pay", order_id=order.id))
    totals = checkout_totals(line for line in lines if line.listed)  # the order will be written by the same rule
    return render_form(
        "orders/checkout.html",
        form,
        direct_product=lines[0].product if direct and lines else None,
        parts=totals.parts,
        unlisted=[line for line in lines if not line.listed],
        items_fen=totals.items_fen,
        shipping_fen=totals.shipping_fen,
        total_fen=totals.total_fen,
    )


def _direct_line() -> dict[int, int] | None:
    """{product: quantity} of a "buy now" checkout; None for the cart; {} when the query string is not usable."""
    if "product" not in request.args and "quantity" not in request.args:
        return None
    product = request.args.get("product", type=row_id)
    quantity = request.args.get("quantity", type=int)
    if not product or not quantity or not 0 < quantity <= cart.MAX_QUANTITY:
        return {}
    return {product: quantity}


@bp.route("/orders")
@allow(BUYERS)
def my_orders():
    return render_template("orders/list.html", orders=services.orders_of(current_user))


@bp.route("/orders/<int:order_id>")
@allow(SIGNED_IN)
# Coming back from the provider asks Stripe for the intent: limited, so the page cannot be used to hammer it.
@limiter.limit("12 per minute", exempt_when=lambda: "payment_intent" not in request.args)
def detail(order_id: int):
    """One order, as its buyer, the staff of one of its cooperatives, or an operator sees it.

    Stripe sends the buyer back here after Alipay (`?payment_intent=pi_…`): the intent is read at once."""
    returned_from = request.args.get("payment_intent", "")
    if returned_from:
        return _render_detail(flows.refresh_payment(current_user, order_id, returned_from))
    return _render_detail(services.get_order(current_user, order_id))


def _render_detail(order, refund_request=None, operator_refund=None):
    """The order page; a refused refund form is shown again with its errors (422)."""
    order = visibility.order_as_seen_by(current_user, order)  # a cooperative sees its own parts only
    is_buyer = order.buyer_id == current_user.id
    is_operator = current_user.has_role(Role.OPERATOR)
    # An order paid outside the provider (the demo's seeded one) has nothing to refund through it: no form
    # (shop/orders/refunds.py says why to whoever asks anyway). Buyers and operators see the Order itself.
    paid_through_provider = bool(getattr(order, "payment_intent_id", None))
    has_open_lines = paid_through_provider and any(line.refundable_quantity > 0 for line in order.lines)
    if refund_request is None and is_buyer and order.status == OrderStatus.PAID and has_open_lines:
        refund_request = refund_form(order, RefundRequestForm, formdata=None)
    if operator_refund is None and is_operator and order.status in refunds.REFUNDABLE and has_open_lines:
        operator_refund = refund_form(order, OperatorRefundForm, formdata=None, prefix="ops")
    decide = is_operator and any(r.status == RefundStatus.REQUESTED for r in order.refunds)
    failed = (refund_request is not None and refund_request.is_submitted()) or (
        operator_refund is not None and operator_refund.is_submitted()
    )
    page = render_template(
        "orders/detail.html",
        order=order,
        is_buyer=is_buyer,
        action_form=EmptyForm(formdata=None),
        refund_request=refund_request,
        operator_refund=operator_refund,
        approve_form=ApproveRefundForm(formdata=None, back="order") if decide else None,
        reject_form=RejectRefundForm(formdata=None, back="order") if decide else None,
    )
    return page, (422 if failed else 200)


@bp.route("/orders/<int:order_id>/pay", methods=["GET", "POST"])
@allow(BUYERS)
def pay(order_id: int):
    order = services.get_order(current_user, order_id)
    if order.buyer_id != current_user.id or order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(url_for("orders.detail", order_id=order.id))
    form = PayForm()
    if form.validate_on_submit():
        try:
            order = flows.pay_with_card(current_user, order_id, form.card.data)
        except PaymentDeclined as declined:
            form.form_errors.append(_("The card was declined and nothing was charged. Try another card."))
            show_domain_error(form, declined)  # the provider's own words, next to the card
        except DomainError as error:
            show_domain_error(form, error)
        else:
            if order.status == OrderStatus.PAID:
                flash(_("Thank you: the order is paid."), "success")
                return redirect(url_for("orders.detail", order_id=order.id))
            return redirect(url_for("orders.pay", order_id=order.id))  # e.g. the card asks for authentication
    form.card.data = ""
    stripe = gateway.settings()
    if stripe.browser_wallets and flows.open_payment(order) is None:
        try:
            order = flows.prepare_wallet_payment(current_user, order_id)
        except DomainError as error:  # the provider did not answer: the card form still works
            show_domain_error(form, error)
    return render_form("orders/pay.html", form, order=order, stripe=stripe)


def _buyer_action(order_id: int, use_case, done: str):
    """A button of the buyer's on the order page: run the use case, or flash its refusal and go back."""
    target = url_for("orders.detail", order_id=order_id)
    if not EmptyForm().validate_on_submit():
        return redirect(target)
    try:
        use_case(current_user, order_id)
    except NotFound:
        raise  # not this user's order: 404, as everywhere
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(done, "success")
    return redirect(target)


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@allow(BUYERS)
def cancel(order_id: int):
    return _buyer_action(order_id, flows.cancel_by_buyer, _("The order was cancelled."))


@bp.route("/orders/<int:order_id>/receipt", methods=["POST"])
@allow(BUYERS)
def confirm_receipt(order_id: int):
    return _buyer_action(order_id, services.confirm_receipt, _("Thank you: receipt confirmed."))


@bp.route("/orders/<int:order_id>/refunds", methods=["POST"])
@allow(BUYERS)
def request_refund(order_id: int):
    order = services.get_order(current_user, order_id)  # not this user's order: 404, as everywhere
    form = refund_form(order, RefundRequestForm)
    if form.validate_on_submit():
        try:
            refunds.request_refund(current_user, order_id, form.items(), form.reason.data)
        except NotFound:
            raise
        except DomainError as error:
            db.session.rollback()  # nothing half-done stays, and the page shows the order as it is
            show_domain_error(form, error)
            order = services.get_order(current_user, order_id)
        else:
            flash(_("Your refund request was sent to the cooperative."), "success")
            return redirect(url_for("orders.detail", order_id=order_id))
    return _render_detail(order, refund_request=form)


# --- Cooperatives ------------------------------------------------------------------------------------


@bp.route("/coop/orders")
@allow(COOPERATIVE_STAFF)
def to_ship():
    return _render_to_ship()


def _render_to_ship(failed: tuple[int, ShipForm] | None = None):
    shipments = services.parts_to_ship(current_user)
    forms = {s.order_id: ShipForm(formdata=None) for s in shipments}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    return render_template("orders/to_ship.html", shipments=shipments, forms=forms), (422 if failed else 200)


@bp.route("/coop/orders/<int:order_id>/ship", methods=["POST"])
@allow(COOPERATIVE_STAFF)
def ship(order_id: int):
    form = ShipForm()
    if form.validate_on_submit():
        try:
            shipment = services.ship(current_user, order_id, form.carrier.data, form.tracking_number.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("Order %(reference)s shipped.", reference=shipment.order.reference), "success")
            return redirect(url_for("orders.to_ship"))
    return _render_to_ship(failed=(order_id, form))


@bp.route("/coop/refunds")
@allow(COOPERATIVE_STAFF)
def refunds_to_decide():
    """Requested refunds of this staff member's cooperatives, oldest first, each with approve and reject forms."""
    return render_template(
        "orders/refunds_to_decide.html",
        refunds=refunds.refunds_to_decide(current_user),
        approve_form=ApproveRefundForm(formdata=None),
        reject_form=RejectRefundForm(formdata=None),
    )


def _decision_target(form, refund_id: int) -> str:
    if form.back.data == "order":
        refund = refunds.get_refund(current_user, refund_id)  # 404 when the refund is not visible
        return url_for("orders.detail", order_id=refund.order_id)
    return url_for("orders.refunds_to_decide")


def _decide(refund_id: int, form, decision, done: str):
    """Approve or reject: a refusal (409, 422, 503) is flashed and nothing half-done is committed."""
    target = _decision_target(form, refund_id)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash(_("The form expired: please send it again."), "error")
        for message in form.note.errors:
            flash(message, "error")
        g.use_case_failed = True
        return redirect(target)
    try:
        decision(current_user, refund_id, form.note.data or "")
    except NotFound:
        raise
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(done, "success")
    return redirect(target)


@bp.route("/refunds/<int:refund_id>/approve", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def approve_refund(refund_id: int):
    return _decide(refund_id, ApproveRefundForm(), payback.approve, _("The refund was approved and paid back."))


@bp.route("/refunds/<int:refund_id>/reject", methods=["POST"])
@allow(COOPERATIVE_STAFF_AND_OPERATORS)
def reject_refund(refund_id: int):
    return _decide(refund_id, RejectRefundForm(), refunds.reject, _("The refund was refused."))


# --- Operators ---------------------------------------------------------------------------------------


@bp.route("/ops/orders")
@allow(OPERATORS)
def ops_orders():
    """Every order, newest first, and the payments an operator must look at (read-only queries)."""
    page = db.paginate(services.all_orders(), page=request.args.get("page", 1, type=int), per_page=OPS_PAGE_SIZE)
    flags = payments.unresolved_flags()
    return render_template("orders/ops_orders.html", page=page, flags=flags)


@bp.route("/ops/orders/<int:order_id>/refunds", methods=["POST"])
@allow(OPERATORS)
def operator_refund(order_id: int):
    """After-sales: an operator refunds lines of a paid or completed order directly."""
    order = services.get_order(current_user, order_id)
    form = refund_form(order, OperatorRefundForm, prefix="ops")
    if form.validate_on_submit():
        try:
            refund = payback.refund_directly(
                current_user, order_id, form.items(), form.reason.data, form.return_stock.data
            )
        except NotFound:
            raise
        except DomainError as error:
            db.session.rollback()  # nothing half-done stays, and the page shows the order as it is
            show_domain_error(form, error)
            order = services.get_order(current_user, order_id)
        else:
            flash(_("Refunded %(amount)s.", amount=format_fen(refund.amount_fen)), "success")
            return redirect(url_for("orders.detail", order_id=order_id))
    return _render_detail(order, operator_refund=form)


@bp.context_processor
def order_labels():
    return {
        "order_status_labels": ORDER_STATUS_LABELS,
        "shipment_status_labels": SHIPMENT_STATUS_LABELS,
        "payment_status_labels": PAYMENT_STATUS_LABELS,
        "event_labels": EVENT_LABELS,
        "actor_labels": ACTOR_LABELS,
        "flag_labels": FLAG_LABELS,
        "refund_status_labels": REFUND_STATUS_LABELS,
    }
