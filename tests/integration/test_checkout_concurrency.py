"""No oversell, ever: 50 buyers at once against a stock of 10."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.cart import services as cart
from shop.catalog.models import Product
from shop.errors import DomainError
from shop.extensions import db
from shop.orders import services as orders
from shop.orders.models import OrderLine
from tests.factories import SHENZHOU

BUYERS = 50
STOCK = 10


@pytest.mark.postgres_only
@pytest.mark.parametrize("direct", [False, True], ids=["from-the-cart", "direct-order"])
def test_fifty_concurrent_buyers_share_ten_units_exactly(app, make, direct):
    product = make.product(make.cooperative(county=SHENZHOU), stock=STOCK, name="限量蜜桃礼盒")
    buyers = [make.user(Role.CONSUMER) for _ in range(BUYERS)]
    lines = {product: 1} if direct else None
    with app.app_context():
        for buyer in buyers:
            if not direct:
                cart.set_quantity(db.session.get(User, buyer), product, 1)
        db.session.commit()
    start = threading.Barrier(BUYERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy(buyer_id: int):
        with app.app_context():
            address = orders.Address("买家", "13900139000", "110105", "朝阳路 1 号")
            start.wait(timeout=30)
            try:
                orders.place_order(db.session.get(User, buyer_id), address, f"race-{buyer_id:04d}", lines)
                db.session.commit()
                result = "bought"
            except DomainError as refusal:
                db.session.rollback()
                result = refusal.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=buy, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(set(outcomes)) == ["bought", "out_of_stock"]
    assert outcomes.count("bought") == STOCK and len(outcomes) == BUYERS
    with app.app_context():
        assert db.session.get(Product, product).stock == 0
        sold = db.session.scalar(sa.select(sa.func.sum(OrderLine.quantity)).where(OrderLine.product_id == product))
        assert sold == STOCK
