"""The admin's Plugins page: what is installed and enabled, its settings and its health."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import Any

import yaml
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.plugins import (
    PluginHealth,
    PluginTimeout,
    PortalPlugin,
    call_with_timeout,
    enabled_plugins,
    installed_plugins,
    masked_settings,
    plugin_settings,
)
from portal.registry import registry

log = logging.getLogger(__name__)


def check_health(plugin: PortalPlugin) -> PluginHealth:
    """Return the plugin's health, within its time limit; a check that fails says why."""
    try:
        result = call_with_timeout(plugin.health, timeout=plugin.timeout_seconds)
    except PluginTimeout as exc:
        return PluginHealth("error", f"health check gave {exc}")
    except Exception as exc:
        log.exception("health check of plugin %s failed", plugin.name)
        return PluginHealth("error", f"health check failed: {exc}")
    if not isinstance(result, PluginHealth):
        return PluginHealth("error", f"health check returned {type(result).__name__}")
    return result


def contributions(name: str) -> list[str]:
    """Return what one plugin added to the registry, for people to read."""
    found = []
    labels = [
        ("sidebar entry", registry.navigation, lambda i: i.label),
        ("entity tab", registry.entity_tabs, lambda i: i.label),
        ("entity card", registry.entity_cards, lambda i: i.title),
        ("card", registry.cards, lambda i: i.title),
        ("search collator", registry.search_collators, lambda i: i.type),
        ("scaffolder action", list(registry.scaffolder_actions.values()), lambda i: i.id),
        ("catalog processor", registry.catalog_processors, lambda i: i.name),
    ]
    for what, items, title in labels:
        found += [f"{what}: {title(item)}" for item in items if item.plugin == name]
    return found


def plugin_rows() -> list[dict[str, Any]]:
    """Return one row per installed or enabled plugin, health checked concurrently."""
    enabled = {plugin.name: plugin for plugin in enabled_plugins()}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(enabled))) as pool:
        health = {name: pool.submit(check_health, plugin) for name, plugin in enabled.items()}
    rows = []
    for plugin_class in installed_plugins():
        name = plugin_class.name
        plugin = enabled.get(name)
        shown = masked_settings(plugin_class, plugin_settings(name)) if plugin else None
        rows.append(
            {
                "name": name,
                "verbose_name": getattr(plugin, "verbose_name", "") or name,
                "version": plugin_class.version,
                "description": plugin_class.description,
                "base_url": plugin_class.base_url,
                "enabled": plugin is not None,
                "settings_yaml": yaml.safe_dump(shown, sort_keys=True, allow_unicode=True)
                if shown
                else "",
                "health": health[name].result() if name in health else None,
                "contributions": contributions(name) if plugin else [],
            }
        )
    return rows


@require_GET
@staff_member_required
def plugins_page(request: HttpRequest) -> HttpResponse:
    """List installed and enabled plugins with versions, masked settings and health."""
    return render(request, "portal/plugins.html", {"plugins": plugin_rows()})
