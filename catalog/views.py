"""The catalog's pages: the catalog table, entity pages and their tabs, registration and the
locations list. Thin: each reads the request, calls catalog services, renders a template."""

from __future__ import annotations

import json
import logging
from typing import Any

import yaml
from django.contrib import messages
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import browse, entity_page, graph, identity, ingest, lifecycle
from catalog.choices import LocationType
from catalog.definitions import definition_context
from catalog.models import Entity, EntityStar, EntityVisit, IngestionRun, Location
from catalog.preview import preview_location
from catalog.serialization import backstage_entities
from portal.registry import registry
from portal.views import render_contribution, render_entity_cards

log = logging.getLogger(__name__)

LOCATIONS_PAGE_SIZE = 50


# --- the catalog table and its variants ------------------------------------------------------


def _catalog_table(
    request: HttpRequest,
    *,
    kind: str | None = None,
    title: str = "Catalog",
    annotation: str = "",
    template: str = "catalog/entity_list.html",
) -> HttpResponse:
    found = browse.CatalogFilters.from_query(request.GET, kind=kind)
    found.annotation = annotation
    person = identity.for_request(request)
    page = browse.catalog_page(found, user=request.user, ownership_refs=person.ownership_refs)
    context: dict[str, Any] = {
        "title": title,
        "page": page,
        "filters": found,
        "kind_pinned": kind is not None,
        "kinds": browse.kind_options() if kind is None else [],
        "facets": browse.facet_options(found.kind),
        "tags": browse.tag_options(found.kind),
        "facet_labels": browse.FACET_KEYS,
        "page_sizes": browse.PAGE_SIZES,
    }
    if request.htmx and request.htmx.target == "catalog-results":
        return render(request, "catalog/partials/_entity_table.html", context)
    return render(request, template, context)


@require_GET
def entity_list(request: HttpRequest) -> HttpResponse:
    """The catalog: every entity of one kind, filtered, sorted and paged on the server."""
    return _catalog_table(request)


@require_GET
def api_list(request: HttpRequest) -> HttpResponse:
    """The APIs page: the catalog table pinned to kind API."""
    return _catalog_table(request, kind="api", title="APIs")


@require_GET
def create_home(request: HttpRequest) -> HttpResponse:
    """Software templates in the catalog (running them comes with the scaffolder)."""
    return _catalog_table(request, kind="template", title="Create something new")


@require_GET
def owner_suggestions(request: HttpRequest) -> HttpResponse:
    """Groups and users matching what the person typed (the owner picker's options)."""
    term = request.GET.get("owner", "") or request.GET.get("q", "")
    return render(
        request,
        "catalog/partials/_owner_options.html",
        {"owners": browse.owner_suggestions(term)},
    )


# --- entity pages ------------------------------------------------------------------------


def _entity_or_404(namespace: str, kind: str, name: str) -> Entity:
    key = entity_page.entity_key(namespace, kind, name)
    entity = Entity.objects.defer("search").filter(ref=key).first()
    if entity is None:
        raise Http404(f"No {kind} named {namespace}/{name} in the catalog")
    return entity


def _core_tabs(entity: Entity) -> list[tuple[str, str]]:
    tabs = [("", "Overview")]
    if entity.kind in ("component", "system"):
        tabs += [("api", "APIs"), ("dependencies", "Dependencies")]
    if entity.kind == "api":
        tabs.append(("definition", "Definition"))
    return tabs


def _record_visit(request: HttpRequest, entity: Entity) -> None:
    # One statement in the common case (a revisit); the insert path runs once per entity.
    now = timezone.now()
    updated = EntityVisit.objects.filter(user=request.user, entity_ref=entity.ref).update(
        visited_at=now, hits=F("hits") + 1
    )
    if not updated:
        EntityVisit.objects.get_or_create(
            user=request.user, entity_ref=entity.ref, defaults={"visited_at": now}
        )


