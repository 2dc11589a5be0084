"""No oversell, ever: 50 buyers at once against a stock of 10; ten retries of one checkout at once: one order."""

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
from shop.orders.models import Order, OrderLine
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


RETRIES = 10


@pytest.mark.parametrize("stock", [100, 2], ids=["stock-for-all", "stock-for-one-order"])
@pytest.mark.parametrize("direct", [False, True], ids=["from-the-cart", "direct-order"])
def test_ten_simultaneous_retries_of_one_checkout_all_get_the_one_order(app, make, stripe_config, stock, direct):
    """A double click, or a client retrying on a timeout: ten requests with one checkout key at the same moment.
    One places the order; the others lose the race on the key (or on the stock the winner took) and answer the
    winner's order, with its one PaymentIntent, instead of a 500 or a 409."""
    from tests.payments.helpers import ADDRESS, bearer

    product = make.product(make.cooperative(county=SHENZHOU), stock=stock, name="蜜桃礼盒", price_fen=8800)
    buyer = bearer(make.token(make.user(Role.CONSUMER)))
    body = {"checkout_key": "retry-race-0001", **ADDRESS}
    if direct:
        body["lines"] = [{"product_id": product, "quantity": 2}]
    else:
        assert app.test_client().post("/api/v1/cart", json={"product_id": product, "quantity": 2}, headers=buyer)
    start = threading.Barrier(RETRIES)
    answers: list = []
    lock = threading.Lock()

    def retry():
        client = app.test_client()
        start.wait(timeout=30)
        try:
            answer = client.post("/api/v1/orders", json=body, headers=buyer)
            result = (answer.status_code, answer.json)
        except Exception as error:  # the test app lets errors through: what a server would answer with 500
            result = (500, repr(error))
        with lock:
            answers.append(result)

    threads = [threading.Thread(target=retry) for _ in range(RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _body in answers] == [201] * RETRIES, answers
    with app.app_context():
        (order,) = db.session.scalars(sa.select(Order)).all()
        assert order.payment_intent_id is not None
        assert db.session.get(Product, product).stock == stock - 2
    assert {body["id"] for _status, body in answers} == {order.id}
    assert {body["payment_client_secret"] for _status, body in answers} == {order.payment_client_secret}
