"""Search in the browser: the header box's suggestions (typing, keyboard, landing on the
entity) and the search page's filters and pages, on the demo catalog."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def test_the_header_box_suggests_as_you_type_and_the_keyboard_picks_one(signed_in: Page):
    # given
    page = signed_in
    page.goto("/catalog")
    box = page.get_by_role("combobox", name="Search the portal")

    # when
    box.press_sequentially("order-serv", delay=30)

    # then
    suggestions = page.get_by_role("listbox", name="Suggestions")
    expect(suggestions).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = suggestions.get_by_role("option")
    entity = options.filter(has=page.locator('a[href="/catalog/default/component/order-service"]'))
    expect(entity.locator("mark").first).to_have_text(re.compile("order", re.I))
    hrefs = options.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    position = hrefs.index("/catalog/default/component/order-service")

    # when
    for _ in range(position + 1):
        box.press("ArrowDown")

    # then
    expect(entity).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", f"header-search-option-{position + 1}")

    # when
    box.press("Enter")

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/component/order-service$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("order-service")


def test_escape_closes_the_suggestions_and_enter_searches(signed_in: Page):
    # given
    page = signed_in
    page.goto("/")
    box = page.get_by_role("combobox", name="Search the portal")
    box.press_sequentially("payment", delay=30)
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_visible()

    # when
    box.press("Escape")

    # then
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    # when
    box.press("Enter")

    # then
    expect(page).to_have_url(re.compile(r"/search\?q=payment$"))


def test_the_search_page_filters_and_pages(signed_in: Page):
    # given
    page = signed_in
    page.goto("/search?types=software-catalog")
    results = page.locator("#search-results")
    expect(results).to_contain_text(re.compile(r"\d+ results\."))

    # when
    page.get_by_label("Kind").select_option("component")

    # then
    expect(page).to_have_url(re.compile(r"kind=component"))
    expect(results).to_contain_text("33 results.")
    expect(results.locator("li.mb-2")).to_have_count(20)
    first_page = results.locator("li.mb-2 a").first.inner_text()
    screenshot(page, "search")

    # when
    results.get_by_role("link", name="Next →").click()

    # then
    expect(results.locator("li.mb-2")).to_have_count(13)
    expect(results.get_by_role("link", name="← Previous")).to_be_visible()
    assert results.locator("li.mb-2 a").first.inner_text() != first_page
    expect(results.locator(".badge", has_text="Component").first).to_be_visible()
