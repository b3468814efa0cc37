"""Backstage catalog API endpoints (paths, status codes and JSON shapes as Backstage's)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse
from rest_framework.exceptions import NotFound, ParseError, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import filters, ingest, lifecycle
from catalog.models import Entity, Location
from catalog.refs import RefError, parse_ref, ref_key
from catalog.serialization import backstage_entities, iter_backstage_entities, project

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


class EntityListView(CatalogView):
    """Backstage's legacy `GET /entities`: filter, fields, order, limit/offset/after.

    Without a limit Backstage returns every match; here that list is streamed in chunks, so
    the server never holds 100,000 entities in memory at once.
    """

    MAX_LIMIT = 10_000

    def get(self, request: Request) -> Any:
        params = request.query_params
        try:
            groups = filters.parse_filters(params.getlist("filter"))
        except filters.FilterError as exc:
            raise ValidationError(str(exc)) from None
        fields = [f for p in params.getlist("fields") for f in p.split(",") if f.strip()]
        offset = _non_negative_int(params, "offset", 0)
        limit = _non_negative_int(params, "limit", None)
        if params.get("after"):
            offset = _decode_cursor(params["after"])
        if limit is not None and limit > self.MAX_LIMIT:
            raise ValidationError(f"limit must be at most {self.MAX_LIMIT}")

        queryset = Entity.objects.all()
        if groups:
            sql, sql_params = filters.filter_sql(groups)
            queryset = queryset.extra(where=[sql], params=sql_params)
        order = params.getlist("order")
        order_by: list[Any] = []
        for item in order:
            direction, _, field = item.partition(":")
            if direction not in ("asc", "desc") or not field:
                raise ValidationError(f"invalid order {item!r}: use asc:<field> or desc:<field>")
            expression, expression_params = filters.order_sql(field)
            column = RawSQL(expression, expression_params)
            order_by.append(
                column.desc(nulls_last=True) if direction == "desc" else column.asc(nulls_last=True)
            )
        queryset = queryset.order_by(*order_by, "ref")

        if limit is None:
            return StreamingHttpResponse(
                _stream_json_array(queryset[offset:] if offset else queryset, fields),
                content_type="application/json",
            )
        page = list(queryset[offset : offset + limit + 1])
        documents = [project(d, fields) for d in backstage_entities(page[:limit])]
        response = Response(documents)
        if len(page) > limit:
            query = request.GET.copy()
            query["after"] = _encode_cursor(offset + limit)
            query.pop("offset", None)
            response["Link"] = f'<{request.path}?{query.urlencode()}>; rel="next"'
        return response


def _non_negative_int(params: Any, name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValidationError(f"{name} must not be negative")
    return value


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ValidationError("after is not a cursor this server issued") from None


def _stream_json_array(queryset: Any, fields: list[str]) -> Iterator[bytes]:
    yield b"["
    for index, document in enumerate(iter_backstage_entities(queryset)):
        yield (b"," if index else b"") + json.dumps(
            project(document, fields), separators=(",", ":"), ensure_ascii=False
        ).encode()
    yield b"]"
