"""The plugin contract, through the test plugin (tests/dummy_plugin), which the suite enables.

Each extension point is checked where a person or a process meets it: settings at start-up,
the sidebar, entity tabs and cards, home and settings cards, the plugin's pages and API, its
Celery task and schedule, its collator, action and catalog processor, its models, the
admin's Plugins page, and isolation from the plugin's failures and slowness.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

import portal
from catalog.models import Entity, Relation
from portal.env import env_json_object
from portal.plugins import (
    PORTAL_VERSION,
    PortalPlugin,
    enabled_plugins,
    get_plugin,
    load_plugins,
    masked_settings,
)
from portal.registry import registry
from tests.catalog.test_celery_worker import BROKER_URL, worker  # noqa: F401 (fixture)
from tests.conftest import component, subprocess_database_url
from tests.dummy_plugin import DummyPluginConfig
from tests.dummy_plugin.models import DummyNote

ROOT = Path(__file__).resolve().parents[1]
DUMMY = "tests.dummy_plugin"


@pytest.fixture
def dummy_settings(settings):
    """Return a function that changes the test plugin's settings for one test."""

    def change(**values: object) -> None:
        merged = {**settings.PORTAL_PLUGINS_CONFIG[DUMMY], **values}
        settings.PORTAL_PLUGINS_CONFIG = {**settings.PORTAL_PLUGINS_CONFIG, DUMMY: merged}

    return change


@pytest.fixture
def client(transactional_db) -> Client:
    person = get_user_model().objects.create_user("dana", password="pw-for-tests-only")
    signed_in = Client()
    signed_in.force_login(person)
    return signed_in


@pytest.fixture
def admin_client(transactional_db) -> Client:
    person = get_user_model().objects.create_user(
        "root", password="pw-for-tests-only", is_staff=True, is_superuser=True
    )
    signed_in = Client()
    signed_in.force_login(person)
    return signed_in


def annotated(name: str, annotations: dict[str, str]) -> str:
    doc = yaml.safe_load(component(name))
    doc["metadata"]["annotations"] = annotations
    return yaml.safe_dump(doc, sort_keys=False)


# -- loading and settings ------------------------------------------------------------------------


def _load(config: dict | None = None, names: list[str] | None = None, **kwargs):
    return load_plugins(names if names is not None else [DUMMY], config or {}, **kwargs)


def test_loading_merges_defaults_and_adds_the_schedule():
    loaded = _load({DUMMY: {"greeting": "Hi"}})

    assert loaded.apps == [DUMMY]
    assert loaded.config[DUMMY]["greeting"] == "Hi"
    assert loaded.config[DUMMY]["slow_seconds"] == 0  # a default
    assert loaded.beat_schedule["dummy-tick"]["task"] == "tests.dummy_plugin.tasks.record_tick"


@pytest.mark.parametrize(
    ("names", "config", "message"),
    [
        (["no_such_plugin"], {}, "Plugin 'no_such_plugin' in PORTAL_PLUGINS cannot be imported"),
        (["tests.dummy_plugin.views"], {}, "must export `config`"),
        ([DUMMY, DUMMY], {}, "listed twice"),
        ([], {DUMMY: {}}, "configures tests.dummy_plugin, which is not enabled"),
        ([DUMMY], {DUMMY: {"greeting": ""}}, "setting 'greeting' is invalid"),
        ([DUMMY], {DUMMY: {"slow_seconds": "soon"}}, "setting 'slow_seconds' is invalid"),
        ([DUMMY], {DUMMY: {"broken": ["tab", 3]}}, "setting 'broken[1]' is invalid"),
        ([DUMMY], {DUMMY: {"grreting": "typo"}}, "'grreting' was unexpected"),
        ([DUMMY], {DUMMY: ["not", "an", "object"]}, "must be an object of settings"),
    ],
)
def test_loading_stops_with_a_message_naming_the_plugin_and_setting(names, config, message):
    with pytest.raises(ImproperlyConfigured) as error:
        _load(config, names)

    assert message in str(error.value)
    if config.get(DUMMY) is not None and names:
        assert DUMMY in str(error.value)


