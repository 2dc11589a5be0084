"""Use cases of the cart. Quantities respect stock and the minimum order; prices shown are today's."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import contains_eager

from shop.accounts.models import User
from shop.cart.models import CartItem
from shop.catalog.models import Product
from shop.catalog.services import is_listable, listable_products
from shop.errors import NotFound, ValidationFailed
from shop.extensions import db

MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    listed: bool

    @property
    def line_total_fen(self) -> int:
        return self.product.price_fen * self.quantity


def check_quantity(product: Product, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
        raise ValidationFailed.on("quantity", _("Choose a quantity from 1 to %(n)d.", n=MAX_QUANTITY))
    if quantity < product.min_order_quantity:
        raise ValidationFailed.on(
            "quantity", _("The minimum order is %(n)d %(unit)s.", n=product.min_order_quantity, unit=product.unit)
        )
    if quantity > product.stock:
        raise ValidationFailed.on("quantity", _("Only %(n)d %(unit)s in stock.", n=product.stock, unit=product.unit))


def listed_product(product_id: int) -> Product:
    product = db.session.scalar(listable_products().where(Product.id == product_id))
    if product is None:
        raise NotFound(_("This product is not on sale."))
    return product


def lines_for(quantities: dict[int, int]) -> list[CartLine]:
    """Cart lines for {product id: quantity}, with today's prices and whether each is still on sale."""
    if not quantities:
        return []
    rows = db.session.execute(
        select(Product, is_listable())
        .join(Product.cooperative)
        .options(contains_eager(Product.cooperative))
        .where(Product.id.in_(quantities))
        .order_by(Product.id)
    ).all()
    return [CartLine(product, quantities[product.id], bool(listed)) for product, listed in rows]


def quantities_of(user: User) -> dict[int, int]:
    rows = db.session.execute(select(CartItem.product_id, CartItem.quantity).where(CartItem.user_id == user.id))
    return {product_id: quantity for product_id, quantity in rows}


def set_quantity(user: User, product_id: int, quantity: int) -> None:
    """Put a product in the cart with this quantity (0 removes it)."""
    item = db.session.scalar(select(CartItem).where(CartItem.user_id == user.id, CartItem.product_id == product_id))
    if quantity == 0:
        if item is not None:
            db.session.delete(item)
            db.session.flush()
        return
    check_quantity(listed_product(product_id), quantity)
    if item is None:
        db.session.add(CartItem(user_id=user.id, product_id=product_id, quantity=quantity))
    else:
        item.quantity = quantity
    db.session.flush()


def add(user: User, product_id: int, quantity: int) -> None:
    set_quantity(user, product_id, quantities_of(user).get(product_id, 0) + quantity)


def merge_guest_cart(user: User, guest: dict[int, int]) -> list[str]:
    """Fold a guest's session cart into the user's cart at sign-in; what cannot be kept is said, not lost silently."""
    problems = []
    mine = quantities_of(user)
    for product_id, quantity in guest.items():
        try:
            set_quantity(user, product_id, max(mine.get(product_id, 0), quantity))
        except (NotFound, ValidationFailed) as error:
            problems.append(error.message)
    return problems


def clear(user: User) -> None:
    db.session.execute(delete(CartItem).where(CartItem.user_id == user.id))
