"""The home page: a welcome and the person's cards (starred, their team's, recently visited)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def card(page: Page, title: str):
    return page.get_by_role("region", name=title)


def test_it_welcomes_the_person_with_their_cards_and_their_teams_entities(signed_in: Page):
    # given alice, a member of team-checkout, who has starred and visited nothing yet
    page = signed_in

    # when
    page.goto("/")

    # then
    expect(page.get_by_role("heading", name="Welcome, Alice", level=1)).to_be_visible()
    for title in ("Starred entities", "My team's entities", "Recently visited"):
        expect(card(page, title)).to_be_visible()
    expect(card(page, "Starred entities")).to_contain_text("Star an entity on its page")
    expect(card(page, "Recently visited")).to_contain_text("Pages you visit show up here.")
    team = card(page, "My team's entities")
    for owned in ("order-service", "cart-service", "payment-service", "Orders API"):
        expect(team.get_by_role("link", name=owned, exact=True)).to_be_visible()
    expect(team.get_by_role("link", name="web-storefront")).to_have_count(0)  # team-storefront's
    screenshot(page, "home")

    # when
    team.get_by_role("link", name="order-service", exact=True).click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/component/order-service$"))


def test_it_shows_what_the_person_starred_and_visited_last(signed_in: Page):
    # given a visit to search-service, then to the storefront system, starred there
    page = signed_in
    page.goto("/catalog/default/component/search-service")
    expect(page.get_by_role("heading", name="search-service", level=1)).to_be_visible()
    page.goto("/catalog/default/system/storefront")
    page.get_by_role("button", name="Star system:default/storefront").click()
    expect(page.get_by_role("button", name="Unstar system:default/storefront")).to_be_visible()

    # when
    page.goto("/")

    # then
    starred = card(page, "Starred entities")
    expect(starred.get_by_role("link")).to_have_text(["Storefront"])
    recent = card(page, "Recently visited")
    expect(recent.get_by_role("link")).to_have_text(["Storefront", "search-service"])
