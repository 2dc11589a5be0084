"""Use cases of orders: checkout without oversell, expiry, shipping, receipt.

Checkout reserves stock in the order's own transaction with conditional UPDATEs (`… WHERE stock >= :q`),
so no unit is ever sold twice. The payment provider is called only after that transaction has committed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import set_committed_value

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.catalog.models import Product
from shop.catalog.services import listable_products
from shop.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from shop.extensions import db
from shop.notifications import services as notifications
from shop.orders.labels import EVENT_LABELS, ORDER_STATUS_LABELS, SHIPMENT_STATUS_LABELS
from shop.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment, ShipmentStatus
from shop.orders.rules import ORDER_TRANSITIONS, SHIPMENT_TRANSITIONS
from shop.orders.totals import checkout_totals
from shop.payments import services as payments
from shop.regions.services import require_region
from shop.types import insert_loaded, utcnow
from shop.workflow import Applied, Workflow, apply_move

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
CHECKOUT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True)
class Address:
    recipient: str
    mobile: str
    district_code: str
    detail: str


def check_address(address: Address) -> Address:
    """A Chinese shipping address: recipient, mobile 1[3-9] + 9 digits, a county-level district, the detail."""
    recipient, detail, mobile = address.recipient.strip(), address.detail.strip(), address.mobile.strip()
    if not 1 <= len(recipient) <= 40:
        raise ValidationFailed.on("recipient", _("Who receives the parcel (up to 40 characters)."))
    if not MOBILE.match(mobile):
        raise ValidationFailed.on("mobile", _("A mainland mobile number: 11 digits starting with 13–19."))
    district_code = require_region(address.district_code, level="county", field="district_code")
    if not 4 <= len(detail) <= 200:
        raise ValidationFailed.on("detail", _("Street, building and room (4 to 200 characters)."))
    return Address(recipient, mobile, district_code, detail)


class OutOfStock(Conflict):
    code = "out_of_stock"


class NotSellable(Conflict):
    code = "not_sellable"


def place_order(buyer: User, address: Address, checkout_key: str, lines: dict[int, int] | None = None) -> Order:
    """Turn the buyer's cart into an order, reserving its stock; a retried checkout returns the same order.

    With `lines` ({product id: quantity}), a direct order ("buy now", or a client of the API that keeps its own
    basket): the order is made of those lines under the same rules, and the cart is left as it is.
    """
    if not CHECKOUT_KEY.match(checkout_key or ""):
        raise ValidationFailed.on("checkout_key", _("A checkout key of 8 to 64 letters, digits, - or _."))
    existing = _order_by_key(buyer, checkout_key)
    if existing is not None:
        return existing
    address = check_address(address)
    field = "cart" if lines is None else "lines"
    quantities = cart.quantities_of(buyer) if lines is None else lines
    if not quantities:
        # A twin with the same key may have placed the order and emptied the cart since we looked for it.
        placed_by_twin = _order_by_key(buyer, checkout_key) if lines is None else None
        if placed_by_twin is not None:
            return placed_by_twin
        raise ValidationFailed.on(field, _("The cart is empty.") if lines is None else _("Order at least one line."))
    listed = listable_products().options(contains_eager(Product.cooperative))  # it joins the cooperative already
    sellable = {p.id: p for p in db.session.scalars(listed.where(Product.id.in_(quantities)).order_by(Product.id))}
    for product_id in sorted(quantities):
        if product_id not in sellable:
            if lines is not None:  # by id only: the name of a product not listed is not public
                raise NotSellable(_("Product %(id)d is not on sale.", id=product_id), fields={field: [str(product_id)]})
            name = db.session.scalar(select(Product.name).where(Product.id == product_id)) or str(product_id)
            raise NotSellable(
                _("%(name)s is no longer on sale: remove it from the cart.", name=name), fields={field: [name]}
            )
    for product_id in sorted(quantities):
        product = sellable[product_id]
        if quantities[product_id] < product.min_order_quantity:
            raise ValidationFailed.on(
                field, _("The minimum order of %(name)s is %(n)d.", name=product.name, n=product.min_order_quantity)
            )
    try:
        # A twin request with the same key (a double click, a client retrying on a timeout) may be placing this
        # order right now: we then lose on the unique key, or on the stock the twin reserved. Either way our
        # reservation is rolled back with the savepoint, and the answer is the order the twin placed.
        with db.session.begin_nested():
            _reserve_stock(sellable, quantities, field)
            order = _write_order(buyer, address, checkout_key, [sellable[p] for p in sorted(quantities)], quantities)
    except (OutOfStock, IntegrityError):
        placed_by_twin = _order_by_key(buyer, checkout_key)
        if placed_by_twin is None:
            raise
        return placed_by_twin
    if lines is None:
        cart.clear(buyer)
    return order


def _order_by_key(buyer: User, checkout_key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.buyer_id == buyer.id, Order.checkout_key == checkout_key))


def _reserve_stock(sellable: dict[int, Product], quantities: dict[int, int], field: str) -> None:
    """Take the quantities off the stock, or raise OutOfStock: a conditional UPDATE each, so none is oversold."""
    for product_id in sorted(quantities):  # always in id order, so two checkouts never deadlock
        product, quantity = sellable[product_id], quantities[product_id]
        reserved = db.session.execute(
            update(Product)
            .where(Product.id == product_id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .execution_options(synchronize_session=False)
        ).rowcount
        if reserved != 1:
            raise OutOfStock(
                _("Not enough %(name)s in stock for %(n)d %(unit)s.", name=product.name, n=quantity, unit=product.unit),
                fields={field: [product.name]},
            )


def _write_order(
    buyer: User, address: Address, checkout_key: str, products: list[Product], quantities: dict[int, int]
) -> Order:
    """Write the order, its shipments (one per cooperative), lines and first event: one INSERT per table.

    The rows come back as loaded objects (`insert_loaded`), and their collections are set from what was written,
    so the answer needs no query and the unit of work has nothing left to flush.
    """
    # Each cooperative's part, its amount and its shipping fee, by the rule the checkout page shows; the totals come
    # first, so the order row is written once, complete.
    totals = checkout_totals(cart.CartLine(product, quantities[product.id], True) for product in products)
    now = utcnow()
    (order,) = insert_loaded(
        Order,
        [
            {
                "buyer_id": buyer.id,
                "checkout_key": checkout_key,
                "recipient": address.recipient,
                "mobile": address.mobile,
                "district_code": address.district_code,
                "address_detail": address.detail,
                "items_fen": totals.items_fen,
                "shipping_fen": totals.shipping_fen,
                "total_fen": totals.total_fen,
                "placed_at": now,
                "expires_at": now + timedelta(minutes=current_app.config["ORDER_PAYMENT_MINUTES"]),
            }
        ],
    )
    shipments = insert_loaded(
        Shipment,
        [
            {
                "order_id": order.id,
                "cooperative_id": part.cooperative.id,
                "cooperative_name": part.cooperative.name,
                "shipping_fee_fen": part.shipping_fen,
            }
            for part in totals.parts
        ],
    )
    order_lines = insert_loaded(
        OrderLine,
        [
            {
                "order_id": order.id,
                "shipment_id": shipment.id,
                "product_id": line.product.id,
                "cooperative_id": part.cooperative.id,
                "product_name": line.product.name,
                "cooperative_name": part.cooperative.name,
                "unit": line.product.unit,
                "unit_price_fen": line.product.price_fen,
                "quantity": line.quantity,
                "line_total_fen": line.line_total_fen,
            }
            for shipment, part in zip(shipments, totals.parts, strict=True)
            for line in part.lines
        ],
    )
    (event,) = insert_loaded(
        OrderEvent,
        [
            {
                "order_id": order.id,
                "action": "place",
                "from_state": "",
                "to_state": OrderStatus.PENDING_PAYMENT,
                "actor_id": buyer.id,
                "actor_role": "buyer",
                "at": now,
            }
        ],
    )
    lines_of = defaultdict(list)
    for line in order_lines:
        lines_of[line.shipment_id].append(line)
    for shipment in shipments:
        set_committed_value(shipment, "lines", lines_of[shipment.id])
    set_committed_value(order, "shipments", shipments)
    set_committed_value(order, "lines", order_lines)
    set_committed_value(order, "events", [event])
    set_committed_value(order, "refunds", [])  # a new order has none
    set_committed_value(order, "payments", [])  # ... and no attempt to pay it yet
    return order


def record_event(
    order: Order, action: str, origin: str, to: str, actor: User | None, role: str, note: str = ""
) -> OrderEvent:
    """An event of the order that changes no state (a refund asked for or decided)."""
    return _record(order, None, action, origin, to, actor, role, note)


def _record(
    order: Order,
    shipment: Shipment | None,
    action: str,
    origin: str,
    to: str,
    actor: User | None,
    role: str,
    note: str = "",
) -> OrderEvent:
    event = OrderEvent(
        order=order,  # also appends it to order.events, without loading them
        shipment_id=shipment.id if shipment else None,
        action=action,
        from_state=origin,
        to_state=to,
        actor_id=actor.id if actor else None,
        actor_role=role,
        note=note,
    )
    db.session.add(event)
    return event


def _record_move(applied: Applied) -> OrderEvent:
    """The event of an order's or a shipment's move (a shipment's names its order and itself)."""
    shipment = applied.row if isinstance(applied.row, Shipment) else None
    order = shipment.order if shipment is not None else applied.row
    return _record(
        order, shipment, applied.action, applied.origin, applied.to, applied.actor, applied.capacity, applied.reason
    )


ORDER_WORKFLOW = Workflow(
    "order", Order, ORDER_TRANSITIONS, record=_record_move, state_labels=ORDER_STATUS_LABELS, action_labels=EVENT_LABELS
)
SHIPMENT_WORKFLOW = Workflow(
    "shipment",
    Shipment,
    SHIPMENT_TRANSITIONS,
    record=_record_move,
    state_labels=SHIPMENT_STATUS_LABELS,
    action_labels=EVENT_LABELS,
)


def transition_order(order: Order, action: str, actor: User | None, role: str, note: str = "", **values) -> Order:
    """Move an order along its table (shop.workflow: the actor's capacity, a conditional UPDATE, an event)."""
    apply_move(ORDER_WORKFLOW, order, action, actor=actor, capacities={role}, reason=note, **values)
    db.session.flush()
    return order


def transition_shipment(
    shipment: Shipment, action: str, actor: User | None, role: str, note: str = "", **values
) -> Shipment:
    """Move a shipment along its own table, by the same mechanism."""
    apply_move(SHIPMENT_WORKFLOW, shipment, action, actor=actor, capacities={role}, reason=note, **values)
    db.session.flush()
    return shipment


def release_stock(order: Order) -> None:
    for line in order.lines:
        db.session.execute(
            update(Product)
            .where(Product.id == line.product_id)
            .values(stock=Product.stock + line.quantity)
            .execution_options(synchronize_session=False)
        )


def cancel_order(order: Order, actor: User | None, role: str, note: str = "") -> Order:
    """Cancel an unpaid order and give its stock back; its open payment attempt takes no more money (a success the
    provider reports later is a late payment, given back). The caller has already cancelled its PaymentIntent."""
    transition_order(order, "cancel", actor, role, note, cancelled_at=utcnow())
    payments.cancel_open_payments(order.id, "job" if role == "job" else "shop", note)
    release_stock(order)
    db.session.flush()
    return order


def get_order(user: User, order_id: int) -> Order:
    """An order as its buyer, the staff of one of its cooperatives, or an operator may see it."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("No such order."))
    if order.buyer_id == user.id or user.has_role(Role.OPERATOR):
        return order
    if {s.cooperative_id for s in order.shipments} & user.cooperative_ids():
        return order
    raise NotFound(_("No such order."))


def orders_of(buyer: User) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.buyer_id == buyer.id).order_by(Order.id.desc())))


def expired_unpaid_orders(now: datetime | None = None) -> list[int]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Order.id)
            .where(Order.status == OrderStatus.PENDING_PAYMENT, Order.expires_at < now)
            .order_by(Order.id)
        )
    )


def ship(user: User, order_id: int, carrier: str, tracking_number: str) -> Shipment:
    """The cooperative ships its part of a paid order."""
    order = get_order(user, order_id)
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier:
        raise ValidationFailed.on("carrier", _("Name the carrier."))
    if not re.match(r"^[A-Za-z0-9-]{6,40}$", tracking_number):
        raise ValidationFailed.on("tracking_number", _("A tracking number of 6 to 40 letters and digits."))
    if order.status != OrderStatus.PAID:
        raise InvalidTransition(
            _(
                "Only a paid order can be shipped (this one is %(state)s).",
                state=ORDER_STATUS_LABELS.get(order.status, order.status),
            )
        )
    mine = [s for s in order.shipments if s.cooperative_id in user.cooperative_ids()]
    if not mine:
        raise NotAllowed(_("None of this order's lines are your cooperative's."))
    shipment = transition_shipment(
        mine[0], "ship", user, "cooperative", carrier=carrier[:40], tracking_number=tracking_number, shipped_at=utcnow()
    )
    notifications.shipment_sent(shipment)
    return shipment


def confirm_receipt(user: User, order_id: int) -> Order:
    """The buyer confirms that every shipped part has arrived."""
    order = get_order(user, order_id)
    if order.buyer_id != user.id:
        raise NotAllowed(_("Only the buyer confirms receipt."))
    shipped = [s for s in order.shipments if s.status == "shipped"]
    if not shipped:
        raise InvalidTransition(_("Nothing of this order is on its way."))
    for shipment in shipped:
        transition_shipment(shipment, "deliver", user, "buyer", delivered_at=utcnow())
    return order


def deliver_overdue_shipments(now: datetime | None = None) -> list[int]:
    """Shipments on their way longer than AUTO_DELIVERY_DAYS count as delivered (the buyer did not confirm)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["AUTO_DELIVERY_DAYS"])
    due = db.session.scalars(
        select(Shipment).where(Shipment.status == "shipped", Shipment.shipped_at < cutoff).order_by(Shipment.id)
    ).all()
    for shipment in due:
        transition_shipment(shipment, "deliver", None, "job", _("delivered automatically"), delivered_at=now)
    return [s.id for s in due]