def test_loading_checks_required_settings_versions_and_base_urls(monkeypatch):
    monkeypatch.setattr(DummyPluginConfig, "required_settings", ["api_url"])
    with pytest.raises(ImproperlyConfigured, match="required setting 'api_url' is missing"):
        _load()
    monkeypatch.setattr(DummyPluginConfig, "required_settings", [])

    monkeypatch.setattr(DummyPluginConfig, "min_portal_version", "9.0")
    with pytest.raises(ImproperlyConfigured, match=r"needs Greenroom 9\.0 or later"):
        _load()
    monkeypatch.setattr(DummyPluginConfig, "min_portal_version", "")

    monkeypatch.setattr(DummyPluginConfig, "max_portal_version", "0.0.9")
    with pytest.raises(ImproperlyConfigured, match=r"supports Greenroom up to 0\.0\.9"):
        _load()
    monkeypatch.setattr(DummyPluginConfig, "max_portal_version", "")

    monkeypatch.setattr(DummyPluginConfig, "base_url", "catalog")
    with pytest.raises(ImproperlyConfigured, match="base_url 'catalog' is reserved"):
        _load()
    monkeypatch.setattr(DummyPluginConfig, "base_url", "../x")
    with pytest.raises(ImproperlyConfigured, match="must be a non-empty slug"):
        _load()


def test_the_portal_version_the_loader_checks_is_the_package_version():
    assert portal.__version__ == PORTAL_VERSION


def test_start_up_fails_naming_the_plugin_and_setting_when_settings_are_wrong(tmp_path):
    config_file = tmp_path / "plugins.yaml"
    config_file.write_text("tests.dummy_plugin:\n  slow_seconds: -1\n", encoding="utf-8")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORTAL_PLUGINS": DUMMY,
        "PORTAL_PLUGINS_CONFIG_FILE": str(config_file),
        "GREENROOM_DATA_DIR": str(tmp_path / "data"),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "Plugin 'tests.dummy_plugin': setting 'slow_seconds' is invalid" in result.stderr


def test_plugin_settings_come_from_json_or_a_yaml_file(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_PLUGINS_CONFIG", json.dumps({DUMMY: {"greeting": "Hey"}}))
    assert env_json_object("PORTAL_PLUGINS_CONFIG") == {DUMMY: {"greeting": "Hey"}}

    broken = tmp_path / "broken.yaml"
    broken.write_text("tests.dummy_plugin:\n  greeting: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("PORTAL_PLUGINS_CONFIG_FILE", str(broken))
    with pytest.raises(ImproperlyConfigured, match=r"PORTAL_PLUGINS_CONFIG_FILE=.*line 3"):
        env_json_object("PORTAL_PLUGINS_CONFIG")

    monkeypatch.setenv("PORTAL_PLUGINS_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_json_object("PORTAL_PLUGINS_CONFIG")


def test_the_enabled_plugin_is_an_installed_app_with_its_contributions():
    plugin = get_plugin("dummy")

    assert isinstance(plugin, PortalPlugin) and plugin.name == DUMMY
    assert plugin in enabled_plugins()
    assert plugin.settings["greeting"] == "Hello"
    assert registry.scaffolder_actions["dummy:echo"].plugin == DUMMY
    assert [c.type for c in registry.search_collators if c.plugin == DUMMY] == ["dummy-note"]
    assert "dummy-annotate@1" in registry.processors_fingerprint()
    assert django_settings.CELERY_BEAT_SCHEDULE["dummy-tick"]["schedule"] == 3600.0


def test_core_code_never_imports_a_plugin():
    core = [ROOT / name for name in ("portal", "catalog", "scaffolder", "techdocs")]
    pattern = re.compile(r"^\s*(from|import)\s+(plugins|tests\.dummy_plugin)\b", re.MULTILINE)

    offenders = [
        str(path.relative_to(ROOT))
        for folder in core
        for path in folder.rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]

    assert offenders == []


# -- pages -----------------------------------------------------------------------------------


def test_sidebar_entry_tab_cards_and_pages_show(client, write_file, register):
    register(
        write_file(
            "c.yaml",
            annotated("svc", {"dummy.example/facts": "runs on Fridays", "dummy.example/tab": ""})
            + "---\n"
            + component("plain"),
        )
    )

    home = client.get("/").content.decode()
    overview = client.get("/catalog/default/component/svc").content.decode()
    plain = client.get("/catalog/default/component/plain").content.decode()
    tab = client.get("/catalog/default/component/svc/dummy").content.decode()
    settings_page = client.get("/settings").content.decode()
    plugin_page = client.get("/plugins/dummy/")

    assert 'href="/plugins/dummy/"' in home  # the sidebar entry
    assert "data-dummy-home-card" in home and "Hello, dana." in home
    assert "data-dummy-settings-card" in settings_page
    assert 'href="/catalog/default/component/svc/dummy"' in overview
    assert "Facts: runs on Fridays" in overview  # the entity card, for the annotated one
    assert "data-dummy-entity-card" not in plain
    assert "/component/plain/dummy" not in plain  # the tab needs its annotation
    assert "Hello from the dummy tab for svc: the outside service answered." in tab
    assert plugin_page.status_code == 200 and "Dummy plugin" in plugin_page.content.decode()


def test_the_tab_is_only_for_its_kind(client, write_file, register):
    api = yaml.safe_dump(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "orders", "annotations": {"dummy.example/tab": ""}},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "a", "definition": "x"},
        }
    )
    register(write_file("api.yaml", api))

    assert client.get("/catalog/default/api/orders/dummy").status_code == 404
    assert "/api/orders/dummy" not in client.get("/catalog/default/api/orders").content.decode()


