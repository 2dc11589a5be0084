"""Refund pages through the test client, with CSRF tokens as a browser sends them, and the real Stripe emulator.

The buyer asks on the order page, the cooperative decides on /coop/refunds, an operator refunds directly.
Assertions read the shop's data, field names, status codes and `data-*` attributes, so they hold in either
UI language.
"""

from __future__ import annotations

import re

import pytest

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.extensions import db
from shop.orders.models import Order, Refund
from tests.conftest import csrf_token, login
from tests.factories import SHENZHOU, ZAOYANG
from tests.orders.test_order_pages import order_row, pay, placed_order, stock, text
from tests.payments.test_gateway import browser_token

pytestmark = pytest.mark.usefixtures("stripe_config")


@pytest.fixture
def sold(app, make, localstripe_server):
    """A paid order: 3 斤 of peaches (8.80) from Shenzhou and 2 boxes of salted eggs (36.00) from Zaoyang."""
    peach_coop = make.cooperative(
        county=SHENZHOU, name="深州蜜桃合作社", shipping_fee_fen=800, free_shipping_threshold_fen=9900
    )
    egg_coop = make.cooperative(county=ZAOYANG, name="枣阳合作社", shipping_fee_fen=1200)
    shop = {
        "peach": make.product(peach_coop, name="深州蜜桃", price_fen=880, stock=50, unit="斤", min_order_quantity=2),
        "egg": make.product(egg_coop, name="咸鸭蛋", price_fen=3600, stock=5, unit="盒"),
    }
    buyer = signed_in(app, make, make.user(Role.CONSUMER))
    order_id = placed_order(buyer, shop)
    assert pay(buyer, order_id, browser_token(localstripe_server)["id"]).status_code == 302
    assert order_row(app, order_id).status == "paid"
    with app.app_context():
        lines = {line.product_name: line.id for line in db.session.get(Order, order_id).lines}
    return {
        **shop,
        "order_id": order_id,
        "lines": lines,
        "buyer": buyer,
        "egg_staff": signed_in(app, make, make.staff(egg_coop)),
        "peach_staff": signed_in(app, make, make.staff(peach_coop)),
        "operator": signed_in(app, make, make.user(Role.OPERATOR)),
    }


def signed_in(app, make, user_id: int):
    client = app.test_client()
    login(client, make.get(User, user_id).email)
    return client


def ask_for_refund(sold, quantities: dict[str, int], reason: str = "有两盒破损"):
    order_id = sold["order_id"]
    data = {"csrf_token": csrf_token(sold["buyer"], f"/orders/{order_id}"), "reason": reason}
    data.update({f"line_{sold['lines'][name]}": quantity for name, quantity in quantities.items()})
    return sold["buyer"].post(f"/orders/{order_id}/refunds", data=data)


def decide(client, refund_id: int, decision: str, note: str = "", back: str = "list"):
    token = csrf_token(client, "/coop/refunds" if back == "list" else "/")
    return client.post(f"/refunds/{refund_id}/{decision}", data={"csrf_token": token, "note": note, "back": back})


def refunds_of(app, order_id: int) -> list[tuple[str, int, str]]:
    with app.app_context():
        rows = db.session.scalars(db.select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))
        return [(r.status, r.amount_fen, r.decision_note) for r in rows]


def refund_ids(app, order_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(db.select(Refund.id).where(Refund.order_id == order_id).order_by(Refund.id)))


