"""In Chromium: an operator settles from the page, and the county reviewer reads the household's ledger."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from shop.accounts.roles import Role
from tests.factories import PASSWORD, SHENZHOU
from tests.settlement.conftest import World

pytestmark = pytest.mark.browser


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input#email").fill(email)
    page.locator("input#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-name")).to_be_visible()


def test_an_operator_settles_and_the_county_reviewer_reads_the_household_ledger(
    page: Page, app, client, make, stripe_config, localstripe_server, monkeypatch
):
    world = World(app, client, make, localstripe_server)
    household = world.household(weight=1)
    world.deliver(world.buy((world.product("香菇", 5000), 2)))
    monkeypatch.setitem(app.config, "REFUND_WINDOW_DAYS", 0)
    make.user(Role.OPERATOR, email="ops-browser@example.com")
    make.user((Role.COUNTY_REVIEWER, {"region_code": SHENZHOU}), email="county-browser@example.com")
    failures: list[str] = []
    page.on("response", lambda answer: failures.append(answer.url) if answer.status >= 400 else None)
    page.on("console", lambda message: failures.append(message.text) if "Content Security" in message.text else None)

    sign_in(page, "ops-browser@example.com")
    page.goto("/ops/settlement")
    page.get_by_role("button", name="结算到期款项").click()
    expect(page.locator(".flash-success")).to_contain_text("¥110.00")
    page.context.clear_cookies()

    sign_in(page, "county-browser@example.com")
    page.goto(f"/households/{household}/ledger")
    expect(page.locator("h1")).to_contain_text("农户台账")
    expect(page.locator(".ledger-table tbody tr")).to_have_count(1)
    expect(page.locator(".ledger-table tbody td.num")).to_have_text("¥10.00")
    expect(page.locator("button[data-print]")).to_be_visible()
    assert [f for f in failures if not f.endswith("/favicon.ico")] == []
