"""The APIs page and an API's Definition tab: Swagger UI, GraphQL, gRPC and AsyncAPI views."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import screenshot
from tests.browser.support import expect_results, result_names


def open_definition(page: Page, name: str, title: str) -> None:
    page.goto(f"/catalog/default/api/{name}/definition")
    expect(page.locator(".page-header h1")).to_contain_text(title)


def test_it_lists_the_apis(signed_in: Page):
    # given
    page = signed_in
    page.goto("/")

    # when
    page.get_by_role("navigation", name="Main").get_by_role("link", name="APIs").click()

    # then
    expect(page).to_have_url(re.compile(r"/api-docs$"))
    expect_results(page, "APIs", 11)
    assert "Orders API" in result_names(page)
    assert "Storefront GraphQL" in result_names(page)
    expect(page.get_by_label("Kind")).to_have_count(0)  # the page is pinned to kind API
    screenshot(page, "apis")

    # when
    page.get_by_label("Type").select_option("graphql")

    # then
    expect_results(page, "APIs", 1)
    assert result_names(page) == ["Storefront GraphQL"]


def test_it_renders_an_openapi_definition_with_swagger_ui_from_the_portal_alone(
    signed_in: Page, portal
):
    # given
    page = signed_in
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)

    # when
    open_definition(page, "orders-api", "Orders API")

    # then
    swagger = page.locator("#swagger-ui .swagger-ui")
    expect(swagger).to_be_visible()
    expect(swagger.locator(".info .title")).to_contain_text("Northwind Orders API")
    operations = swagger.locator(".opblock")
    expect(operations).to_have_count(3)
    expect(operations.first).to_be_visible()
    expect(swagger.locator(".opblock-summary-path").first).to_have_text("/orders")
    expect(swagger.locator(".opblock-summary-method").first).to_have_text("POST")

    # when an operation is opened
    operations.first.locator(".opblock-summary").click()

    # then
    expect(operations.first.locator(".opblock-body")).to_be_visible()
    expect(operations.first.locator(".try-out")).to_have_count(0)  # no calls to the API itself
    screenshot(page, "api-definition-openapi")
    page.wait_for_load_state("networkidle")
    elsewhere = [url for url in requests if not url.startswith(portal.url + "/")]
    assert not elsewhere, f"the page called outside the portal: {elsewhere}"
    assert any("swagger-ui-bundle" in url for url in requests)


def test_it_renders_a_graphql_definition_as_a_schema_browser(signed_in: Page):
    # given
    page = signed_in

    # when
    open_definition(page, "storefront-graphql", "Storefront GraphQL")

    # then
    types = page.get_by_role("navigation", name="GraphQL types")
    expect(types.get_by_role("link", name="Query", exact=True)).to_be_visible()
    query = page.locator("article", has=page.get_by_role("heading", name="Query", exact=True))
    fields = query.get_by_role("table", name="Fields of Query")
    expect(fields.get_by_role("rowheader")).to_contain_text(["aisles", "products", "basket"])
    expect(fields).to_contain_text("ProductConnection!")
    screenshot(page, "api-definition-graphql")

    # when
    types.get_by_role("link", name="Basket", exact=True).click()

    # then
    expect(page).to_have_url(re.compile(r"/definition#.+"))
    basket = page.get_by_role("table", name="Fields of Basket", exact=True)
    expect(basket).to_be_in_viewport()
    expect(basket.get_by_role("rowheader")).to_have_text(["id", "lines", "total"])


def test_it_shows_a_grpc_definition_as_highlighted_source(signed_in: Page):
    # given
    page = signed_in

    # when
    open_definition(page, "route-planner-grpc", "Route Planner gRPC")

    # then
    source = page.get_by_role("region", name="Raw definition source")
    expect(source).to_be_visible()
    expect(source).to_contain_text("service RoutePlanner {")
    expect(source).to_contain_text("rpc PlanWave(PlanWaveRequest) returns (PlanWaveResponse);")
    expect(page.locator(".raw-definition")).to_contain_text("Protocol Buffer")
    keyword = source.locator("span", has_text=re.compile(r"^service$")).first
    expect(keyword).to_be_visible()
    color = keyword.evaluate("span => getComputedStyle(span).color")
    plain = source.evaluate("region => getComputedStyle(region).color")
    assert color != plain, "keywords are not highlighted"
    screenshot(page, "api-definition-grpc")


def test_it_shows_the_channels_of_an_asyncapi_definition(signed_in: Page):
    # given
    page = signed_in

    # when
    open_definition(page, "order-events", "Order Events")

    # then
    definition = page.locator(".asyncapi")
    expect(definition).to_contain_text("Northwind Order Events")
    channel = page.get_by_role("article", name="Channel orders.placed.v1")
    expect(channel).to_be_visible()
    expect(channel).to_contain_text("subscribe onOrderPlaced")
    expect(channel).to_contain_text("Message OrderPlaced")
    expect(channel).to_contain_text('"orderId"')
    expect(definition.get_by_role("table", name="Servers")).to_contain_text(
        "kafka.northwind.example:9092"
    )
    screenshot(page, "api-definition-asyncapi")