def complete_orders(now: datetime | None = None) -> list[int]:
    """Paid orders whose every part was delivered more than REFUND_WINDOW_DAYS ago, with no refund open."""
    from shop.orders.models import Refund, RefundStatus

    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["REFUND_WINDOW_DAYS"])
    completed = []
    for order in db.session.scalars(select(Order).where(Order.status == OrderStatus.PAID).order_by(Order.id)):
        parts = order.shipments
        if not parts or any(
            s.status != "delivered" or s.delivered_at is None or s.delivered_at > cutoff for s in parts
        ):
            continue
        open_refund = db.session.scalar(
            select(Refund.id).where(
                Refund.order_id == order.id, Refund.status.in_([RefundStatus.REQUESTED, RefundStatus.APPROVED])
            )
        )
        if open_refund is not None:
            continue
        transition_order(order, "complete", None, "job", _("the refund window has passed"), completed_at=now)
        completed.append(order.id)
    return completed


def parts_to_ship(user: User) -> list[Shipment]:
    """The staff's parts of paid orders still awaiting shipment, oldest payment first."""
    from sqlalchemy.orm import selectinload

    cooperative_ids = user.cooperative_ids()
    if not cooperative_ids:
        return []
    return list(
        db.session.scalars(
            select(Shipment)
            .join(Shipment.order)
            .where(
                Shipment.cooperative_id.in_(cooperative_ids),
                Shipment.status == ShipmentStatus.AWAITING,
                Order.status == OrderStatus.PAID,
            )
            .options(selectinload(Shipment.lines), selectinload(Shipment.order))
            .order_by(Order.paid_at, Order.id, Shipment.id)
        )
    )


def all_orders():
    """Every order, newest first, as a query to paginate (operators)."""
    return select(Order).order_by(Order.id.desc())
