"""Backstage's search API: `GET /api/search/query` (search-backend's route and JSON shape).

    GET /api/search/query?term=checkout&types[0]=software-catalog&filters[kind]=component
        &pageCursor=MQ==&pageLimit=25

Query parameters are read the way Backstage's client writes them (qs-style: `types[0]`,
`types[]` or repeated `types`; `filters[kind]`, `filters[owner][0]`).
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.search import query

_TYPES = re.compile(r"^types(?:\[\d*\])?$")
_FILTER = re.compile(r"^filters\[([^\[\]]+)\](?:\[\d*\])?$")
MAX_FILTER_VALUES = 50


def parse_params(params: Any) -> dict[str, Any]:
    """Return search() arguments from qs-style query parameters; ValidationError if bad."""
    types: list[str] = []
    filters: dict[str, list[str]] = {}
    for key, values in params.lists():
        if _TYPES.match(key):
            types.extend(values)
        elif match := _FILTER.match(key):
            filters.setdefault(match.group(1), []).extend(values)
    if any(len(values) > MAX_FILTER_VALUES for values in filters.values()) or len(types) > 50:
        raise ValidationError(f"at most {MAX_FILTER_VALUES} values per filter or for types")
    limit = params.get("pageLimit") or query.DEFAULT_PAGE_LIMIT
    try:
        limit = int(limit)
    except ValueError as exc:
        raise ValidationError("pageLimit must be a whole number") from exc
    if not 1 <= limit <= query.MAX_PAGE_LIMIT:
        raise ValidationError(f"pageLimit must be between 1 and {query.MAX_PAGE_LIMIT}")
    values = [params.get("term", ""), *types, *(v for vs in filters.values() for v in vs)]
    if any("\x00" in value for value in values):
        raise ValidationError("the request contains a NUL character (\\u0000)")
    return {
        "term": params.get("term", ""),
        "types": types,
        "filters": filters,
        "page_cursor": params.get("pageCursor") or None,
        "page_limit": limit,
    }


class SearchQueryView(APIView):
    """Search the portal: entities, docs pages, templates and plugins' documents."""

    @extend_schema(
        parameters=[
            OpenApiParameter("term", str, description="words to find (each as a prefix)"),
            OpenApiParameter(
                "types",
                str,
                many=True,
                description="document types: software-catalog, techdocs, template, or a "
                "plugin's (also sent as types[0], types[1]…)",
            ),
            OpenApiParameter(
                "filters[kind]", str, description="any filters[<field>]: kind, lifecycle, owner…"
            ),
            OpenApiParameter("pageCursor", str, description="nextPageCursor of a previous page"),
            OpenApiParameter("pageLimit", int, description="results per page, 1-100 (25)"),
        ],
        responses={200: dict, 400: dict},
    )
    def get(self, request: Request) -> Response:
        arguments = parse_params(request.query_params)
        try:
            return Response(query.search(**arguments))
        except query.InvalidQuery as exc:
            raise ValidationError(str(exc)) from exc
