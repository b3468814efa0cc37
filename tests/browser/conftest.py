"""Browser tests: Debian's chromium, driven by Playwright, against a real `runserver`.

The server is one process for the whole session, on the test database; each test loads the
demo catalog (through the real ingestion) and signs in (test_signin.py through the sign-in
form, the others with the session that form would make). The server may also read the tests'
descriptor files (see portal_config).
Screenshots of each main page land in GREENROOM_SCREENSHOTS (default data/screenshots/),
which CI lists at the end of its log.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

from catalog import ingest
from catalog.config import clear_config_cache
from catalog.models import IngestionRun
from tests import kubefake
from tests.browser.support import wait_for_ingestion
from tests.liveserver import ROOT, LiveServer, runserver, server_environment

CHROMIUM = os.environ.get("GREENROOM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PASSWORD = "correct-horse-battery-staple"
# Playwright's sync API keeps an event loop on this thread; the ORM calls the tests make
# between browser steps are ordinary blocking calls (Playwright's documented setting).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def screenshot_dir() -> Path:
    base = Path(os.environ.get("GREENROOM_SCREENSHOTS", ROOT / "data" / "screenshots"))
    folder = base / connection.vendor
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot named for the page it shows."""
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def readable_root(tmp_path_factory) -> Path:
    """A folder outside the checkout that the portal may read descriptor files from."""
    return tmp_path_factory.mktemp("readable")


@pytest.fixture(scope="session")
def portal_config(tmp_path_factory, readable_root: Path) -> Path:
    """The run's greenroom.yaml with readable_root added to catalog.reading.allow.

    Everything else is unchanged: relative paths are made absolute (they resolve to what the
    original file names), so the static demo location is the same Location row.
    """
    source = Path(django_settings.GREENROOM_CONFIG)
    raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    catalog = raw.setdefault("catalog", {})
    for location in catalog.get("locations") or []:
        if location.get("type") == "file" and not Path(location["target"]).is_absolute():
            location["target"] = str((source.parent / location["target"]).resolve())
    reading = catalog.get("reading") or {}
    allow = [
        {"path": str((source.parent / entry["path"]).resolve())} if "path" in entry else entry
        for entry in reading.get("allow") or []
    ]
    catalog["reading"] = {**reading, "allow": [*allow, {"path": str(readable_root)}]}
    path = tmp_path_factory.mktemp("config") / "greenroom.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


# --- Kubernetes plugin: fake clusters the session's server reads (test_kubernetes.py) ----------
@pytest.fixture(scope="session")
def kube_clusters() -> Iterator[dict[str, Any]]:
    """Fake Kubernetes API servers prod and staging, and a dead cluster's URL."""
    with kubefake.session_clusters() as clusters:
        yield clusters


@pytest.fixture(scope="session")
def portal(
    django_db_setup, django_db_blocker, tmp_path_factory, portal_config: Path, kube_clusters
) -> Iterator[LiveServer]:
    """A runserver on the test database, with the demo's guest sign-in on (and the demo's
    config, plus a scratch folder it may read: see portal_config)."""
    with django_db_blocker.unblock():
        env = server_environment(
            GREENROOM_GUEST_SIGNIN="true",
            DEBUG="false",
            GREENROOM_CONFIG=str(portal_config),
            # No periodic runs: the server outlives each test, whose database is emptied
            # after it, and must not write to it between tests (work a page asks for, such
            # as a registration, still runs in the server).
            GREENROOM_EMBEDDED_SCHEDULER="false",
            PORTAL_PLUGINS_CONFIG=kubefake.portal_plugins_config(kube_clusters),
        )
    log = tmp_path_factory.mktemp("portal") / "server.log"
    with runserver(env, log) as server:
        yield server


@pytest.fixture
def demo_catalog(transactional_db) -> None:
    """The demo catalog (demo/catalog), ingested for real."""
    ingest.sync_static_locations()
    # Inline ingestion is done when sync returns (the portal runs no scheduler); a run a
    # previous test's page asked the portal for may still be ending: wait for it.
    wait_for_ingestion()
    assert IngestionRun.objects.filter(status="succeeded").exists(), list(
        IngestionRun.objects.values("status", "failure")
    )


@pytest.fixture
def readable_dir(settings, readable_root: Path, portal_config: Path, request) -> Iterator[Path]:
    """A fresh folder the portal may read (and, in this process, ingestion too)."""
    settings.GREENROOM_CONFIG = portal_config
    clear_config_cache()
    folder = readable_root / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir()
    yield folder
    clear_config_cache()


@pytest.fixture
def alice(transactional_db):
    """Alice Nguyen: an account whose username matches a User entity of the demo catalog."""
    return get_user_model().objects.create(
        username="alice.nguyen",
        email="alice.nguyen@northwind.example",
        first_name="Alice",
        password=_password_hash(),
    )


@functools.cache
def _password_hash() -> str:
    # Hashing PASSWORD costs ~0.6 s (PBKDF2); once per session is enough.
    return make_password(PASSWORD)


def _wait_until_up(server: LiveServer, page: Page) -> None:
    import time

    import requests

    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{server.url}/healthz", timeout=2)
            return
        except requests.ConnectionError:
            assert server.process.poll() is None, server.log()
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)


@pytest.fixture
def page(browser: Browser, portal: LiveServer, transactional_db) -> Iterator[Page]:
    """A fresh browser tab (no cookies) that fails the test on any script error.

    It closes before the test database is emptied: a request still in flight when a test
    ends (an htmx fragment loading) must not meet an empty database and log a 404.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=portal.url)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    _wait_until_up(portal, tab)
    yield tab
    context.close()
    assert not errors, f"the page logged errors: {errors}"


@pytest.fixture
def signed_in(page: Page, alice, demo_catalog, portal: LiveServer) -> Page:
    """The tab, signed in as alice, on the demo catalog (tests open the page they need).

    The session is made here as the sign-in form makes it (Django's force_login): the form
    costs a PBKDF2 check per test, and test_signin.py drives the form itself. Chromium's CPU
    is what the suite waits for, so no page is loaded that the test does not look at.
    """
    client = Client()
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session, "url": portal.url}]
    )
    return page
