"""E-mails through a real local SMTP server (aiosmtpd): written with the change, sent after the commit;
a mail server that is down never undoes an order, and the outbox sends later."""

from __future__ import annotations

import email
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from shop.accounts.models import User
from shop.extensions import db
from shop.notifications.models import OutboxEmail
from shop.notifications.outbox import send_pending
from shop.orders.models import Order
from tests.payments.helpers import bearer, paid_at_provider, post_event

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")


class Inbox:
    def __init__(self):
        self.port = 0
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        with self.lock:
            return [m["Subject"] for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(app, monkeypatch):
    handler = Inbox()
    port = handler.port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    yield handler
    controller.stop()


def test_payment_and_shipment_mail_the_buyer_and_the_cooperative(
    app,
    client,
    make,
    placed,
    inbox,
    stripe_config,
    localstripe_server,
):
    staff_id = make.staff(placed["coop"])
    staff_address = db.session.get(User, staff_id).email
    buyer_address = db.session.get(User, db.session.get(Order, placed["order"]["id"]).buyer_id).email
    post_event(client, paid_at_provider(placed["order"], localstripe_server), stripe_config["STRIPE_WEBHOOK_SECRET"])
    reference = placed["order"]["reference"]
    assert inbox.to(buyer_address) == [f"已收到订单 {reference} 的付款"]
    assert inbox.to(staff_address) == [f"新的已付款订单 {reference} 待发货"]
    client.post(
        f"/api/v1/orders/{placed['order']['id']}/shipments",
        headers=bearer(make.token(staff_id)),
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    assert inbox.to(buyer_address)[-1] == f"您的订单 {reference} 已发货"


def test_a_mail_server_that_is_down_never_undoes_the_payment(
    app,
    client,
    make,
    placed,
    monkeypatch,
    stripe_config,
    inbox,
    localstripe_server,
):
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # nobody listens there
    answer = post_event(
        client, paid_at_provider(placed["order"], localstripe_server), stripe_config["STRIPE_WEBHOOK_SECRET"]
    )
    assert answer.status_code == 200 and answer.json["outcome"] == "paid"
    waiting = db.session.query(OutboxEmail).filter(OutboxEmail.sent_at.is_(None)).count()
    assert waiting >= 1 and inbox.messages == []
    monkeypatch.setitem(app.config, "MAIL_PORT", inbox.port)
    assert send_pending() == waiting
    assert db.session.query(OutboxEmail).filter(OutboxEmail.sent_at.is_(None)).count() == 0


def test_a_refused_use_case_sends_nothing(app, client, make, placed, inbox):
    staff = bearer(make.token(make.staff(placed["coop"])))
    refused = client.post(
        f"/api/v1/orders/{placed['order']['id']}/shipments",
        headers=staff,
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    assert refused.status_code == 409  # not paid yet
    assert inbox.messages == [] and db.session.query(OutboxEmail).count() == 0
