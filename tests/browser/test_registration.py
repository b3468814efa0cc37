"""Registering a location (/catalog-import: analyze, review, import) and unregistering one.

The portal may read demo/ (the config's static location) and readable_dir (the tests' own
folder, see conftest.portal_config); anything else is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from catalog.models import Entity, Location
from tests.browser.conftest import screenshot
from tests.browser.support import descriptor, register_file, write_descriptors
from tests.liveserver import ROOT

BASKET_WIDGET = descriptor(
    "Component",
    "basket-widget",
    {
        "type": "website",
        "lifecycle": "experimental",
        "owner": "team-checkout",
        "system": "checkout",
    },
    description="Embeddable mini-basket for partner sites.",
)
BASKET_WIDGET_API = descriptor(
    "API",
    "basket-widget-api",
    {
        "type": "openapi",
        "lifecycle": "experimental",
        "owner": "team-checkout",
        "definition": "openapi: 3.0.0\ninfo: {title: Basket widget, version: 1.0.0}\npaths: {}\n",
    },
)


def analyze(page: Page, target: str) -> None:
    page.goto("/catalog-import")
    page.get_by_label("Location").fill(target)
    page.get_by_role("button", name="Analyze").click()


def test_it_previews_then_imports_a_new_location(signed_in: Page, readable_dir: Path):
    # given
    page = signed_in
    path = write_descriptors(readable_dir, BASKET_WIDGET, BASKET_WIDGET_API)

    # when
    analyze(page, str(path))

    # then
    review = page.get_by_role("region", name="2. Review")
    expect(review).to_contain_text("3 entities will be added from 1 file:")
    previewed = review.locator("[data-preview-entities] li")
    expect(previewed).to_contain_text(
        ["default/generated-", "default/basket-widget — Embeddable mini-basket", "default/basket"]
    )
    expect(review.locator("[data-preview-errors]")).to_have_count(0)
    assert not Location.objects.filter(target=str(path)).exists()  # a preview writes nothing
    screenshot(page, "import-preview")

    # when
    review.get_by_role("button", name="3. Import").click()

    # then
    expect(page).to_have_url(re.compile(r"/locations#location-[0-9a-f-]+$"))
    expect(page.get_by_role("status")).to_contain_text("Ingestion has started.")
    row = page.locator("tbody tr", has_text=f"file:{path}")
    expect(row).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(row.locator("td").nth(4)).to_have_text("2 / 0 / 0 / 0")  # added / updated / …
    expect(page.get_by_role("heading", name="Locations (2)")).to_be_visible()
    screenshot(page, "locations")

    # when
    page.goto("/catalog/default/component/basket-widget")

    # then
    expect(page.get_by_role("heading", name="basket-widget", level=1)).to_be_visible()
    expect(page.get_by_role("region", name="About")).to_contain_text("Embeddable mini-basket")


def test_it_names_the_previewed_entities_by_their_entity_refs(signed_in: Page, readable_dir: Path):
    # given
    page = signed_in
    path = write_descriptors(readable_dir, BASKET_WIDGET, BASKET_WIDGET_API)

    # when
    analyze(page, str(path))

    # then refs are spelled as everywhere else in the portal: kind and namespace lower-cased
    expect(page.locator("[data-preview-entities] li code")).to_have_text(
        [
            re.compile(r"^location:default/generated-\w+$"),
            "component:default/basket-widget",
            "api:default/basket-widget-api",
        ]
    )


def test_it_shows_the_file_and_line_of_a_yaml_error_in_the_preview(
    signed_in: Page, readable_dir: Path
):
    # given a descriptor whose line 5 is not valid YAML
    page = signed_in
    path = readable_dir / "catalog-info.yaml"
    path.write_text(
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Component\n"
        "metadata:\n"
        "  name: half-written\n"
        "  tags: - web\n"
        "spec:\n"
        "  type: service\n",
        encoding="utf-8",
    )

    # when
    analyze(page, str(path))

    # then
    problems = page.locator("[data-preview-errors]")
    expect(problems).to_contain_text("1 problem in these files:")
    expect(problems.locator("li")).to_have_text(
        re.compile(rf"^file:{re.escape(str(path))} line 5: .*YAML error")
    )
    expect(page.get_by_role("region", name="2. Review")).to_contain_text(
        "1 entity will be added from 1 file:"
    )


def test_it_refuses_a_location_the_portal_may_not_read(signed_in: Page):
    # given
    page = signed_in

    # when
    analyze(page, "/etc/hostname")

    # then
    error = page.locator("[data-import-error]")
    expect(error).to_contain_text("/etc/hostname: reading /etc/hostname is not allowed")
    expect(page.get_by_role("region", name="2. Review")).to_have_count(0)

    # when
    analyze(page, "catalog-info.yaml")

    # then
    expect(error).to_contain_text("file targets must be absolute paths")


def test_it_previews_a_registered_location_but_refuses_to_import_it_twice(signed_in: Page):
    # given the demo's own entry point, registered by the config
    page = signed_in
    demo = str(ROOT / "demo" / "catalog" / "catalog.yaml")

    # when
    analyze(page, demo)

    # then
    review = page.get_by_role("region", name="2. Review")
    entities = review.locator("[data-preview-entities] li")
    for ref in ("component:default/order-service", "group:default/team-checkout"):
        expect(entities.filter(has_text=re.compile(re.escape(ref), re.I))).to_have_count(1)

    # when
    review.get_by_role("button", name="3. Import").click()

    # then
    expect(page.locator("[data-import-error]")).to_have_text(f"file:{demo} is already registered.")
    assert Location.objects.filter(target=demo).count() == 1


def test_it_lists_what_unregistering_removes_and_removes_it_once_confirmed(
    signed_in: Page, readable_dir: Path
):
    # given
    page = signed_in
    path = write_descriptors(readable_dir, BASKET_WIDGET, BASKET_WIDGET_API)
    location = register_file(path)
    page.goto("/catalog/default/component/basket-widget")

    # when
    page.get_by_role("region", name="About").get_by_role("link", name="Unregister").click()

    # then
    expect(page).to_have_url(re.compile(r"/basket-widget/unregister$"))
    expect(page.get_by_role("heading", name="Unregister location")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"This unregisters file:{path}")
    doomed = page.locator(".doomed-list li")
    expect(doomed.filter(has_text="component:default/basket-widget")).to_have_count(1)
    expect(doomed.filter(has_text="api:default/basket-widget-api")).to_have_count(1)
    expect(doomed.filter(has_text="order-service")).to_have_count(0)
    assert Entity.objects.filter(ref="component:default/basket-widget").exists()

    # when
    page.get_by_role("button", name="Unregister location").click()

    # then
    expect(page).to_have_url(re.compile(r"/catalog$"))
    expect(page.get_by_role("status")).to_contain_text(f"Unregistered file:{path}")
    assert not Entity.objects.filter(ref="component:default/basket-widget").exists()
    assert not Entity.objects.filter(ref="api:default/basket-widget-api").exists()
    assert not Location.objects.filter(pk=location.pk).exists()
    assert Entity.objects.filter(ref="component:default/order-service").exists()
