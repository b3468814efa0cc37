"""The entity-page tabs. They render at once and call no cluster: each is a shell whose
data region loads (and refreshes) the plugin's data fragment with HTMX."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from plugins.kubernetes.clusters import current_settings
from plugins.kubernetes.selection import SelectionError, query_for

if TYPE_CHECKING:
    from catalog.models import Entity


def _url_parts(entity: Entity) -> tuple[str, str, str]:
    name = (entity.body.get("metadata") or {}).get("name", entity.name)
    return entity.namespace, entity.kind, name


def _context(entity: Entity, data_url: str) -> dict[str, Any]:
    settings = current_settings()
    return {
        "entity": entity,
        "data_url": data_url,
        "refresh_seconds": settings.refresh_seconds,
        "clusters": settings.clusters,
    }


def render_entity_tab(request: HttpRequest, entity: Entity) -> str:
    """Return the Kubernetes tab of an entity that opts in by annotation."""
    namespace, kind, name = _url_parts(entity)
    context = _context(entity, reverse("kubernetes:entity_objects", args=(namespace, kind, name)))
    try:
        context["selection"] = query_for(entity.body).describe()
    except SelectionError as exc:
        context["selection_error"] = str(exc)
    return render_to_string("kubernetes/entity_tab.html", context, request=request)


def render_group_tab(request: HttpRequest, entity: Entity) -> str:
    """Return a group's Kubernetes workloads tab (what the group owns, in one view)."""
    namespace, _kind, name = _url_parts(entity)
    context = _context(entity, reverse("kubernetes:group_objects", args=(namespace, name)))
    return render_to_string("kubernetes/group_tab.html", context, request=request)
