"""Cart and checkout through the API: snapshots, shipping per cooperative, stock reserved once, never oversold."""

from __future__ import annotations

import pytest

from certification.models import Application
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order
from tests.factories import SHENZHOU, ZAOYANG

# Checkout sets up a PaymentIntent with the real local Stripe emulator.
pytestmark = pytest.mark.usefixtures("stripe_config")

ADDRESS = {
    "recipient": "王小明",
    "mobile": "13800138000",
    "district_code": "110105",
    "detail": "朝阳路 1 号 2 单元 301",
}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def shop(make):
    peach_coop = make.cooperative(
        county=SHENZHOU, name="深州蜜桃合作社", shipping_fee_fen=800, free_shipping_threshold_fen=9900
    )
    egg_coop = make.cooperative(county=ZAOYANG, name="枣阳合作社", shipping_fee_fen=1200)
    return {
        "peach": make.product(peach_coop, name="深州蜜桃", price_fen=880, stock=50, unit="斤", min_order_quantity=2),
        "egg": make.product(egg_coop, name="咸鸭蛋", price_fen=3600, stock=5, unit="盒"),
        "peach_coop": peach_coop,
        "egg_coop": egg_coop,
        "buyer": bearer(make.token(make.user(Role.CONSUMER))),
    }


def stock(app, product_id) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).stock


def put(client, headers, product_id, quantity):
    return client.post("/api/v1/cart", json={"product_id": product_id, "quantity": quantity}, headers=headers)


def checkout(client, headers, key="checkout-0001", **address):
    return client.post("/api/v1/orders", json={"checkout_key": key, **ADDRESS, **address}, headers=headers)


def test_cart_respects_minimum_order_and_stock(client, shop):
    too_few = put(client, shop["buyer"], shop["peach"], 1)
    assert too_few.status_code == 422 and "quantity" in too_few.json["error"]["fields"]
    too_many = put(client, shop["buyer"], shop["egg"], 6)
    assert too_many.status_code == 422
    assert put(client, shop["buyer"], shop["peach"], 3).status_code == 200
    cart = put(client, shop["buyer"], shop["egg"], 2).json
    assert [(line["name"], line["quantity"], line["line_total_fen"]) for line in cart["lines"]] == [
        ("深州蜜桃", 3, 2640),
        ("咸鸭蛋", 2, 7200),
    ]
    assert cart["items_fen"] == 9840
    assert put(client, shop["buyer"], shop["egg"], 0).json["items_fen"] == 2640


def test_an_uncertified_product_cannot_go_in_the_cart(client, make, shop):
    fresh = make.product(shop["peach_coop"], certified=False)
    assert put(client, shop["buyer"], fresh, 1).status_code == 404


def test_checkout_snapshots_lines_charges_shipping_per_cooperative_and_reserves_stock(app, client, shop):
    put(client, shop["buyer"], shop["peach"], 3)
    put(client, shop["buyer"], shop["egg"], 2)
    response = checkout(client, shop["buyer"])
    assert response.status_code == 201, response.json
    order = response.json
    assert (order["status"], order["items_fen"], order["shipping_fen"], order["total_fen"]) == (
        "pending_payment",
        9840,
        800 + 1200,
        11840,
    )
    parts = {
        s["cooperative_name"]: (s["shipping_fee_fen"], [line["product_name"] for line in s["lines"]])
        for s in order["shipments"]
    }
    assert parts == {"深州蜜桃合作社": (800, ["深州蜜桃"]), "枣阳合作社": (1200, ["咸鸭蛋"])}
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (47, 3)
    assert client.get("/api/v1/cart", headers=shop["buyer"]).json["lines"] == []
    # The snapshot survives a later price change.
    with app.app_context():
        db.session.get(Product, shop["peach"]).price_fen = 999
        db.session.commit()
    again = client.get(f"/api/v1/orders/{order['id']}", headers=shop["buyer"]).json
    assert again["shipments"][0]["lines"][0]["unit_price_fen"] == 880


def test_free_shipping_from_the_threshold(client, shop):
    put(client, shop["buyer"], shop["peach"], 12)  # 12 × 8.80 = 105.60 ≥ 99.00
    assert checkout(client, shop["buyer"]).json["shipping_fen"] == 0


def test_a_double_submitted_checkout_makes_one_order_and_reserves_once(app, client, shop):
    put(client, shop["buyer"], shop["egg"], 2)
    first = checkout(client, shop["buyer"], key="same-key-123")
    second = checkout(client, shop["buyer"], key="same-key-123")
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    assert stock(app, shop["egg"]) == 3
    with app.app_context():
        assert db.session.query(Order).count() == 1


def order_now(client, headers, lines, key="direct-0001"):
    return client.post("/api/v1/orders", json={"checkout_key": key, **ADDRESS, "lines": lines}, headers=headers)


