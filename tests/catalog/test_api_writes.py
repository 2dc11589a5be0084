"""Writing through the API: cooperatives (operators), products and photos (cooperative staff).

Every bad input is a 4xx whose error names the field; never a 500, never a half-written row.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shop.accounts.roles import Role
from shop.catalog.models import Product, ProductPhoto
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from tests.factories import RAOYANG


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator(make):
    return bearer(make.token(make.user(Role.OPERATOR)))


@pytest.fixture
def coop(make):
    return make.cooperative(county=RAOYANG)


@pytest.fixture
def staff(make, coop):
    return bearer(make.token(make.staff(coop)))


def row_count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def image_bytes(kind: str = "PNG", size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, kind)
    return buffer.getvalue()


VALID_COOPERATIVE = {
    "name": "饶阳县设施蔬菜专业合作社",
    "credit_code": "9144030071526726XG",
    "county_code": RAOYANG,
    "kind": "cooperative",
    "contact_phone": "0318-7211234",
}


def test_operator_creates_a_cooperative(client, operator):
    response = client.post("/api/v1/cooperatives", json=VALID_COOPERATIVE, headers=operator)
    assert response.status_code == 201, response.json
    assert response.json["county_name"] == "河北省衡水市饶阳县"
    assert response.json["status"] == "active"


@pytest.mark.parametrize(
    ("change", "field", "status"),
    [
        ({"credit_code": "9144030071526726XH"}, "credit_code", 422),
        ({"credit_code": "91440300"}, "credit_code", 422),
        ({"county_code": "999999"}, "county_code", 422),
        ({"county_code": "130000"}, "county_code", 422),  # a province, not a county
        ({"county_code": 131124}, "county_code", 422),  # wrong type
        ({"name": ""}, "name", 422),
        ({"name": "x" * 500}, "name", 422),
        ({"kind": "bank"}, "kind", 422),
        ({"contact_phone": "call me"}, "contact_phone", 422),
        ({"payout_account_number": "12ab"}, "payout_account_number", 422),
        ({"payout_account_name": '=HYPERLINK("http://evil.example","点击")'}, "payout_account_name", 422),
        ({"payout_bank_name": "@SUM(1+1)"}, "payout_bank_name", 422),
        ({"surprise": 1}, "surprise", 422),
    ],
)
def test_bad_cooperative_fields_are_refused_naming_the_field(app, client, operator, change, field, status):
    response = client.post("/api/v1/cooperatives", json={**VALID_COOPERATIVE, **change}, headers=operator)
    assert response.status_code == status, response.json
    assert field in response.json["error"]["fields"], response.json
    assert row_count(app, Cooperative) == 0


def test_a_credit_code_is_registered_once(client, operator):
    assert client.post("/api/v1/cooperatives", json=VALID_COOPERATIVE, headers=operator).status_code == 201
    again = client.post("/api/v1/cooperatives", json={**VALID_COOPERATIVE, "name": "另一家"}, headers=operator)
    assert again.status_code == 409 and "credit_code" in again.json["error"]["fields"]


def test_staff_edit_their_profile_but_not_what_operators_keep(client, coop, staff):
    ok = client.patch(f"/api/v1/cooperatives/{coop}", json={"contact_name": "王主任"}, headers=staff)
    assert ok.status_code == 200 and ok.json["contact_name"] == "王主任"
    refused = client.patch(f"/api/v1/cooperatives/{coop}", json={"credit_code": "914403001922038216"}, headers=staff)
    assert refused.status_code == 403 and "credit_code" in refused.json["error"]["fields"]


def test_staff_cannot_edit_another_cooperative(client, make, staff):
    other = make.cooperative()
    response = client.patch(f"/api/v1/cooperatives/{other}", json={"contact_name": "x"}, headers=staff)
    assert response.status_code == 403


def test_payout_account_is_only_shown_to_staff_and_operators(client, coop, staff):
    assert "payout_account_number" not in client.get(f"/api/v1/cooperatives/{coop}").json
    assert "payout_account_number" in client.get(f"/api/v1/cooperatives/{coop}/profile", headers=staff).json


VALID_PRODUCT = {
    "name": "饶阳番茄",
    "category": "vegetables",
    "origin_county_code": RAOYANG,
    "unit": "斤",
    "price_fen": 450,
    "stock": 300,
    "min_order_quantity": 5,
    "description": "大棚番茄",
}


def test_staff_add_a_product_that_is_listed_once_certified(client, make, coop, staff):
    response = client.post("/api/v1/products", json=VALID_PRODUCT, headers=staff)
    assert response.status_code == 201, response.json
    assert response.json["cooperative"]["id"] == coop
    assert client.get("/api/v1/products").json["items"] == []
    make.certify(response.json["id"])
    listed = client.get("/api/v1/products").json["items"]
    assert [p["name"] for p in listed] == ["饶阳番茄"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_fen": -1}, "price_fen"),
        ({"price_fen": 0}, "price_fen"),
        ({"price_fen": 12.5}, "price_fen"),
        ({"price_fen": "450"}, "price_fen"),
        ({"price_fen": 10**30}, "price_fen"),
        ({"stock": -3}, "stock"),
        ({"stock": 2**63}, "stock"),
        ({"min_order_quantity": 0}, "min_order_quantity"),
        ({"unit": "吨吨"}, "unit"),
        ({"category": "cars"}, "category"),
        ({"origin_county_code": "12345"}, "origin_county_code"),
        ({"origin_county_code": "131100"}, "origin_county_code"),  # a prefecture
        ({"origin_county_code": "000000"}, "origin_county_code"),
        ({"name": None}, "name"),
        ({"is_active": "maybe"}, "is_active"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_product_fields_are_refused_naming_the_field(app, client, staff, change, field):
    response = client.post("/api/v1/products", json={**VALID_PRODUCT, **change}, headers=staff)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert row_count(app, Product) == 0


def test_a_missing_required_field_is_named(client, staff):
    body = dict(VALID_PRODUCT)
    del body["price_fen"]
    response = client.post("/api/v1/products", json=body, headers=staff)
    assert response.status_code == 422 and "price_fen" in response.json["error"]["fields"]


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ('"text"', "application/json")],
)
def test_malformed_bodies_are_4xx_with_the_envelope(client, staff, data, content_type):
    response = client.post("/api/v1/products", data=data, content_type=content_type, headers=staff)
    assert 400 <= response.status_code < 500
    assert set(response.json["error"]) == {"code", "message", "fields"}


def test_staff_cannot_change_another_cooperatives_product(client, make, staff):
    other_product = make.product(make.cooperative())
    response = client.patch(f"/api/v1/products/{other_product}", json={"stock": 0}, headers=staff)
    assert response.status_code == 403


def test_staff_update_stock_and_switch_a_product_off(client, make, coop, staff):
    product = make.product(coop)
    response = client.patch(f"/api/v1/products/{product}", json={"stock": 7, "is_active": False}, headers=staff)
    assert response.status_code == 200 and response.json["stock"] == 7
    assert client.get("/api/v1/products").json["total"] == 0


def test_the_database_refuses_negative_stock_on_its_own(app, make):
    """The CHECK constraint holds even if a code path forgot the rule."""
    import sqlalchemy as sa

    product = make.product()
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.update(Product).where(Product.id == product).values(stock=-1))
            db.session.flush()
        db.session.rollback()


def test_photo_upload_and_serving(client, make, coop, staff):
    product = make.product(coop)
    response = client.post(
        f"/api/v1/products/{product}/photos",
        headers=staff,
        data={"photo": (io.BytesIO(image_bytes("JPEG")), "tomato.jpg")},
    )
    assert response.status_code == 201, response.json
    assert response.json["content_type"] == "image/jpeg" and response.json["width"] == 40
    served = client.get(response.json["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("payload", "name"),
    [
        (b"#!/bin/sh\necho pwned\n", "photo.jpg"),  # a script disguised by its name
        (b"%PDF-1.4\n1 0 obj\n", "photo.png"),
        (b"GIF89a" + b"\x00" * 20, "photo.png"),
        (b"", "empty.png"),
    ],
)
def test_uploads_are_checked_by_content_not_by_name(app, client, make, coop, staff, payload, name):
    product = make.product(coop)
    response = client.post(
        f"/api/v1/products/{product}/photos", headers=staff, data={"photo": (io.BytesIO(payload), name)}
    )
    assert response.status_code == 422
    assert "photo" in response.json["error"]["fields"]
    assert row_count(app, ProductPhoto) == 0


def test_a_photo_over_the_limit_is_413(app, client, make, coop, staff):
    product = make.product(coop)
    big = image_bytes("PNG") + b"\x00" * (app.config["MAX_PHOTO_BYTES"] + 1)
    response = client.post(
        f"/api/v1/products/{product}/photos", headers=staff, data={"photo": (io.BytesIO(big), "big.png")}
    )
    assert response.status_code == 413 and "photo" in response.json["error"]["fields"]


def test_a_request_over_the_request_limit_is_413_with_the_envelope(app, client, make, coop, staff):
    product = make.product(coop)
    huge = b"\x00" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post(
        f"/api/v1/products/{product}/photos", headers=staff, data={"photo": (io.BytesIO(huge), "x.png")}
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_the_error_envelope_is_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "ErrorEnvelope" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/products" in spec["paths"] and "/api/v1/regions" in spec["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.data
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_database_refuses_a_product_of_a_cooperative_that_does_not_exist(app, make):
    """Foreign keys hold on SQLite too (they are switched on per connection)."""
    import sqlalchemy as sa

    product = make.product()
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.update(Product).where(Product.id == product).values(cooperative_id=424242))
            db.session.flush()
        db.session.rollback()
