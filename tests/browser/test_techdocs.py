"""TechDocs in a real browser: read docs in the reader, follow an internal link, the Docs
tab, and the error a failing build shows. Docs are built in this process (inline tasks) into
the data folder the server also reads."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from catalog import ingest
from techdocs import scheduler
from tests.browser.conftest import screenshot
from tests.techdocs.conftest import documented_component, write_site


def _documented(folder: Path, name: str = "ledger") -> None:
    write_site(folder)
    descriptor = folder / "catalog-info.yaml"
    descriptor.write_text(documented_component(name, owner="team-checkout"), encoding="utf-8")
    ingest.register_location("file", str(descriptor), by="test")


def test_reading_docs_and_following_an_internal_link(signed_in: Page, readable_dir: Path):
    # given
    _documented(readable_dir)
    page = signed_in

    # when
    page.goto("/docs")
    page.get_by_role("link", name="Payments").first.click()

    # then
    expect(page.locator("#techdocs-content h1")).to_contain_text("Payments")
    expect(page.locator(".techdocs-toc")).to_contain_text("Architecture")
    image = page.locator("#techdocs-content img").get_attribute("src")
    assert image.startswith("/api/techdocs/static/docs/default/component/ledger/")
    assert page.request.get(image).headers["content-type"] == "image/png"
    screenshot(page, "techdocs")
    page.locator("#techdocs-content").get_by_role("link", name="setup guide").click()
    expect(page).to_have_url(
        f"{page.url.split('/docs/')[0]}/docs/default/component/ledger/guide/setup/"
    )
    expect(page.locator("#techdocs-content h1")).to_contain_text("Setup")


def test_the_docs_tab_of_an_entity(signed_in: Page, readable_dir: Path):
    # given
    _documented(readable_dir)
    page = signed_in

    # when
    page.goto("/catalog/default/component/ledger")
    page.get_by_role("link", name="Docs", exact=True).last.click()

    # then
    expect(page.locator("#techdocs-content")).to_contain_text("Runbooks live here.")


def test_a_failing_build_shows_its_error(signed_in: Page, readable_dir: Path):
    # given: built once, then mkdocs.yml names a plugin that is not installed
    _documented(readable_dir)
    (readable_dir / "mkdocs.yml").write_text("site_name: Payments\nplugins:\n  - nosuch\n")
    scheduler.check_sites()
    page = signed_in

    # when
    page.goto("/docs/default/component/ledger/")

    # then
    error = page.locator("[data-build-error]")
    expect(error).to_contain_text("nosuch")
    expect(error).to_contain_text("previous version is still shown")
    expect(page.locator("#techdocs-content")).to_contain_text("Runbooks live here.")
    screenshot(page, "techdocs-build-error")
