"""The cart, checkout, payment and order pages through the test client, with CSRF tokens as a browser sends them.

Checkout and payment talk to the real local Stripe emulator (`stripe_config`). Assertions read the shop's data,
field names, status codes and `data-status` attributes, so they hold in either UI language.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import selectinload

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.extensions import db
from shop.orders.models import Order
from shop.payments.models import PaymentFlag
from tests.conftest import csrf_token, login
from tests.factories import SHENZHOU, ZAOYANG
from tests.payments.test_gateway import DECLINED_CARD, GOOD_CARD, browser_token

ADDRESS = {
    "recipient": "王小明",
    "mobile": "13800138000",
    "district_code": "110105",
    "detail": "朝阳路 1 号 2 单元 301",
}
KEY = re.compile(r'name="checkout_key"[^>]*value="([0-9a-f]{32})"')
# Checkout sets up a PaymentIntent with the real local Stripe emulator.
pytestmark = pytest.mark.usefixtures("stripe_config")


@pytest.fixture
def shop(make):
    """Peaches (min. 2 斤, 8.80) from Shenzhou, 8.00 shipping free from 99.00; salted eggs (36.00) from Zaoyang."""
    peach_coop = make.cooperative(
        county=SHENZHOU, name="深州蜜桃合作社", shipping_fee_fen=800, free_shipping_threshold_fen=9900
    )
    egg_coop = make.cooperative(county=ZAOYANG, name="枣阳合作社", shipping_fee_fen=1200)
    return {
        "peach": make.product(peach_coop, name="深州蜜桃", price_fen=880, stock=50, unit="斤", min_order_quantity=2),
        "egg": make.product(egg_coop, name="咸鸭蛋", price_fen=3600, stock=5, unit="盒"),
        "peach_coop": peach_coop,
        "egg_coop": egg_coop,
    }


@pytest.fixture
def buyer(app, make):
    user_id = make.user(Role.CONSUMER)
    client = app.test_client()
    login(client, make.get(User, user_id).email)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def add_to_cart(client, product_id: int, quantity: int, form_page: str | None = None):
    token = csrf_token(client, form_page or f"/products/{product_id}")
    return client.post("/cart/items", data={"product_id": product_id, "quantity": quantity, "csrf_token": token})


def checkout_form(client) -> tuple[str, str]:
    page = client.get("/checkout")
    assert page.status_code == 200, text(page)[:300]
    return csrf_token(client, "/cart"), KEY.search(text(page)).group(1)


def check_out(client, **address):
    token, key = checkout_form(client)
    return client.post("/checkout", data={"csrf_token": token, "checkout_key": key, **ADDRESS, **address}), key


def order_row(app, order_id: int) -> Order:
    with app.app_context():
        order = db.session.get(Order, order_id, options=[selectinload(Order.payments)])  # its payment state
        db.session.expunge(order)
        return order


def stock(app, product_id: int) -> int:
    with app.app_context():
        return db.session.get(Product, product_id).stock


def placed_order(client, shop) -> int:
    add_to_cart(client, shop["peach"], 3)
    add_to_cart(client, shop["egg"], 2)
    response, _key = check_out(client)
    assert response.status_code == 302, text(response)[:500]
    return int(re.search(r"/orders/(\d+)/pay$", response.headers["Location"]).group(1))


def post_action(client, order_id: int, action: str):
    token = csrf_token(client, f"/orders/{order_id}")
    return client.post(f"/orders/{order_id}/{action}", data={"csrf_token": token})


def pay(client, order_id: int, card_reference: str):
    token = csrf_token(client, f"/orders/{order_id}/pay")
    return client.post(f"/orders/{order_id}/pay", data={"csrf_token": token, "card": card_reference})


def status_of(html: str, kind: str = "order-status") -> str:
    return re.search(rf'class="status {kind}[^"]*" data-status="([a-z_]+)"', html).group(1)


# --- Cart --------------------------------------------------------------------------------------------


def test_a_buyer_adds_from_the_product_page_and_sees_todays_prices(app, buyer, shop):
    product_page = text(buyer.get(f"/products/{shop['peach']}"))
    assert 'action="/cart/items"' in product_page and 'name="quantity"' in product_page

    added = add_to_cart(buyer, shop["peach"], 3)
    assert added.status_code == 302 and added.headers["Location"].endswith("/cart")
    add_to_cart(buyer, shop["peach"], 2)  # adds to what the cart holds
    add_to_cart(buyer, shop["egg"], 1)
    with app.app_context():  # the price changes: the cart shows today's
        db.session.get(Product, shop["egg"]).price_fen = 3800
        db.session.commit()

    page = text(buyer.get("/cart"))
    assert "深州蜜桃" in page and "咸鸭蛋" in page and "深州蜜桃合作社" in page
    assert "¥44.00" in page  # 5 × 8.80
    assert "¥38.00" in page
    assert re.search(r'class="price items-total">¥82\.00<', page)  # 44.00 + 38.00
    assert re.search(r'class="cart-count"[^>]*>2<', page)
    assert 'href="/checkout"' in page


def test_the_cart_refuses_what_the_rules_refuse_and_names_the_line(app, buyer, shop):
    refused = add_to_cart(buyer, shop["peach"], 1)  # below the minimum order of 2
    assert refused.status_code == 302 and refused.headers["Location"].endswith(f"/products/{shop['peach']}")
    assert "flash-error" in text(buyer.get(f"/products/{shop['peach']}"))
    assert "cart-line" not in text(buyer.get("/cart"))

    add_to_cart(buyer, shop["egg"], 2)
    token = csrf_token(buyer, "/cart")
    too_many = buyer.post(f"/cart/items/{shop['egg']}", data={"quantity": 6, "csrf_token": token})
    assert too_many.status_code == 422
    assert re.search(r'class="qty-input invalid" id="quantity-\d+"', text(too_many))
    assert re.search(r'class="error" role="alert">[^<]*5', text(too_many))  # "only 5 in stock"
    not_a_number = buyer.post(f"/cart/items/{shop['egg']}", data={"quantity": "many", "csrf_token": token})
    assert not_a_number.status_code == 422

    changed = buyer.post(f"/cart/items/{shop['egg']}", data={"quantity": 4, "csrf_token": token})
    assert changed.status_code == 302
    assert "¥144.00" in text(buyer.get("/cart"))
    removed = buyer.post(f"/cart/items/{shop['egg']}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert "cart-line" not in text(buyer.get("/cart"))


def test_a_line_no_longer_on_sale_is_marked_and_blocks_checkout(app, buyer, shop):
    add_to_cart(buyer, shop["peach"], 2)
    add_to_cart(buyer, shop["egg"], 1)
    with app.app_context():
        db.session.get(Product, shop["egg"]).is_active = False
        db.session.commit()
    page = text(buyer.get("/cart"))
    assert page.count('class="cart-line unlisted"') == 1
    assert 'class="status status-off not-on-sale"' in page
    assert re.search(r'class="price items-total">¥17\.60<', page)  # only what is on sale
    assert 'href="/checkout"' not in page
    response, _key = check_out(buyer)
    assert response.status_code == 422
    assert re.search(r'class="flash flash-error" role="alert">[^<]*咸鸭蛋', text(response))
    with app.app_context():
        assert db.session.query(Order).count() == 0


def test_a_guest_keeps_a_cart_in_the_session_and_is_asked_to_sign_in(app, client, make, shop):
    assert add_to_cart(client, shop["egg"], 2).status_code == 302
    assert add_to_cart(client, shop["peach"], 1).status_code == 302  # below the minimum: refused
    assert add_to_cart(client, 987654, 1, form_page="/login").status_code == 302  # no such product: refused
    page = text(client.get("/cart"))
    assert page.count('class="cart-line"') == 1 and "咸鸭蛋" in page
    assert re.search(r'class="price items-total">¥72\.00<', page)
    assert 'href="/login?next=/cart"' in page and 'href="/checkout"' not in page
    assert client.get("/checkout").headers["Location"].startswith("/login")

    token = csrf_token(client, "/cart")
    assert client.post(f"/cart/items/{shop['egg']}", data={"quantity": 9, "csrf_token": token}).status_code == 422
    assert client.post(f"/cart/items/{shop['egg']}", data={"quantity": 3, "csrf_token": token}).status_code == 302
    assert "¥108.00" in text(client.get("/cart"))

    # Signing in keeps the cart: it is merged into the buyer's own (which already holds peaches).
    user_id = make.user(Role.CONSUMER)
    other = app.test_client()
    login(other, make.get(User, user_id).email)
    add_to_cart(other, shop["peach"], 4)
    login(client, make.get(User, user_id).email)
    merged = text(client.get("/cart"))
    assert merged.count('class="cart-line"') == 2
    assert re.search(r'class="price items-total">¥143\.20<', merged)  # 4 × 8.80 + 3 × 36.00
    with client.session_transaction() as session:
        assert "cart" not in session


def test_staff_see_no_add_to_cart_form(app, make, shop):
    staff = app.test_client()
    login(staff, make.get(User, make.staff(shop["peach_coop"])).email)
    assert 'action="/cart/items"' not in text(staff.get(f"/products/{shop['peach']}"))


# --- Checkout ----------------------------------------------------------------------------------------


def test_checkout_shows_each_cooperatives_part_with_its_shipping(buyer, shop):
    add_to_cart(buyer, shop["peach"], 12)  # 105.60 ≥ 99.00: free shipping
    add_to_cart(buyer, shop["egg"], 1)
    page = text(buyer.get("/checkout"))
    assert "深州蜜桃合作社" in page and "枣阳合作社" in page
    assert page.count('class="num part-shipping"') == 2
    assert re.search(r'class="num part-shipping">¥12\.00<', page)
    assert re.search(r'class="price order-total">¥153\.60<', page)  # 105.60 + 36.00 + 12.00
    assert KEY.search(page)


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(buyer):
    response = buyer.get("/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"recipient": ""}, "recipient"),
        ({"district_code": "11010"}, "district_code"),
        ({"district_code": "110000"}, "district_code"),  # six digits, but a province: the service refuses it
        ({"detail": "1号"}, "detail"),  # too short for the service
    ],
)
def test_checkout_form_errors_name_the_field(app, buyer, shop, changes, field):
    add_to_cart(buyer, shop["egg"], 1)
    response, key = check_out(buyer, **changes)
    assert response.status_code == 422
    page = text(response)
    assert re.search(rf'<div class="field has-error">\s*<label for="{field}"', page), page[:3000]
    assert KEY.search(page).group(1) == key  # the same checkout continues
    with app.app_context():
        assert db.session.query(Order).count() == 0


def test_checkout_creates_the_order_and_its_payment(app, buyer, shop, stripe_config):
    order_id = placed_order(buyer, shop)
    order = order_row(app, order_id)
    assert (order.status, order.total_fen) == ("pending_payment", 11840)
    assert (order.items_fen, order.shipping_fen) == (3 * 880 + 2 * 3600, 800 + 1200)
    assert order.payment_intent_id and order.payment_status == "requires_payment_method"
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (47, 3)
    assert "cart-line" not in text(buyer.get("/cart"))

    page = text(buyer.get(f"/orders/{order_id}/pay"))
    assert 'data-amount-fen="11840"' in page and "¥118.40" in page
    assert f'<script src="{stripe_config["STRIPE_JS_URL"]}"></script>' in page
    assert '<script src="/static/js/payment.js"></script>' in page
    assert 'data-stripe-key="pk_test_localstripe"' in page
    assert "<script>" not in page and " onclick=" not in page and " onsubmit=" not in page


def test_a_double_submitted_checkout_makes_one_order(app, buyer, shop):
    add_to_cart(buyer, shop["egg"], 2)
    token, key = checkout_form(buyer)
    first = buyer.post("/checkout", data={"csrf_token": token, "checkout_key": key, **ADDRESS})
    second = buyer.post("/checkout", data={"csrf_token": token, "checkout_key": key, **ADDRESS})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert stock(app, shop["egg"]) == 3
    with app.app_context():
        assert db.session.query(Order).count() == 1


# --- Payment, cancelling, shipping, receipt ----------------------------------------------------------


def test_paying_on_the_page_a_declined_card_then_a_good_one(app, buyer, shop, localstripe_server):
    order_id = placed_order(buyer, shop)
    assert pay(buyer, order_id, "").status_code == 422  # the script did not fill the card in

    declined = pay(buyer, order_id, browser_token(localstripe_server, DECLINED_CARD)["id"])
    assert declined.status_code == 422
    assert re.search(r'id="card-errors"[^>]*>\s*Your card was declined', text(declined))
    assert order_row(app, order_id).status == "pending_payment"

    paid = pay(buyer, order_id, browser_token(localstripe_server, GOOD_CARD)["id"])
    assert paid.status_code == 302 and paid.headers["Location"].endswith(f"/orders/{order_id}")
    page = text(buyer.get(f"/orders/{order_id}"))
    assert status_of(page) == "paid"
    assert 'data-action="pay"' in page and 'class="cancel-form"' not in page
    assert buyer.get(f"/orders/{order_id}/pay").status_code == 302  # nothing left to pay


def test_the_buyer_cancels_an_unpaid_order_and_the_stock_returns(app, buyer, shop):
    order_id = placed_order(buyer, shop)
    page = text(buyer.get(f"/orders/{order_id}"))
    assert status_of(page) == "pending_payment" and 'class="cancel-form"' in page
    response = post_action(buyer, order_id, "cancel")
    assert response.status_code == 302
    assert order_row(app, order_id).status == "cancelled"
    assert (stock(app, shop["peach"]), stock(app, shop["egg"])) == (50, 5)
    page = text(buyer.get(f"/orders/{order_id}"))
    assert status_of(page) == "cancelled" and 'data-action="cancel"' in page
    again = post_action(buyer, order_id, "cancel")  # refused: flashed, nothing changes
    assert again.status_code == 302
    assert "flash-error" in text(buyer.get(f"/orders/{order_id}"))


def test_the_cooperative_ships_its_part_and_the_buyer_confirms_receipt(app, make, buyer, shop, localstripe_server):
    order_id = placed_order(buyer, shop)
    pay(buyer, order_id, browser_token(localstripe_server)["id"])
    peach_staff, egg_staff = app.test_client(), app.test_client()
    login(peach_staff, make.get(User, make.staff(shop["peach_coop"])).email)
    login(egg_staff, make.get(User, make.staff(shop["egg_coop"])).email)
    assert 'class="receipt-form"' not in text(buyer.get(f"/orders/{order_id}"))  # nothing shipped yet

    listing = text(peach_staff.get("/coop/orders"))
    assert f'data-order-id="{order_id}"' in listing and "深州蜜桃" in listing and "咸鸭蛋" not in listing
    assert "王小明" in listing and "13800138000" in listing

    token = csrf_token(peach_staff, "/coop/orders")
    bad = peach_staff.post(
        f"/coop/orders/{order_id}/ship", data={"csrf_token": token, "carrier": "顺丰速运", "tracking_number": "1"}
    )
    assert bad.status_code == 422
    assert re.search(r'<div class="field has-error">\s*<label for="tracking-\d+"', text(bad))
    shipped = peach_staff.post(
        f"/coop/orders/{order_id}/ship",
        data={"csrf_token": token, "carrier": "顺丰速运", "tracking_number": "SF1234567890"},
    )
    assert shipped.status_code == 302
    assert f'data-order-id="{order_id}"' not in text(peach_staff.get("/coop/orders"))
    assert f'data-order-id="{order_id}"' in text(egg_staff.get("/coop/orders"))  # its part still waits

    page = text(buyer.get(f"/orders/{order_id}"))
    assert "SF1234567890" in page and "顺丰速运" in page
    assert re.findall(r'class="status shipment-status[^"]*" data-status="([a-z_]+)"', page) == [
        "shipped",
        "awaiting_shipment",
    ]
    assert post_action(buyer, order_id, "receipt").status_code == 302
    page = text(buyer.get(f"/orders/{order_id}"))
    assert status_of(page, "shipment-status") == "delivered"
    assert 'class="receipt-form"' not in page and 'data-action="deliver"' in page
    assert text(peach_staff.get(f"/orders/{order_id}")).count("SF1234567890") == 1  # staff see the order too


def test_orders_are_private_to_their_buyer_cooperatives_and_operators(app, make, buyer, shop):
    order_id = placed_order(buyer, shop)
    assert f"/orders/{order_id}" in text(buyer.get("/orders"))
    stranger = app.test_client()
    login(stranger, make.get(User, make.user(Role.CONSUMER)).email)
    assert stranger.get(f"/orders/{order_id}").status_code == 404
    assert stranger.get(f"/orders/{order_id}/pay").status_code == 404
    token = csrf_token(stranger, "/cart")
    assert stranger.post(f"/orders/{order_id}/cancel", data={"csrf_token": token}).status_code == 404
    assert stranger.post(f"/orders/{order_id}/receipt", data={"csrf_token": token}).status_code == 404
    assert stranger.post(f"/orders/{order_id}/pay", data={"csrf_token": token, "card": "tok_x"}).status_code == 404
    assert f"/orders/{order_id}" not in text(stranger.get("/orders"))
    assert order_row(app, order_id).status == "pending_payment"


def test_operators_see_all_orders_and_unresolved_payment_flags(app, make, buyer, shop):
    order_id = placed_order(buyer, shop)
    with app.app_context():
        db.session.add(PaymentFlag(order_id=order_id, payment_intent_id="pi_x", kind="amount_mismatch", amount_fen=1))
        db.session.commit()
    operator = app.test_client()
    login(operator, make.get(User, make.user(Role.OPERATOR)).email)
    page = text(operator.get("/ops/orders"))
    assert f'data-order-id="{order_id}"' in page
    assert 'data-flag-kind="amount_mismatch"' in page and "pi_x" in page
    assert status_of(text(operator.get(f"/orders/{order_id}"))) == "pending_payment"
    assert 'class="cancel-form"' not in text(operator.get(f"/orders/{order_id}"))  # only the buyer acts


# --- Alipay and WeChat Pay (confirmed in the browser by real Stripe.js) ---------------------------------


def test_alipay_and_wechat_pay_buttons_appear_only_with_real_stripe(app, buyer, shop, monkeypatch):
    order_id = placed_order(buyer, shop)
    secret = order_row(app, order_id).payment_client_secret
    # The emulator's fake Stripe.js has no confirmAlipayPayment / confirmWechatPayPayment: card only.
    assert 'id="wallets"' not in text(buyer.get(f"/orders/{order_id}/pay"))

    # As with real keys (the order already has its intent, so no call to the provider is made).
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", None)
    monkeypatch.setitem(app.config, "STRIPE_JS_URL", None)
    page = text(buyer.get(f"/orders/{order_id}/pay"))
    assert f'data-client-secret="{secret}"' in page
    assert f'data-return-url="http://localhost/orders/{order_id}"' in page  # absolute: Alipay returns there
    assert 'data-wallet="alipay"' in page and 'data-wallet="wechat_pay"' in page
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    monkeypatch.setitem(app.config, "STRIPE_PAYMENT_METHOD_TYPES", ["card", "alipay"])
    page = text(buyer.get(f"/orders/{order_id}/pay"))
    assert 'data-wallet="alipay"' in page and 'data-wallet="wechat_pay"' not in page


def test_back_from_the_provider_the_order_page_reads_the_intent_at_once(app, buyer, shop, localstripe_server):
    from shop.payments import gateway

    order_id = placed_order(buyer, shop)
    intent_id = order_row(app, order_id).payment_intent_id
    # Paid at the provider (as Alipay or WeChat Pay would), and no webhook has come yet.
    with app.app_context():
        assert gateway.confirm_with_card(intent_id, browser_token(localstripe_server, GOOD_CARD)["id"]).status == (
            "succeeded"
        )
    assert status_of(text(buyer.get(f"/orders/{order_id}"))) == "pending_payment"
    assert status_of(text(buyer.get(f"/orders/{order_id}?payment_intent=pi_not_this_order"))) == "pending_payment"

    page = text(buyer.get(f"/orders/{order_id}?payment_intent={intent_id}"))
    assert status_of(page) == "paid"
    order = order_row(app, order_id)
    assert (order.status, order.paid_fen) == ("paid", 11840)
    # Coming back twice records the payment once.
    assert status_of(text(buyer.get(f"/orders/{order_id}?payment_intent={intent_id}"))) == "paid"
    assert order_row(app, order_id).paid_fen == 11840
    # Each return asks the provider: a burst of them is refused (the plain page is not limited).
    statuses = [buyer.get(f"/orders/{order_id}?payment_intent={intent_id}").status_code for _ in range(12)]
    assert statuses[-1] == 429 and buyer.get(f"/orders/{order_id}").status_code == 200


def test_buy_now_checks_out_that_product_alone_and_keeps_the_cart(app, buyer, shop):
    add_to_cart(buyer, shop["peach"], 3)
    token = csrf_token(buyer, f"/products/{shop['egg']}")
    went = buyer.post("/buy-now", data={"product_id": shop["egg"], "quantity": 2, "csrf_token": token})
    assert went.status_code == 302
    assert went.headers["Location"].endswith(f"/checkout?product={shop['egg']}&quantity=2")
    page = buyer.get(went.headers["Location"])
    assert page.status_code == 200
    assert "咸鸭蛋" in text(page) and "深州蜜桃" not in text(page) and 'class="meta direct-order"' in text(page)
    key = KEY.search(text(page)).group(1)
    placed = buyer.post(
        went.headers["Location"], data={"csrf_token": csrf_token(buyer, "/cart"), "checkout_key": key, **ADDRESS}
    )
    assert placed.status_code == 302, text(placed)[:500]
    order_id = int(re.search(r"/orders/(\d+)/pay$", placed.headers["Location"]).group(1))
    with app.app_context():
        assert [(line.product_id, line.quantity) for line in db.session.get(Order, order_id).lines] == [
            (shop["egg"], 2)
        ]
    assert (stock(app, shop["egg"]), stock(app, shop["peach"])) == (3, 50)
    assert "深州蜜桃" in text(buyer.get("/cart"))  # the cart is kept


def test_buy_now_refuses_a_quantity_below_the_minimum_on_the_product_page(app, buyer, shop):
    token = csrf_token(buyer, f"/products/{shop['peach']}")
    went = buyer.post("/buy-now", data={"product_id": shop["peach"], "quantity": 1, "csrf_token": token})
    assert went.status_code == 302 and went.headers["Location"].endswith(f"/products/{shop['peach']}")
    with app.app_context():
        assert db.session.query(Order).count() == 0


def test_a_guest_who_buys_now_signs_in_on_the_way(app, shop):
    guest = app.test_client()
    token = csrf_token(guest, f"/products/{shop['egg']}")
    went = guest.post("/buy-now", data={"product_id": shop["egg"], "quantity": 1, "csrf_token": token})
    assert went.status_code == 302 and "/checkout?product=" in went.headers["Location"]
    page = guest.get(went.headers["Location"])
    assert page.status_code == 302 and "/login" in page.headers["Location"] and "next=" in page.headers["Location"]


def test_a_checkout_link_with_an_unusable_quantity_goes_back_to_the_catalogue(buyer, shop):
    for query in (f"product={shop['egg']}&quantity=0", "product=abc&quantity=1", f"product={shop['egg']}"):
        page = buyer.get(f"/checkout?{query}")
        assert page.status_code == 302 and page.headers["Location"].endswith("/products"), query
