"""Listing entities for the API and the UI: filtered, ordered, paged by cursor, counted,
and summarised as facets, all in a few bulk queries whatever the catalog's size.

Pages are keyset pages: a cursor carries the sort value and ref of the last (or first) row
it has seen, so page 1,000 costs what page 1 costs, and rows written meanwhile neither repeat
nor vanish. Order is the chosen field's first value (lower-cased, nulls last) then the ref,
which makes every ordering total.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import FullResultSet
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.db.models.expressions import RawSQL

from catalog import filters
from catalog.choices import RunStatus
from catalog.filters import IRREGULAR, PROMOTED, Expr, FilterError
from catalog.models import Entity, IngestionRun, Location, Relation

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 20
MAX_FACETS = 20
_FACET_SCAN_CHUNK = 2000


@dataclass
class EntityQuery:
    """What a listing asks for; `source` is how to rebuild `expr` from a cursor."""

    expr: Expr | None = None
    order_field: str | None = None
    descending: bool = False
    full_text_term: str = ""
    full_text_fields: list[str] = field(default_factory=list)
    # The catalog page's text box (name, title, description), not Backstage's fullTextFilter.
    text_search: str = ""
    # Order by promoted columns as they are ('' first): the catalog page's sortable columns.
    sort_by_column: bool = False
    # ("filter", [params]) or ("query", predicate) as the request gave them.
    source: tuple[str, Any] = ("filter", [])

    def sort(self) -> tuple[str, bool] | None:
        """Return the (field, descending) pages are sorted by, before the ref tie-break.

        Without an order field, pages of one kind come by name, the order the (kind, name,
        ref) index keeps, and pages of mixed kinds by ref (the unique index); Backstage
        promises no default order.
        """
        if self.order_field:
            return self.order_field, self.descending
        if filters.pinned_kind(self.expr) is not None:
            return "metadata.name", False
        return None

    @cached_property
    def _expr_sql(self) -> tuple[str, list[Any]]:
        # Once per query: a page, its count and its facets all filter the same way, and
        # compiling may probe the database (filters.has_irregular).
        assert self.expr is not None
        return filters.expr_sql(self.expr)

    def queryset(self) -> QuerySet[Entity]:
        """Return the matching entities, unordered, without the search document."""
        queryset = Entity.objects.defer("search")
        where = []
        params: list[Any] = []
        if self.expr is not None:
            sql, expr_params = self._expr_sql
            where.append(sql)
            params.extend(expr_params)
        kind = filters.pinned_kind(self.expr)
        if kind is not None:
            # The same rows, said so that PostgreSQL orders them from a (kind, …) index: with
            # `kind = x` it drops kind from the ORDER BY and may walk the ref index from its
            # start, through every API before the first component (70 ms at 100k).
            where.append(f"{Entity._meta.db_table}.kind BETWEEN %s AND %s")
            params.extend([kind, kind])
        if self.full_text_term:
            # Backstage's default: the sort field, else the uid (which rarely matches).
            fields = self.full_text_fields or [self.order_field or "metadata.uid"]
            sql, text_params = filters.full_text_sql(self.full_text_term, fields)
            where.append(sql)
            params.extend(text_params)
        if self.text_search:
            sql, text_params = filters.text_search_sql(self.text_search)
            where.append(sql)
            params.extend(text_params)
        return queryset.extra(where=where, params=params) if where else queryset


@dataclass
class Page:
    entities: list[Entity]
    total: int | None
    next_cursor: str | None
    prev_cursor: str | None


class CursorError(ValueError):
    """A cursor this server did not issue (or that was tampered with)."""


# --- cursors -----------------------------------------------------------------------------


def encode_cursor(data: dict[str, Any]) -> str:
    # Standard base64 of JSON, as Backstage's: its client peeks inside (`"query" in cursor`).
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
    except (ValueError, binascii.Error, UnicodeError):
        raise CursorError("cursor is not a cursor this server issued") from None
    if not isinstance(data, dict) or not isinstance(data.get("v"), int):
        raise CursorError("cursor is not a cursor this server issued")
    return data


def query_from_cursor(data: dict[str, Any]) -> EntityQuery:
    """Rebuild the query a cursor continues (its filter is parsed and checked again)."""
    try:
        order = data.get("orderField")
        text = data.get("fullTextFilter") or {}
        if "query" in data:
            expr = filters.parse_predicate(data["query"]) if data["query"] is not None else None
            source: tuple[str, Any] = ("query", data["query"])
        else:
            params = data.get("filter") or []
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                raise CursorError("cursor is not a cursor this server issued")
            expr = filters.parse_filters(params)
            source = ("filter", params)
        query = EntityQuery(expr=expr, source=source)
        if order is not None:
            if not (isinstance(order, list) and len(order) == 2 and isinstance(order[0], str)):
                raise CursorError("cursor is not a cursor this server issued")
            query.order_field, query.descending = order[0], order[1] == "desc"
        if not isinstance(text, dict):
            raise CursorError("cursor is not a cursor this server issued")
        query.full_text_term = str(text.get("term") or "")
        query.full_text_fields = [str(f) for f in text.get("fields") or []]
        return query
    except FilterError:
        raise CursorError("cursor is not a cursor this server issued") from None


def _cursor_data(query: EntityQuery, total: int | None, **position: Any) -> dict[str, Any]:
    kind, value = query.source
    data: dict[str, Any] = {"v": 1, kind: value, "totalItems": total}
    if query.order_field:
        data["orderField"] = [query.order_field, "desc" if query.descending else "asc"]
    if query.full_text_term:
        data["fullTextFilter"] = {
            "term": query.full_text_term,
            "fields": query.full_text_fields,
        }
    data.update(position)
    return data


# --- pages -------------------------------------------------------------------------------


def _sort_expression(query: EntityQuery) -> tuple[str, list[Any]] | None:
    sort = query.sort()
    return filters.order_sql(sort[0], promoted=query.sort_by_column) if sort else None


def keyset_condition(
    query: EntityQuery, value: str | None, ref: str, *, before: bool
) -> tuple[str, list[Any]]:
    """Return the condition for rows after (or before) the row (value, ref) in page order.

    Shared by the API's cursors and the catalog page's page links.
    """
    table = Entity._meta.db_table
    sort = query.sort()
    if sort is None:
        return (f"{table}.ref < %s", [ref]) if before else (f"{table}.ref > %s", [ref])
    expression, params = filters.order_sql(sort[0], promoted=query.sort_by_column)
    further = "<" if sort[1] else ">"
    earlier = ">" if sort[1] else "<"
    if not before:
        if value is None:  # in the trailing nulls
            return f"({expression} IS NULL AND {table}.ref > %s)", [*params, ref]
        return (
            f"({expression} {further} %s OR ({expression} = %s AND {table}.ref > %s) "
            f"OR {expression} IS NULL)",
            [*params, value, *params, value, ref, *params],
        )
    if value is None:
        return f"({expression} IS NOT NULL OR {table}.ref < %s)", [*params, ref]
    return (
        f"({expression} {earlier} %s OR ({expression} = %s AND {table}.ref < %s))",
        [*params, value, *params, value, ref],
    )


def ordered(queryset: QuerySet[Entity], query: EntityQuery, *, reverse: bool = False) -> QuerySet:
    """Return the queryset in page order (or its reverse, to walk back from a cursor)."""
    sort = query.sort()
    if sort is None:
        return queryset.order_by("-ref" if reverse else "ref")
    expression, params = filters.order_sql(sort[0], promoted=query.sort_by_column)
    queryset = queryset.annotate(sort_value=RawSQL(expression, params))
    descending = sort[1] != reverse
    value = F("sort_value")
    if filters.sort_column(sort[0], promoted=query.sort_by_column):
        # A NOT NULL column: no NULLS clause, so a descending page can walk its index back.
        by_value = value.desc() if descending else value.asc()
    else:
        # Nulls last in page order, so first when walking backwards.
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
        by_value = value.desc(**nulls) if descending else value.asc(**nulls)
    # With one kind, (kind, value, ref) is the same order, and lets (kind, name, ref) serve it.
    leading = [("-kind" if reverse else "kind")] if filters.pinned_kind(query.expr) else []
    return queryset.order_by(*leading, by_value, "-ref" if reverse else "ref")


def count(query: EntityQuery) -> int:
    """Return how many entities match, remembered per catalog version like facets."""
    return per_catalog_version(
        (
            "count",
            query.expr,
            query.full_text_term,
            tuple(query.full_text_fields),
            query.text_search,
        ),
        lambda: query.queryset().count(),
    )


def first_page(query: EntityQuery, limit: int, offset: int = 0, with_total: bool = True) -> Page:
    """Return the first page of a query (after skipping offset rows)."""
    total = count(query) if with_total else None
    if limit == 0:  # a count only
        return Page([], total, None, None)
    rows = list(ordered(query.queryset(), query, reverse=False)[offset : offset + limit + 1])
    return _page(query, rows, limit, total, had_before=offset > 0)


def page_from_cursor(cursor: dict[str, Any], limit: int) -> Page:
    """Return the page a cursor points at (the one after or before the row it names)."""
    query = query_from_cursor(cursor)
    position = cursor.get("after") or cursor.get("before")
    if not (isinstance(position, list) and len(position) == 2 and isinstance(position[1], str)):
        raise CursorError("cursor is not a cursor this server issued")
    value, ref = position
    if value is not None and not isinstance(value, str):
        raise CursorError("cursor is not a cursor this server issued")
    total = cursor.get("totalItems")
    if total is not None and not isinstance(total, int):
        raise CursorError("cursor is not a cursor this server issued")
    before = "before" in cursor
    sql, params = keyset_condition(query, value, ref, before=before)
    queryset = ordered(query.queryset().extra(where=[sql], params=params), query, reverse=before)
    rows = list(queryset[: limit + 1])
    if before:
        more_before = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return _page(query, [*rows, None], limit, total, had_before=more_before, exact=True)
    return _page(query, rows, limit, total, had_before=True)


def _page(
    query: EntityQuery,
    rows: list[Any],
    limit: int,
    total: int | None,
    *,
    had_before: bool,
    exact: bool = False,
) -> Page:
    """Cut a fetched window (limit + 1 rows, or the page plus a None marker) into a page."""
    has_more = len(rows) > limit
    items = [r for r in rows[:limit] if r is not None]
    if exact:  # walking backwards: there is always a page after
        has_more = True
    next_cursor = prev_cursor = None
    if items and has_more:
        last = items[-1]
        next_cursor = encode_cursor(
            _cursor_data(query, total, after=[_sort_value(last, query), last.ref])
        )
    if items and had_before:
        first = items[0]
        prev_cursor = encode_cursor(
            _cursor_data(query, total, before=[_sort_value(first, query), first.ref])
        )
    return Page(items, total, next_cursor, prev_cursor)


def _sort_value(entity: Entity, query: EntityQuery) -> str | None:
    if query.sort() is None:
        return None
    value = getattr(entity, "sort_value", None)
    return None if value is None else str(value)


# --- facets ------------------------------------------------------------------------------


CACHE_SECONDS = 600
T = TypeVar("T")


def catalog_version() -> str | None:
    """Return a token that changes whenever entities may have changed, or None while a run
    is writing (then nothing may be cached).

    Entities change in ingestion runs (their end is recorded), and outside runs only where a
    location is touched (deleting an entity, moving or removing a location). Runs that added,
    updated or removed nothing (most periodic refreshes) leave the version, and every answer
    cached under it, as they were.
    """
    runs, locations = IngestionRun._meta.db_table, Location._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(finished_at) FROM {runs} "
            "WHERE (added + updated + removed + orphaned) > 0), "
            f"(SELECT COUNT(*) FROM {runs} WHERE status = %s), "
            f"(SELECT MAX(updated_at) FROM {locations}), (SELECT COUNT(*) FROM {locations})",
            [RunStatus.RUNNING],
        )
        finished, running, touched, count = cursor.fetchone()
    if running:
        return None
    return f"{finished}|{touched}|{count}"


def cached_facets(expr: Expr | None, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
    """facets(), remembered per catalog version: the catalog page asks the same few facet
    questions over and over, and between refreshes their answers cannot change."""
    return per_catalog_version(("facets", expr, tuple(keys)), lambda: facets(expr, keys))


def per_catalog_version(question: tuple[Any, ...], answer: Callable[[], T]) -> T:
    version = catalog_version()
    if version is None:
        return answer()
    key = "catalog:" + hashlib.sha256(repr((version, question)).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = answer()
        cache.set(key, found, CACHE_SECONDS)
    return found


def facets(expr: Expr | None, keys: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Return, per facet key, each value and how many matching entities have it.

    Values keep their original case (as Backstage's `original_value`). Keys with a column
    are counted by the database; any other key is counted from the bodies of the matching
    entities that have it.
    """
    query = EntityQuery(expr=expr)
    result = {}
    for key in keys:
        counts = _facet_counts(query, key)
        result[key] = [
            {"value": value, "count": n}
            for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        ]
    return result


