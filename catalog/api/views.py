"""Backstage catalog API endpoints (paths, status codes and JSON shapes as Backstage's).

Views parse and check the request, call the catalog's services (`listing`, `ingest`,
`preview`, `lifecycle`) and shape the answer; they hold no query logic of their own.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from django.db.models.expressions import RawSQL
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import filters, ingest, lifecycle, listing, preview
from catalog.choices import LocationOrigin
from catalog.config import get_config
from catalog.models import Entity, Location
from catalog.refs import RefError, parse_ref, ref_key
from catalog.serialization import backstage_entities, iter_backstage_entities, project
from catalog.validation import validate_entity
from portal.api.auth import principal_name
from portal.api.errors import ConflictError

logger = logging.getLogger("catalog.audit")

MAX_REFS = 10_000
_FILTER = OpenApiParameter("filter", str, many=True, description="key[=value][,...]; OR'd")
_FIELDS = OpenApiParameter("fields", str, many=True, description="dotted paths to keep")


class CatalogView(APIView):
    """Base of the catalog API views (authentication and permissions from settings)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # PostgreSQL cannot store or compare NUL characters; say so instead of failing.
        if (
            any("\x00" in v for values in request.query_params.lists() for v in values[1])
            or (request.method in ("POST", "PUT") and _has_nul(request.data))
            or _has_nul(list(kwargs.values()))
        ):
            raise ValidationError("the request contains a NUL character (\\u0000)")


class CatalogReadView(CatalogView):
    """A view whose POST only reads (Backstage's by-refs, by-query, facets)."""

    post_is_read = True


# --- request parsing -----------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _body(request: Request, allowed: set[str]) -> dict[str, Any]:
    """Return the JSON object body, refusing other shapes and keys Backstage does not know."""
    data = request.data
    if not isinstance(data, dict):
        raise ParseError("the request body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(
            f"unknown field(s) in the request body: {', '.join(unknown)} "
            f"(allowed: {', '.join(sorted(allowed))})"
        )
    return data


def _non_negative_int(raw: Any, name: str, default: int | None) -> int | None:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise ValidationError(f"{name} must be a whole number")
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValidationError(f"{name} must not be negative")
    return value


def _limit(raw: Any, default: int | None) -> int | None:
    limit = _non_negative_int(raw, "limit", default)
    if limit is not None and limit > listing.MAX_LIMIT:
        raise ValidationError(f"limit must be at most {listing.MAX_LIMIT}")
    return limit


def _string_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings")
    return value


def _fields_param(params: Any) -> list[str]:
    return [f.strip() for p in params.getlist("fields") for f in p.split(",") if f.strip()]


def _filter_expr(params: list[str]) -> filters.Expr | None:
    try:
        return filters.parse_filters(params)
    except filters.FilterError as exc:
        raise ValidationError(str(exc)) from None


def _predicate_expr(predicate: Any) -> filters.Expr | None:
    if predicate is None:
        return None
    try:
        return filters.parse_predicate(predicate)
    except filters.FilterError as exc:
        raise ValidationError(str(exc)) from None


def _order_field(raw: str) -> tuple[str, bool]:
    field, _, direction = raw.partition(",")
    direction = direction.strip().lower() or "asc"
    if not field.strip() or direction not in ("asc", "desc"):
        raise ValidationError(f"invalid orderField {raw!r}: use <field>,asc or <field>,desc")
    return field.strip(), direction == "desc"


def _cursor(raw: str) -> dict[str, Any]:
    try:
        return listing.decode_cursor(raw)
    except listing.CursorError as exc:
        raise ValidationError(str(exc)) from None


def _cursor_page(raw: str, limit: int) -> listing.Page:
    try:
        return listing.page_from_cursor(_cursor(raw), limit)
    except listing.CursorError as exc:
        raise ValidationError(str(exc)) from None


