"""A cooperative with linked households, a buyer, and orders paid through the real emulator, shipped and
received through the API; settlement runs through its service with a clock past the refund window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from shop.accounts.roles import Role
from shop.cooperatives.models import Cooperative
from shop.extensions import db
from shop.ledger.models import Account
from shop.settlement import check
from shop.settlement.services import settle_due
from shop.types import utcnow
from tests.factories import SHENZHOU
from tests.payments.helpers import ADDRESS, bearer
from tests.payments.test_gateway import browser_token

AFTER_THE_WINDOW = timedelta(days=8)  # REFUND_WINDOW_DAYS is 7


class World:
    """One cooperative (shipping fee 10 yuan, household share 10 %), its staff, a buyer and an operator."""

    def __init__(self, app, client, make, stripe_base_url: str, share_bp: int = 1000, shipping_fee_fen: int = 1000):
        self.app, self.client, self.make, self.stripe = app, client, make, stripe_base_url
        self.coop = make.cooperative(county=SHENZHOU, shipping_fee_fen=shipping_fee_fen)
        with app.app_context():
            db.session.execute(
                update(Cooperative)
                .where(Cooperative.id == self.coop)
                .values(
                    household_share_bp=share_bp,
                    payout_bank_name="深州农商银行",
                    payout_account_name="深州市蜜桃专业合作社",
                    payout_account_number="6230580000012345678",
                )
            )
            db.session.commit()
        self.staff = bearer(make.token(make.staff(self.coop)))
        self.buyer = bearer(make.token(make.user(Role.CONSUMER)))
        self.operator_id = make.user(Role.OPERATOR)
        self.operator = bearer(make.token(self.operator_id))
        self._orders = 0

    def product(self, name: str, price_fen: int, **fields) -> int:
        return self.make.product(self.coop, name=name, price_fen=price_fen, stock=100, **fields)

    def household(self, weight: int = 1, confirmed: bool = True, link_type: str = "produce_purchase") -> int:
        household = self.make.household(county=SHENZHOU)
        self.make.link(self.coop, household, link_type=link_type, weight=weight, confirmed=confirmed)
        return household

    def buy(self, *items: tuple[int, int]) -> dict:
        """Cart, checkout and card payment at the emulator: the paid order as the API shows it."""
        self._orders += 1
        for product, quantity in items:
            answer = self.client.post(
                "/api/v1/cart", json={"product_id": product, "quantity": quantity}, headers=self.buyer
            )
            assert answer.status_code == 200, answer.json
        order = self.client.post(
            "/api/v1/orders", json={"checkout_key": f"settle-{self._orders:04d}", **ADDRESS}, headers=self.buyer
        )
        assert order.status_code == 201, order.json
        card = browser_token(self.stripe)["id"]
        paid = self.client.post(f"/api/v1/orders/{order.json['id']}/payment", json={"card": card}, headers=self.buyer)
        assert paid.status_code == 200 and paid.json["status"] == "paid", paid.json
        return paid.json

    def deliver(self, order: dict) -> None:
        shipped = self.client.post(
            f"/api/v1/orders/{order['id']}/shipments",
            json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
            headers=self.staff,
        )
        assert shipped.status_code == 200, shipped.json
        received = self.client.post(f"/api/v1/orders/{order['id']}/receipt", headers=self.buyer)
        assert received.status_code == 200, received.json

    def refund(self, order: dict, line_id: int, quantity: int) -> dict:
        """The buyer asks, the cooperative approves: the emulator refunds."""
        asked = self.client.post(
            f"/api/v1/orders/{order['id']}/refunds",
            headers=self.buyer,
            json={"lines": [{"order_line_id": line_id, "quantity": quantity}], "reason": "坏果"},
        )
        assert asked.status_code == 201, asked.json
        approved = self.client.post(f"/api/v1/refunds/{asked.json['id']}/approve", json={}, headers=self.staff)
        assert approved.status_code == 200 and approved.json["status"] == "succeeded", approved.json
        return approved.json

    def settle(self, after=AFTER_THE_WINDOW):
        with self.app.app_context():
            run = settle_due(now=utcnow() + after)
            db.session.commit()
            return {"id": run.id, "lines": run.lines_settled, "shipments": run.shipments_settled, "fen": run.amount_fen}

    def balances(self) -> dict[str, int]:
        """Every account's balance by key ('household_payable:7' …), zero balances left out."""
        with self.app.app_context():
            rows = db.session.execute(select(Account.key, Account.balance_fen).where(Account.balance_fen != 0)).all()
            return dict(rows)


def lines_of(order: dict) -> dict[str, int]:
    return {line["product_name"]: line["id"] for shipment in order["shipments"] for line in shipment["lines"]}


def assert_ledger_sound(app) -> None:
    with app.app_context():
        assert check.breaches() == []


@pytest.fixture
def world(app, client, make, stripe_config, localstripe_server) -> World:
    return World(app, client, make, localstripe_server)


@pytest.fixture(autouse=True)
def _ledger_checked_after_each_scenario(app):
    """`flask ledger check`'s invariants hold after every scenario of this package."""
    yield
    assert_ledger_sound(app)
