"""Key pages in headless Chromium, as a shopper sees them: find produce by category and province, open it.

Runs against a live server of the session's app (tests/browser.py), on SQLite or PostgreSQL.
Selectors use option values, URLs and the shop's own data (names, regions, prices) rather than interface
words, so the story holds in Chinese and in English.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import SHENZHOU, ZAOYANG

pytestmark = pytest.mark.browser


@pytest.fixture
def produce(make) -> dict[str, int]:
    """Two cooperatives: peaches in Shenzhou (Hebei), nectarines and cabbage in Zaoyang (Hubei)."""
    shenzhou = make.cooperative(SHENZHOU, name="深州市蜜桃种植专业合作社", description="桃农一百二十户。")
    zaoyang = make.cooperative(ZAOYANG, name="枣阳市绿源蔬菜专业合作社")
    return {
        "peach": make.product(
            shenzhou,
            name="深州蜜桃",
            category="fruit",
            unit="斤",
            price_fen=1280,
            stock=350,
            description="皮薄肉厚，汁多味甜。",
        ),
        "nectarine": make.product(zaoyang, name="枣阳油桃", category="fruit", unit="斤", price_fen=890),
        "cabbage": make.product(zaoyang, name="枣阳大白菜", category="vegetables", unit="斤", price_fen=150),
    }


def card_names(page: Page):
    return page.locator(".results .product-card h3")


def test_a_shopper_finds_hebei_peaches_and_opens_them(page: Page, produce):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".hero h1")).to_be_visible()
    newest = page.locator(".product-card h3")
    expect(newest).to_have_count(3)
    expect(newest.filter(has_text="深州蜜桃")).to_be_visible()

    page.locator('.main-nav a[href="/products"]').click()
    expect(page).to_have_url(re.compile(r"/products$"))
    expect(card_names(page)).to_have_count(3)

    filters = page.locator("form.filters")
    filters.locator("select#category").select_option("fruit")
    filters.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"category=fruit"))
    expect(card_names(page)).to_have_count(2)
    expect(card_names(page).filter(has_text="深州蜜桃")).to_be_visible()
    expect(card_names(page).filter(has_text="枣阳油桃")).to_be_visible()
    expect(page.locator(".results")).not_to_contain_text("枣阳大白菜")

    # The form remembers the category; narrowing to Hebei leaves only the peaches.
    expect(filters.locator("select#category")).to_have_value("fruit")
    filters.locator("select#province").select_option("13")
    filters.locator('button[type="submit"]').click()
    expect(page).to_have_url(re.compile(r"province=13"))
    expect(page).to_have_url(re.compile(r"category=fruit"))
    expect(card_names(page)).to_have_text(["深州蜜桃"])
    card = page.locator(".results .product-card")
    expect(card).to_contain_text("¥12.80")
    expect(card).to_contain_text("河北省 · 深州市")
    expect(page.locator(".results")).not_to_contain_text("枣阳")

    card.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/products/{produce['peach']}$"))
    expect(page).to_have_title(re.compile(r"^深州蜜桃 · "))
    expect(page.locator("h1")).to_have_text("深州蜜桃")
    expect(page.locator(".product-page .price.big")).to_have_text(re.compile(r"^¥12\.80\s*/\s*斤$"))
    facts = page.locator(".product-page dl.facts")
    expect(facts.locator("dd").first).to_have_text("河北省衡水市深州市")
    expect(facts).to_contain_text("深州市蜜桃种植专业合作社")
    expect(facts).to_contain_text("350 斤")
    expect(page.locator(".product-page .description")).to_have_text("皮薄肉厚，汁多味甜。")


def test_a_filter_that_matches_nothing_says_so(page: Page, produce):
    page.goto("/products?category=tea")
    expect(page.locator(".results .product-card")).to_have_count(0)
    expect(page.locator(".results .empty")).to_be_visible()
    expect(page.locator("select#category")).to_have_value("tea")


def test_the_language_switch_keeps_the_page(page: Page, produce):
    page.goto(f"/products/{produce['peach']}")
    page.locator(".lang-switch a").click()
    expect(page).to_have_url(re.compile(rf"/products/{produce['peach']}$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("深州蜜桃")
    page.locator(".lang-switch a").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


PHONE_PAGES = ["/", "/products", "/products?category=fruit&province=13", "/login", "/register", "/nowhere"]


def test_pages_fit_a_phone_screen(page: Page, produce):
    """No sideways scrolling at 390 px: the header, the filter form and the product grid wrap."""
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = {}
    for path in [*PHONE_PAGES, f"/products/{produce['peach']}"]:
        page.goto(path)
        expect(page.locator("main h1").first).to_be_visible()
        scroll_width, screen_width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        if scroll_width > screen_width:
            too_wide[path] = scroll_width
    assert not too_wide, f"wider than the 390 px screen: {too_wide}"


def test_on_a_phone_the_filters_sit_above_two_columns_of_products(page: Page, produce):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/products")
    cards = page.locator(".results .product-card")
    expect(cards).to_have_count(3)
    filters = page.locator("form.filters").bounding_box()
    results = page.locator(".results").bounding_box()
    first, second, third = (cards.nth(i).bounding_box() for i in range(3))
    assert results["y"] >= filters["y"] + filters["height"], "the results should come below the filter form"
    assert first["y"] == second["y"] and second["x"] > first["x"], "two cards side by side"
    assert third["y"] > first["y"], "the third card starts a new row"
    assert first["width"] > 120, f"cards too narrow to read: {first['width']} px"
