"""TechDocs pages: the Docs list (/docs), the reader (/docs/{ns}/{kind}/{name}/{page}), the
entity's Docs tab, and "build now". Thin: each reads the request, calls the services,
renders a template."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from catalog import entity_page, identity
from catalog.models import Entity
from techdocs import listing, reader
from techdocs.choices import BuildStatus
from techdocs.models import DocsSite
from techdocs.sources import ANNOTATION
from techdocs.storage import get_storage


def _entity_or_404(namespace: str, kind: str, name: str) -> Entity:
    entity = (
        Entity.objects.defer("search")
        .filter(ref=entity_page.entity_key(namespace, kind, name))
        .first()
    )
    if entity is None:
        raise Http404(f"No {kind} named {namespace}/{name} in the catalog")
    return entity


def _is_owner(request: HttpRequest, entity: Entity) -> bool:
    person = identity.for_request(request)
    owners = {ref.lower() for ref in entity_page.owner_refs(entity)}
    return bool(owners & {ref.lower() for ref in person.ownership_refs})


def _edit_url(entity: Entity, page: reader.ReaderPage) -> str | None:
    # mkdocs' own (repo_url + edit_uri) knows the page's file; else the entity's edit-url.
    if page.edit_url:
        return page.edit_url
    annotations = entity.body.get("metadata", {}).get("annotations") or {}
    edit = annotations.get("backstage.io/edit-url")
    if isinstance(edit, str) and edit.startswith(("http://", "https://")):
        return edit
    return None


def _status_context(request: HttpRequest, entity: Entity, site: DocsSite | None) -> dict:
    build = site.last_build if site else None
    active = site.active_build() if site else None
    return {
        "site": site,
        "build": build,
        "active": active,
        "failed": bool(build and build.status == BuildStatus.FAILED),
        "is_owner": _is_owner(request, entity),
        "external": settings.GREENROOM_TECHDOCS_BUILDER == "external",
        "annotation": ANNOTATION,
    }


def _reader_context(request: HttpRequest, entity: Entity, path: str) -> dict[str, Any]:
    site = DocsSite.objects.filter(entity_ref=entity.ref).select_related("last_build").first()
    page = None
    if site is not None and site.published_at is not None:
        page = reader.read_page(site, get_storage(), path)
    context = {
        "entity": entity,
        "entity_url": entity_page.entity_url(entity),
        "page": page,
        "page_missing": site is not None and site.published_at is not None and page is None,
        **_status_context(request, entity, site),
    }
    if page is not None:
        context["edit_url"] = _edit_url(entity, page)
    return context


@require_GET
def docs_home(request: HttpRequest) -> HttpResponse:
    """Documentation: every documented entity, filtered by kind, owner, text or "mine"."""
    found = listing.DocsFilters.from_query(request.GET)
    person = identity.for_request(request)
    page, rows = listing.documented_page(found, person.ownership_refs)
    context = {
        "filters": found,
        "page": page,
        "rows": rows,
        "kinds": listing.kind_options(),
        "query": request.GET.copy(),
    }
    if request.htmx and request.htmx.target == "catalog-results":
        return render(request, "techdocs/partials/_docs_table.html", context)
    return render(request, "techdocs/docs_list.html", context)


@require_GET
def reader_page(
    request: HttpRequest, namespace: str, kind: str, name: str, path: str = ""
) -> HttpResponse:
    """A page of an entity's docs, rendered inside the portal."""
    entity = _entity_or_404(namespace, kind, name)
    context = _reader_context(request, entity, path)
    if context["page_missing"]:
        return render(request, "techdocs/reader.html", context, status=404)
    return render(request, "techdocs/reader.html", context)


@require_GET
def build_status(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """The build status box alone (polled while a build runs)."""
    entity = _entity_or_404(namespace, kind, name)
    site = DocsSite.objects.filter(entity_ref=entity.ref).select_related("last_build").first()
    context = {"entity": entity, **_status_context(request, entity, site)}
    return render(request, "techdocs/partials/_build_status.html", context)


@require_POST
def request_build(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """Check the entity's docs now and build them if the sources changed (or if forced)."""
    from portal import background
    from techdocs import tasks

    entity = _entity_or_404(namespace, kind, name)
    if settings.GREENROOM_TECHDOCS_BUILDER == "external":
        messages.info(request, "Docs are built outside Greenroom here (external builder).")
    else:
        background.dispatch(
            tasks.check_entity_task,
            entity.ref,
            request.user.get_username(),
            request.POST.get("force") == "1",
            priority=True,
        )
        messages.success(request, "Docs check requested: a build starts if the sources changed.")
    return redirect(request.POST.get("next") or reader.reader_url_for(entity))


def render_docs_tab(request: HttpRequest, entity: Entity) -> str:
    """The Docs tab of an entity page: build status, then the docs' home page."""
    context = _reader_context(request, entity, "")
    context["in_tab"] = True
    return render_to_string("techdocs/partials/_reader_body.html", context, request=request)
