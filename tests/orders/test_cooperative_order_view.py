"""An order shared by two cooperatives: each cooperative's staff see their own part only (lines, prices,
shipping, refunds, history and totals), on the order page and in the API; the buyer and operators see all
(issue #12, money shown must be true)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shop.extensions import db
from shop.notifications import services as notifications
from shop.notifications.models import OutboxEmail
from shop.orders.models import Order
from tests.orders.test_order_pages import text
from tests.orders.test_refund_pages import ask_for_refund, decide, refund_ids, sold  # noqa: F401 (fixture)
from tests.payments.helpers import bearer

pytestmark = pytest.mark.usefixtures("stripe_config")

# The order of `sold`: 3 斤 of peaches at 8.80 + shipping 8.00 (Shenzhou), 2 boxes of eggs at 36.00 + shipping
# 12.00 (Zaoyang): 34.40 + 84.00 = 118.40.
PEACH_PART, EGG_PART, WHOLE = "¥34.40", "¥84.00", "¥118.40"


def grand_total(html: str) -> str:
    return re.search(r'class="num grand price order-total">([^<]+)<', html).group(1)


def cooperatives_of(app, order_id: int) -> dict[str, int]:
    with app.app_context():
        return {line.product_name: line.cooperative_id for line in db.session.get(Order, order_id).lines}


def test_each_cooperative_sees_its_own_part_of_the_order_page(app, sold):  # noqa: F811
    order_id = sold["order_id"]
    egg_page = text(sold["egg_staff"].get(f"/orders/{order_id}"))
    assert "咸鸭蛋" in egg_page and "枣阳合作社" in egg_page
    assert "深州蜜桃" not in egg_page and "¥8.80" not in egg_page  # the other cooperative's line and price
    assert grand_total(egg_page) == EGG_PART and WHOLE not in egg_page
    peach_page = text(sold["peach_staff"].get(f"/orders/{order_id}"))
    assert "深州蜜桃" in peach_page and "咸鸭蛋" not in peach_page and "¥36.00" not in peach_page
    assert grand_total(peach_page) == PEACH_PART and WHOLE not in peach_page
    for whole in (sold["buyer"], sold["operator"]):
        page = text(whole.get(f"/orders/{order_id}"))
        assert "深州蜜桃" in page and "咸鸭蛋" in page and grand_total(page) == WHOLE


def test_a_refund_of_both_parts_shows_each_cooperative_its_own_lines_and_amount(app, sold):  # noqa: F811
    order_id = sold["order_id"]
    assert ask_for_refund(sold, {"咸鸭蛋": 1, "深州蜜桃": 1}).status_code == 302
    (refund_id,) = refund_ids(app, order_id)
    assert decide(sold["operator"], refund_id, "approve", back="order").status_code == 302  # 36.00 + 8.80
    peach_page = text(sold["peach_staff"].get(f"/orders/{order_id}"))
    assert f'data-refund-id="{refund_id}"' in peach_page
    assert 'data-amount-fen="880"' in peach_page and "4480" not in peach_page and "¥44.80" not in peach_page
    assert "咸鸭蛋" not in peach_page
    buyer_page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert 'data-amount-fen="4480"' in buyer_page
    with app.app_context():  # the e-mail of the decision, too, tells each cooperative its own amount only
        coops = {line.product_name: line.cooperative_id for line in db.session.get(Order, order_id).lines}
        peach_addresses = notifications.staff_addresses(coops["深州蜜桃"])
        mails = db.session.scalars(select(OutboxEmail.subject).where(OutboxEmail.to_address.in_(peach_addresses))).all()
    refund_mails = [subject for subject in mails if "¥" in subject]
    assert refund_mails and all("¥8.80" in subject and "¥44.80" not in subject for subject in refund_mails)


def test_the_api_gives_a_cooperatives_staff_their_part_only(app, make, client, sold):  # noqa: F811
    order_id = sold["order_id"]
    coops = cooperatives_of(app, order_id)
    assert ask_for_refund(sold, {"咸鸭蛋": 1, "深州蜜桃": 1}).status_code == 302
    egg_staff = bearer(make.token(make.staff(coops["咸鸭蛋"])))
    answer = client.get(f"/api/v1/orders/{order_id}", headers=egg_staff)
    assert answer.status_code == 200, answer.json
    order = answer.json
    assert [s["cooperative_id"] for s in order["shipments"]] == [coops["咸鸭蛋"]]
    assert [line["product_name"] for s in order["shipments"] for line in s["lines"]] == ["咸鸭蛋"]
    totals = {key: order[key] for key in ("items_fen", "shipping_fen", "total_fen", "paid_fen", "refunded_fen")}
    assert totals == {"items_fen": 7200, "shipping_fen": 1200, "total_fen": 8400, "paid_fen": 8400, "refunded_fen": 0}
    [refund] = order["refunds"]
    assert refund["amount_fen"] == 3600 and [line["amount_fen"] for line in refund["lines"]] == [3600]
    assert "深州蜜桃" not in answer.get_data(as_text=True)
    assert [event["note"] for event in order["events"] if event["action"] == "refund_requested"] == [f"#{refund['id']}"]

    shipped = client.post(
        f"/api/v1/orders/{order_id}/shipments",
        json={"carrier": "顺丰", "tracking_number": "SF1234567890"},
        headers=egg_staff,
    )
    assert shipped.status_code == 200, shipped.json
    assert shipped.json["total_fen"] == 8400 and len(shipped.json["shipments"]) == 1
    peach_page = text(sold["peach_staff"].get(f"/orders/{order_id}"))
    assert 'data-action="ship"' not in peach_page and "SF1234567890" not in peach_page  # the other part's history
    assert "枣阳合作社" not in peach_page

    operator = bearer(make.token(make.operator_id()))
    whole = client.get(f"/api/v1/orders/{order_id}", headers=operator).json
    assert whole["total_fen"] == 11840 and len(whole["shipments"]) == 2 and whole["refunds"][0]["amount_fen"] == 4480
