"""The cooperative's dashboard says a product is on sale only when the listing rule (`is_listable`) lists it and
it can be ordered, and otherwise says why, from the rule's own parts (issue #12, money shown must be true)."""

from __future__ import annotations

import re

from sqlalchemy import select

from certification.models import Application
from certification.reviews import apply_transition
from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.catalog import services as catalog
from shop.catalog.models import Product
from shop.cooperatives.models import CooperativeStatus
from shop.cooperatives.services import set_status
from shop.extensions import db
from tests.conftest import login
from tests.factories import SHENZHOU

EN = {"Accept-Language": "en"}


def on_sale_cell(html: str, product_id: int) -> tuple[str, list[str]]:
    """(yes/no, the reasons) of a product's row on the dashboard."""
    row = re.search(rf'<tr><td><a href="/products/{product_id}">.*?</tr>', html, re.S).group(0)
    cell = re.search(r'data-on-sale="(yes|no)">(.*?)</td>', row, re.S)
    return cell.group(1), [r.strip() for r in re.findall(r'class="meta not-on-sale-reason">([^<]*)<', cell.group(2))]


def suspend_certificate(app, make, product_id: int) -> None:
    province = make.user((Role.PROVINCE_REVIEWER, {"region_code": "130000"}))
    with app.app_context():
        application = db.session.scalar(select(Application.id).where(Application.product_id == product_id))
        apply_transition(db.session.get(User, province), application, "suspend", "抽检不合格")
        db.session.commit()


def test_the_dashboard_says_why_each_product_is_not_on_sale(app, make):
    coop = make.cooperative(county=SHENZHOU)
    on_sale = make.product(coop, name="蜜桃")
    draft = make.product(coop, name="桃酥", certified=False)
    suspended = make.product(coop, name="桃干")
    suspend_certificate(app, make, suspended)
    hidden = make.product(coop, name="桃汁", is_active=False)
    sold_out = make.product(coop, name="桃罐头", stock=0)
    staff = app.test_client()
    login(staff, make.get(User, make.staff(coop)).email)

    html = staff.get(f"/coop/{coop}", headers=EN).get_data(as_text=True)
    assert on_sale_cell(html, on_sale) == ("yes", [])
    assert on_sale_cell(html, draft) == ("no", ["The product is not certified yet."])
    state, reasons = on_sale_cell(html, suspended)
    assert state == "no" and len(reasons) == 1 and "is suspended" in reasons[0]
    assert on_sale_cell(html, hidden) == ("no", ["The product is switched off."])
    assert on_sale_cell(html, sold_out) == ("no", ["Out of stock."])

    with app.app_context():
        set_status(db.session.get(User, make.operator_id()), coop, CooperativeStatus.SUSPENDED, "资质过期")
        db.session.commit()
    html = staff.get(f"/coop/{coop}", headers=EN).get_data(as_text=True)
    assert on_sale_cell(html, on_sale) == ("no", ["The cooperative is suspended."])
    assert on_sale_cell(html, draft) == ("no", ["The cooperative is suspended.", "The product is not certified yet."])


def test_the_reasons_come_from_the_listing_rule_itself(app, make):
    """A product has no reason exactly when the catalogue's own query lists it."""
    coop = make.cooperative(county=SHENZHOU)
    products = [
        make.product(coop),
        make.product(coop, certified=False),
        make.product(coop, is_active=False),
        make.product(coop, certified=False, is_active=False),
    ]
    with app.app_context():
        rows = list(db.session.scalars(select(Product).where(Product.id.in_(products))))
        reasons = catalog.not_listed_reasons(rows)
        listed = set(db.session.scalars(catalog.listable_products().with_only_columns(Product.id)))
        assert {p for p in products if not reasons[p]} == listed & set(products)
        assert catalog.failed_listing_parts(products) == {
            products[0]: [],
            products[1]: [catalog.NO_VALID_CERTIFICATE],
            products[2]: [catalog.HIDDEN],
            products[3]: [catalog.HIDDEN, catalog.NO_VALID_CERTIFICATE],
        }
