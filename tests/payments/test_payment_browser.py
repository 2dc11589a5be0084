"""A consumer buys and pays in headless Chromium, through the real local Stripe emulator and its fake Stripe.js.

The payment page loads Stripe.js from the configured origin (the emulator serves a fake one at
`<emulator>/js.stripe.com/v3/`) and our own /static/js/payment.js; the CSP allows exactly those. The fake
Card Element mounts plain text inputs (placeholders number, exp_month, exp_year, cvc, postal_code) into our
`#card-element`, and its `createToken` posts them to the emulator. Its card number must be 16 digits with no
spaces, and its year has two digits (it prefixes "20").

Selectors use URLs, ids, names and `data-status` codes rather than interface words, so the story holds in
Chinese and in English. No sleeps: Playwright waits for each expectation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from shop.accounts.models import User
from shop.accounts.roles import Role
from shop.extensions import db
from shop.orders.models import Order
from tests.factories import PASSWORD, SHENZHOU

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stripe_config")]

GOOD_CARD = "4242424242424242"  # 4242 4242 4242 4242, typed as the fake Element wants it
DECLINED_CARD = "4000000000000341"


@pytest.fixture
def peaches(make) -> int:
    coop = make.cooperative(county=SHENZHOU, name="深州市蜜桃种植专业合作社", shipping_fee_fen=1000)
    return make.product(coop, name="深州蜜桃礼盒", unit="箱", price_fen=8800, stock=20)


@pytest.fixture
def consumer(make) -> str:
    return make.get(User, make.user(Role.CONSUMER)).email


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.locator("input#email").fill(email)
    page.locator("input#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".account-name")).to_be_visible()


def buy_two_boxes(page: Page, product_id: int) -> None:
    """From the product page to the payment page: add to cart, check out with an address."""
    page.goto(f"/products/{product_id}")
    form = page.locator("form.add-to-cart")
    form.locator("input[name=quantity]").fill("2")
    form.locator("button[type=submit]:not([formaction])").click()  # "Add to cart", not "Buy now"
    expect(page).to_have_url(re.compile(r"/cart$"))
    expect(page.locator(".cart-count")).to_have_text("1")
    expect(page.locator(".items-total")).to_have_text("¥176.00")

    page.locator("a.checkout-link").click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    expect(page.locator(".checkout-form .order-total")).to_have_text("¥186.00")
    place_the_order(page)


def place_the_order(page: Page) -> None:
    """Fill in the checkout page's address and place the order: the payment page follows."""
    page.locator("input#recipient").fill("王小明")
    page.locator("input#mobile").fill("13800138000")
    page.locator("input#district_code").fill("110105")
    page.locator("input#detail").fill("朝阳路 1 号 2 单元 301")
    page.locator("#checkout-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/pay$"))


def fill_card(page: Page, number: str) -> None:
    card = page.locator("#card-element")
    card.locator('input[placeholder="number"]').fill(number)
    card.locator('input[placeholder="exp_month"]').fill("12")
    card.locator('input[placeholder="exp_year"]').fill("30")
    card.locator('input[placeholder="cvc"]').fill("123")


def test_a_consumer_checks_out_and_pays_by_card(page: Page, app, peaches, consumer):
    sign_in(page, consumer)
    buy_two_boxes(page, peaches)
    expect(page.locator("[data-amount-fen]")).to_have_attribute("data-amount-fen", "18600")

    # The emulator's fake Stripe.js mounted its inputs into our div; our script enabled the button.
    expect(page.locator('#card-element input[placeholder="number"]')).to_be_visible()
    expect(page.locator("#pay-button")).to_be_enabled()
    fill_card(page, GOOD_CARD)
    page.locator("#pay-button").click()

    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.locator(".order-status")).to_have_attribute("data-status", "paid")
    expect(page.locator(".payment-status")).to_have_attribute("data-status", "succeeded")
    expect(page.locator(".order-total")).to_have_text("¥186.00")
    expect(page.locator("a.pay-link")).to_have_count(0)
    order_id = int(re.search(r"/orders/(\d+)$", page.url).group(1))
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.paid_fen) == ("paid", 18600)


def test_a_declined_card_says_so_and_another_card_pays(page: Page, peaches, consumer):
    sign_in(page, consumer)
    buy_two_boxes(page, peaches)

    # An empty card form is stopped in the browser, with a message, and nothing is posted.
    pay_url = page.url
    page.locator("#pay-button").click()
    expect(page.locator("#card-errors")).not_to_be_empty()
    expect(page).to_have_url(pay_url)

    fill_card(page, DECLINED_CARD)
    page.locator("#pay-button").click()
    expect(page.locator("#card-errors")).to_contain_text("declined")  # the provider's own words
    expect(page.locator("main .flash-error")).to_be_visible()
    expect(page.locator(".order-status")).to_have_attribute("data-status", "pending_payment")

    fill_card(page, GOOD_CARD)
    page.locator("#pay-button").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.locator(".order-status")).to_have_attribute("data-status", "paid")


def test_the_payment_page_runs_no_inline_script_and_breaks_no_csp(page: Page, peaches, consumer):
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    sign_in(page, consumer)
    buy_two_boxes(page, peaches)
    expect(page.locator("#pay-button")).to_be_enabled()
    assert violations == []


def test_buy_now_goes_straight_to_a_checkout_of_that_product(page: Page, app, peaches, consumer):
    sign_in(page, consumer)
    page.goto(f"/products/{peaches}")
    form = page.locator("form.add-to-cart")
    form.locator("input[name=quantity]").fill("3")
    form.locator("button[formaction]").click()  # "Buy now"
    expect(page).to_have_url(re.compile(rf"/checkout\?product={peaches}&quantity=3$"))
    expect(page.locator(".direct-order")).to_be_visible()
    expect(page.locator(".checkout-form .order-total")).to_have_text("¥274.00")  # 3 × 88.00 + 10.00 shipping
    place_the_order(page)
    order_id = int(re.search(r"/orders/(\d+)/pay$", page.url).group(1))
    with app.app_context():
        assert db.session.get(Order, order_id).total_fen == 27400
