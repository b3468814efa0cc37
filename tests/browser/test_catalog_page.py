"""The catalog table (/catalog): kinds, filters kept in the URL, scopes, sorting and paging.

The demo catalog has 33 components: 7 owned by alice's team-checkout, 5 libraries, 3 tagged
java; the first page (20 rows, by name) starts at analytics-dashboards.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot
from tests.browser.support import expect_results, result_names, result_rows, url_param

TEAM_CHECKOUT_COMPONENTS = [
    "cart-service",
    "checkout-sdk",
    "fraud-scoring",
    "legacy-checkout",
    "order-service",
    "payment-service",
    "promotions-service",
]


def open_catalog(page: Page, query: str = "") -> None:
    page.goto(f"/catalog{query}")
    expect(page.locator("#results-heading")).to_be_visible()


def test_it_lists_the_components_first(signed_in: Page):
    # given
    page = signed_in

    # when
    open_catalog(page)

    # then
    expect_results(page, "Components", 33)
    expect(result_rows(page)).to_have_count(20)
    expect(page.get_by_label("Kind")).to_have_value("component")
    row = result_rows(page).filter(has_text="order-service")
    expect(row.get_by_role("link", name="order-service")).to_have_attribute(
        "href", "/catalog/default/component/order-service"
    )
    expect(row.get_by_role("link", name="team-checkout")).to_have_attribute(
        "href", "/catalog/default/group/team-checkout"
    )
    screenshot(page, "catalog")


def test_it_shows_another_kind_when_the_kind_selector_changes(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)

    # when
    page.get_by_label("Kind").select_option("group")

    # then
    expect_results(page, "Groups", 10)
    expect(page).to_have_url(url_param("kind", "group"))
    expect(page.locator("#catalog-results thead")).to_contain_text("Email")
    assert "team-checkout" in result_names(page)
    assert "order-service" not in result_names(page)


def test_it_drops_the_previous_kinds_type_filter_when_the_kind_changes(signed_in: Page):
    # given components narrowed to libraries (a type no group has)
    page = signed_in
    open_catalog(page)
    page.get_by_label("Type").select_option("library")
    expect_results(page, "Components", 5)

    # when
    page.get_by_label("Kind").select_option("group")

    # then
    expect_results(page, "Groups", 10)
    expect(page).not_to_have_url(url_param("type", "library"))


def test_it_narrows_by_type_and_lifecycle_and_keeps_them_in_the_url(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)

    # when
    page.get_by_label("Type").select_option("library")
    expect_results(page, "Components", 5)
    page.get_by_label("Lifecycle").select_option("production")

    # then
    expect_results(page, "Components", 5)
    expect(page).to_have_url(url_param("type", "library"))
    expect(page).to_have_url(url_param("lifecycle", "production"))
    page.get_by_label("Lifecycle").select_option("experimental")
    expect_results(page, "Components", 0)
    expect(page.locator("#catalog-results")).to_contain_text("No entities match these filters.")
    page.reload()
    expect_results(page, "Components", 0)
    expect(page.get_by_label("Type")).to_have_value("library")
    expect(page.get_by_label("Lifecycle")).to_have_value("experimental")


def test_it_suggests_owners_as_one_types_and_filters_by_the_one_picked(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)
    owner = page.get_by_label("Owner")

    # when
    owner.press_sequentially("checko")

    # then
    options = page.locator("#owner-options option")
    expect(options.first).to_be_attached()
    expect(page.locator('#owner-options option[value="group:default/team-checkout"]')).to_have_text(
        "Checkout Team"
    )
    expect(page.locator('#owner-options option[value="group:default/team-mobile"]')).to_have_count(
        0
    )

    # when the person picks the suggestion
    owner.fill("group:default/team-checkout")
    owner.dispatch_event("change")

    # then
    expect_results(page, "Components", 7)
    assert result_names(page) == TEAM_CHECKOUT_COMPONENTS
    expect(page).to_have_url(url_param("owner", "group:default/team-checkout"))
    page.reload()
    expect_results(page, "Components", 7)
    expect(page.get_by_label("Owner")).to_have_value("group:default/team-checkout")


def test_it_narrows_by_tag(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)

    # when
    page.get_by_label("Tag").fill("java")
    page.get_by_label("Tag").dispatch_event("change")

    # then
    expect_results(page, "Components", 3)
    assert result_names(page) == ["inventory-service", "order-service", "payment-service"]
    expect(page).to_have_url(url_param("tag", "java"))


def test_it_narrows_by_text_as_one_types_and_keeps_it_on_reload(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)

    # when
    page.get_by_label("Text").press_sequentially("payment")

    # then
    expect_results(page, "Components", 3)
    assert result_names(page) == ["checkout-sdk", "fraud-scoring", "payment-service"]
    expect(page).to_have_url(url_param("q", "payment"))
    page.reload()
    expect_results(page, "Components", 3)
    expect(page.get_by_label("Text")).to_have_value("payment")


def test_it_shows_only_what_the_person_owns_or_starred_from_the_show_choices(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)

    # when
    page.get_by_label("Owned by me").check()

    # then alice's team-checkout's components
    expect_results(page, "Components", 7)
    assert result_names(page) == TEAM_CHECKOUT_COMPONENTS
    expect(page).to_have_url(url_param("scope", "owned"))

    # when a star is toggled in the table, then Starred is chosen
    star = page.get_by_role("button", name="Star component:default/order-service")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(
        page.get_by_role("button", name="Unstar component:default/order-service")
    ).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Starred").check()

    # then
    expect_results(page, "Components", 1)
    assert result_names(page) == ["order-service"]
    expect(page).to_have_url(url_param("scope", "starred"))


def test_it_sorts_by_a_column_header_and_flips_the_order_when_clicked_again(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)
    name_header = page.locator("#catalog-results th", has_text="Name")
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    assert result_names(page)[0] == "analytics-dashboards"

    # when
    name_header.get_by_role("link").click()

    # then
    expect(name_header).to_have_attribute("aria-sort", "descending")
    expect(result_rows(page).first).to_contain_text("web-storefront")
    expect(page).to_have_url(url_param("dir", "desc"))
    names = result_names(page)
    assert names == sorted(names, reverse=True)

    # when clicked again
    name_header.get_by_role("link").click()

    # then
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    expect(result_rows(page).first).to_contain_text("analytics-dashboards")

    # when another column's header is clicked
    page.locator("#catalog-results th", has_text="Owner").get_by_role("link").click()

    # then
    owner_header = page.locator("#catalog-results th", has_text="Owner")
    expect(owner_header).to_have_attribute("aria-sort", "ascending")
    expect(name_header).to_have_attribute("aria-sort", "none")
    expect(page).to_have_url(url_param("order", "owner"))
    owners = result_rows(page).locator("td:nth-child(4)").all_inner_texts()
    assert owners == sorted(owners)
    assert owners[0] == "team-checkout"


def test_it_keeps_the_sort_order_when_a_filter_changes(signed_in: Page):
    # given the table sorted by name, descending
    page = signed_in
    open_catalog(page)
    page.locator("#catalog-results th", has_text="Name").get_by_role("link").click()
    expect(result_rows(page).first).to_contain_text("web-storefront")

    # when
    page.get_by_label("Type").select_option("library")

    # then
    expect_results(page, "Components", 5)
    assert result_names(page) == [
        "service-kit",
        "route-optimizer-core",
        "pantry-ui",
        "mobile-analytics-sdk",
        "checkout-sdk",
    ]


def test_it_starts_from_the_first_page_when_a_filter_changes_on_a_later_page(signed_in: Page):
    # given the second page of the components
    page = signed_in
    open_catalog(page)
    page.get_by_role("link", name="Next →").click()
    expect(result_rows(page)).to_have_count(13)

    # when
    page.get_by_label("Type").select_option("library")

    # then all five libraries show, not only those after the second page's position
    expect_results(page, "Components", 5)
    assert result_names(page) == [
        "checkout-sdk",
        "mobile-analytics-sdk",
        "pantry-ui",
        "route-optimizer-core",
        "service-kit",
    ]


def test_it_pages_forward_and_back_twenty_rows_at_a_time(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page)
    expect(page.get_by_role("link", name="← Previous")).to_have_count(0)

    # when
    page.get_by_role("link", name="Next →").click()

    # then
    expect(result_rows(page)).to_have_count(13)
    expect(result_rows(page).first).to_contain_text("product-catalog-service")
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"[?&]after="))

    # when
    page.get_by_role("link", name="← Previous").click()

    # then
    expect(result_rows(page)).to_have_count(20)
    expect(result_rows(page).first).to_contain_text("analytics-dashboards")
    expect(result_rows(page).last).to_contain_text("picking-service")


def test_it_shows_more_rows_per_page_from_the_rows_per_page_links(signed_in: Page):
    # given
    page = signed_in
    open_catalog(page, "?type=service")
    expect_results(page, "Components", 22)
    expect(result_rows(page)).to_have_count(20)

    # when
    page.get_by_role("link", name="50", exact=True).click()

    # then
    expect(result_rows(page)).to_have_count(22)
    expect(page).to_have_url(url_param("size", "50"))
    expect(page).to_have_url(url_param("type", "service"))
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    expect(page.locator("#catalog-results nav strong")).to_have_text("50")