def test_plugin_pages_need_sign_in(transactional_db):
    response = Client().get("/plugins/dummy/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("broken", ["tab", "entity-card", "home-card", "settings-card"])
def test_a_failing_contribution_becomes_an_error_card_and_the_page_works(
    broken, client, dummy_settings, write_file, register, caplog
):
    register(
        write_file(
            "c.yaml", annotated("svc", {"dummy.example/facts": "x", "dummy.example/tab": ""})
        )
    )
    dummy_settings(broken=[broken])
    url = {
        "tab": "/catalog/default/component/svc/dummy",
        "entity-card": "/catalog/default/component/svc",
        "home-card": "/",
        "settings-card": "/settings",
    }[broken]

    response = client.get(url)

    page = response.content.decode()
    assert response.status_code == 200
    what = "tab" if broken == "tab" else "card"
    assert f"This {what} could not be shown. The error has been logged." in page
    assert f"dummy {broken} broke on purpose" in caplog.text
    assert 'aria-label="Main"' in page  # the rest of the page is there


def test_a_slow_outside_call_does_not_hold_the_page_beyond_the_plugin_timeout(
    client, dummy_settings, write_file, register
):
    register(write_file("c.yaml", annotated("svc", {"dummy.example/tab": ""})))
    dummy_settings(slow_seconds=30)  # the plugin's timeout is 1 s

    started = time.monotonic()
    tab = client.get("/catalog/default/component/svc/dummy").content.decode()
    home = client.get("/").content.decode()
    took = time.monotonic() - started

    assert "This tab could not be shown: its data gave no answer within 1 s." in tab
    assert "This card could not be shown: its data gave no answer within 1 s." in home
    assert "Starred entities" in home
    assert took < 20  # far below the 2 x 30 s the calls would have taken


# -- API, models, tasks -------------------------------------------------------------------------


def test_the_plugin_api_is_mounted_with_the_portal_api_rules(transactional_db, writer, api):
    created = writer.post("/api/dummy/notes", {"entity_ref": "component:default/a", "text": "hi"})
    refused = api.post("/api/dummy/notes", {"entity_ref": "x", "text": "anonymous"})
    listed = api.get("/api/dummy/notes")
    invalid = writer.post("/api/dummy/notes", {"text": "no entity"})

    assert created.status_code == 201
    assert refused.status_code == 401 and refused.json()["error"]["name"]
    assert [n["text"] for n in listed.json()["items"]] == ["hi"]
    assert invalid.status_code == 400 and "error" in invalid.json()
    assert DummyNote.objects.count() == 1
    assert api.get("/api/dummy/nothing-here").json()["response"]["statusCode"] == 404


def test_the_collator_yields_documents_from_the_plugins_model(transactional_db):
    note = DummyNote.objects.create(entity_ref="component:default/a", text="remember the milk")
    collator = next(c for c in registry.search_collators if c.type == "dummy-note")

    documents = list(collator.collect())

    assert [(d.title, d.text, d.location) for d in documents] == [
        ("Note on component:default/a", "remember the milk", f"/plugins/dummy/#note-{note.pk}")
    ]


@pytest.mark.celery_worker
def test_the_plugins_task_runs_on_a_real_worker(worker):  # noqa: F811
    from tests.dummy_plugin.tasks import record_tick

    record_tick.apply_async(args=["from the worker"], queue="default")

    deadline = time.monotonic() + 60
    while not DummyNote.objects.filter(text="from the worker").exists():
        assert time.monotonic() < deadline, "the worker did not run the plugin's task"
        time.sleep(0.2)


# -- catalog processors ---------------------------------------------------------------------------


def test_a_processor_adds_annotations_relations_and_status(
    client, api, write_file, register, refresh
):
    path = write_file("c.yaml", annotated("svc", {"dummy.example/process": "yes"}))

    run = register(path)

    body = api.get("/api/catalog/entities/by-name/component/default/svc").json()
    annotations = body["metadata"]["annotations"]
    assert annotations["dummy.example/processed"] == "yes"
    assert annotations["dummy.example/process"] == "yes"  # the descriptor's own value wins
    assert {"type": "dummyWatchedBy", "targetRef": "group:default/watchers"} in [
        {"type": r["type"], "targetRef": r["targetRef"]} for r in body["relations"]
    ]
    assert Relation.objects.filter(
        source_ref="group:default/watchers", type="dummyWatches", target_ref="component:default/svc"
    ).exists()
    assert body["status"]["items"][0]["message"].endswith("processed by the dummy plugin")
    page = client.get("/catalog/default/component/svc").content.decode()
    assert "data-status-notes" in page and "data-processing-errors" not in page

    again = refresh(run.location)
    assert (again.updated, again.unchanged) == (0, 1)  # processed output is stable


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (
            "explode",
            "catalog processor dummy-annotate: failed: the dummy processor exploded on purpose",
        ),
        ("garbage", "catalog processor dummy-annotate: returned str, not ProcessorResult"),
    ],
)
def test_a_failing_processor_leaves_the_entity_written_with_a_warning(
    mode, message, api, write_file, register
):
    run = register(write_file("c.yaml", annotated("svc", {"dummy.example/process": mode})))

    assert run.status == "succeeded" and run.added == 1
    entity = Entity.objects.get(ref="component:default/svc")
    assert "dummy.example/processed" not in entity.body["metadata"]["annotations"]
    assert [(i["level"], i["message"]) for i in entity.errors] == [("warning", message)]


