"""The set-based settlement (SQL) and the split rule in Python agree on random data, part by part."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from shop.catalog.models import Product
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.households.models import BenefitLink, LinkStatus, ProductSourcing
from shop.ledger import services as ledger
from shop.ledger.models import JournalEntry, Posting
from shop.orders.models import Order, OrderLine, Shipment
from shop.settlement.rules import LinkWeight, split_line
from shop.settlement.services import settle_due
from shop.types import utcnow
from tests.factories import SHENZHOU


def _paid_delivered_lines(make, buyer_id: int, rng: random.Random, cooperatives: list[int], products: dict) -> None:
    delivered = utcnow() - timedelta(days=10)
    for n in range(60):
        coop = rng.choice(cooperatives)
        chosen = rng.sample(products[coop], k=rng.randint(1, len(products[coop])))
        lines = [(product, rng.randint(1, 100_000), rng.randint(1, 5)) for product in chosen]
        items = sum(price * quantity for _, price, quantity in lines)
        order = Order(
            buyer_id=buyer_id,
            checkout_key=f"random-{n}",
            status="paid",
            items_fen=items,
            shipping_fen=0,
            total_fen=items,
            paid_fen=items,
            recipient="王小明",
            mobile="13800138000",
            district_code="110105",
            address_detail="朝阳路 1 号",
            expires_at=utcnow(),
        )
        db.session.add(order)
        db.session.flush()
        shipment = Shipment(
            order_id=order.id,
            cooperative_id=coop,
            cooperative_name="合作社",
            shipping_fee_fen=0,
            status="delivered",
            delivered_at=delivered,
        )
        db.session.add(shipment)
        db.session.flush()
        for product, price, quantity in lines:
            db.session.add(
                OrderLine(
                    order_id=order.id,
                    shipment_id=shipment.id,
                    product_id=product,
                    cooperative_id=coop,
                    product_name="产品",
                    cooperative_name="合作社",
                    unit="斤",
                    unit_price_fen=price,
                    quantity=quantity,
                    line_total_fen=price * quantity,
                )
            )
        ledger.receive_payment(order.id, f"pi_random_{order.id}", items)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sql_settlement_gives_every_part_the_python_rule_gives(app, make, monkeypatch, seed):
    rng = random.Random(seed)
    fee_bp = rng.choice([0, 100, 333, 1500])
    monkeypatch.setitem(app.config, "PLATFORM_FEE_BP", fee_bp)
    cooperatives = [make.cooperative(county=SHENZHOU) for _ in range(4)]
    products = {coop: [make.product(coop) for _ in range(3)] for coop in cooperatives}
    households = [make.household(county=SHENZHOU) for _ in range(12)]
    buyer = make.user()
    with app.app_context():
        for coop in cooperatives:
            db.session.get(Cooperative, coop).household_share_bp = rng.choice(
                [0, 500, 1000, 3333, 8500, fee_bp]
            )  # equal shares: ties
            linked = rng.sample(households, k=rng.randint(0, 6))  # some cooperatives have none
            for household in linked:
                for link_type in rng.sample(["produce_purchase", "wages", "dividend"], k=rng.randint(1, 2)):
                    status = rng.choice([LinkStatus.CONFIRMED] * 3 + [LinkStatus.PROPOSED, LinkStatus.ENDED])
                    db.session.add(
                        BenefitLink(
                            cooperative_id=coop,
                            household_id=household,
                            link_type=link_type,
                            weight=rng.randint(1, 9),
                            status=status,
                        )
                    )
            for product in products[coop]:
                if rng.random() < 0.3:
                    db.session.get(Product, product).household_share_bp = rng.randint(0, 10000 - fee_bp)
                if linked and rng.random() < 0.3:
                    for household in rng.sample(linked, k=rng.randint(1, len(linked))):
                        db.session.add(ProductSourcing(product_id=product, household_id=household))
        _paid_delivered_lines(make, buyer, rng, cooperatives, products)
        db.session.commit()

        run = settle_due()
        db.session.commit()
        assert run.lines_settled > 60

        for line in db.session.scalars(select(OrderLine)):
            product = db.session.get(Product, line.product_id)
            coop = db.session.get(Cooperative, line.cooperative_id)
            sourcing = set(
                db.session.scalars(select(ProductSourcing.household_id).where(ProductSourcing.product_id == product.id))
            )
            links = [
                LinkWeight(link.id, link.household_id, link.weight)
                for link in db.session.scalars(
                    select(BenefitLink).where(
                        BenefitLink.cooperative_id == coop.id, BenefitLink.status == LinkStatus.CONFIRMED
                    )
                )
                if not sourcing or link.household_id in sourcing
            ]
            share = product.household_share_bp if product.household_share_bp is not None else coop.household_share_bp
            expected = sorted(
                (part.part, part.link_id, part.amount_fen)
                for part in split_line(line.line_total_fen, fee_bp, share, links)
            )
            posted = sorted(
                (posting.part, posting.link_id, posting.amount_fen)
                for posting in db.session.scalars(
                    select(Posting)
                    .join(Posting.entry)
                    .where(JournalEntry.idempotency_key == f"settle:{line.id}", Posting.side == "credit")
                )
            )
            assert posted == expected, f"line {line.id}"
