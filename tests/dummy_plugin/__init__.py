"""The test plugin: one contribution of every kind the plugin contract offers.

Enabled for the whole test suite (tests/settings.py). Everything it adds to shared pages is
opt-in per entity (annotations under dummy.example/) or per test (its `broken`, `slow_seconds`
and `health` settings), so other tests see the portal as it is without it.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils.html import format_html

from portal.plugins import (
    ActionContext,
    ActionSpec,
    Card,
    CatalogProcessor,
    EntityCard,
    EntityTab,
    NavItem,
    PluginHealth,
    PortalPlugin,
    ProcessorResult,
    SearchCollator,
    SearchDocument,
    call_with_timeout,
    plugin_settings,
)

NAME = "tests.dummy_plugin"


def _options() -> dict[str, Any]:
    return plugin_settings(NAME)


def _maybe_break(key: str) -> None:
    if key in _options()["broken"]:
        raise RuntimeError(f"dummy {key} broke on purpose")


def _slow_outside_call() -> str:
    time.sleep(_options()["slow_seconds"])
    return "the outside service answered"


def render_tab(request: HttpRequest, entity: Any) -> str:
    _maybe_break("tab")
    answer = call_with_timeout(_slow_outside_call, timeout=DummyPluginConfig.timeout_seconds)
    return format_html(
        "<p data-dummy-tab>{} from the dummy tab for {}: {}.</p>",
        _options()["greeting"],
        entity.name,
        answer,
    )


def render_entity_card(request: HttpRequest, entity: Any) -> str:
    _maybe_break("entity-card")
    facts = entity.body["metadata"]["annotations"]["dummy.example/facts"]
    return format_html("<p data-dummy-entity-card>Facts: {}</p>", facts)


def render_home_card(request: HttpRequest) -> str:
    _maybe_break("home-card")
    if _options()["slow_seconds"]:
        call_with_timeout(_slow_outside_call, timeout=DummyPluginConfig.timeout_seconds)
    return format_html("<p data-dummy-home-card>{}, {}.</p>", _options()["greeting"], request.user)


def render_settings_card(request: HttpRequest) -> str:
    _maybe_break("settings-card")
    return format_html("<p data-dummy-settings-card>Dummy settings for {}.</p>", request.user)


def collect_notes() -> list[SearchDocument]:
    from tests.dummy_plugin.models import DummyNote

    return [
        SearchDocument(
            title=f"Note on {note.entity_ref}",
            text=note.text,
            location=f"/plugins/dummy/#note-{note.pk}",
            fields={"entity": note.entity_ref},
        )
        for note in DummyNote.objects.order_by("pk")
    ]


def echo_action(context: ActionContext) -> dict[str, Any]:
    """Return the input message as output (a scaffolder action's handler)."""
    return {"echoed": context.input["message"]}


def annotate(entity: dict[str, Any]) -> ProcessorResult | None:
    annotations = entity["metadata"].get("annotations") or {}
    mode = annotations.get("dummy.example/process")
    if mode is None:
        return None
    if mode == "explode":
        raise ValueError("the dummy processor exploded on purpose")
    if mode == "garbage":
        return "not a result"  # type: ignore[return-value]
    return ProcessorResult(
        annotations={"dummy.example/processed": "yes", "dummy.example/process": "ignored"},
        relations=(("dummyWatchedBy", "group:default/watchers", "dummyWatches"),),
        status_items=({"level": "info", "message": "processed by the dummy plugin"},),
    )


class DummyPluginConfig(PortalPlugin):
    name = NAME
    label = "dummy_plugin"
    verbose_name = "Dummy plugin"
    base_url = "dummy"
    version = "1.2.3"
    description = "Exercises every extension point of the plugin contract in the tests."
    author = "Greenroom tests"
    min_portal_version = "0.1"
    default_settings = {
        "greeting": "Hello",
        "api_token": "",
        "slow_seconds": 0,
        "broken": [],
        "health": "ok",
    }
    settings_schema = {
        "type": "object",
        "properties": {
            "greeting": {"type": "string", "minLength": 1},
            "api_token": {"type": "string"},
            "slow_seconds": {"type": "number", "minimum": 0},
            "broken": {"type": "array", "items": {"type": "string"}},
            "health": {"enum": ["ok", "degraded", "explode", "hang"]},
        },
        "additionalProperties": False,
    }
    secret_settings = ["api_token"]
    timeout_seconds = 1.0

    navigation = [NavItem("Dummy", "dummy:index", icon="puzzle", order=500)]
    entity_tabs = [
        EntityTab(
            "dummy", "Dummy", render_tab, kinds=("Component",), annotations=("dummy.example/tab",)
        )
    ]
    entity_cards = [
        EntityCard(
            "dummy-facts", "Dummy facts", render_entity_card, annotations=("dummy.example/facts",)
        )
    ]
    cards = [
        Card("home", "dummy-home", "Dummy", render_home_card, order=900),
        Card("settings", "dummy-settings", "Dummy settings", render_settings_card, order=900),
    ]
    periodic_tasks = {
        "tick": {"task": "tests.dummy_plugin.tasks.record_tick", "schedule": 3600.0},
    }
    search_collators = [SearchCollator("dummy-note", collect_notes)]
    scaffolder_actions = [
        ActionSpec(
            "dummy:echo",
            "Echo the input message as the step's output.",
            echo_action,
            input_schema={
                "type": "object",
                "required": ["message"],
                "properties": {"message": {"type": "string"}},
            },
            output_schema={"type": "object", "properties": {"echoed": {"type": "string"}}},
        )
    ]
    catalog_processors = [CatalogProcessor("dummy-annotate", annotate, kinds=("component",))]

    def health(self) -> PluginHealth:
        mode = self.settings["health"]
        if mode == "explode":
            raise ConnectionError("the dummy service is down")
        if mode == "hang":
            time.sleep(5)
        if mode == "degraded":
            return PluginHealth("degraded", "one of two dummy backends answers")
        return PluginHealth("ok", "all dummy backends answer")


config = DummyPluginConfig
