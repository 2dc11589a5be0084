"""Demo households and benefit links: imported as a county office's CSV and linked through the services.

Names and ID numbers are invented (ID numbers are well-formed: their check digits are computed)."""

from __future__ import annotations

from sqlalchemy import func, select
from stdnum.cn import ric

from shop.accounts.models import User
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.households import imports
from shop.households import links as benefit_links
from shop.households.models import BenefitLink, Household
from shop.households.rules import LinkAction
from shop.web.downloads import csv_text

FAMILY_NAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ["建国", "秀英", "桂兰", "志强", "玉梅", "德明", "春花", "海军", "金凤", "长顺", "淑珍", "永福"]
LINK_TYPES = ["produce_purchase", "wages", "dividend", "guaranteed_return"]
STATUSES = ["脱贫户", "脱贫户", "监测户", "脱贫户"]
HOUSEHOLDS_PER_COOPERATIVE = 4


def _id_number(county: str, n: int) -> str:
    body = f"{county}19{60 + n % 30:02d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


def _registry_csv(cooperatives: list[Cooperative]) -> bytes:
    rows: list[list] = [
        ["户编号", "户主姓名", "身份证号", "县级代码", "乡镇", "村", "家庭人口", "户类型", "开户行", "户名", "账号"]
    ]
    n = 0
    for cooperative in cooperatives:
        for k in range(HOUSEHOLDS_PER_COOPERATIVE):
            n += 1
            name = FAMILY_NAMES[n % len(FAMILY_NAMES)] + GIVEN_NAMES[n % len(GIVEN_NAMES)]
            rows.append(
                [
                    f"{cooperative.county_code}-DEMO-{n:04d}",
                    name,
                    _id_number(cooperative.county_code, n),
                    cooperative.county_code,
                    "城关镇",
                    ["东王村", "西李庄", "南张村", "北刘屯"][k],
                    2 + n % 4,
                    STATUSES[k],
                    "农村信用社（演示）",
                    name,
                    f"62301{cooperative.county_code}{n:08d}",
                ]
            )
    return csv_text(rows).encode("utf-8")  # the shop's one CSV writer, like every file it writes


def seed_households(operator: User, cooperatives: list[Cooperative]) -> None:
    """Households for each demo cooperative, linked to it and confirmed (idempotent: skipped once done)."""
    if db.session.scalar(select(func.count()).select_from(Household)):
        return
    report = imports.import_households(operator, _registry_csv(cooperatives))
    assert not report.errors, report.errors  # demo data is well-formed
    n = 0
    for cooperative in cooperatives:
        for k in range(HOUSEHOLDS_PER_COOPERATIVE):
            n += 1
            link = benefit_links.propose_link(
                operator,
                cooperative.id,
                f"{cooperative.county_code}-DEMO-{n:04d}",
                LINK_TYPES[k],
                weight=1 + k % 3,
                note="演示数据",
            )
            benefit_links.apply_link_action(operator, link.id, LinkAction.CONFIRM, "演示：县级核实")
    db.session.flush()


def linked_count() -> int:
    return db.session.scalar(select(func.count()).select_from(BenefitLink))


def seed_settled_sales(operator: User, consumer: User, cooperatives: list[Cooperative]) -> None:
    """A past order from three cooperatives, paid, delivered ten days ago and settled, so that the household
    ledgers and settlement pages have something to show (idempotent: skipped once the consumer has orders).

    The payment provider never saw this order: `make run` starts the emulator empty, after the demo is loaded,
    and a restart forgets its intents, so an intent made for the demo could not be refunded later. The order is
    therefore recorded as paid outside the provider (a payment of the "demo" provider, no intent), as demo data only;
    it is never offered for a card refund (refunds say why), and a real order paid with the test card is."""
    from datetime import timedelta

    from shop.accounts import services as accounts
    from shop.cart import services as cart
    from shop.catalog.models import Product
    from shop.catalog.services import listable_products
    from shop.orders import services as orders
    from shop.orders.models import Order
    from shop.payments import services as payments
    from shop.settlement.services import settle_due
    from shop.types import utcnow

    if db.session.scalar(select(func.count()).select_from(Order).where(Order.buyer_id == consumer.id)):
        return
    chosen = cooperatives[:3]
    for cooperative in chosen:
        product = db.session.scalar(
            listable_products().where(Product.cooperative_id == cooperative.id).order_by(Product.id).limit(1)
        )
        if product is not None:
            cart.set_quantity(consumer, product.id, max(product.min_order_quantity, 2))
    address = orders.Address("王小明", "13800138000", "110105", "朝阳区朝阳路 1 号 2 单元 301")
    order = orders.place_order(consumer, address, "demo-settled-sale")
    payments.record_outside_provider(
        order.id,
        order.total_fen,
        order.currency,
        f"demo-{order.reference}",
        "demo data: paid outside the payment provider",
    )
    delivered = utcnow() - timedelta(days=10)
    for index, shipment in enumerate(order.shipments, start=1):
        staff_index = [c.id for c in cooperatives].index(shipment.cooperative_id) + 1
        staff = accounts.user_by_email(f"staff{staff_index:02d}@fupin.demo")
        orders.ship(staff, order.id, "顺丰速运", f"SF20261100{order.id:04d}{index}")
        orders.transition_shipment(shipment, "deliver", consumer, "buyer", delivered_at=delivered)
    settle_due(operator)