@require_GET
def entity_detail(
    request: HttpRequest, namespace: str, kind: str, name: str, tab: str = ""
) -> HttpResponse:
    """An entity's page: header, tabs, and the chosen tab's content."""
    entity = _entity_or_404(namespace, kind, name)
    core_tabs = _core_tabs(entity)
    contributed = registry.tabs_for(entity)
    known = {path for path, _ in core_tabs} | {t.path for t in contributed} | {"inspect"}
    if tab not in known:
        raise Http404(f"This entity has no {tab!r} tab")
    owners = entity_page.owner_refs(entity)
    context: dict[str, Any] = {
        "entity": entity,
        "about": entity_page.about(entity, owners),
        "tab": tab,
        "tabs": [
            {"path": path, "label": label, "url": entity_page.entity_url(entity, path)}
            for path, label in core_tabs
        ]
        + [
            {"path": t.path, "label": t.label, "url": entity_page.entity_url(entity, t.path)}
            for t in contributed
        ],
        "starred": EntityStar.objects.filter(user=request.user, entity=entity).exists(),
        # Status items: processing errors in the red panel, processors' notes apart from them.
        "processing_errors": [i for i in entity.errors if i.get("level", "error") == "error"],
        "status_notes": [i for i in entity.errors if i.get("level", "error") != "error"],
        "entity_url": entity_page.entity_url(entity),
    }
    if tab == "":
        context["tables"] = entity_page.related_tables(
            entity, entity_page.tables_for_kind(entity.kind)
        )
        if entity.kind in ("system", "domain"):
            context["tables"] = entity_page.part_tables(entity) + context["tables"]
        if entity.kind in ("group", "user"):
            aggregated = request.GET.get("direct") != "1"
            context["ownership"] = entity_page.ownership(entity, aggregated=aggregated)
        context["graph_kinds"] = entity_page.GRAPH_KINDS
        context["entity_cards"] = render_entity_cards(request, entity)
    elif tab in entity_page.TAB_RELATIONS:
        context["tables"] = entity_page.related_tables(entity, list(entity_page.TAB_RELATIONS[tab]))
    elif tab == "definition":
        context["definition_html"] = render_to_string(
            "catalog/partials/_definition.html", definition_context(entity), request=request
        )
    elif tab == "inspect":
        document = backstage_entities([entity])[0]
        context["inspect"] = {
            "yaml": yaml.safe_dump(document, sort_keys=False, allow_unicode=True),
            "json": json.dumps(document, indent=2, ensure_ascii=False),
            "ancestry": lifecycle.ancestry(entity)["items"],
            "last_run": IngestionRun.objects.filter(pk=entity.last_run_id).first()
            if entity.last_run_id
            else None,
        }
    else:
        plugin_tab = next(t for t in contributed if t.path == tab)
        context["plugin_tab"] = render_contribution(
            f"tab {tab} of {entity.ref}",
            plugin_tab.label,
            lambda: plugin_tab.render(request, entity),
            what="tab",
        )
    _record_visit(request, entity)
    return render(request, "catalog/entity_detail.html", context)