# Keys with a lower-cased column of their own, and where their original spelling lives.
_COLUMN_FACETS = {
    "kind": ("kind", ("kind",)),
    "metadata.namespace": ("namespace", ("metadata", "namespace")),
    "metadata.name": ("name", ("metadata", "name")),
    **{key: (column, tuple(key.split("."))) for key, column in PROMOTED.items()},
}


def _facet_counts(query: EntityQuery, key: str) -> Counter[str]:
    lowered = key.lower()
    matching = query.queryset()
    if lowered in _COLUMN_FACETS:
        column, path = _COLUMN_FACETS[lowered]
        counts = _column_facet(matching, column, path)
        if lowered in PROMOTED:  # the irregular rows, from their bodies
            counts.update(_scan_facet(matching.filter(**{column: IRREGULAR}), lowered))
        return counts
    if lowered.startswith("relations."):
        return _relations_facet(matching, lowered.split(".", 1)[1])
    if lowered == "metadata.tags":
        return _tags_facet(matching)
    return _scan_facet(_having_key(matching, lowered), lowered)


def _column_facet(queryset: QuerySet[Entity], column: str, path: tuple[str, ...]) -> Counter[str]:
    """Count a lower-cased column (an index-only scan), shown in the original spelling of one
    entity per value, as Backstage shows `original_value`."""
    rows = (
        queryset.exclude(**{f"{column}__in": ("", IRREGULAR)})
        .order_by()
        .values_list(column)
        .annotate(n=Count("*"))
    )
    lowered = dict(rows)
    spellings = _original_spellings(column, path, list(lowered))
    counts: Counter[str] = Counter()
    for value, n in lowered.items():
        counts[spellings.get(value) or value] += n
    return counts


