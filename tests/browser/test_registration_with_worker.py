"""Registration in the browser on the production shape: the page queues the run on Redis, a
real Celery worker ingests it, and the Locations page shows its progress live."""

from __future__ import annotations

import time

import pytest
import requests
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, expect

from tests.browser.conftest import PASSWORD, screenshot
from tests.catalog.test_celery_worker import BROKER_URL, worker  # noqa: F401 (fixture)
from tests.conftest import component
from tests.liveserver import runserver, server_environment

pytestmark = [pytest.mark.celery_worker, pytest.mark.usefixtures("worker")]


def _wait_until_serving(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"{url}/healthz", timeout=2)
            return
        except requests.ConnectionError:
            assert time.monotonic() < deadline, f"{url} did not start"
            time.sleep(0.2)


def test_a_component_registered_in_the_browser_is_ingested_by_a_worker(
    browser: Browser,
    settings,
    write_file,
    tmp_path,
):
    # given: files to register, a portal whose background work goes to Redis, and a person
    write_file("a.yaml", component("from-the-browser", dependsOn=["component:helper"]))
    target = write_file("b.yaml", component("helper")).parent / "*.yaml"
    get_user_model().objects.create_user("eve", password=PASSWORD)
    env = server_environment(
        CELERY_BROKER_URL=BROKER_URL, GREENROOM_CONFIG=str(settings.GREENROOM_CONFIG)
    )
    with runserver(env, tmp_path / "server.log") as server:
        _wait_until_serving(server.url)
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto("/accounts/login/", wait_until="domcontentloaded", timeout=30_000)
        page.get_by_label("Username or email").fill("eve")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url("**/")

        # when: analyze, then import
        page.goto("/catalog-import")
        page.get_by_label("Location").fill(str(target))
        page.get_by_role("button", name="Analyze").click()
        preview = page.locator("[data-preview-entities]")
        expect(page.locator("#import-result")).to_contain_text("will be added")
        expect(preview).to_contain_text("component:default/from-the-browser")
        page.get_by_role("button", name="3. Import").click()

        # then: the Locations page follows the worker's run to its end, without a reload
        page.wait_for_url("**/locations*")
        row = page.locator("tr", has_text=str(target))
        expect(row).to_have_attribute("data-status", "succeeded", timeout=60_000)
        expect(row).to_contain_text("2 / 0 / 0 / 0")
        screenshot(page, "locations-after-worker-run")
        page.goto("/catalog?q=from-the-browser")
        expect(page.get_by_role("link", name="from-the-browser")).to_be_visible()
        context.close()