@require_GET
def entity_graph(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """The relations graph of an entity (an HTMX fragment), filtered by kind and depth."""
    entity = _entity_or_404(namespace, kind, name)
    try:
        depth = min(max(int(request.GET.get("depth", "1")), 1), graph.MAX_DEPTH)
    except ValueError:
        depth = 1
    kinds = [k for k in request.GET.getlist("kinds") if k in entity_page.GRAPH_KINDS] or None
    built = graph.build_graph(entity.ref, depth=depth, kinds=kinds)
    svg = graph.render_svg(
        built, lambda node: entity_page.page_url(node.namespace, node.kind, node.name)
    )
    return render(
        request,
        "catalog/partials/_graph.html",
        {"svg": svg, "graph": built, "depth": depth, "kinds": kinds or []},
    )


@require_POST
def toggle_star(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """Star or unstar an entity; answers the new button for HTMX, else redirects back."""
    entity = _entity_or_404(namespace, kind, name)
    star = EntityStar.objects.filter(user=request.user, entity=entity)
    if star.exists():
        star.delete()
        starred = False
    else:
        EntityStar.objects.get_or_create(user=request.user, entity=entity)
        starred = True
    if request.htmx:
        return render(
            request,
            "catalog/partials/_star.html",
            {"starred": starred, "entity": entity, "entity_url": entity_page.entity_url(entity)},
        )
    return redirect(entity_page.entity_url(entity))


@require_POST
def refresh_entity(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """Schedule a refresh of the entity's source file, ahead of periodic work."""
    entity = _entity_or_404(namespace, kind, name)
    run = ingest.refresh_entity(entity, by=request.user.get_username())
    if run is None:
        messages.info(request, "This entity has no source to refresh from.")
    else:
        messages.success(request, "Refresh scheduled. The page shows the new data when it ends.")
    return redirect(entity_page.entity_url(entity))


@require_http_methods(["GET", "POST"])
def unregister_entity(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """Unregister the location an entity came from, after showing everything that goes."""
    entity = _entity_or_404(namespace, kind, name)
    location = Location.objects.filter(pk=entity.location_id).first()
    if request.method == "POST":
        if entity.orphan or location is None:
            ingest.delete_entity(entity)
            messages.success(request, f"Removed {entity.display_ref}.")
        else:
            removed = ingest.unregister_location(location)
            messages.success(request, f"Unregistered {location}: {removed} entities removed.")
        return redirect("catalog:entity_list")
    doomed = Entity.objects.filter(location=location) if location else Entity.objects.none()
    return render(
        request,
        "catalog/entity_unregister.html",
        {
            "entity": entity,
            "location": location,
            "doomed": list(doomed.only("ref", "kind", "namespace", "name", "body")[:200]),
            "doomed_total": doomed.count(),
            "entity_url": entity_page.entity_url(entity),
        },
    )


# --- registration and locations ------------------------------------------------------------


def _guess_type(target: str) -> str:
    return LocationType.URL if "://" in target else LocationType.FILE


@require_http_methods(["GET", "POST"])
def catalog_import(request: HttpRequest) -> HttpResponse:
    """Register an existing component: target → analyze → preview → import."""
    target = request.POST.get("target", request.GET.get("target", "")).strip()
    context: dict[str, Any] = {"target": target}
    if request.method == "POST" and target:
        type_ = _guess_type(target)
        try:
            if request.POST.get("action") == "import":
                location, _ = ingest.register_location(
                    type_, target, by=request.user.get_username()
                )
                messages.success(request, f"Registered {location}. Ingestion has started.")
                return redirect(reverse("catalog:location_list") + f"#location-{location.pk}")
            context["preview"] = preview_location(type_, target)
        except ingest.InvalidTarget as exc:
            context["error"] = str(exc)
        except ingest.LocationExists as exc:
            context["error"] = f"{exc.location} is already registered."
    if request.htmx:
        return render(request, "catalog/partials/_import_result.html", context)
    return render(request, "catalog/catalog_import.html", context)


@require_GET
def location_list(request: HttpRequest) -> HttpResponse:
    """Every location with its last ingestion run and a refresh button (paged)."""
    try:
        page = max(int(request.GET.get("page", "1")), 1)
    except ValueError:
        page = 1
    start = (page - 1) * LOCATIONS_PAGE_SIZE
    locations = list(Location.objects.order_by("target")[start : start + LOCATIONS_PAGE_SIZE + 1])
    more = len(locations) > LOCATIONS_PAGE_SIZE
    rows = browse.location_rows(locations[:LOCATIONS_PAGE_SIZE])
    return render(
        request,
        "catalog/location_list.html",
        {"rows": rows, "page": page, "more": more, "total": Location.objects.count()},
    )


def _location_row(request: HttpRequest, location: Location) -> HttpResponse:
    row = browse.location_rows([location])[0]
    return render(request, "catalog/partials/_location_row.html", {"row": row})


@require_GET
def location_row(request: HttpRequest, location_id: str) -> HttpResponse:
    """One location's row (polled by the page while its run is in progress)."""
    return _location_row(request, get_object_or_404(Location, pk=location_id))


@require_POST
def refresh_location(request: HttpRequest, location_id: str) -> HttpResponse:
    """Queue a run of one location now."""
    location = get_object_or_404(Location, pk=location_id)
    ingest.refresh_location(location, by=request.user.get_username())
    if request.htmx:
        return _location_row(request, location)
    messages.success(request, f"Refresh of {location} scheduled.")
    return redirect("catalog:location_list")