def test_a_direct_order_is_made_of_its_lines_and_leaves_the_cart_alone(app, client, shop):
    put(client, shop["buyer"], shop["peach"], 3)
    lines = [{"product_id": shop["egg"], "quantity": 2}]
    first = order_now(client, shop["buyer"], lines)
    assert first.status_code == 201, first.json
    assert (first.json["items_fen"], first.json["shipping_fen"], first.json["total_fen"]) == (7200, 1200, 8400)
    assert [(line["product_name"], line["quantity"]) for s in first.json["shipments"] for line in s["lines"]] == [
        ("咸鸭蛋", 2)
    ]
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (50, 3)
    cart = client.get("/api/v1/cart", headers=shop["buyer"]).json
    assert [(line["name"], line["quantity"]) for line in cart["lines"]] == [("深州蜜桃", 3)]
    # A retry with the same key is the same order, reserved once.
    again = order_now(client, shop["buyer"], lines)
    assert (again.status_code, again.json["id"]) == (201, first.json["id"])
    assert stock(app, shop["egg"]) == 3
    fetched = client.get(f"/api/v1/orders/{first.json['id']}", headers=shop["buyer"]).json
    assert {k: fetched[k] for k in ("shipments", "events", "total_fen")} == {
        k: first.json[k] for k in ("shipments", "events", "total_fen")
    }


@pytest.mark.parametrize(
    ("lines", "status", "field"),
    [
        ([], 422, "lines"),
        ([{"product_id": 1, "quantity": 0}], 422, "lines"),
        ([{"product_id": 1, "quantity": "2"}], 422, "lines"),
        ([{"product_id": 1}], 422, "lines"),
        ("egg-twice", 422, "lines"),
        ("peach-below-minimum", 422, "lines"),
        ("egg-above-stock", 409, "lines"),
        ("unknown-product", 409, "lines"),
    ],
)
def test_a_direct_order_refuses_bad_lines_and_names_the_field(app, client, shop, lines, status, field):
    named = {
        "egg-twice": [{"product_id": shop["egg"], "quantity": 1}, {"product_id": shop["egg"], "quantity": 2}],
        "peach-below-minimum": [{"product_id": shop["peach"], "quantity": 1}],
        "egg-above-stock": [{"product_id": shop["peach"], "quantity": 2}, {"product_id": shop["egg"], "quantity": 6}],
        "unknown-product": [{"product_id": 999_999, "quantity": 1}],
    }
    lines = named[lines] if isinstance(lines, str) else lines
    response = order_now(client, shop["buyer"], lines)
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"], response.json
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (50, 5)
    with app.app_context():
        assert db.session.query(Order).count() == 0


def test_a_direct_order_of_an_uncertified_product_is_refused(app, client, make, shop):
    fresh = make.product(shop["peach_coop"], certified=False, name="未认证小米")
    response = order_now(client, shop["buyer"], [{"product_id": fresh, "quantity": 1}])
    assert response.status_code == 409 and response.json["error"]["code"] == "not_sellable"
    # Named by its id: the name of a product not listed is not public.
    assert response.json["error"]["fields"] == {"lines": [str(fresh)]}
    assert "未认证小米" not in response.get_data(as_text=True)


def test_a_product_that_lost_its_certificate_after_entering_the_cart_stops_the_checkout(app, client, make, shop):
    put(client, shop["buyer"], shop["peach"], 2)
    put(client, shop["buyer"], shop["egg"], 1)
    operator = bearer(make.token(make.user(Role.OPERATOR)))
    with app.app_context():
        application = db.session.query(Application).filter_by(product_id=shop["egg"]).one().id
    revoked = client.post(
        f"/api/v1/certification/applications/{application}/transitions",
        json={"action": "revoke", "comment": "假冒"},
        headers=operator,
    )
    assert revoked.status_code == 200
    response = checkout(client, shop["buyer"])
    assert response.status_code == 409 and response.json["error"]["code"] == "not_sellable"
    assert "咸鸭蛋" in response.json["error"]["message"]
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (50, 5)
    with app.app_context():
        assert db.session.query(Order).count() == 0
    lines = client.get("/api/v1/cart", headers=shop["buyer"]).json["lines"]
    assert {line["name"]: line["listed"] for line in lines} == {"深州蜜桃": True, "咸鸭蛋": False}


def test_when_one_line_is_out_of_stock_nothing_is_reserved(app, client, make, shop):
    put(client, shop["buyer"], shop["peach"], 2)
    put(client, shop["buyer"], shop["egg"], 5)
    other = bearer(make.token(make.user(Role.CONSUMER)))
    put(client, other, shop["egg"], 4)
    assert checkout(client, other).status_code == 201  # eggs: 5 → 1
    response = checkout(client, shop["buyer"])
    assert response.status_code == 409 and response.json["error"]["code"] == "out_of_stock"
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (50, 1)  # the peaches were given back


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mobile": "12800138000"}, "mobile"),
        ({"mobile": "1380013800"}, "mobile"),
        ({"district_code": "110000"}, "district_code"),
        ({"district_code": "999999"}, "district_code"),
        ({"recipient": ""}, "recipient"),
        ({"detail": "x"}, "detail"),
        ({"checkout_key": "short"}, "checkout_key"),
    ],
)
def test_address_errors_name_the_field(app, client, shop, change, field):
    put(client, shop["buyer"], shop["egg"], 1)
    response = checkout(client, shop["buyer"], **change)
    assert response.status_code == 422 and field in response.json["error"]["fields"], response.json
    assert stock(app, shop["egg"]) == 5


