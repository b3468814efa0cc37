"""Group, user, system and domain pages: members, parents, ownership and parts."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def open_entity(page: Page, path: str, title: str) -> None:
    page.goto(f"/catalog/default/{path}")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def test_it_shows_a_groups_members_parent_and_what_it_owns(signed_in: Page):
    # given
    page = signed_in

    # when
    open_entity(page, "group/team-checkout", "team-checkout")

    # then
    expect(page.locator(".page-header")).to_contain_text("group — team")
    members = page.get_by_role("region", name="Members (3)")
    expect(members.get_by_role("link")).to_have_text(["alice.nguyen", "ben.okafor", "chloe.martin"])
    parent = page.get_by_role("region", name="Parent group (1)")
    expect(parent.get_by_role("link")).to_have_text(["engineering"])
    ownership = page.get_by_role("region", name="Ownership (15)")
    expect(ownership.locator("tbody tr")).to_have_count(15)
    expect(ownership.get_by_role("link", name="order-service", exact=True)).to_be_visible()
    screenshot(page, "group")

    # when
    parent.get_by_role("link", name="engineering").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/group/engineering$"))
    expect(page.get_by_role("region", name="Child groups (3)")).to_be_visible()


def test_it_counts_what_a_group_owns_directly_or_with_its_sub_groups(signed_in: Page):
    # given the engineering department owns nothing itself, its three teams a lot
    page = signed_in
    open_entity(page, "group/engineering", "engineering")
    with_subgroups = page.locator("#ownership-heading")
    expect(with_subgroups).to_have_text(re.compile(r"Ownership \((\d+)\)"))
    aggregated = int(re.search(r"\d+", with_subgroups.inner_text()).group())
    assert aggregated > 15

    # when
    page.get_by_role("link", name="Directly owned").click()

    # then
    expect(page).to_have_url(re.compile(r"\?direct=1$"))
    expect(page.locator("#ownership-heading")).to_have_text("Ownership (0)")
    ownership = page.get_by_role("region", name="Ownership (0)")
    expect(ownership.locator("strong")).to_have_text("Directly owned")
    expect(ownership.locator("tbody")).to_contain_text("None.")

    # when
    page.get_by_role("link", name="With sub-groups").click()

    # then
    expect(page.locator("#ownership-heading")).to_have_text(f"Ownership ({aggregated})")


def test_it_shows_the_groups_of_a_user(signed_in: Page):
    # given
    page = signed_in

    # when
    open_entity(page, "user/alice.nguyen", "alice.nguyen")

    # then
    groups = page.get_by_role("region", name="Groups (1)")
    expect(groups.get_by_role("link")).to_have_text(["team-checkout"])
    expect(page.get_by_role("region", name="Ownership (15)")).to_be_visible()
    screenshot(page, "user")

    # when
    groups.get_by_role("link", name="team-checkout").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/group/team-checkout$"))


def test_it_shows_what_a_system_has_as_parts(signed_in: Page):
    # given
    page = signed_in

    # when
    open_entity(page, "system/checkout", "Checkout")

    # then
    parts = page.locator('section[data-relation="hasPart"]')
    expect(parts).to_have_count(3)
    components = parts.filter(has_text="Components (7)")
    expect(components.get_by_role("link", name="order-service", exact=True)).to_be_visible()
    expect(components.locator("tbody tr")).to_have_count(7)
    expect(parts.filter(has_text="APIs (4)").get_by_role("link", name="Orders API")).to_be_visible()
    expect(
        parts.filter(has_text="Resources (3)").get_by_role("link", name="orders-db")
    ).to_be_visible()
    about = page.get_by_role("region", name="About")
    expect(about.get_by_role("link", name="commerce")).to_have_attribute(
        "href", "/catalog/default/domain/commerce"
    )
    screenshot(page, "system")


def test_it_shows_the_systems_of_a_domain(signed_in: Page):
    # given
    page = signed_in

    # when
    open_entity(page, "domain/commerce", "Commerce")

    # then
    parts = page.locator('section[data-relation="hasPart"]')
    expect(parts.get_by_role("link")).to_have_text(["Checkout", "Customer Apps", "Storefront"])
    expect(page.locator(".page-header")).to_contain_text("consumer-experience")
    screenshot(page, "domain")

    # when
    parts.get_by_role("link", name="Checkout").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/system/checkout$"))
