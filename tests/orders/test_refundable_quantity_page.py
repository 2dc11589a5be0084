"""The order page's refund form offers what is left after refunds and requests awaiting a decision, and refuses
more (422 on the line's field); a line all asked for is not offered (issue #12, money shown must be true)."""

from __future__ import annotations

import re

import pytest

from tests.orders.test_order_pages import text
from tests.orders.test_refund_pages import ask_for_refund, most_to_ask, refunds_of, sold  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("stripe_config")


def test_the_order_page_offers_only_what_no_waiting_request_asks_for(app, sold):  # noqa: F811
    order_id, egg_line, peach_line = sold["order_id"], sold["lines"]["咸鸭蛋"], sold["lines"]["深州蜜桃"]
    assert ask_for_refund(sold, {"咸鸭蛋": 1}).status_code == 302
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert most_to_ask(page, f"line_{egg_line}") == 1  # 2 bought, 1 waiting for the cooperative
    assert re.search(r'data-refundable="1">1 盒', page)

    too_many = ask_for_refund(sold, {"咸鸭蛋": 2})
    assert too_many.status_code == 422
    assert re.search(rf'<tr class="has-error">\s*<td><label for="line_{egg_line}"', text(too_many))
    assert refunds_of(app, order_id) == [("requested", 3600, "")]

    assert ask_for_refund(sold, {"咸鸭蛋": 1}).status_code == 302
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert f'name="line_{egg_line}"' not in page  # nothing of it left to ask for
    assert most_to_ask(page, f"line_{peach_line}") == 3
    assert ask_for_refund(sold, {"深州蜜桃": 3}).status_code == 302
    page = text(sold["buyer"].get(f"/orders/{order_id}"))
    assert 'class="refund-form refund-request-form"' not in page  # every unit is waiting for a decision