def test_an_empty_cart_cannot_be_checked_out(client, shop):
    response = checkout(client, shop["buyer"])
    assert response.status_code == 422 and "cart" in response.json["error"]["fields"]


def test_orders_are_private_to_their_buyer_cooperatives_and_operators(client, make, shop):
    put(client, shop["buyer"], shop["egg"], 1)
    order_id = checkout(client, shop["buyer"]).json["id"]
    stranger = bearer(make.token(make.user(Role.CONSUMER)))
    assert client.get(f"/api/v1/orders/{order_id}", headers=stranger).status_code == 404
    egg_staff = bearer(make.token(make.staff(shop["egg_coop"])))
    peach_staff = bearer(make.token(make.staff(shop["peach_coop"])))
    assert client.get(f"/api/v1/orders/{order_id}", headers=egg_staff).status_code == 200
    assert client.get(f"/api/v1/orders/{order_id}", headers=peach_staff).status_code == 404
    assert [o["id"] for o in client.get("/api/v1/orders", headers=shop["buyer"]).json] == [order_id]


def test_an_unpaid_order_cannot_be_shipped(client, make, shop):
    put(client, shop["buyer"], shop["egg"], 1)
    order_id = checkout(client, shop["buyer"]).json["id"]
    staff = bearer(make.token(make.staff(shop["egg_coop"])))
    response = client.post(
        f"/api/v1/orders/{order_id}/shipments",
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
        headers=staff,
    )
    assert response.status_code == 409


def test_checkout_takes_a_fixed_number_of_statements_and_answers_from_what_it_wrote(app, client, make, shop):
    """The order's answer is built from the rows just written (no reloading after a commit), and the work does
    not grow with the cart but for one conditional stock UPDATE per product."""
    from tests.conftest import count_statements

    app.config["CHECKOUT_CREATES_PAYMENT_INTENT"] = False  # the provider call is measured by its own tests
    try:
        more = [make.product(shop["peach_coop"], name=f"小米{n}", price_fen=1000, stock=9) for n in range(3)]
        # A first order to the same district: the district is then known to the process (the division list is
        # fixed data, checked once per process).
        first = order_now(client, shop["buyer"], [{"product_id": more[0], "quantity": 1}], key="warm-up-0001")
        assert first.status_code == 201, first.json
        for product_id in [shop["egg"], *more]:
            assert put(client, shop["buyer"], product_id, 1).status_code == 200
        with app.app_context():
            engine = db.engine
        with count_statements(engine) as statements:
            placed = checkout(client, shop["buyer"])
    finally:
        app.config.pop("CHECKOUT_CREATES_PAYMENT_INTENT")
    assert placed.status_code == 201, placed.json
    shipped = [[line["quantity"] for line in shipment["lines"]] for shipment in placed.json["shipments"]]
    assert sorted(shipped) == [[1], [1, 1, 1]]
    assert [event["action"] for event in placed.json["events"]] == ["place"] and placed.json["refunds"] == []
    assert placed.json["status"] == "pending_payment" and placed.json["total_fen"] == 3600 + 3000 + 1200 + 800
    kinds = [s.lstrip().split()[0].upper() for s in statements if s.lstrip().split()[0].upper() != "BEGIN"]
    # token, order by checkout key, cart, products; 4 stock updates; order, 2 shipments, 4 lines, event, cart
    # cleared; commit. On PostgreSQL the shipments and the lines go in one INSERT each; on SQLite, where
    # SQLAlchemy cannot match a multi-row RETURNING to its rows, one INSERT per row.
    assert kinds.count("UPDATE") == 4
    assert kinds.count("SELECT") == 4, statements
    assert kinds.count("INSERT") == (4 if engine.dialect.name == "postgresql" else 1 + 2 + 4 + 1), statements
    after_writes = kinds[kinds.index("INSERT") :]
    assert "SELECT" not in after_writes, statements
    with app.app_context():
        assert db.session.get(Order, placed.json["id"]).total_fen == placed.json["total_fen"]


def test_an_orders_history_cannot_be_rewritten(app, client, shop):
    import sqlalchemy as sa

    from shop.orders.models import OrderEvent

    assert put(client, shop["buyer"], shop["egg"], 1).status_code == 200
    assert checkout(client, shop["buyer"]).status_code == 201
    with app.app_context():
        for statement in ("UPDATE order_events SET note = 'x'", "DELETE FROM order_events"):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
        event = db.session.scalars(sa.select(OrderEvent)).one()
        event.note = "rewritten"
        with pytest.raises(ValueError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        assert db.session.scalars(sa.select(OrderEvent.action)).all() == ["place"]
