"""The web pages: catalogue, product, cooperative dashboard, operator pages, language."""

from __future__ import annotations

import pytest

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG, SHENZHOU, ZAOYANG


@pytest.fixture
def shop_rows(make):
    shenzhou = make.cooperative(county=SHENZHOU, name="深州蜜桃合作社")
    zaoyang = make.cooperative(county=ZAOYANG, name="枣阳桃园合作社")
    return {
        "peach": make.product(shenzhou, name="深州蜜桃", category="fruit", price_fen=880, unit="斤"),
        "tomato": make.product(make.cooperative(county=RAOYANG), name="饶阳番茄", category="vegetables"),
        "nectarine": make.product(zaoyang, name="枣阳油桃", category="fruit", price_fen=1250),
        "shenzhou": shenzhou,
    }


def text(response) -> str:
    return response.get_data(as_text=True)


def test_pages_speak_chinese_by_default_and_english_on_request(client, shop_rows):
    assert "目录" in text(client.get("/")) or "商品" in text(client.get("/"))
    english = client.get("/", headers={"Accept-Language": "en"})
    assert "Catalogue" in text(english)
    client.get("/lang/en")
    assert "Catalogue" in text(client.get("/"))
    client.get("/lang/zh")
    assert "Catalogue" not in text(client.get("/"))


def test_home_lists_new_products_with_prices(client, shop_rows):
    page = text(client.get("/"))
    assert "深州蜜桃" in page and "¥8.80" in page


def test_catalogue_filters(client, shop_rows):
    page = text(client.get("/products?category=fruit&province=13"))
    assert "深州蜜桃" in page and "枣阳油桃" not in page and "饶阳番茄" not in page
    page = text(client.get("/products?min=10&max=20"))
    assert "枣阳油桃" in page and "深州蜜桃" not in page
    page = text(client.get("/products?q=油桃"))
    assert "枣阳油桃" in page and "深州蜜桃" not in page


def test_catalogue_reports_bad_filters_next_to_the_field(client, shop_rows):
    client.get("/lang/en")
    response = client.get("/products?min=abc&max=1.234")
    assert response.status_code == 400
    assert text(response).count("Write the price in yuan") == 2
    assert "深州蜜桃" in text(response)  # the rest of the page still works


def test_product_page_shows_origin_and_cooperative(client, shop_rows):
    page = text(client.get(f"/products/{shop_rows['peach']}"))
    assert "深州蜜桃合作社" in page and "河北省衡水市深州市" in page and "¥8.80" in page


def test_unknown_pages_are_404_in_the_ui_language(client):
    response = client.get("/products/999999")
    assert response.status_code == 404 and "<html" in text(response)
    client.get("/lang/en")
    assert "not in the catalogue" in text(client.get("/products/999999"))


def test_staff_manage_products_and_stock_from_their_dashboard(app, client, make, shop_rows):
    login(client, make.get(User, make.staff(shop_rows["shenzhou"])).email)
    dashboard = client.get("/coop/", follow_redirects=True)
    assert "深州蜜桃" in text(dashboard) and "枣阳油桃" not in text(dashboard)
    url = f"/coop/products/{shop_rows['peach']}/edit"
    form = {
        "csrf_token": csrf_token(client, url),
        "name": "深州蜜桃",
        "category": "fruit",
        "origin_county_code": SHENZHOU,
        "unit": "斤",
        "price_yuan": "9.90",
        "stock": "42",
        "min_order_quantity": "2",
        "is_active": "y",
    }
    assert client.post(url, data=form).status_code == 302
    with app.app_context():
        product = db.session.get(Product, shop_rows["peach"])
        assert (product.price_fen, product.stock, product.min_order_quantity) == (990, 42, 2)


@pytest.mark.parametrize(
    ("change", "message"),
    [({"price_yuan": "9.999"}, "yuan"), ({"stock": "-1"}, "0"), ({"origin_county_code": "999999"}, "999999")],
)
def test_product_form_errors_are_shown_and_nothing_changes(app, client, make, shop_rows, change, message):
    login(client, make.get(User, make.staff(shop_rows["shenzhou"])).email)
    client.get("/lang/en")
    url = f"/coop/products/{shop_rows['peach']}/edit"
    form = {
        "csrf_token": csrf_token(client, url),
        "name": "深州蜜桃",
        "category": "fruit",
        "origin_county_code": SHENZHOU,
        "unit": "斤",
        "price_yuan": "9.90",
        "stock": "42",
        "min_order_quantity": "1",
        "is_active": "y",
        **change,
    }
    response = client.post(url, data=form)
    assert response.status_code == 422 and message in text(response)
    with app.app_context():
        assert db.session.get(Product, shop_rows["peach"]).price_fen == 880


def test_staff_cannot_open_another_cooperatives_product(client, make, shop_rows):
    login(client, make.get(User, make.staff(shop_rows["shenzhou"])).email)
    assert client.get(f"/coop/products/{shop_rows['nectarine']}/edit").status_code == 403


def test_operator_registers_and_suspends_a_cooperative(app, client, make):
    login(client, make.get(User, make.user(Role.OPERATOR)).email)
    form = {
        "csrf_token": csrf_token(client, "/ops/cooperatives/new"),
        "name": "望江挑花合作社",
        "credit_code": "91110108551385082Q",
        "kind": "cooperative",
        "county_code": "340827",
    }
    created = client.post("/ops/cooperatives/new", data=form)
    assert created.status_code == 302
    with app.app_context():
        coop = db.session.query(Cooperative).filter_by(credit_code="91110108551385082Q").one()
    edit = f"/ops/cooperatives/{coop.id}"
    suspend = client.post(
        f"{edit}/status/suspended", data={"csrf_token": csrf_token(client, edit), "reason": "资质过期"}
    )
    assert suspend.status_code == 302
    with app.app_context():
        assert db.session.get(Cooperative, coop.id).status == "suspended"
    assert "资质过期" in text(client.get(edit))


def test_operator_form_names_a_bad_credit_code(client, make):
    login(client, make.get(User, make.user(Role.OPERATOR)).email)
    client.get("/lang/en")
    form = {
        "csrf_token": csrf_token(client, "/ops/cooperatives/new"),
        "name": "某合作社",
        "credit_code": "91110108551385082X",
        "kind": "cooperative",
        "county_code": "340827",
    }
    response = client.post("/ops/cooperatives/new", data=form)
    assert response.status_code == 422 and "check character" in text(response)


def test_the_content_security_policy_allows_exactly_the_stripe_js_origin(app, client, monkeypatch):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com;" in policy and "frame-src https://js.stripe.com;" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:8420")
    monkeypatch.setitem(app.config, "STRIPE_JS_URL", None)
    policy = client.get("/").headers["Content-Security-Policy"]
    assert (
        "script-src 'self' http://127.0.0.1:8420;" in policy and "connect-src 'self' http://127.0.0.1:8420;" in policy
    )
