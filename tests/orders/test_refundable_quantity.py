"""The refundable quantity of an order line is bought − refunded − asked for in requests awaiting a decision:
the API shows it, and a request above it is refused naming the field (issue #12, money shown must be true)."""

from __future__ import annotations

import pytest

from shop.accounts.models import User
from shop.errors import ValidationFailed
from shop.extensions import db
from shop.orders import refunds as refund_service
from tests.orders.test_refunds import ask, paid  # noqa: F401 (paid is a fixture)

pytestmark = pytest.mark.usefixtures("stripe_config", "app_ctx")


def refundable(client, paid) -> dict[str, int]:  # noqa: F811
    order = client.get(f"/api/v1/orders/{paid['order']['id']}", headers=paid["buyer"])
    assert order.status_code == 200, order.json
    return {line["product_name"]: line["refundable_quantity"] for s in order.json["shipments"] for line in s["lines"]}


def test_the_api_subtracts_quantities_waiting_for_a_decision(client, paid):  # noqa: F811
    assert refundable(client, paid) == {"蜜桃礼盒": 3, "小米": 2}
    first = ask(client, paid, [("蜜桃礼盒", 2)])
    assert first.status_code == 201
    assert refundable(client, paid) == {"蜜桃礼盒": 1, "小米": 2}
    refused = ask(client, paid, [("蜜桃礼盒", 2)])
    assert refused.status_code == 422 and "lines" in refused.json["error"]["fields"]

    approved = client.post(f"/api/v1/refunds/{first.json['id']}/approve", json={}, headers=paid["staff"])
    assert approved.status_code == 200 and approved.json["status"] == "succeeded"
    assert refundable(client, paid) == {"蜜桃礼盒": 1, "小米": 2}  # refunded now, no longer waiting
    second = ask(client, paid, [("蜜桃礼盒", 1)])
    assert second.status_code == 201
    assert refundable(client, paid) == {"蜜桃礼盒": 0, "小米": 2}
    rejected = client.post(f"/api/v1/refunds/{second.json['id']}/reject", json={"note": "完好"}, headers=paid["staff"])
    assert rejected.status_code == 200
    assert refundable(client, paid) == {"蜜桃礼盒": 1, "小米": 2}  # a rejected request frees its quantity


def test_the_service_refuses_a_request_above_what_is_left_after_waiting_requests(client, paid):  # noqa: F811
    assert ask(client, paid, [("小米", 1)]).status_code == 201
    buyer = db.session.get(User, paid["buyer_id"])
    with pytest.raises(ValidationFailed) as refused:
        refund_service.request_refund(buyer, paid["order"]["id"], [(paid["lines"]["小米"], 2)], "坏了")
    assert "lines" in refused.value.fields
    db.session.rollback()
    refund = refund_service.request_refund(buyer, paid["order"]["id"], [(paid["lines"]["小米"], 1)], "坏了")
    assert [(line.order_line_id, line.quantity) for line in refund.lines] == [(paid["lines"]["小米"], 1)]
    db.session.rollback()


@pytest.mark.postgres_only
def test_two_requests_at_the_same_moment_cannot_ask_for_the_same_units(app, client, paid):  # noqa: F811
    """The second request waits on the order's row lock until the first commits, then finds the units taken."""
    import threading
    import time

    from shop.errors import Conflict
    from tests.certification.test_certification_concurrency import DEADLINE_SECONDS, _wait_until_blocked

    peaches = [(paid["lines"]["蜜桃礼盒"], 3)]
    first_has_written = threading.Event()
    outcome: dict[str, object] = {}

    def first_buyer_tab():
        with app.app_context():
            buyer = db.session.get(User, paid["buyer_id"])
            refund_service.request_refund(buyer, paid["order"]["id"], peaches, "坏果")
            first_has_written.set()  # holds the order's row lock until it commits
            _wait_until_blocked(app, time.monotonic() + DEADLINE_SECONDS)
            db.session.commit()
            outcome["first"] = "requested"

    def second_buyer_tab():
        assert first_has_written.wait(DEADLINE_SECONDS)
        with app.app_context():
            buyer = db.session.get(User, paid["buyer_id"])
            try:
                refund_service.request_refund(buyer, paid["order"]["id"], peaches, "坏果")
                db.session.commit()
                outcome["second"] = "requested"
            except Conflict as refusal:
                db.session.rollback()
                outcome["second"] = refusal.status

    threads = [threading.Thread(target=first_buyer_tab), threading.Thread(target=second_buyer_tab)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_SECONDS + 5)
    assert outcome == {"first": "requested", "second": 409}
    assert refundable(client, paid) == {"蜜桃礼盒": 0, "小米": 2}
