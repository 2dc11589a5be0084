"""The cart page. Signed-in buyers keep their cart in the database; guests keep theirs in the session
({product id: quantity}, checked by the same rules) until they sign in, when it is merged into their own."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, user_logged_in
from sqlalchemy.exc import SQLAlchemyError

from shop.access import PUBLIC, allow
from shop.accounts.forms import EmptyForm
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.cart.forms import AddToCartForm, CartQuantityForm
from shop.errors import DomainError, ValidationFailed
from shop.web.forms import redirect_after_refusal, show_domain_error
from shop.web.inputs import row_id_or_none

bp = Blueprint("cart", __name__)
GUEST_CART = "cart"  # session key: {"<product id>": quantity}
GUEST_CART_MAX_LINES = 30  # the session is a cookie: keep it small


def guest_quantities() -> dict[int, int]:
    raw = session.get(GUEST_CART)
    if not isinstance(raw, dict):
        return {}
    return {
        int(key): value
        for key, value in raw.items()
        if str(key).isdigit() and isinstance(value, int) and not isinstance(value, bool) and value > 0
    }


def _save_guest_cart(quantities: dict[int, int]) -> None:
    if quantities:
        session[GUEST_CART] = {str(product_id): quantity for product_id, quantity in sorted(quantities.items())}
    else:
        session.pop(GUEST_CART, None)


def _set_guest_quantity(product_id: int, quantity: int) -> None:
    """The guest's cart follows the same rules as a buyer's (on sale, stock, minimum order)."""
    quantities = guest_quantities()
    if quantity == 0:
        quantities.pop(product_id, None)
    else:
        if product_id not in quantities and len(quantities) >= GUEST_CART_MAX_LINES:
            raise ValidationFailed.on(
                "quantity", _("A guest's cart holds up to %(n)d products: sign in for more.", n=GUEST_CART_MAX_LINES)
            )
        cart.check_quantity(cart.listed_product(product_id), quantity)
        quantities[product_id] = quantity
    _save_guest_cart(quantities)


def absorb_guest_cart(user: User) -> list[str]:
    """Merge the session's guest cart into the user's own (at sign-in); returns what could not be kept."""
    guest = guest_quantities()
    session.pop(GUEST_CART, None)
    if not guest:
        return []
    return cart.merge_guest_cart(user, guest)


@user_logged_in.connect
def _absorb_guest_cart_at_sign_in(_app, user: User, **_extra) -> None:
    """Whoever signs in (accounts knows nothing of carts) keeps what they put in the cart as a guest."""
    for problem in absorb_guest_cart(user):
        flash(problem, "warning")


def current_quantities() -> dict[int, int]:
    if current_user.is_authenticated:
        return cart.quantities_of(current_user)
    return guest_quantities()


def _set_quantity(product_id: int, quantity: int) -> None:
    if current_user.is_authenticated:
        cart.set_quantity(current_user, product_id, quantity)
    else:
        _set_guest_quantity(product_id, quantity)


def may_buy(user) -> bool:
    return not user.is_authenticated or Role.CONSUMER in user.role_set


@bp.app_context_processor
def cart_size_helper():
    def cart_size() -> int | None:
        """How many products are in the cart (for the header), once per request; None when not a buyer."""
        if "cart_size" not in g:
            size = None
            if not current_user.is_authenticated:
                size = len(guest_quantities())
            elif Role.CONSUMER in current_user.role_set:
                try:
                    size = len(cart.quantities_of(current_user))
                except SQLAlchemyError:  # an error page after a failed statement: the header does without
                    size = None
            g.cart_size = size
        return g.cart_size

    return {"cart_size": cart_size}


def _render_cart(failed: tuple[int, CartQuantityForm] | None = None):
    lines = cart.lines_for(current_quantities())
    forms = {line.product.id: CartQuantityForm(formdata=None, quantity=line.quantity) for line in lines}
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    return render_template(
        "cart/cart.html",
        lines=lines,
        forms=forms,
        remove_form=EmptyForm(formdata=None),
        items_fen=sum(line.line_total_fen for line in lines if line.listed),
        has_unlisted=any(not line.listed for line in lines),
        may_buy=may_buy(current_user),
    ), (422 if failed else 200)


@bp.route("/cart")
@allow(PUBLIC)
def show():
    return _render_cart()


@bp.route("/cart/items", methods=["POST"])
@allow(PUBLIC)
def add():
    """Add from the product page: the quantity is added to what the cart already holds."""
    form, product_id, back = _product_form()
    if not form.validate_on_submit():
        return _refuse_product_form(form, back)
    try:
        if current_user.is_authenticated:
            cart.add(current_user, product_id, form.quantity.data)
        else:
            _set_guest_quantity(product_id, guest_quantities().get(product_id, 0) + form.quantity.data)
    except DomainError as error:
        return redirect_after_refusal(error, back)
    flash(_("Added to the cart."), "success")
    return redirect(url_for("cart.show"))


@bp.route("/buy-now", methods=["POST"])
@allow(PUBLIC)
def buy_now():
    """ "Buy now" on the product page: straight to a checkout of this product alone; the cart is left as it is.

    The quantity is checked here so a refusal comes back to the product page; a guest signs in on the way."""
    form, product_id, back = _product_form()
    if not form.validate_on_submit():
        return _refuse_product_form(form, back)
    try:
        cart.check_quantity(cart.listed_product(product_id), form.quantity.data)
    except DomainError as error:
        return redirect_after_refusal(error, back)
    return redirect(url_for("orders.checkout", product=product_id, quantity=form.quantity.data))


def _product_form() -> tuple[AddToCartForm, int | None, str]:
    """The product page's form, its product id (when it is one) and the page to go back to."""
    form = AddToCartForm()
    product_id = row_id_or_none(form.product_id.data)
    back = url_for("catalog.product", product_id=product_id) if product_id else url_for("catalog.catalogue")
    return form, product_id, back


def _refuse_product_form(form: AddToCartForm, back: str):
    messages = [m for name in ("quantity", "product_id") for m in getattr(form, name).errors]
    return redirect_after_refusal(DomainError(messages[0] if messages else _("Choose a quantity.")), back)


@bp.route("/cart/items/<int:product_id>", methods=["POST"])
@allow(PUBLIC)
def update(product_id: int):
    form = CartQuantityForm()
    if form.validate_on_submit():
        try:
            _set_quantity(product_id, form.quantity.data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            flash(_("The cart was updated."), "success")
            return redirect(url_for("cart.show"))
    return _render_cart(failed=(product_id, form))


@bp.route("/cart/items/<int:product_id>/remove", methods=["POST"])
@allow(PUBLIC)
def remove(product_id: int):
    if EmptyForm().validate_on_submit():
        _set_quantity(product_id, 0)
        flash(_("Removed from the cart."), "success")
    return redirect(url_for("cart.show"))