def _original_spellings(column: str, path: tuple[str, ...], values: list[str]) -> dict[str, str]:
    """Return, for each lower-cased value, how one entity having it spells it."""
    if not values:
        return {}
    table = Entity._meta.db_table
    if connection.vendor == "postgresql":
        # One index probe per value; kinds are listed so (kind, column) indexes serve it.
        kinds = filters.catalog_kinds()
        kind_condition = "" if column == "kind" else "AND e.kind = ANY(%s) "
        sql = (
            f"SELECT v, (SELECT e.body #>> %s FROM {table} e WHERE e.{column} = v "
            f"{kind_condition}LIMIT 1) FROM unnest(%s::text[]) v"
        )
        params: list[Any] = [list(path)] + ([kinds] if kind_condition else []) + [values]
        with transaction.atomic(), connection.cursor() as cursor:
            # With LIMIT 1 the planner bets on a sequential scan finding a row at once, which
            # loses badly for rare values; the index probe is always cheap.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(sql, params)
            return {value: spelled for value, spelled in cursor.fetchall() if spelled}
    # SQLite: one grouped query; a bare column in a GROUP BY comes from one row of its group.
    path_sql = "$." + ".".join(path)
    spellings = {}
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, json_extract(body, %s) FROM {table} "
                f"WHERE {column} IN ({', '.join(['%s'] * len(chunk))}) GROUP BY {column}",
                [path_sql, *chunk],
            )
            spellings.update(
                (value, spelled) for value, spelled in cursor.fetchall() if isinstance(spelled, str)
            )
    return spellings


