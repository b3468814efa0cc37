"""Backstage catalog API endpoints (paths, status codes and JSON shapes as Backstage's)."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import ingest, lifecycle
from catalog.models import Entity, Location
from catalog.refs import RefError, parse_ref, ref_key
from catalog.serialization import backstage_entities, project

MAX_REFS = 10_000


class ReadOpenWriteAuthenticated(BasePermission):
    """Reads are open; every write needs a signed-in session (tokens come with the API).

    Some reads are POSTs in Backstage's API (by-refs, by-query): views say so with
    `post_is_read = True`.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        is_read = request.method in SAFE_METHODS or (
            request.method == "POST" and getattr(view, "post_is_read", False)
        )
        return is_read or IsAuthenticated().has_permission(request, view)


class CatalogView(APIView):
    permission_classes = [ReadOpenWriteAuthenticated]


def _entity_or_404(kind: str, namespace: str, name: str) -> Entity:
    entity = Entity.objects.filter(ref=ref_key(kind, namespace, name)).first()
    if entity is None:
        raise NotFound(
            f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        )
    return entity


def _location_json(location: Location) -> dict[str, Any]:
    return {"id": str(location.id), "type": location.type, "target": location.target}


class EntityByNameView(CatalogView):
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        (document,) = backstage_entities([_entity_or_404(kind, namespace, name)])
        return Response(document)


class EntityAncestryView(CatalogView):
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        return Response(lifecycle.ancestry(_entity_or_404(kind, namespace, name)))


class EntityByUidView(CatalogView):
    def _find(self, uid: str) -> Entity | None:
        try:
            return Entity.objects.filter(uid=uuid.UUID(uid)).first()
        except ValueError:
            return None

    def get(self, request: Request, uid: str) -> Response:
        entity = self._find(uid)
        if entity is None:
            raise NotFound(f"No entity with uid {uid}")
        (document,) = backstage_entities([entity])
        return Response(document)

    def delete(self, request: Request, uid: str) -> Response:
        entity = self._find(uid)
        if entity is not None:
            ingest.delete_entity(entity)
        return Response(status=204)


class EntitiesByRefsView(CatalogView):
    post_is_read = True

    def post(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise ParseError("the body must be a JSON object with entityRefs")
        refs = request.data.get("entityRefs")
        fields = request.data.get("fields")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise ValidationError("entityRefs must be a list of entity reference strings")
        if len(refs) > MAX_REFS:
            raise ValidationError(f"at most {MAX_REFS} entityRefs per request")
        if fields is not None and (
            not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
        ):
            raise ValidationError("fields must be a list of dotted paths")
        keys = []
        for ref in refs:
            try:
                keys.append(parse_ref(ref).key if ":" in ref else None)
            except RefError:
                keys.append(None)
        found = {e.ref: e for e in Entity.objects.filter(ref__in=[k for k in keys if k])}
        documents = {
            e.ref: d
            for e, d in zip(found.values(), backstage_entities(list(found.values())), strict=True)
        }
        items = [project(documents[k], fields) if k in documents else None for k in keys]
        return Response({"items": items})


class LocationListView(CatalogView):
    def get(self, request: Request) -> Response:
        return Response(
            [{"data": _location_json(loc)} for loc in Location.objects.order_by("created_at")]
        )


class LocationDetailView(CatalogView):
    def get(self, request: Request, location_id: str) -> Response:
        try:
            location = Location.objects.filter(pk=uuid.UUID(location_id)).first()
        except ValueError:
            location = None
        if location is None:
            raise NotFound(f"Found no location with ID {location_id}")
        return Response(_location_json(location))


class LocationByEntityView(CatalogView):
    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        entity = _entity_or_404(kind, namespace, name)
        if entity.location is None:
            raise NotFound(f"No location found for entity {entity.display_ref}")
        return Response(_location_json(entity.location))
