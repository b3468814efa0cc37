"""Kubernetes: the workloads, pods and their problems behind a catalog entity (Backstage's
Kubernetes plugin). See README.md for settings and annotations.

Settings import this module before Django is set up: it imports only portal.plugins and
modules that import models lazily (tabs.py). The `kubernetes` client is imported only by
the modules that call clusters.
"""

from __future__ import annotations

from typing import Any

from plugins.kubernetes.clusters import DEFAULT_SETTINGS, SETTINGS_SCHEMA
from plugins.kubernetes.selection import ID_ANNOTATION, SELECTOR_ANNOTATION
from plugins.kubernetes.tabs import render_entity_tab, render_group_tab
from portal.plugins import EntityTab, PluginHealth, PortalPlugin


class KubernetesConfig(PortalPlugin):
    name = "plugins.kubernetes"
    label = "kubernetes"
    verbose_name = "Kubernetes"
    base_url = "kubernetes"  # /plugins/kubernetes/ and /api/kubernetes/
    version = "1.0.0"
    description = (
        "Shows each entity's workloads, pods, versions and problems across the configured "
        "Kubernetes clusters, and a group's workloads in one place."
    )
    min_portal_version = "0.1"

    # PORTAL_PLUGINS_CONFIG["plugins.kubernetes"] is laid over these; the result must
    # satisfy the schema (Backstage's kubernetes app-config keys where they exist).
    default_settings = DEFAULT_SETTINGS
    settings_schema = SETTINGS_SCHEMA
    secret_settings = ["serviceAccountToken"]
    # The Plugins page gives health() this long; health() keeps each cluster call shorter.
    timeout_seconds = 10.0

    entity_tabs = [
        EntityTab(
            path="kubernetes",
            label="Kubernetes",
            render=render_entity_tab,
            any_annotations=(ID_ANNOTATION, SELECTOR_ANNOTATION),
        ),
        EntityTab(
            path="kubernetes-workloads",
            label="Kubernetes workloads",
            render=render_group_tab,
            kinds=("group",),
        ),
    ]

    @classmethod
    def validate_settings(cls, values: dict[str, Any]) -> None:
        """Refuse two clusters of one name at start-up (a JSON Schema cannot say it)."""
        seen: set[str] = set()
        for index, entry in enumerate(values.get("clusters") or []):
            if entry["name"] in seen:
                raise ValueError(
                    f"setting 'clusters[{index}].name' is invalid: "
                    f"{entry['name']!r} names two clusters"
                )
            seen.add(entry["name"])

    def health(self) -> PluginHealth:
        """Ok when every configured cluster answers /version in time; degraded naming those
        that do not."""
        from plugins.kubernetes.fetch import check_clusters

        return check_clusters(max_seconds=self.timeout_seconds - 1)


config = KubernetesConfig