def _tags_facet(queryset: QuerySet[Entity]) -> Counter[str]:
    table = Entity._meta.db_table
    where, params = _where_sql(queryset)
    if connection.vendor == "postgresql":
        elements = f"jsonb_array_elements_text({table}.tags) t"
        value = "t"
    else:
        elements, value = f"json_each({table}.tags) t", "t.value"
    # Tags are unique per entity (filters.promoted_tags), so rows counted are entities.
    sql = f"SELECT {value}, COUNT(*) FROM {table}, {elements} WHERE {where} GROUP BY {value}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return Counter(dict(cursor.fetchall()))


def _where_sql(queryset: QuerySet[Entity]) -> tuple[str, list[Any]]:
    """Return a queryset's WHERE clause as SQL over the unaliased entity table."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.compile(queryset.query.where)
    except FullResultSet:  # no conditions at all
        return "1 = 1", []
    return (sql or "1 = 1"), list(params)


def _relations_facet(queryset: QuerySet[Entity], relation_type: str) -> Counter[str]:
    sql = (
        f"SELECT r.target_ref, COUNT(DISTINCT r.source_ref) FROM {Relation._meta.db_table} r "
        "WHERE r.source_ref IN ({ids}) AND LOWER(r.type) = %s GROUP BY r.target_ref"
    )
    return _count_over(queryset, "ref", sql, [relation_type])


def _count_over(
    queryset: QuerySet[Entity], column: str, sql: str, params: list[Any]
) -> Counter[str]:
    """Run a `value, count` query over the rows of a queryset, given as `IN ({ids})`.

    The queryset is compiled on its own (not as a Django subquery, which would re-alias the
    entity table that the filters' raw SQL names).
    """
    inner, inner_params = queryset.order_by().values(column).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("{ids}", inner), [*inner_params, *params])
        return Counter(dict(cursor.fetchall()))


def _having_key(queryset: QuerySet[Entity], key: str) -> QuerySet[Entity]:
    sql, params = filters.expr_sql(filters.Match(key, "exists"))
    return queryset.extra(where=[sql], params=params)


def _scan_facet(queryset: QuerySet[Entity], key: str) -> Counter[str]:
    """Count a key's original values over the bodies of the given entities, in chunks."""
    counts: Counter[str] = Counter()
    for body in queryset.values_list("body", flat=True).iterator(chunk_size=_FACET_SCAN_CHUNK):
        values = filters.original_values(body).get(key, [])
        counts.update({v for v in values if v is not None})
    return counts
