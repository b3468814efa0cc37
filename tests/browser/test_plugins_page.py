"""The admin's switchboard in the browser: the Plugins page and the plugins it lists, and a
plugin's sidebar entry and page (the test plugin and the Kubernetes plugin are enabled)."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot


def test_an_admin_sees_each_plugin_with_version_settings_and_health(page: Page, alice, portal):
    # given: alice is staff
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": portal.url}]
    )

    # when: she goes from Settings to Plugins
    page.goto("/settings")
    page.get_by_role("link", name="Plugins").click()

    # then
    expect(page.get_by_role("heading", name="Plugins", level=1)).to_be_visible()
    kubernetes = page.locator('[data-plugin="plugins.kubernetes"]')
    expect(kubernetes).to_contain_text("1.0.0")
    expect(kubernetes).to_contain_text("Enabled")
    expect(kubernetes).to_contain_text("entity tab: Kubernetes")
    # the browser session's clusters: two answer, one is dead, so the plugin is degraded
    expect(kubernetes.locator("[data-health]")).to_have_attribute("data-health", "degraded")
    expect(kubernetes).not_to_contain_text("prod-token")
    expect(kubernetes).to_contain_text("serviceAccountToken: ••••••")
    dummy = page.locator('[data-plugin="tests.dummy_plugin"]')
    expect(dummy).to_contain_text("1.2.3")
    expect(dummy.locator("[data-health]")).to_have_attribute("data-health", "ok")
    screenshot(page, "plugins")


def test_a_plugin_adds_a_sidebar_entry_that_opens_its_page(signed_in: Page):
    # when
    signed_in.goto("/")
    signed_in.get_by_role("navigation", name="Main").get_by_role("link", name="Dummy").click()

    # then
    expect(signed_in).to_have_url("/plugins/dummy/")
    expect(signed_in.get_by_role("heading", name="Dummy plugin")).to_be_visible()
    expect(signed_in.locator('[data-card="dummy-home"]')).to_have_count(0)  # another page


def test_people_who_are_not_staff_do_not_get_the_plugins_page(signed_in: Page):
    signed_in.goto("/settings")
    expect(signed_in.get_by_role("link", name="Plugins")).to_have_count(0)

    # (the request, not a page load: the admin's login page is not this test's business)
    answer = signed_in.request.get("/settings/plugins", max_redirects=0)

    assert answer.status == 302
    assert answer.headers["location"] == "/admin/login/?next=/settings/plugins"
