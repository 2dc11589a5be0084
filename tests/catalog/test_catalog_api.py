"""The public catalogue through the JSON API: filters, sorting, pagination, what is listed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shop.accounts.roles import Role
from shop.extensions import db
from tests.conftest import count_statements
from tests.factories import RAOYANG, SHENZHOU, ZAOYANG


@pytest.fixture
def catalogue(make):
    shenzhou = make.cooperative(county=SHENZHOU, name="深州蜜桃合作社")
    zaoyang = make.cooperative(county=ZAOYANG, name="枣阳桃园合作社")
    raoyang = make.cooperative(county=RAOYANG, name="饶阳蔬菜合作社")
    return {
        "peach": make.product(shenzhou, name="深州蜜桃", category="fruit", price_fen=880, description="香甜多汁"),
        "gift": make.product(shenzhou, name="蜜桃礼盒", category="fruit", price_fen=8800),
        "zaoyang": make.product(zaoyang, name="枣阳油桃", category="fruit", price_fen=580),
        "tomato": make.product(
            raoyang, name="饶阳番茄", category="vegetables", price_fen=450, description="大棚 100% 自然"
        ),
        "off": make.product(raoyang, name="下架黄瓜", category="vegetables", price_fen=300, is_active=False),
        "coops": {"shenzhou": shenzhou, "zaoyang": zaoyang, "raoyang": raoyang},
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["name"] for item in response.json["items"]]


def test_lists_active_products_of_active_cooperatives_newest_first(client, catalogue):
    response = client.get("/api/v1/products")
    assert names(response) == ["饶阳番茄", "枣阳油桃", "蜜桃礼盒", "深州蜜桃"]
    assert response.json["total"] == 4
    first = response.json["items"][0]
    assert first["origin_county"] == {
        "code": RAOYANG,
        "name": "饶阳县",
        "province_code": "130000",
        "province_name": "河北省",
    }
    assert first["price_fen"] == 450 and isinstance(first["price_fen"], int)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("county=131182", ["蜜桃礼盒", "深州蜜桃"]),
        ("province=13", ["饶阳番茄", "蜜桃礼盒", "深州蜜桃"]),
        ("province=420000", ["枣阳油桃"]),
        ("category=vegetables", ["饶阳番茄"]),
        ("price_min_fen=500&price_max_fen=900", ["枣阳油桃", "深州蜜桃"]),
        ("q=蜜桃", ["蜜桃礼盒", "深州蜜桃"]),
        ("q=香甜", ["深州蜜桃"]),
        ("q=100%", ["饶阳番茄"]),
        ("q=_", []),
        ("sort=price_asc", ["饶阳番茄", "枣阳油桃", "深州蜜桃", "蜜桃礼盒"]),
        ("sort=price_desc", ["蜜桃礼盒", "深州蜜桃", "枣阳油桃", "饶阳番茄"]),
        ("category=fruit&province=13&sort=price_asc", ["深州蜜桃", "蜜桃礼盒"]),
    ],
)
def test_filters_and_sorting(client, catalogue, query, expected):
    assert names(client.get(f"/api/v1/products?{query}")) == expected


def test_filter_by_cooperative(client, catalogue):
    coop = catalogue["coops"]["zaoyang"]
    assert names(client.get(f"/api/v1/products?cooperative_id={coop}")) == ["枣阳油桃"]


def test_pagination(client, catalogue):
    first = client.get("/api/v1/products?per_page=3&sort=price_asc").json
    second = client.get("/api/v1/products?per_page=3&page=2&sort=price_asc").json
    assert (first["total"], first["pages"], second["page"]) == (4, 2, 2)
    assert [i["name"] for i in first["items"] + second["items"]] == ["饶阳番茄", "枣阳油桃", "深州蜜桃", "蜜桃礼盒"]
    assert client.get("/api/v1/products?per_page=3&page=9").json["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=-1", "page"),
        ("price_min_fen=-5", "price_min_fen"),
        ("price_max_fen=99999999999999999999999", "price_max_fen"),
        ("county=abc", "county"),
        ("province=1", "province"),
        ("category=cars", "category"),
        ("sort=random", "sort"),
        ("price_min_fen=900&price_max_fen=500", "price_max_fen"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, catalogue, query, field):
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


@pytest.mark.parametrize("per_page", [1, 5, 40])
def test_a_page_takes_a_constant_number_of_statements(app, client, make, per_page):
    cooperatives = [make.cooperative(county=c) for c in (RAOYANG, SHENZHOU, ZAOYANG)]
    for n in range(40):
        make.product(cooperatives[n % 3], name=f"产品{n}")
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as statements:
        response = client.get(f"/api/v1/products?per_page={per_page}")
    assert len(response.json["items"]) == per_page
    # Count, page, photos and certificates (BEGIN/COMMIT are not SELECTs). The catalogue's generation is read
    # on a connection of its own, outside SQLAlchemy: one prepared statement per request, hit or miss.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 4, selects
    with count_statements(engine) as statements:
        again = client.get(f"/api/v1/products?per_page={per_page}")
    assert again.data == response.data
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []


def test_any_change_to_what_the_listing_shows_is_seen_at_once_even_by_raw_sql(app, client, catalogue):
    assert "深州蜜桃" in [p["name"] for p in client.get("/api/v1/products").json["items"]]
    with app.app_context():
        db.session.execute(sa.text("UPDATE products SET name = '深州水蜜桃' WHERE name = '深州蜜桃'"))
        db.session.commit()
    assert "深州水蜜桃" in [p["name"] for p in client.get("/api/v1/products").json["items"]]
    with app.app_context():
        db.session.execute(sa.text("UPDATE cooperatives SET status = 'suspended' WHERE name = '枣阳桃园合作社'"))
        db.session.commit()
    assert "枣阳油桃" not in [p["name"] for p in client.get("/api/v1/products").json["items"]]


def test_a_sale_does_not_invalidate_the_listing(app, client, catalogue):
    client.get("/api/v1/products")
    with app.app_context():
        before = db.session.scalar(sa.text("SELECT generation FROM catalog_state"))
        db.session.execute(sa.text("UPDATE products SET stock = stock - 1"))
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT generation FROM catalog_state")) == before


def test_suspending_a_cooperative_takes_its_products_off_at_once(client, make, catalogue):
    operator = make.token(make.user(Role.OPERATOR))
    coop = catalogue["coops"]["shenzhou"]
    response = client.post(
        f"/api/v1/cooperatives/{coop}/suspend",
        json={"reason": "食品安全抽检不合格"},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert response.status_code == 200 and response.json["status"] == "suspended"
    assert names(client.get("/api/v1/products")) == ["饶阳番茄", "枣阳油桃"]
    assert client.get(f"/api/v1/products/{catalogue['peach']}").status_code == 404
    assert client.get(f"/products/{catalogue['peach']}").status_code == 404


def test_suspension_needs_a_reason(client, make, catalogue):
    operator = make.token(make.user(Role.OPERATOR))
    response = client.post(
        f"/api/v1/cooperatives/{catalogue['coops']['zaoyang']}/suspend",
        json={},
        headers={"Authorization": f"Bearer {operator}"},
    )
    assert response.status_code == 422 and "reason" in response.json["error"]["fields"]


def test_an_inactive_product_is_404_to_the_public_and_visible_to_its_staff_with_the_reason(
    app, client, make, catalogue
):
    assert client.get(f"/api/v1/products/{catalogue['off']}").status_code == 404
    staff = make.token(make.staff(catalogue["coops"]["raoyang"]))
    response = client.get(f"/api/v1/products/{catalogue['off']}", headers={"Authorization": f"Bearer {staff}"})
    assert response.status_code == 200 and response.json["is_active"] is False
    other_staff = make.token(make.staff(catalogue["coops"]["zaoyang"]))
    response = client.get(f"/api/v1/products/{catalogue['off']}", headers={"Authorization": f"Bearer {other_staff}"})
    assert response.status_code == 404


def test_product_detail(client, catalogue):
    response = client.get(f"/api/v1/products/{catalogue['peach']}")
    assert response.status_code == 200
    assert response.json["cooperative"]["name"] == "深州蜜桃合作社"
    assert client.get("/api/v1/products/424242").json["error"]["code"] == "not_found"


def test_the_cached_listing_still_refuses_a_bad_token(client, catalogue):
    """Anonymous requests are answered from the cache before the other hooks; one with a token is not."""
    first = client.get("/api/v1/products")
    assert first.status_code == 200
    assert client.get("/api/v1/products").data == first.data  # from the cache
    refused = client.get("/api/v1/products", headers={"Authorization": "Bearer fps_not_a_token"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthenticated"
