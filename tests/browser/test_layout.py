"""The layout every page shares: sidebar, header search, landmarks, labels, keyboard, small
screens, and the theme setting."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

SIDEBAR = [
    # label, URL path, the page's heading, screenshot name
    ("Catalog", "/catalog", "Catalog", None),
    ("APIs", "/api-docs", "APIs", None),
    ("Docs", "/docs", "Documentation", "docs"),
    ("Create…", "/create", "Create something new", "create"),
    ("Search", "/search", "Search", None),
    ("Home", "/", "Welcome, Alice", None),
    ("Settings", "/settings", "Settings", None),
]
PAGES = [
    "/",
    "/catalog",
    "/catalog?kind=group",
    "/catalog/default/component/order-service",
    "/catalog/default/component/order-service/inspect",
    "/catalog/default/component/order-service/unregister",
    "/catalog/default/group/team-checkout",
    "/api-docs",
    "/catalog/default/api/orders-api/definition",
    "/catalog/default/api/storefront-graphql/definition",
    "/catalog-import",
    "/locations",
    "/search?q=order",
    "/settings",
]

PHONE_PAGES = [
    "/catalog",
    "/",
    "/catalog/default/component/order-service",
    "/catalog/default/group/team-checkout",
    "/api-docs",
    "/catalog/default/api/storefront-graphql/definition",
    "/catalog-import",
    "/locations",
    "/settings",
]


def open_and_settle(page: Page, path: str) -> None:
    """Open a page and wait for what loads after it (Swagger UI, the relations graph)."""
    page.goto(path)
    if path.endswith("orders-api/definition"):
        expect(page.locator("#swagger-ui .opblock").first).to_be_visible()
    if page.locator("#relations-graph").count():
        expect(page.locator("#relations-graph svg")).to_be_visible()


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def test_it_navigates_to_each_sidebar_entry(signed_in: Page):
    # given
    page = signed_in
    page.goto("/")

    for label, path, heading, name in SIDEBAR:
        # when
        main_nav(page).get_by_role("link", name=label, exact=True).click()

        # then
        expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))
        expect(page.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
        current = main_nav(page).locator('[aria-current="page"]')
        expect(current, f"the sidebar marks no current page on {path}").to_have_count(1)
        expect(current).to_have_text(label)
        if name:
            screenshot(page, name)


def test_it_searches_from_the_header(signed_in: Page):
    # given
    page = signed_in
    page.goto("/")
    search = page.get_by_role("combobox", name="Search the portal")

    # when
    search.fill("order")
    search.press("Enter")

    # then
    expect(page).to_have_url(re.compile(r"/search\?q=order$"))
    expect(page.locator("main")).to_contain_text(re.compile(r"\d+ results for “order”\."))
    results = page.locator("main ul.list-unstyled")
    expect(results.get_by_role("link", name="order-service", exact=True)).to_be_visible()
    expect(results.get_by_role("link", name="team-checkout", exact=True)).to_be_visible()
    expect(page.get_by_role("combobox", name="Search the portal")).to_have_value("order")
    screenshot(page, "search")

    # when
    results.get_by_role("link", name="Orders API").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/api/orders-api$"))


def test_it_gives_every_page_one_main_landmark_and_the_main_navigation(signed_in: Page):
    # given
    page = signed_in
    problems = []

    for path in PAGES:
        # when
        open_and_settle(page, path)

        # then
        mains = page.get_by_role("main").count()
        navs = main_nav(page).count()
        if (mains, navs) != (1, 1):
            problems.append(f"{path}: {mains} main landmarks, {navs} navigations named Main")
    assert not problems, "\n".join(problems)


def test_it_labels_every_control_of_the_catalog_filters(signed_in: Page):
    # given
    page = signed_in

    # when
    page.goto("/catalog")

    # then
    filters = page.get_by_role("search", name="Filter the catalog")
    for label in ("Kind", "Text", "Owner", "Type", "Lifecycle", "Namespace", "Tag"):
        expect(filters.get_by_label(label, exact=True)).to_be_visible()
    for label in ("Owned by me", "Starred", "All"):
        expect(filters.get_by_role("radio", name=label, exact=True)).to_be_visible()
    unlabelled = filters.locator("input:not([type=hidden]), select, textarea").evaluate_all(
        """controls => controls
            .filter(c => !c.labels.length && !c.getAttribute('aria-label')
                         && !c.getAttribute('aria-labelledby'))
            .map(c => c.outerHTML)"""
    )
    assert not unlabelled, unlabelled


def test_it_reaches_the_skip_link_then_the_sidebar_with_the_tab_key(signed_in: Page):
    # given
    page = signed_in
    page.goto("/catalog")

    # when
    page.keyboard.press("Tab")

    # then
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()

    # when
    page.keyboard.press("Tab")

    # then
    assert page.evaluate("document.activeElement.closest('nav[aria-label=Main]') !== null")
    expect(main_nav(page).get_by_role("link", name="Greenroom")).to_be_focused()
    page.keyboard.press("Tab")
    expect(main_nav(page).get_by_role("link", name="Home")).to_be_focused()

    # when the skip link is followed
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")

    # then the focus is on the content, and Tab goes on from there
    expect(page).to_have_url(re.compile(r"/catalog#main$"))
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_it_fits_the_pages_in_a_phone_screen_without_scrolling_sideways(signed_in: Page):
    # given
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    too_wide = []

    for path in PHONE_PAGES:
        # when
        open_and_settle(page, path)
        if path == "/catalog":
            screenshot(page, "mobile-catalog")

        # then
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 392:
            culprits = page.evaluate(
                """() => Array.from(document.querySelectorAll('main *'))
                    .filter(e => e.getBoundingClientRect().right > 392
                                 && !e.closest('.table-responsive, .overflow-auto'))
                    .slice(0, 3).map(e => e.tagName.toLowerCase() + '.' + e.className)"""
            )
            too_wide.append(f"{path}: {width}px wide, e.g. {culprits}")
    assert not too_wide, "pages wider than a 390px screen:\n" + "\n".join(too_wide)


def test_it_switches_to_the_dark_theme_from_the_settings(signed_in: Page):
    # given
    page = signed_in
    page.goto("/settings")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
    screenshot(page, "settings")

    # when
    page.get_by_label("Dark").check()
    page.get_by_role("button", name="Save theme").click()

    # then
    expect(page.get_by_role("status")).to_have_text("Theme saved.")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    expect(page.get_by_label("Dark")).to_be_checked()
    page.goto("/catalog")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")
    screenshot(page, "catalog-dark")


def test_it_follows_the_systems_theme_by_default(signed_in: Page):
    # given a system that prefers dark
    page = signed_in
    page.emulate_media(color_scheme="dark")

    # when
    page.goto("/settings")

    # then
    expect(page.get_by_label("Same as my system")).to_be_checked()
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "dark")

    # when
    page.get_by_label("Light").check()
    page.get_by_role("button", name="Save theme").click()

    # then
    expect(page.get_by_role("status")).to_have_text("Theme saved.")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", "light")
