"""What a certificate promises: the product it names stays the product on sale, and its verification page and the
API say where it stands in the shop."""

from __future__ import annotations

import pytest

from certification import applications, reviews
from certification.models import Certificate
from certification.rules import Action
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog.models import Product
from shop.extensions import db
from tests.conftest import csrf_token, login
from tests.factories import RAOYANG, SHENZHOU


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def peach(make):
    """A certified Shenzhou peach of a cooperative, with a signed-in staff member's token and ids."""
    coop = make.cooperative(county=SHENZHOU, name="深州蜜桃合作社")
    product = make.product(coop, name="深州蜜桃", category="fruit", unit="斤", price_fen=880, description="香甜")
    staff = make.staff(coop)
    return {"coop": coop, "product": product, "staff": staff, "token": bearer(make.token(staff))}


def certificate_of(app, product_id: int) -> Certificate:
    with app.app_context():
        certificate = db.session.scalars(
            db.select(Certificate).where(Certificate.product_id == product_id).order_by(Certificate.id.desc())
        ).first()
        db.session.expunge(certificate)
        return certificate


def product_row(app, product_id: int) -> Product:
    with app.app_context():
        product = db.session.get(Product, product_id)
        db.session.expunge(product)
        return product


def act(app, make, application_id: int, action: Action, comment: str = "") -> None:
    """A province reviewer of Hebei acts on the application (suspend, reinstate, revoke)."""
    reviewer_id = make.user((Role.PROVINCE_REVIEWER, {"region_code": "130000"}))
    with app.app_context():
        reviews.apply_transition(db.session.get(User, reviewer_id), application_id, action, comment)
        db.session.commit()


VOUCHED_CHANGES = [
    pytest.param({"name": "深州水蜜桃"}, id="rename"),
    pytest.param({"category": "tea"}, id="category"),
    pytest.param({"unit": "箱"}, id="unit"),
    pytest.param({"origin_county_code": RAOYANG}, id="origin"),
]


# --- The API ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", VOUCHED_CHANGES)
def test_the_api_refuses_to_change_what_the_certificate_vouches_for(app, client, peach, change):
    response = client.patch(
        f"/api/v1/products/{peach['product']}", json={**change, "price_fen": 990}, headers=peach["token"]
    )
    assert response.status_code == 409, response.json
    field = next(iter(change))
    assert list(response.json["error"]["fields"]) == [field]
    certificate = certificate_of(app, peach["product"])
    assert certificate.certificate_no in response.json["error"]["message"]
    product = product_row(app, peach["product"])
    assert (product.name, product.category, product.unit, product.origin_county_code, product.price_fen) == (
        "深州蜜桃",
        "fruit",
        "斤",
        SHENZHOU,
        880,
    )


def test_the_api_cannot_move_a_certified_product_to_another_cooperative(app, client, make, peach):
    other = make.cooperative(county=SHENZHOU)
    response = client.patch(
        f"/api/v1/products/{peach['product']}", json={"cooperative_id": other}, headers=peach["token"]
    )
    assert response.status_code == 422 and "cooperative_id" in response.json["error"]["fields"]
    assert product_row(app, peach["product"]).cooperative_id == peach["coop"]


def test_the_seller_still_changes_price_stock_description_and_the_switch(app, client, peach):
    changes = {"price_fen": 990, "stock": 7, "min_order_quantity": 2, "description": "今年新果", "is_active": False}
    # Sending the vouched fields unchanged (as a client echoing the whole product does) is fine.
    same = {"name": "深州蜜桃", "category": "fruit", "unit": "斤", "origin_county_code": SHENZHOU}
    response = client.patch(f"/api/v1/products/{peach['product']}", json={**changes, **same}, headers=peach["token"])
    assert response.status_code == 200, response.json
    product = product_row(app, peach["product"])
    assert (product.price_fen, product.stock, product.min_order_quantity, product.description) == (
        990,
        7,
        2,
        "今年新果",
    )
    assert product.is_active is False and product.name == "深州蜜桃"


