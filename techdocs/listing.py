"""The Docs page's table: documented entities, filtered and paged on the server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q

from catalog.models import Entity, Relation
from catalog.refs import RefError, parse_ref
from techdocs.models import DocsSite
from techdocs.scheduler import documented_entities

PAGE_SIZE = 25


@dataclass
class DocsFilters:
    """The Docs page's filters, from its query string."""

    kind: str = ""
    owner: str = ""
    text: str = ""
    scope: str = "all"  # or "owned"
    page: int = 1
    error: str = ""

    @classmethod
    def from_query(cls, params: Any) -> DocsFilters:
        found = cls(
            kind=params.get("kind", "").strip().lower()[:63],
            text=params.get("q", "").strip()[:200],
            scope="owned" if params.get("scope") == "owned" else "all",
        )
        owner = params.get("owner", "").strip()
        if owner:
            try:
                found.owner = str(parse_ref(owner, "group")).lower()
            except RefError as exc:
                found.error = f"Owner: {exc}"
        try:
            found.page = max(1, int(params.get("page", 1)))
        except ValueError:
            found.page = 1
        return found


@dataclass
class DocsRow:
    """One row of the table: the entity, its site (None before the first check)."""

    entity: Entity
    site: DocsSite | None

    @property
    def title(self) -> str:
        metadata = self.entity.body.get("metadata", {})
        return (self.site and self.site.site_name) or metadata.get("title") or metadata["name"]

    @property
    def description(self) -> str:
        value = self.entity.body.get("metadata", {}).get("description")
        return value if isinstance(value, str) else ""

    @property
    def owner(self) -> str:
        spec = self.entity.body.get("spec")
        value = spec.get("owner") if isinstance(spec, dict) else None
        return value if isinstance(value, str) else ""


def documented_page(found: DocsFilters, ownership_refs: tuple[str, ...]) -> tuple[Page, list]:
    """Return one page of documented entities and its rows (entity + site)."""
    queryset = documented_entities().defer("search")
    if found.kind:
        queryset = queryset.filter(kind=found.kind)
    if found.text:
        queryset = queryset.filter(
            Q(name__icontains=found.text)
            | Q(body__metadata__title__icontains=found.text)
            | Q(body__metadata__description__icontains=found.text)
        )
    owners: tuple[str, ...] = ()
    if found.owner:
        owners = (found.owner,)
    if found.scope == "owned":
        owners = (
            owners + tuple(ref.lower() for ref in ownership_refs) if not found.owner else owners
        )
        if not ownership_refs:
            queryset = queryset.none()
    if owners:
        queryset = queryset.filter(
            Exists(
                Relation.objects.filter(
                    source_ref=OuterRef("ref"), type="ownedBy", target_ref__in=owners
                )
            )
        )
    page = Paginator(queryset.order_by("name", "ref"), PAGE_SIZE).get_page(found.page)
    entities = list(page.object_list)
    sites = {
        site.entity_ref: site
        for site in DocsSite.objects.filter(
            entity_ref__in=[entity.ref for entity in entities]
        ).select_related("last_build")
    }
    return page, [DocsRow(entity, sites.get(entity.ref)) for entity in entities]


def kind_options() -> list[str]:
    """Return the kinds that have documented entities."""
    return sorted(set(documented_entities().values_list("kind", flat=True).distinct()))
