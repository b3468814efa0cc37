"""Template helpers for the catalog's pages: table cells, links and query strings."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from catalog.browse import CatalogFilters, Column
from catalog.entity_page import entity_url as _entity_url
from catalog.entity_page import link_for_ref
from catalog.models import Entity

register = template.Library()

_FACET_PARAMS = {
    "spec.type": "type",
    "spec.lifecycle": "lifecycle",
    "metadata.namespace": "namespace",
}
_KIND_LABELS = {"api": "APIs", "user": "Users", "group": "Groups", "system": "Systems",
                "domain": "Domains", "resource": "Resources", "component": "Components",
                "template": "Templates", "location": "Locations"}  # fmt: skip
MAX_CELL_CHARS = 160


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def facet_param(key: str) -> str:
    return _FACET_PARAMS.get(key, key)


@register.filter
def filter_value(filters: CatalogFilters, name: str) -> str:
    return str(getattr(filters, name, "") or "")


@register.filter
def kind_label(kind: str) -> str:
    return _KIND_LABELS.get(kind, kind.capitalize())


@register.filter
def entity_url(entity: Entity) -> str:
    return _entity_url(entity)


@register.filter
def in_set(value: Any, collection: Any) -> bool:
    return value in collection


@register.simple_tag
def sort_query(filters: CatalogFilters, key: str) -> str:
    """Return the query string that sorts by a column (again: flips the direction)."""
    descending = not filters.descending if filters.order == key else False
    return filters.query_string(
        order=key if key != "name" else "", dir="desc" if descending else ""
    )


@register.simple_tag
def page_query(filters: CatalogFilters, **changes: Any) -> str:
    """Return the query string of another page (or page size) of the same filters."""
    if "size" in changes:
        changes["size"] = str(changes["size"])
    return filters.query_string(**changes)


@register.simple_tag
def cell(entity: Entity, column: Column) -> SafeString:
    """Return one table cell's HTML, escaped: a link, tags, or text."""
    value = column.value(entity)
    if column.key == "name":
        title = entity.body.get("metadata", {}).get("title") or value
        return format_html('<a href="{}">{}</a>', _entity_url(entity), title)
    if value in (None, "", []):
        return SafeString("")
    if column.key == "tags" and isinstance(value, list):
        return format_html_join(" ", '<span class="tag">{}</span>', ((str(t),) for t in value))
    if column.link_kind and isinstance(value, str):
        link = link_for_ref(value, column.link_kind)
        if link["url"]:
            return format_html('<a href="{}">{}</a>', link["url"], link["name"])
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return format_html("{}", text)