def test_a_suspended_certificate_still_holds_what_it_vouches_for(app, client, make, peach):
    """A reinstatement would make it speak for the product again, under the name it prints."""
    act(app, make, certificate_of(app, peach["product"]).application_id, Action.SUSPEND, "抽检不合格")
    response = client.patch(f"/api/v1/products/{peach['product']}", json={"name": "深州水蜜桃"}, headers=peach["token"])
    assert response.status_code == 409 and "name" in response.json["error"]["fields"]


def test_after_revocation_the_product_may_be_renamed_and_a_new_application_certifies_the_new_name(
    app, client, make, peach
):
    act(app, make, certificate_of(app, peach["product"]).application_id, Action.REVOKE, "虚假材料")
    response = client.patch(f"/api/v1/products/{peach['product']}", json={"name": "深州水蜜桃"}, headers=peach["token"])
    assert response.status_code == 200, response.json
    make.certify(peach["product"])
    assert certificate_of(app, peach["product"]).product_name == "深州水蜜桃"


@pytest.mark.parametrize("state", ["submitted", "county_approved", "public_notice"])
def test_an_application_under_review_holds_the_reviewed_fields(app, client, make, state):
    """Reviewers and the public notice judge the product as submitted: it does not change under them."""
    coop = make.cooperative(county=SHENZHOU)
    product = make.product(coop, certified=False, name="深州蜜桃")
    application_id = make.application(product, up_to=state)
    token = bearer(make.token(make.staff(coop)))
    response = client.patch(f"/api/v1/products/{product}", json={"name": "深州水蜜桃"}, headers=token)
    assert response.status_code == 409 and list(response.json["error"]["fields"]) == ["name"]
    assert f"no. {application_id}" in response.json["error"]["message"]
    assert client.patch(f"/api/v1/products/{product}", json={"stock": 3}, headers=token).status_code == 200


def test_a_draft_application_takes_the_name_given_before_submission(app, client, make):
    coop = make.cooperative(county=SHENZHOU)
    product = make.product(coop, certified=False, name="深州蜜桃")
    application_id = make.application(product, up_to="draft")
    staff = make.staff(coop)
    response = client.patch(
        f"/api/v1/products/{product}", json={"name": "深州水蜜桃"}, headers=bearer(make.token(staff))
    )
    assert response.status_code == 200, response.json
    with app.app_context():
        reviews.apply_transition(db.session.get(User, staff), application_id, Action.SUBMIT)
        db.session.commit()
        assert applications.get_application(db.session.get(User, staff), application_id).product_name == "深州水蜜桃"


