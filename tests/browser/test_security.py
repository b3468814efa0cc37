"""What descriptor authors write never runs in a reader's browser; forms need a CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from portal.models import Preference
from tests.browser.support import descriptor, register_file, write_descriptors

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = '<img src=x onerror="window.__xss=1">'
PROBE = descriptor(
    "Component",
    "xss-probe",
    {"type": "service", "lifecycle": "production", "owner": "team-checkout"},
    title=f"Probe {SCRIPT}",
    description=f"Looks harmless {IMAGE} {SCRIPT} [click](javascript:window.__xss=1)",
    links=[
        {"url": "javascript:window.__xss=1", "title": "Open the dashboard"},
        {"url": " JavaScript:window.__xss=1", "title": "Open it padded"},
        {"url": "https://status.northwind.example/", "title": "Status page"},
    ],
)


@pytest.fixture
def probe(signed_in: Page, readable_dir: Path) -> Page:
    """The signed-in tab, with the xss-probe component in the catalog; the `x` image loads
    (as text, so an onerror handler that survived would fire)."""
    register_file(write_descriptors(readable_dir, PROBE))

    def not_an_image(route: Route) -> None:
        route.fulfill(status=200, content_type="text/plain", body="not an image")

    signed_in.route(re.compile(r"/x$"), not_an_image)
    return signed_in


def assert_nothing_ran(page: Page) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss") is None
    assert not page.evaluate(
        "Array.from(document.scripts).some(script => script.text.includes('__xss'))"
    )


def test_it_shows_descriptor_markup_as_text_on_the_entity_page(probe: Page):
    # given
    page = probe

    # when
    page.goto("/catalog/default/component/xss-probe")

    # then
    expect(page.locator(".page-header h1")).to_contain_text(f"Probe {SCRIPT}")
    expect(page.locator("#relations-graph svg")).to_be_visible()
    assert_nothing_ran(page)
    about = page.get_by_role("region", name="About")
    expect(about).to_contain_text("Looks harmless")
    expect(about.locator("[onerror]")).to_have_count(0)
    expect(page.locator('a[href^="javascript:" i], a[href*="javascript:" i]')).to_have_count(0)
    expect(about.get_by_role("link", name="Open the dashboard")).to_have_count(0)
    expect(about.get_by_role("link", name="Open it padded")).to_have_count(0)
    expect(about.get_by_role("link", name="Status page")).to_have_attribute(
        "href", "https://status.northwind.example/"
    )
    assert page.title().startswith(f"Probe {SCRIPT}")

    # when
    page.get_by_role("link", name="Inspect").click()

    # then
    expect(page.locator("#raw-yaml")).to_contain_text(f"title: Probe {SCRIPT}")
    assert_nothing_ran(page)


def test_it_shows_descriptor_markup_as_text_in_the_catalog_search_and_cards(probe: Page):
    # given
    page = probe

    # when
    page.goto("/catalog?q=harmless")

    # then
    expect(page.locator("#results-heading")).to_have_text("Components (1)")
    row = page.locator("#catalog-results tbody tr").first
    expect(row.get_by_role("link", name=f"Probe {SCRIPT}")).to_be_visible()
    expect(row).to_contain_text(IMAGE)
    expect(row.locator("img, script")).to_have_count(0)
    assert_nothing_ran(page)

    # when
    page.goto("/search?q=xss-probe")

    # then
    results = page.locator("main ul")
    expect(results.get_by_role("link", name=f"Probe {SCRIPT}")).to_be_visible()
    expect(results).to_contain_text("Looks harmless")
    expect(results.locator("img, script")).to_have_count(0)
    assert_nothing_ran(page)

    # when the page was visited, the home page's cards show it too
    page.goto("/catalog/default/component/xss-probe")
    page.goto("/")

    # then
    expect(page.get_by_role("region", name="Recently visited")).to_contain_text(SCRIPT)
    assert_nothing_ran(page)


def test_it_puts_a_csrf_token_in_every_form(signed_in: Page):
    # given
    page = signed_in

    for path in ("/catalog/default/component/order-service", "/catalog-import", "/settings"):
        # when
        page.goto(path)

        # then
        forms = page.locator('form[method="post"]')
        assert forms.count() > 0, path
        for form in forms.all():
            expect(form.locator('input[name="csrfmiddlewaretoken"]')).to_have_value(
                re.compile(r"^\w{32,}$")
            )
    assert page.evaluate("JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']")


def test_it_refuses_a_post_without_a_csrf_token(signed_in: Page):
    # given a signed-in session, whose cookies page.request sends
    page = signed_in

    # when
    star = page.request.post("/catalog/default/component/order-service/star")
    theme = page.request.post("/settings", form={"theme": "dark"})
    refresh = page.request.post(
        "/catalog/default/component/order-service/refresh", headers={"HX-Request": "true"}
    )

    # then
    assert (star.status, theme.status, refresh.status) == (403, 403, 403)
    assert not Preference.objects.filter(theme="dark").exists()
    page.goto("/catalog/default/component/order-service")
    expect(page.locator(".page-header .star-toggle")).to_have_attribute("aria-pressed", "false")