# -- the admin's Plugins page -------------------------------------------------------------------


def test_the_plugins_page_lists_versions_masked_settings_and_health(admin_client, dummy_settings):
    dummy_settings(api_token="s3cr3t-value", health="degraded")

    page = admin_client.get("/settings/plugins").content.decode()

    section = page[page.index('data-plugin="tests.dummy_plugin"') :]
    assert "Dummy plugin" in section and "1.2.3" in section and "Enabled" in section
    assert "s3cr3t-value" not in page and "api_token: ••••••" in section
    assert "greeting: Hello" in section
    assert 'data-health="degraded"' in section
    assert "one of two dummy backends answers" in section
    assert "scaffolder action: dummy:echo" in section
    assert "catalog processor: dummy-annotate" in section


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        ("explode", "health check failed: the dummy service is down"),
        ("hang", "health check gave no answer within 1 s"),
    ],
)
def test_a_failing_or_hanging_health_check_shows_as_an_error(
    admin_client, dummy_settings, mode, shown
):
    dummy_settings(health=mode)

    page = admin_client.get("/settings/plugins").content.decode()

    assert 'data-health="error"' in page and shown in page


def test_the_plugins_page_lists_installed_plugins_that_are_not_enabled(
    admin_client, settings, tmp_path, monkeypatch
):
    folder = tmp_path / "plugins" / "offline_demo"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        "from portal.plugins import PortalPlugin\n\n\n"
        "class Offline(PortalPlugin):\n"
        '    name = "plugins.offline_demo"\n'
        '    base_url = "offline-demo"\n'
        '    version = "0.9.0"\n\n\n'
        "config = Offline\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import plugins  # a namespace package: its path is computed on each import lookup

    monkeypatch.setattr(plugins, "__path__", [str(tmp_path / "plugins"), *plugins.__path__])
    settings.BASE_DIR = tmp_path

    page = admin_client.get("/settings/plugins").content.decode()

    section = page[page.index('data-plugin="plugins.offline_demo"') :]
    assert "0.9.0" in section and "Installed, not enabled" in section


def test_only_staff_see_the_plugins_page(client):
    response = client.get("/settings/plugins")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_masking_hides_secret_looking_keys_at_any_depth():
    shown = masked_settings(
        DummyPluginConfig,
        {
            "api_token": "a",
            "clusters": [{"name": "prod", "serviceAccountToken": "b", "caData": "ok"}],
            "privateKey": "c",
            "password": "",
        },
    )

    assert shown == {
        "api_token": "••••••",
        "clusters": [{"name": "prod", "serviceAccountToken": "••••••", "caData": "ok"}],
        "privateKey": "••••••",
        "password": "",
    }


def test_subprocesses_load_the_same_plugins():
    # Celery workers and runserver started by tests must see the test plugin too.
    assert os.environ.get("DJANGO_SETTINGS_MODULE") == "tests.settings"
    assert DUMMY in os.environ["PORTAL_PLUGINS"].split(",")
    assert subprocess_database_url()
    assert BROKER_URL