def test_the_product_detail_gives_its_certificate(app, client, peach):
    certificate = certificate_of(app, peach["product"])
    body = client.get(f"/api/v1/products/{peach['product']}").json
    assert body["certificate"] == {
        "number": certificate.certificate_no,
        "valid_until": certificate.valid_until.isoformat(),
        "verify_url": f"/verify/{certificate.certificate_no}",
    }
    spec = client.get("/api/v1/openapi.json").json
    detail = spec["paths"]["/api/v1/products/{product_id}"]["get"]["responses"]["200"]["content"]
    schema_name = detail["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "certificate" in spec["components"]["schemas"][schema_name]["properties"]


def test_the_listing_gives_each_products_certificate_too(app, client, make, peach):
    other = make.product(peach["coop"], name="深州桃干")
    # The first answer is cached for everyone: what it says must not come from this request's Host header.
    assert client.get("/api/v1/products", headers={"Host": "evil.example"}).status_code == 200
    listing = client.get("/api/v1/products")
    assert b"evil.example" not in listing.data
    items = {item["id"]: item for item in listing.json["items"]}
    for product in (peach["product"], other):
        certificate = certificate_of(app, product)
        assert items[product]["certificate"] == {
            "number": certificate.certificate_no,
            "valid_until": certificate.valid_until.isoformat(),
            "verify_url": f"/verify/{certificate.certificate_no}",
        }
    spec = client.get("/api/v1/openapi.json").json
    assert "certificate" in spec["components"]["schemas"]["ProductListItem"]["properties"]


def test_a_product_without_a_valid_certificate_shows_none_to_its_staff(app, client, make, peach):
    act(app, make, certificate_of(app, peach["product"]).application_id, Action.SUSPEND, "抽检不合格")
    assert client.get(f"/api/v1/products/{peach['product']}").status_code == 404  # not on sale: not public
    body = client.get(f"/api/v1/products/{peach['product']}", headers=peach["token"]).json
    assert body["certificate"] is None


# --- The edit page ------------------------------------------------------------------------------------------


def edit_form(client, url: str, **change) -> dict:
    return {
        "csrf_token": csrf_token(client, url),
        "name": "深州蜜桃",
        "category": "fruit",
        "origin_county_code": SHENZHOU,
        "unit": "斤",
        "price_yuan": "9.90",
        "stock": "42",
        "min_order_quantity": "1",
        "description": "今年新果",
        "is_active": "y",
        **change,
    }


@pytest.fixture
def staff_page(client, make, peach):
    login(client, make.get(User, peach["staff"]).email)
    client.get("/lang/en")
    return f"/coop/products/{peach['product']}/edit"


def test_the_edit_page_shows_the_vouched_fields_read_only_and_says_why(app, client, peach, staff_page):
    page = text(client.get(staff_page))
    certificate = certificate_of(app, peach["product"])
    assert f"Certificate {certificate.certificate_no} vouches for" in page
    assert '<select id="category" name="category"' not in page and '<select id="unit" name="unit"' not in page
    assert 'type="hidden" name="name" value="深州蜜桃"' in page
    assert 'id="price_yuan"' in page and "readonly" not in page.split('id="price_yuan"', 1)[1].split(">", 1)[0]


@pytest.mark.parametrize("change", VOUCHED_CHANGES)
def test_the_edit_page_refuses_to_change_what_the_certificate_vouches_for(app, client, peach, staff_page, change):
    response = client.post(staff_page, data=edit_form(client, staff_page, **change))
    assert response.status_code == 422
    assert "vouches for this product" in text(response)
    product = product_row(app, peach["product"])
    assert (product.name, product.category, product.unit, product.origin_county_code) == (
        "深州蜜桃",
        "fruit",
        "斤",
        SHENZHOU,
    )
    assert (product.price_fen, product.stock) == (880, 100)  # nothing of the refused form was kept


def test_the_edit_page_still_saves_price_stock_and_description(app, client, peach, staff_page):
    response = client.post(staff_page, data=edit_form(client, staff_page))
    assert response.status_code == 302, text(response)[:2000]
    product = product_row(app, peach["product"])
    assert (product.price_fen, product.stock, product.description, product.name) == (990, 42, "今年新果", "深州蜜桃")


def test_an_uncertified_product_is_edited_freely_from_its_page(app, client, make, peach, staff_page):
    product = make.product(peach["coop"], certified=False, name="深州桃干")
    url = f"/coop/products/{product}/edit"
    assert '<select id="unit" name="unit"' in text(client.get(url))
    response = client.post(url, data=edit_form(client, url, name="深州黄桃干", unit="袋"))
    assert response.status_code == 302
    assert (product_row(app, product).name, product_row(app, product).unit) == ("深州黄桃干", "袋")


# --- The verification page ----------------------------------------------------------------------------------


def test_a_valid_certificate_links_to_the_product_on_sale(app, client, peach):
    number = certificate_of(app, peach["product"]).certificate_no
    page = text(client.get(f"/verify/{number}", headers={"Accept-Language": "en"}))
    assert f'href="/products/{peach["product"]}"' in page and "not on sale" not in page


def test_a_suspended_certificate_says_the_product_is_not_on_sale_instead_of_linking(app, client, make, peach):
    certificate = certificate_of(app, peach["product"])
    act(app, make, certificate.application_id, Action.SUSPEND, "抽检不合格")
    assert client.get(f"/products/{peach['product']}").status_code == 404
    page = text(client.get(f"/verify/{certificate.certificate_no}", headers={"Accept-Language": "en"}))
    assert f"/products/{peach['product']}" not in page
    assert "This product is not on sale in the shop." in page


def test_a_valid_certificate_of_a_product_switched_off_does_not_link_either(app, client, peach):
    number = certificate_of(app, peach["product"]).certificate_no
    client.patch(f"/api/v1/products/{peach['product']}", json={"is_active": False}, headers=peach["token"])
    page = text(client.get(f"/verify/{number}", headers={"Accept-Language": "en"}))
    assert f"/products/{peach['product']}" not in page and "This product is not on sale in the shop." in page