def _documents(entities: list[Entity], fields: list[str]) -> list[dict[str, Any]]:
    with_relations = not fields or any(f.split(".")[0] == "relations" for f in fields)
    return [project(d, fields) for d in backstage_entities(entities, with_relations)]


def _entity_or_404(kind: str, namespace: str, name: str) -> Entity:
    # Not .first(): its ORDER BY id makes PostgreSQL walk the primary key instead of the
    # unique ref index (5 ms instead of 0.1 ms at 100,000 entities).
    entity = next(
        iter(Entity.objects.defer("search").filter(ref=ref_key(kind, namespace, name))[:1]),
        None,
    )
    if entity is None:
        raise NotFound(
            f"No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        )
    return entity


def _location_json(location: Location) -> dict[str, Any]:
    return {
        "id": str(location.id),
        "type": location.type,
        "target": location.target,
        # The generated Location entity standing for it (required by catalog-client 1.15+).
        "entityRef": f"location:default/{location.entity_name}",
    }


def _location_or_404(location_id: str) -> Location:
    try:
        location = Location.objects.filter(pk=uuid.UUID(location_id)).first()
    except ValueError:
        location = None
    if location is None:
        raise NotFound(f"Found no location with ID {location_id}")
    return location


# --- entities ----------------------------------------------------------------------------


class EntityByNameView(CatalogView):
    operation_ids = {"get": "getEntityByName"}

    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        (document,) = backstage_entities([_entity_or_404(kind, namespace, name)])
        return Response(document)


class EntityAncestryView(CatalogView):
    operation_ids = {"get": "getEntityAncestryByName"}

    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        return Response(lifecycle.ancestry(_entity_or_404(kind, namespace, name)))


class EntityByUidView(CatalogView):
    operation_ids = {"get": "getEntityByUid", "delete": "deleteEntityByUid"}

    def _find(self, uid: str) -> Entity | None:
        try:
            found = Entity.objects.defer("search").filter(uid=uuid.UUID(uid))[:1]
            return next(iter(found), None)
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
            logger.info("entity-mutate delete %s by %s", entity.ref, principal_name(request))
        return Response(status=204)


class EntitiesByRefsView(CatalogReadView):
    operation_ids = {"post": "getEntitiesByRefs"}

    @extend_schema(parameters=[_FILTER])
    def post(self, request: Request) -> Response:
        data = _body(request, {"entityRefs", "fields", "query"})
        refs = data.get("entityRefs")
        if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
            raise ValidationError("entityRefs must be a list of entity reference strings")
        if len(refs) > MAX_REFS:
            raise ValidationError(f"at most {MAX_REFS} entityRefs per request")
        fields = _string_list(data.get("fields"), "fields")
        expr = filters.all_of(
            _filter_expr(request.query_params.getlist("filter")),
            _predicate_expr(data.get("query")),
        )
        keys = []
        for ref in refs:
            try:
                keys.append(parse_ref(ref).key if ":" in ref else None)
            except RefError:
                keys.append(None)
        queryset = listing.EntityQuery(expr=expr).queryset()
        found = list(queryset.filter(ref__in=[k for k in keys if k]))
        documents = {e.ref: d for e, d in zip(found, _documents(found, fields), strict=True)}
        return Response({"items": [documents.get(k) if k else None for k in keys]})


class EntityListView(CatalogView):
    """Backstage's legacy `GET /entities`: filter, fields, order, limit/offset/after.

    Without a limit Backstage returns every match; here that list is streamed in chunks, so
    the server never holds 100,000 entities in memory at once.
    """

    operation_ids = {"get": "getEntities"}

    @extend_schema(
        parameters=[
            _FILTER,
            _FIELDS,
            OpenApiParameter("order", str, many=True, description="asc:<field> | desc:<field>"),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
            OpenApiParameter("after", str),
        ]
    )
    def get(self, request: Request) -> Any:
        params = request.query_params
        query = listing.EntityQuery(expr=_filter_expr(params.getlist("filter")))
        fields = _fields_param(params)
        offset = _non_negative_int(params.get("offset"), "offset", 0) or 0
        limit = _limit(params.get("limit"), None)
        if params.get("after"):
            offset = _after_offset(params["after"])
        order_by: list[Any] = []
        for item in params.getlist("order"):
            direction, _, field = item.partition(":")
            if direction not in ("asc", "desc") or not field:
                raise ValidationError(f"invalid order {item!r}: use asc:<field> or desc:<field>")
            expression, expression_params = filters.order_sql(field)
            column = RawSQL(expression, expression_params)
            order_by.append(
                column.desc(nulls_last=True) if direction == "desc" else column.asc(nulls_last=True)
            )
        if order_by:
            queryset = query.queryset().order_by(*order_by, "ref")
        else:
            queryset = listing.ordered(query.queryset(), query)

        if limit is None:
            return StreamingHttpResponse(
                _stream_json_array(queryset[offset:] if offset else queryset, fields),
                content_type="application/json",
            )
        page = list(queryset[offset : offset + limit + 1])
        response = Response(_documents(page[:limit], fields))
        if len(page) > limit:
            next_query = request.GET.copy()
            next_query["after"] = listing.encode_cursor({"v": 1, "offset": offset + limit})
            next_query.pop("offset", None)
            response["Link"] = f'<{request.path}?{next_query.urlencode()}>; rel="next"'
        return response


def _after_offset(raw: str) -> int:
    try:
        offset = listing.decode_cursor(raw).get("offset")
    except listing.CursorError:
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError("after is not a cursor this server issued")
    return offset


def _stream_json_array(queryset: Any, fields: list[str]) -> Iterator[bytes]:
    with_relations = not fields or any(f.split(".")[0] == "relations" for f in fields)
    yield b"["
    for index, document in enumerate(iter_backstage_entities(queryset, with_relations)):
        yield (b"," if index else b"") + json.dumps(
            project(document, fields), separators=(",", ":"), ensure_ascii=False
        ).encode()
    yield b"]"


class EntitiesByQueryView(CatalogReadView):
    """`GET` and `POST /entities/by-query`: keyset pages with a cursor, and a total count."""

    operation_ids = {"get": "getEntitiesByQuery", "post": "queryEntitiesByPredicate"}

    @extend_schema(
        parameters=[
            _FILTER,
            _FIELDS,
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
            OpenApiParameter("orderField", str, many=True, description="<field>,asc|desc"),
            OpenApiParameter("cursor", str),
            OpenApiParameter("fullTextFilterTerm", str),
            OpenApiParameter("fullTextFilterFields", str, many=True),
            OpenApiParameter("totalItems", str, enum=["include", "exclude"]),
        ]
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        fields = _fields_param(params)
        limit = _limit(params.get("limit"), listing.DEFAULT_LIMIT)
        if params.get("cursor"):
            return self._answer(_cursor_page(params["cursor"], limit), fields)
        query = listing.EntityQuery(
            expr=_filter_expr(params.getlist("filter")),
            source=("filter", params.getlist("filter")),
        )
        orders = params.getlist("orderField")
        self._set_order(query, [_order_field(o) for o in orders])
        query.full_text_term = (params.get("fullTextFilterTerm") or "").strip()
        query.full_text_fields = [
            f.strip()
            for p in params.getlist("fullTextFilterFields")
            for f in p.split(",")
            if f.strip()
        ]
        offset = _non_negative_int(params.get("offset"), "offset", 0) or 0
        return self._first(query, limit, offset, params.get("totalItems"), fields)

    def post(self, request: Request) -> Response:
        data = _body(
            request,
            {"query", "cursor", "limit", "offset", "orderBy", "fullTextFilter", "fields"}
            | {"totalItems"},
        )
        fields = _string_list(data.get("fields"), "fields")
        limit = _limit(data.get("limit"), listing.DEFAULT_LIMIT)
        if data.get("cursor") is not None:
            if not isinstance(data["cursor"], str):
                raise ValidationError("cursor must be a string")
            return self._answer(_cursor_page(data["cursor"], limit), fields)
        predicate = data.get("query")
        query = listing.EntityQuery(expr=_predicate_expr(predicate), source=("query", predicate))
        order_by = data.get("orderBy") or []
        if isinstance(order_by, dict):
            order_by = [order_by]
        if not isinstance(order_by, list) or not all(
            isinstance(o, dict) and isinstance(o.get("field"), str) for o in order_by
        ):
            raise ValidationError("orderBy must be a list of {field, order}")
        orders = []
        for item in order_by:
            direction = str(item.get("order") or "asc").lower()
            if direction not in ("asc", "desc"):
                raise ValidationError(f"orderBy order must be asc or desc, not {direction!r}")
            orders.append((item["field"], direction == "desc"))
        self._set_order(query, orders)
        text = data.get("fullTextFilter") or {}
        if not isinstance(text, dict) or not isinstance(text.get("term", ""), str):
            raise ValidationError("fullTextFilter must be {term, fields}")
        query.full_text_term = str(text.get("term") or "").strip()
        query.full_text_fields = _string_list(text.get("fields"), "fullTextFilter.fields")
        offset = _non_negative_int(data.get("offset"), "offset", 0) or 0
        return self._first(query, limit, offset, data.get("totalItems"), fields)

    @staticmethod
    def _set_order(query: listing.EntityQuery, orders: list[tuple[str, bool]]) -> None:
        if len(orders) > 1:
            raise ValidationError("only one order field is supported")
        if orders:
            query.order_field, query.descending = orders[0]

    def _first(
        self,
        query: listing.EntityQuery,
        limit: int,
        offset: int,
        total_items: Any,
        fields: list[str],
    ) -> Response:
        if total_items not in (None, "include", "exclude"):
            raise ValidationError("totalItems must be include or exclude")
        page = listing.first_page(query, limit, offset, with_total=total_items != "exclude")
        return self._answer(page, fields)

    @staticmethod
    def _answer(page: listing.Page, fields: list[str]) -> Response:
        page_info = {}
        if page.next_cursor:
            page_info["nextCursor"] = page.next_cursor
        if page.prev_cursor:
            page_info["prevCursor"] = page.prev_cursor
        return Response(
            {
                "items": _documents(page.entities, fields),
                # Backstage's schema requires the number: 0 when the caller excluded it.
                "totalItems": page.total if page.total is not None else 0,
                "pageInfo": page_info,
            }
        )


class EntityFacetsView(CatalogReadView):
    """`GET /entity-facets?facet=…&filter=…` and `POST /entity-facets` with a predicate."""

    operation_ids = {"get": "getEntityFacets", "post": "queryEntityFacetsByPredicate"}

    @extend_schema(parameters=[OpenApiParameter("facet", str, many=True), _FILTER])
    def get(self, request: Request) -> Response:
        params = request.query_params
        return self._answer(params.getlist("facet"), _filter_expr(params.getlist("filter")))

    def post(self, request: Request) -> Response:
        data = _body(request, {"facets", "query"})
        keys = _string_list(data.get("facets"), "facets")
        return self._answer(keys, _predicate_expr(data.get("query")))

    @staticmethod
    def _answer(facet_keys: list[str], expr: filters.Expr | None) -> Response:
        keys = [k.strip() for k in facet_keys if k.strip()]
        if not keys:
            raise ValidationError("give at least one facet")
        if len(keys) > listing.MAX_FACETS:
            raise ValidationError(f"at most {listing.MAX_FACETS} facets per request")
        return Response({"facets": listing.cached_facets(expr, keys)})


class RefreshView(CatalogView):
    """`POST /refresh {entityRef}`: re-read the entity's file now, ahead of periodic work."""

    operation_ids = {"post": "refreshEntity"}

    def post(self, request: Request) -> Response:
        data = _body(request, {"entityRef", "authorizationToken"})
        raw = data.get("entityRef")
        try:
            ref = parse_ref(raw)
        except RefError as exc:
            raise ValidationError(f"entityRef: {exc}") from None
        entity = _entity_or_404(ref.kind, ref.namespace, ref.name)
        ingest.refresh_entity(entity, by=principal_name(request))
        logger.info("entity-mutate refresh %s by %s", entity.ref, principal_name(request))
        return Response(status=200)


class ValidateEntityView(CatalogReadView):
    """`POST /validate-entity {location, entity}`: 200 when valid, else 400 {errors}."""

    operation_ids = {"post": "validateEntity"}

    def post(self, request: Request) -> Response:
        data = _body(request, {"location", "entity"})
        location = data.get("location")
        if not isinstance(location, str) or not location.startswith("url:"):
            # Backstage validates against URL locations only, and answers in the errors list.
            return Response(
                {
                    "errors": [
                        {
                            "name": "TypeError",
                            "message": f"Invalid location ref {location!r}, only "
                            "'url:<target>' is supported, e.g. url:https://host/catalog-info.yaml",
                        }
                    ]
                },
                status=400,
            )
        problems = validate_entity(data.get("entity"), get_config())
        if not problems:
            return Response(status=200)
        return Response(
            {"errors": [{"name": "InputError", "message": str(p)} for p in problems]},
            status=400,
        )


# --- locations ---------------------------------------------------------------------------


class LocationListView(CatalogView):
    operation_ids = {"get": "getLocations", "post": "createLocation"}

    def get(self, request: Request) -> Response:
        return Response(
            [{"data": _location_json(loc)} for loc in Location.objects.order_by("created_at")]
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("dryRun", str, enum=["true", "false"]),
            OpenApiParameter("onConflict", str, enum=["reject", "refresh"]),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _body(request, {"type", "target", "presence"})
        type_, target = data.get("type", "url"), data.get("target")
        if not isinstance(type_, str) or not isinstance(target, str) or not target.strip():
            raise ValidationError("the body must be {type, target} with a non-empty target")
        dry_run = request.query_params.get("dryRun", "false").lower()
        on_conflict = request.query_params.get("onConflict", "reject")
        if dry_run not in ("true", "false"):
            raise ValidationError("dryRun must be true or false")
        if on_conflict not in ("reject", "refresh"):
            raise ValidationError("onConflict must be reject or refresh")
        if dry_run == "true":
            return self._dry_run(type_, target)
        by = principal_name(request)
        try:
            location, _ = ingest.register_location(type_, target, by=by)
        except ingest.InvalidTarget as exc:
            raise ValidationError(str(exc)) from None
        except ingest.LocationExists as exc:
            if on_conflict != "refresh":
                raise ConflictError(f"Location {exc.location.key} already exists") from None
            location = exc.location
            ingest.refresh_location(location, by=by)
        logger.info("location-mutate create %s by %s", location.key, by)
        return Response({"location": _location_json(location), "entities": []}, status=201)

    def _dry_run(self, type_: str, target: str) -> Response:
        try:
            result = preview.preview_location(type_, target)
        except ingest.InvalidTarget as exc:
            raise ValidationError(str(exc)) from None
        if result.errors:
            raise ValidationError(
                "; ".join(lifecycle.describe_error(error) for error in result.errors[:20])
            )
        existing = Location.objects.filter(type=type_, target=target.strip()).first()
        if existing is not None:
            location = _location_json(existing)
        else:  # Backstage names a location that does not exist yet by its type:target
            candidate = Location(type=type_, target=target.strip())
            location = {**_location_json(candidate), "id": candidate.key}
        return Response(
            {"location": location, "entities": result.entities, "exists": existing is not None},
            status=201,
        )


class LocationDetailView(CatalogView):
    operation_ids = {"get": "getLocation", "put": "updateLocation", "delete": "deleteLocation"}

    def get(self, request: Request, location_id: str) -> Response:
        return Response(_location_json(_location_or_404(location_id)))

    def put(self, request: Request, location_id: str) -> Response:
        location = self._mutable(location_id)
        data = _body(request, {"type", "target"})
        type_, target = data.get("type", location.type), data.get("target")
        if not isinstance(type_, str) or not isinstance(target, str):
            raise ValidationError("the body must be {type, target}")
        try:
            location = ingest.move_location(location, type_, target, by=principal_name(request))
        except ingest.InvalidTarget as exc:
            raise ValidationError(str(exc)) from None
        except ingest.LocationExists as exc:
            raise ConflictError(f"Location {exc.location.key} already exists") from None
        logger.info("location-mutate update %s by %s", location.key, principal_name(request))
        return Response(_location_json(location))

    def delete(self, request: Request, location_id: str) -> Response:
        location = self._mutable(location_id)
        ingest.unregister_location(location)
        logger.info("location-mutate delete %s by %s", location.key, principal_name(request))
        return Response(status=204)

    @staticmethod
    def _mutable(location_id: str) -> Location:
        location = _location_or_404(location_id)
        if location.origin == LocationOrigin.CONFIG:
            raise PermissionDenied(
                f"Location {location.key} comes from the config file; change it there"
            )
        return location


class LocationsByQueryView(CatalogReadView):
    """`POST /locations/by-query {query?, limit?, cursor?}` over id, type and target."""

    operation_ids = {"post": "getLocationsByQuery"}

    MAX_LOCATIONS = 100_000

    def post(self, request: Request) -> Response:
        data = _body(request, {"query", "limit", "cursor"})
        limit = _limit(data.get("limit"), 100) or 0
        cursor = data.get("cursor")
        if cursor is not None:
            state = _cursor(cursor) if isinstance(cursor, str) else {}
            predicate, offset = state.get("query"), state.get("offset")
            if not isinstance(offset, int) or offset < 0:
                raise ValidationError("cursor is not a cursor this server issued")
        else:
            predicate, offset = data.get("query"), 0
        expr = _predicate_expr(predicate)
        matching = [
            location
            for location in Location.objects.order_by("created_at", "id")[: self.MAX_LOCATIONS]
            if expr is None
            or filters.evaluate(
                expr,
                {
                    "id": [str(location.id)],
                    "type": [location.type],
                    "target": [location.target.lower()],
                },
            )
        ]
        items = matching[offset : offset + limit]
        page_info = {}
        if offset + limit < len(matching):
            page_info["nextCursor"] = listing.encode_cursor(
                {"v": 1, "query": predicate, "offset": offset + limit}
            )
        return Response(
            {
                "items": [_location_json(loc) for loc in items],
                "totalItems": len(matching),
                "pageInfo": page_info,
            }
        )


class LocationByEntityView(CatalogView):
    operation_ids = {"get": "getLocationByEntity"}

    def get(self, request: Request, kind: str, namespace: str, name: str) -> Response:
        entity = _entity_or_404(kind, namespace, name)
        if entity.location is None:
            raise NotFound(f"No location found for entity {entity.display_ref}")
        return Response(_location_json(entity.location))


class AnalyzeLocationView(CatalogView):
    """`POST /analyze-location`: what registering a file, folder or repository would add."""

    operation_ids = {"post": "analyzeLocation"}

    def post(self, request: Request) -> Response:
        data = _body(request, {"location", "catalogFileName"})
        location = data.get("location")
        if not isinstance(location, dict) or not isinstance(location.get("target"), str):
            raise ValidationError("location must be {type, target}")
        type_ = location.get("type") or "url"
        name = data.get("catalogFileName")
        if name is not None and not isinstance(name, str):
            raise ValidationError("catalogFileName must be a string")
        try:
            result = preview.analyze_location(str(type_), location["target"], name)
        except ingest.InvalidTarget as exc:
            raise ValidationError(str(exc)) from None
        logger.info("location-analyze %s by %s", location["target"], principal_name(request))
        return Response(result)
