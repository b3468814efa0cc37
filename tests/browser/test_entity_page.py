"""A component's page: header, About card, tabs, Inspect, the relations graph, refresh, star."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from catalog.models import IngestionRun
from portal.registry import registry
from tests.browser.conftest import screenshot
from tests.browser.support import wait_for_ingestion

ORDER_SERVICE = "/catalog/default/component/order-service"


def graph_nodes(page: Page):
    return page.locator("#relations-graph svg g.node")


def open_order_service(page: Page, tab: str = "") -> None:
    page.goto(f"{ORDER_SERVICE}/{tab}" if tab else ORDER_SERVICE)
    expect(page.get_by_role("heading", name="order-service", level=1)).to_be_visible()


def test_it_shows_the_header_and_the_about_card_whose_owner_link_opens_the_owner(signed_in: Page):
    # given
    page = signed_in

    # when
    open_order_service(page)

    # then the header: kind, type, owner, lifecycle, tabs
    header = page.locator(".page-header")
    expect(header).to_contain_text("component — service")
    meta = header.locator("dl.entity-meta")
    expect(
        meta.locator("div", has=page.locator("dt", has_text="Owner")).locator("dd")
    ).to_have_text("team-checkout")
    expect(
        meta.locator("div", has=page.locator("dt", has_text="Lifecycle")).locator("dd")
    ).to_have_text("production")
    tabs = page.get_by_role("navigation", name="Entity tabs").get_by_role("link")
    expect(tabs.first).to_have_text("Overview")
    contributed = {tab.label for tab in registry.entity_tabs}  # enabled plugins' tabs
    core_tabs = [text for text in tabs.all_inner_texts() if text not in contributed]
    assert core_tabs == ["Overview", "APIs", "Dependencies", "Inspect"]
    # and the About card: description, links, tags, system
    about = page.get_by_role("region", name="About")
    expect(about).to_contain_text(
        "Turns paid baskets into orders and tracks each order through to delivery."
    )
    expect(about.get_by_role("link", name="Grafana dashboard")).to_have_attribute(
        "href", "https://grafana.northwind.example/d/order-service"
    )
    expect(about.get_by_role("link", name="Runbook")).to_have_attribute(
        "href", "https://runbooks.northwind.example/order-service"
    )
    expect(about.locator(".tag")).to_have_text(["java", "spring-boot", "orders"])
    expect(about.get_by_role("link", name="checkout", exact=True)).to_have_attribute(
        "href", "/catalog/default/system/checkout"
    )
    expect(graph_nodes(page).first).to_be_visible()
    screenshot(page, "entity-overview")

    # when
    about.get_by_role("link", name="group:default/team-checkout").click()

    # then the owner's page opens
    expect(page).to_have_url(re.compile(r"/catalog/default/group/team-checkout$"))
    expect(page.get_by_role("heading", name="team-checkout", level=1)).to_be_visible()


def test_it_lists_apis_and_dependencies_on_their_tabs(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)
    tabs = page.get_by_role("navigation", name="Entity tabs")

    # when
    tabs.get_by_role("link", name="APIs").click()

    # then
    expect(page).to_have_url(re.compile(r"/order-service/api$"))
    expect(tabs.locator('[aria-current="page"]')).to_have_text("APIs")
    provided = page.get_by_role("region", name="Provided APIs (2)")
    expect(provided.get_by_role("link")).to_have_text(["Order Events", "Orders API"])
    consumed = page.get_by_role("region", name="Consumed APIs (2)")
    expect(consumed.get_by_role("link")).to_have_text(["Delivery Slots API", "Payments API"])
    expect(consumed.locator("tbody tr").first).to_contain_text("openapi")

    # when
    tabs.get_by_role("link", name="Dependencies").click()

    # then
    expect(page).to_have_url(re.compile(r"/order-service/dependencies$"))
    depends_on = page.get_by_role("region", name="Depends on (3)")
    expect(depends_on.get_by_role("link")).to_have_text(
        ["payment-service", "order-events-queue", "orders-db"]
    )
    dependents = page.get_by_role("region", name="Dependents (1)")
    expect(dependents.get_by_role("link")).to_have_text(["legacy-checkout"])


def test_it_shows_the_raw_entity_as_yaml_or_json_and_its_ancestry_on_inspect(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)

    # when
    page.get_by_role("navigation", name="Entity tabs").get_by_role("link", name="Inspect").click()

    # then
    expect(page).to_have_url(re.compile(r"/order-service/inspect$"))
    yaml_pane, json_pane = page.locator("#raw-yaml"), page.locator("#raw-json")
    expect(yaml_pane).to_be_visible()
    expect(yaml_pane).to_contain_text("kind: Component")
    expect(yaml_pane).to_contain_text("targetRef: group:default/team-checkout")
    expect(json_pane).to_be_hidden()

    # when
    page.get_by_role("tab", name="JSON").click()

    # then
    expect(json_pane).to_be_visible()
    expect(json_pane).to_contain_text('"kind": "Component"')
    expect(yaml_pane).to_be_hidden()
    expect(page.get_by_role("tab", name="JSON")).to_have_attribute("aria-selected", "true")
    screenshot(page, "entity-inspect")
    # and the ancestry, from the entity up to the location that produced it
    ancestry = page.get_by_role("region", name="Ancestry").locator("li")
    expect(ancestry).to_have_count(3)
    expect(ancestry.first).to_have_text(
        re.compile(
            r"^component:default/order-service ← produced by location:default/northwind-demo$", re.I
        )
    )


def test_it_names_the_ancestry_by_entity_refs(signed_in: Page):
    # given
    page = signed_in

    # when
    open_order_service(page, "inspect")

    # then refs are spelled as everywhere else in the portal: kind and namespace lower-cased
    expect(
        page.get_by_role("region", name="Ancestry").locator("li > code:first-child")
    ).to_have_text(
        [
            "component:default/order-service",
            "location:default/northwind-demo",
            re.compile(r"^location:default/generated-\w+$"),
        ]
    )


def test_it_draws_the_relations_graph_and_follows_a_node(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)
    graph = page.locator("#relations-graph svg")

    # when the graph loads (htmx, after the page)
    expect(graph).to_be_visible()

    # then
    expect(graph.locator("title").first).to_have_text("Relations of order-service")
    expect(page.locator('g.node.root[data-ref="component:default/order-service"]')).to_be_visible()
    for ref in (
        "group:default/team-checkout",
        "api:default/orders-api",
        "resource:default/orders-db",
    ):
        expect(page.locator(f'g.node[data-ref="{ref}"]')).to_be_visible()
    expect(page.locator("#relations-graph g.edge").first).to_be_attached()

    # when
    page.locator('g.node[data-ref="component:default/payment-service"] a').click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog/default/component/payment-service$"))
    expect(page.get_by_role("heading", name="payment-service", level=1)).to_be_visible()


def test_it_redraws_the_graph_for_another_depth_and_kinds(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)
    expect(graph_nodes(page).first).to_be_visible()
    at_depth_one = graph_nodes(page).count()
    expect(page.locator('g.node[data-ref="domain:default/commerce"]')).to_have_count(0)

    # when
    page.get_by_label("Depth").select_option("2")

    # then
    expect(page.locator('g.node[data-ref="domain:default/commerce"]')).to_be_visible()
    assert graph_nodes(page).count() > at_depth_one

    # when
    page.get_by_label("api", exact=True).check()

    # then only the APIs are left around the entity itself
    expect(page.locator('g.node[data-ref="domain:default/commerce"]')).to_have_count(0)
    expect(page.locator('g.node[data-ref="api:default/orders-api"]')).to_be_visible()
    kinds = {
        ref.split(":")[0]
        for ref in graph_nodes(page).evaluate_all("nodes => nodes.map(n => n.dataset.ref)")
    }
    assert kinds == {"component", "api"}, kinds


def test_it_schedules_a_refresh_from_the_refresh_button(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)

    # when
    page.get_by_role("region", name="About").get_by_role("button", name="Refresh").click()

    # then
    expect(page.get_by_role("status").filter(has_text="Refresh scheduled.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/catalog/default/component/order-service$"))
    wait_for_ingestion()
    run = IngestionRun.objects.get(trigger="entity")
    assert (run.status, run.requested_by) == ("succeeded", "alice.nguyen")


def test_it_toggles_the_star_without_reloading_the_page(signed_in: Page):
    # given
    page = signed_in
    open_order_service(page)
    page.evaluate("window.__sameDocument = true")
    star = page.locator(".page-header .star-toggle")
    expect(star).to_have_attribute("aria-pressed", "false")

    # when
    star.click()

    # then
    expect(star).to_have_attribute("aria-pressed", "true")
    expect(star).to_have_accessible_name("Unstar component:default/order-service")
    assert page.evaluate("window.__sameDocument") is True
    page.reload()  # and the star is saved
    expect(page.locator(".page-header .star-toggle")).to_have_attribute("aria-pressed", "true")

    # when clicked again
    page.evaluate("window.__sameDocument = true")
    page.locator(".page-header .star-toggle").click()

    # then
    expect(page.locator(".page-header .star-toggle")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("window.__sameDocument") is True
