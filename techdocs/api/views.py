"""Backstage's TechDocs API (/api/techdocs): static files of published sites, their
metadata, the entity, and `sync` (the build log as server-sent events)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Entity
from catalog.serialization import backstage_entities
from techdocs import sources
from techdocs.choices import BuildStatus
from techdocs.models import DocsBuild, DocsSite
from techdocs.storage import content_type, get_storage

# Files from docs are served as they are, so a page opened directly must not run its
# scripts with the portal's cookies: a sandboxed, script-less document.
STATIC_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'"
SYNC_POLL_SECONDS = 0.3


def _entity_or_404(namespace: str, kind: str, name: str) -> Entity:
    ref = f"{kind.lower()}:{namespace.lower()}/{name.lower()}"
    entity = next(iter(Entity.objects.defer("search").filter(ref=ref)[:1]), None)
    if entity is None:
        raise NotFound(f"Entity not found for {kind}:{namespace}/{name}")
    return entity


def _site(entity: Entity) -> DocsSite | None:
    return DocsSite.objects.filter(entity_ref=entity.ref).first()


class TechDocsView(APIView):
    """Base of the TechDocs API views (authentication and permissions from settings)."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # Files, event streams and JSON alike: whatever the Accept header (EventSource asks
        # for text/event-stream, images for image/*), never a 406.
        return super().perform_content_negotiation(request, force=True)


class StaticDocsView(TechDocsView):
    """GET /static/docs/{namespace}/{kind}/{name}/{path}: a file of the published site."""

    def get(self, request: Request, namespace: str, kind: str, name: str, path: str = "") -> Any:
        entity = _entity_or_404(namespace, kind, name)
        site = _site(entity)
        triplet = (entity.namespace, entity.kind, entity.name)
        if site is not None:
            triplet = site.triplet
        found = get_storage().file_path(triplet, path)
        if found is None:
            raise NotFound(f"Page not found: {path or 'index.html'}")
        # FileResponse closes the file when the response is done.
        response = FileResponse(open(found, "rb"), content_type=content_type(found.name))  # noqa: SIM115
        response["Content-Security-Policy"] = STATIC_CSP
        response["X-Content-Type-Options"] = "nosniff"
        return response


class TechDocsMetadataView(TechDocsView):
    """GET /metadata/techdocs/{namespace}/{kind}/{name}: the site's techdocs_metadata.json."""

    def get(self, request: Request, namespace: str, kind: str, name: str) -> Response:
        entity = _entity_or_404(namespace, kind, name)
        site = _site(entity)
        metadata = get_storage().read_metadata(site.triplet) if site else None
        if metadata is None:
            raise NotFound(f"Unable to get metadata for '{entity.display_ref}'")
        return Response(metadata)


class EntityMetadataView(TechDocsView):
    """GET /metadata/entity/{namespace}/{kind}/{name}: the entity, with locationMetadata."""

    def get(self, request: Request, namespace: str, kind: str, name: str) -> Response:
        entity = _entity_or_404(namespace, kind, name)
        document = backstage_entities([entity])[0]
        value = sources.entity_ref_value(entity.body)
        location: dict[str, Any] = {}
        if value:
            try:
                parsed = sources.parse_ref(value)
                location = {"type": parsed.type, "target": parsed.target}
            except sources.SourceError:
                location = {}
        return Response({**document, "locationMetadata": location})


def _event(kind: str, data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


def sync_events(entity: Entity, started: Any, timeout: float) -> Iterator[str]:
    """Yield Backstage's sync events: `log` lines of the build as they come, then `finish`
    with {updated} or `error` with the message."""
    deadline = time.monotonic() + timeout
    build: DocsBuild | None = None
    sent = 0
    while time.monotonic() < deadline:
        site = DocsSite.objects.filter(entity_ref=entity.ref).first()
        if site is not None and build is None:
            build = (
                site.builds.filter(created_at__gte=started).order_by("id").first()
                or site.active_build()
            )
            if build is None and site.checked_at and site.checked_at >= started:
                yield _event("finish", {"updated": False})
                return
        if build is not None:
            build.refresh_from_db(fields=["status", "log", "error"])
            if len(build.log) > sent:
                for line in build.log[sent:].splitlines():
                    yield _event("log", line)
                sent = len(build.log)
            if build.status == BuildStatus.SUCCEEDED:
                yield _event("finish", {"updated": True})
                return
            if build.status == BuildStatus.FAILED:
                yield _event("error", f"Failed to build the docs page: {build.error}")
                return
        time.sleep(SYNC_POLL_SECONDS)
    yield _event("error", "The docs build did not finish in time; check back later.")


class SyncView(TechDocsView):
    """GET /sync/{namespace}/{kind}/{name}: check the docs, build them if they changed, and
    stream the build log as server-sent events (log, then finish or error)."""

    def get(self, request: Request, namespace: str, kind: str, name: str) -> HttpResponse:
        from portal import background
        from techdocs import tasks

        entity = _entity_or_404(namespace, kind, name)
        if settings.GREENROOM_TECHDOCS_BUILDER == "external" or not sources.entity_ref_value(
            entity.body
        ):
            events: Iterator[str] = iter([_event("finish", {"updated": False})])
        else:
            started = timezone.now()
            background.dispatch(tasks.check_entity_task, entity.ref, "sync", priority=True)
            timeout = settings.GREENROOM_TECHDOCS_BUILD_TIMEOUT + 120
            events = sync_events(entity, started, timeout)
        response = StreamingHttpResponse(events, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