def most_to_ask(html: str, name: str) -> int:
    """The `max` of a quantity input (attributes come in any order)."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html).group(0)
    return int(re.search(r'\bmax="(\d+)"', tag).group(1))


def refund_statuses(html: str) -> list[str]:
    return re.findall(r'class="status refund-status[^"]*" data-status="([a-z_]+)"', html)


def test_the_buyer_asks_on_the_order_page_and_the_cooperative_approves(app, sold):
    order_id, egg_line = sold["order_id"], sold["lines"]["咸鸭蛋"]
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert 'class="refund-form refund-request-form"' in page
    assert most_to_ask(page, f"line_{egg_line}") == 2
    assert 'name="return_stock"' not in page  # not the buyer's decision

    asked = ask_for_refund(sold, {"咸鸭蛋": 1, "深州蜜桃": 0})
    assert asked.status_code == 302 and asked.headers["Location"].endswith(f"/orders/{order_id}")
    assert refunds_of(app, order_id) == [("requested", 3600, "")]
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert refund_statuses(page) == ["requested"] and "有两盒破损" in page
    assert 'data-action="refund_requested"' in page

    listing = text(sold["egg_staff"].get("/coop/refunds"))
    (refund_id,) = refund_ids(app, order_id)
    assert f'data-refund-id="{refund_id}"' in listing and "有两盒破损" in listing
    assert 'href="/coop/refunds"' in listing  # the staff's nav link
    approved = decide(sold["egg_staff"], refund_id, "approve")
    assert approved.status_code == 302 and approved.headers["Location"].endswith("/coop/refunds")
    assert f'data-refund-id="{refund_id}"' not in text(sold["egg_staff"].get("/coop/refunds"))

    assert order_row(app, order_id).refunded_fen == 3600
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert refund_statuses(page) == ["succeeded"]
    assert re.search(r'<dd class="num">¥36\.00</dd>', page)  # "Refunded" in the payment summary
    assert most_to_ask(page, f"line_{egg_line}") == 1  # one box is left to ask for
    assert stock(app, sold["egg"]) == 3  # the buyer's request does not return goods to stock


def test_a_refused_request_names_what_is_wrong_and_changes_nothing(app, sold):
    order_id, egg_line = sold["order_id"], sold["lines"]["咸鸭蛋"]
    no_reason = ask_for_refund(sold, {"咸鸭蛋": 1}, reason=" ")
    assert no_reason.status_code == 422
    assert re.search(r'<div class="field has-error">\s*<label for="reason"', text(no_reason))
    too_many = ask_for_refund(sold, {"咸鸭蛋": 3})
    assert too_many.status_code == 422
    assert re.search(rf'<tr class="has-error">\s*<td><label for="line_{egg_line}"', text(too_many))
    nothing = ask_for_refund(sold, {"咸鸭蛋": 0, "深州蜜桃": 0})
    assert nothing.status_code == 422 and 'class="flash flash-error" role="alert"' in text(nothing)
    assert refunds_of(app, order_id) == []


def test_rejecting_needs_a_note_and_staff_of_another_cooperative_cannot_decide(app, sold):
    order_id = sold["order_id"]
    ask_for_refund(sold, {"咸鸭蛋": 2})
    (refund_id,) = refund_ids(app, order_id)

    other = sold["peach_staff"]  # staff of the order's other cooperative
    assert f'data-refund-id="{refund_id}"' not in text(other.get("/coop/refunds"))
    assert decide(other, refund_id, "approve").status_code == 302
    assert decide(other, refund_id, "reject", note="不同意").status_code == 302
    assert refunds_of(app, order_id) == [("requested", 7200, "")]
    assert "flash-error" in text(other.get("/coop/refunds"))

    without_note = decide(sold["egg_staff"], refund_id, "reject", note="  ")
    assert without_note.status_code == 302 and without_note.headers["Location"].endswith("/coop/refunds")
    assert refunds_of(app, order_id) == [("requested", 7200, "")]
    listing = text(sold["egg_staff"].get("/coop/refunds"))
    assert "flash-error" in listing and f'data-refund-id="{refund_id}"' in listing

    rejected = decide(sold["egg_staff"], refund_id, "reject", note="已签收且无质量问题")
    assert rejected.status_code == 302
    assert refunds_of(app, order_id) == [("rejected", 7200, "已签收且无质量问题")]
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert refund_statuses(page) == ["rejected"] and "已签收且无质量问题" in page
    assert order_row(app, order_id).refunded_fen == 0
    late = decide(sold["egg_staff"], refund_id, "approve")  # already decided: 409, flashed
    assert late.status_code == 302 and "flash-error" in text(sold["egg_staff"].get("/coop/refunds"))
    assert refunds_of(app, order_id)[0][0] == "rejected"


def test_staff_of_an_unrelated_cooperative_get_404(app, make, sold):
    ask_for_refund(sold, {"咸鸭蛋": 1})
    (refund_id,) = refund_ids(app, sold["order_id"])
    stranger = signed_in(app, make, make.staff(make.cooperative()))
    assert 'data-refund-id="' not in text(stranger.get("/coop/refunds"))
    assert decide(stranger, refund_id, "approve").status_code == 404
    assert decide(stranger, refund_id, "reject", note="不").status_code == 404
    assert refunds_of(app, sold["order_id"])[0][0] == "requested"


def test_an_operator_refunds_directly_after_completion(app, sold):
    order_id, peach_line = sold["order_id"], sold["lines"]["深州蜜桃"]
    with app.app_context():
        db.session.execute(db.update(Order).where(Order.id == order_id).values(status="completed"))
        db.session.commit()
    assert 'class="refund-form refund-request-form"' not in text(sold["buyer"].get(f"/orders/{order_id}"))

    operator = sold["operator"]
    page = text(operator.get(f"/orders/{order_id}"))
    assert 'class="refund-form operator-refund-form"' in page and 'name="ops-return_stock"' in page
    token = csrf_token(operator, f"/orders/{order_id}")
    no_reason = operator.post(
        f"/ops/orders/{order_id}/refunds", data={"csrf_token": token, f"ops-line_{peach_line}": 2, "ops-reason": ""}
    )
    assert no_reason.status_code == 422 and refunds_of(app, order_id) == []
    done = operator.post(
        f"/ops/orders/{order_id}/refunds",
        data={
            "csrf_token": token,
            f"ops-line_{peach_line}": 2,
            "ops-reason": "售后：物流损坏",
            "ops-return_stock": "y",
        },
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/orders/{order_id}")
    assert refunds_of(app, order_id) == [("succeeded", 1760, "售后：物流损坏")]
    assert order_row(app, order_id).refunded_fen == 1760
    assert stock(app, sold["peach"]) == 50 - 3 + 2
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert refund_statuses(page) == ["succeeded"] and "售后：物流损坏" in page


def test_an_operator_decides_a_request_on_the_order_page(app, sold):
    ask_for_refund(sold, {"咸鸭蛋": 1, "深州蜜桃": 1})  # lines of two cooperatives: only an operator decides
    (refund_id,) = refund_ids(app, sold["order_id"])
    for staff in ("egg_staff", "peach_staff"):
        assert f'data-refund-id="{refund_id}"' not in text(sold[staff].get("/coop/refunds"))
    page = text(sold["operator"].get(f"/orders/{sold['order_id']}"))
    assert 'class="approve-refund-form"' in page
    approved = decide(sold["operator"], refund_id, "approve", note="同意", back="order")
    assert approved.status_code == 302 and approved.headers["Location"].endswith(f"/orders/{sold['order_id']}")
    assert refunds_of(app, sold["order_id"]) == [("succeeded", 3600 + 880, "同意")]
    assert "<script>" not in page and " onclick=" not in page
