"""Pages of checkout, payment and orders: for buyers, for the cooperatives that ship, for operators.

Thin views: a Flask-WTF form parses, one service acts, a template shows. The payment page loads Stripe.js
from the configured origin and our own script (no inline script: the CSP forbids it).
"""

from __future__ import annotations

from uuid import uuid4

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from shop.access import SIGNED_IN, allow, roles
from shop.accounts.forms import EmptyForm
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.cart.views import current_quantities
from shop.errors import DomainError, NotFound
from shop.extensions import db
from shop.orders import services
from shop.orders.forms import (
    ACTOR_LABELS,
    EVENT_LABELS,
    FLAG_LABELS,
    ORDER_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    SHIPMENT_STATUS_LABELS,
    CheckoutForm,
    PayForm,
    ShipForm,
)
from shop.orders.models import OrderStatus
from shop.payments import gateway
from shop.payments import services as payments
from shop.web.forms import redirect_after_refusal, render_form, show_domain_error

bp = Blueprint("orders", __name__)
BUYERS = roles(Role.CONSUMER)
STAFF_ONLY = roles(Role.COOPERATIVE_STAFF)
OPERATOR = roles(Role.OPERATOR)
OPS_PAGE_SIZE = 50


def _parts(lines: list[cart.CartLine]) -> list[dict]:
    """The cart as the order will be: one part per cooperative, with its shipping fee."""
    parts: dict[int, dict] = {}
    for line in lines:
        if not line.listed:
            continue
        part = parts.setdefault(
            line.product.cooperative_id, {"cooperative": line.product.cooperative, "lines": [], "items_fen": 0}
        )
        part["lines"].append(line)
        part["items_fen"] += line.line_total_fen
    for part in parts.values():
        part["shipping_fen"] = part["cooperative"].shipping_fee_for(part["items_fen"])
    return list(parts.values())


# --- Buyers ------------------------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
@allow(BUYERS)
def checkout():
    form = CheckoutForm()
    if not form.is_submitted():
        form.checkout_key.data = uuid4().hex  # a double submit of this form returns the same order
    lines = cart.lines_for(current_quantities())
    if not lines and not form.is_submitted():
        flash(_("The cart is empty."), "warning")
        return redirect(url_for("cart.show"))
    if form.validate_on_submit():
        address = services.Address(form.recipient.data, form.mobile.data, form.district_code.data, form.detail.data)
        try:
            order = payments.checkout(current_user, address, form.checkout_key.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            return redirect(url_for("orders.pay", order_id=order.id))
    parts = _parts(lines)
    items_fen = sum(part["items_fen"] for part in parts)
    shipping_fen = sum(part["shipping_fen"] for part in parts)
    return render_form(
        "orders/checkout.html",
        form,
        parts=parts,
        unlisted=[line for line in lines if not line.listed],
        items_fen=items_fen,
        shipping_fen=shipping_fen,
        total_fen=items_fen + shipping_fen,
    )


@bp.route("/orders")
@allow(BUYERS)
def my_orders():
    return render_template("orders/list.html", orders=services.orders_of(current_user))


@bp.route("/orders/<int:order_id>")
@allow(SIGNED_IN)
def detail(order_id: int):
    """One order, as its buyer, the staff of one of its cooperatives, or an operator sees it."""
    order = services.get_order(current_user, order_id)
    return render_template(
        "orders/detail.html",
        order=order,
        is_buyer=order.buyer_id == current_user.id,
        action_form=EmptyForm(formdata=None),
    )


@bp.route("/orders/<int:order_id>/pay", methods=["GET", "POST"])
@allow(BUYERS)
def pay(order_id: int):
    order = services.get_order(current_user, order_id)
    if order.buyer_id != current_user.id or order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(url_for("orders.detail", order_id=order.id))
    form = PayForm()
    if form.validate_on_submit():
        try:
            order = payments.pay_with_card(current_user, order_id, form.card.data)
        except payments.PaymentDeclined as declined:
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
    return render_form("orders/pay.html", form, order=order, stripe=gateway.settings())


@bp.route("/orders/<int:order_id>/cancel", methods=["POST"])
@allow(BUYERS)
def cancel(order_id: int):
    target = url_for("orders.detail", order_id=order_id)
    if not EmptyForm().validate_on_submit():
        return redirect(target)
    try:
        payments.cancel_by_buyer(current_user, order_id)
    except NotFound:
        raise  # not this user's order: 404, as everywhere
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("The order was cancelled."), "success")
    return redirect(target)


@bp.route("/orders/<int:order_id>/receipt", methods=["POST"])
@allow(BUYERS)
def confirm_receipt(order_id: int):
    target = url_for("orders.detail", order_id=order_id)
    if not EmptyForm().validate_on_submit():
        return redirect(target)
    try:
        services.confirm_receipt(current_user, order_id)
    except NotFound:
        raise  # not this user's order: 404, as everywhere
    except DomainError as error:
        return redirect_after_refusal(error, target)
    flash(_("Thank you: receipt confirmed."), "success")
    return redirect(target)


# --- Cooperatives ------------------------------------------------------------------------------------


@bp.route("/coop/orders")
@allow(STAFF_ONLY)
def to_ship():
    return _render_to_ship()


def _render_to_ship(failed: tuple[int, ShipForm] | None = None):
    shipments = services.parts_to_ship(current_user)
    forms = {s.order_id: ShipForm(formdata=None) for s in shipments}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    return render_template("orders/to_ship.html", shipments=shipments, forms=forms), (422 if failed else 200)


@bp.route("/coop/orders/<int:order_id>/ship", methods=["POST"])
@allow(STAFF_ONLY)
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


# --- Operators ---------------------------------------------------------------------------------------


@bp.route("/ops/orders")
@allow(OPERATOR)
def ops_orders():
    """Every order, newest first, and the payments an operator must look at (read-only queries)."""
    page = db.paginate(services.all_orders(), page=request.args.get("page", 1, type=int), per_page=OPS_PAGE_SIZE)
    flags = payments.unresolved_flags()
    return render_template("orders/ops_orders.html", page=page, flags=flags)


@bp.context_processor
def order_labels():
    return {
        "order_status_labels": ORDER_STATUS_LABELS,
        "shipment_status_labels": SHIPMENT_STATUS_LABELS,
        "payment_status_labels": PAYMENT_STATUS_LABELS,
        "event_labels": EVENT_LABELS,
        "actor_labels": ACTOR_LABELS,
        "flag_labels": FLAG_LABELS,
    }
