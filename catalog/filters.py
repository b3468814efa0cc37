"""Backstage's entity filters and predicates, compiled to one SQL condition.

`search_document(body)` flattens an entity as Backstage's search table does — lower-cased
dotted keys (`spec.type`, `metadata.annotations.backstage.io/techdocs-ref`), arrays walked
(`metadata.tags`, `metadata.links.url`), string array items also as `<key>.<item>=true`
(`metadata.tags.java`), lower-cased scalar values, values over 200 characters kept as
present-but-unmatchable — into one JSON object `{key: [values]}`, written with the entity in
the same upsert (no extra rows).

Both query languages become one small expression tree (`Expr`):

- `parse_filters(["kind=component,spec.type", ...])`: the `filter=` parameters of
  `GET /entities` and `GET /entities/by-query` (parameters OR'd, conditions inside one AND'd,
  `key` alone means the key exists, `key=value` matches case-insensitively);
- `parse_predicate({...})`: the `query` of `POST /entities/by-query` and
  `POST /entity-facets` (`$all`, `$any`, `$not`, and per key a value, `$exists`, `$in`,
  `$hasPrefix` or `$contains`).

`expr_sql(expr)` turns a tree into SQL. Keys with a column of their own use it (see
`PROMOTED`); `relations.<type>` is an EXISTS over the relation table; every other key is
answered from the search document (`@>`/`?` on PostgreSQL's jsonb, `json_each` on SQLite).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection

from catalog.config import get_config
from catalog.models import Entity, Relation

MAX_VALUE_LENGTH = 200
MAX_PREDICATE_NODES = 500
MAX_PREDICATE_DEPTH = 32
# Always present, as in Backstage, so `metadata.namespace=default` matches entities that
# never wrote a namespace.
_SKIPPED = {"relations", "status"}

# Keys with their own lower-cased column on every entity (indexed with kind first).
_COLUMNS = {"kind": "kind", "metadata.namespace": "namespace", "metadata.name": "name"}

# Keys the catalog page filters and facets on, copied into indexed columns of their own so
# those queries read a narrow column or index instead of every entity's search document. A
# column holds the lower-cased value when the key has exactly one string value (as the search
# document would), '' when the entity lacks the key, and IRREGULAR otherwise (a list, a number,
# an overlong value): those rows fall back to the search document, so answers are exact. The
# marker has capitals, so no lower-cased value can equal it, and it keeps the rows in the
# column's index.
IRREGULAR = "~IRREGULAR~"
ORPHAN_KEY = "metadata.annotations.backstage.io/orphan"
PROMOTED = {"spec.type": "spec_type", "spec.lifecycle": "lifecycle", "spec.owner": "owner"}


class FilterError(ValueError):
    """A filter or predicate that cannot be understood (the API answers 400)."""


@dataclass(frozen=True)
class Match:
    """One condition on one key: the key equals one of `values`, exists, or has a prefix."""

    key: str
    op: str  # "in" | "exists" | "prefix"
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Logic:
    op: str  # "and" | "or" | "not"
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Nothing:
    """Matches no entity (an empty `$any`, an `$in` of nothing)."""


Expr = Match | Logic | Nothing


def search_document(body: dict[str, Any]) -> dict[str, list[str | None]]:
    """Return the flattened, lower-cased search document of an entity body."""
    document = _flatten(body, lower=True)
    document.setdefault("metadata.namespace", ["default"])
    return document


def original_values(body: dict[str, Any]) -> dict[str, list[str | None]]:
    """Return the search document's keys with their values in original case (for facets)."""
    return _flatten(body, lower=False)


def _flatten(body: dict[str, Any], *, lower: bool) -> dict[str, list[str | None]]:
    document: dict[str, list[str | None]] = {}

    def add(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for child, item in value.items():
                add(f"{key}.{child}" if key else child, item)
            return
        if isinstance(value, list):
            for item in value:
                add(key, item)
                if isinstance(item, str):
                    document.setdefault(f"{key}.{item}".lower(), ["true"])
            if not value:
                document.setdefault(key.lower(), [])
            return
        document.setdefault(key.lower(), []).append(_text(value, lower))

    add("", {k: v for k, v in body.items() if k not in _SKIPPED})
    return document


def _text(value: Any, lower: bool = True) -> str | None:
    """Return a scalar as the search document stores it (None: present but unmatchable)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return None
    text = str(value).lower() if lower else str(value)
    return None if len(text) > MAX_VALUE_LENGTH else text


def promoted_values(body: dict[str, Any]) -> dict[str, str]:
    """Return the promoted columns' values for an entity body (see PROMOTED)."""
    values: dict[str, str] = {}
    for key, column in PROMOTED.items():
        section, field = key.split(".", 1)
        container = body.get(section)
        if not isinstance(container, dict) or field not in container:
            values[column] = ""
            continue
        value = container[field]
        regular = isinstance(value, str) and 0 < len(value) <= MAX_VALUE_LENGTH
        values[column] = value.lower() if regular else IRREGULAR
    return values


def promoted_tags(body: dict[str, Any]) -> list[str]:
    """Return metadata.tags as a list of strings for the tags column (facets read it)."""
    tags = (body.get("metadata") or {}).get("tags")
    if not isinstance(tags, list):
        return []
    return list(dict.fromkeys(t for t in tags if isinstance(t, str)))  # once each


# --- parsing -----------------------------------------------------------------------------


def parse_filters(params: list[str]) -> Expr | None:
    """Parse `filter` parameters into an expression (None when there is no filter)."""
    groups: list[Expr] = []
    for param in params:
        conditions: list[Expr] = []
        for part in param.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not key:
                raise FilterError(f"invalid filter {param!r}: a condition has no key")
            if sep:
                conditions.append(Match(key, "in", (value.strip().lower(),)))
            else:
                conditions.append(Match(key, "exists"))
        if not conditions:
            raise FilterError(f"invalid filter {param!r}: it has no conditions")
        groups.append(_and(conditions))
    if not groups:
        return None
    return groups[0] if len(groups) == 1 else Logic("or", tuple(groups))


def _and(items: list[Expr]) -> Expr:
    return items[0] if len(items) == 1 else Logic("and", tuple(items))


def parse_predicate(predicate: Any) -> Expr | None:
    """Parse a Backstage filter predicate (JSON) into an expression; None matches all."""
    budget = [MAX_PREDICATE_NODES]
    expr = _predicate(predicate, "query", 0, budget)
    return None if expr == Logic("and", ()) else expr


def _spend(budget: list[int], depth: int, where: str) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise FilterError(f"the query has more than {MAX_PREDICATE_NODES} conditions")
    if depth > MAX_PREDICATE_DEPTH:
        raise FilterError(f"{where} is nested deeper than {MAX_PREDICATE_DEPTH} levels")


def _predicate(node: Any, where: str, depth: int, budget: list[int]) -> Expr:
    _spend(budget, depth, where)
    if not isinstance(node, dict):
        raise FilterError(f"{where} must be an object, not {_json_type(node)}")
    logical = [k for k in node if k in ("$all", "$any", "$not")]
    if logical:
        if len(node) != 1:
            raise FilterError(f"{where}: {logical[0]} must be the only key of its object")
        op = logical[0]
        value = node[op]
        if op == "$not":
            return Logic("not", (_predicate(value, f"{where}.$not", depth + 1, budget),))
        if not isinstance(value, list):
            raise FilterError(f"{where}.{op} must be a list of predicates")
        items = tuple(
            _predicate(item, f"{where}.{op}[{i}]", depth + 1, budget)
            for i, item in enumerate(value)
        )
        if op == "$any":
            return Logic("or", items) if items else Nothing()
        return Logic("and", items)
    unknown = [k for k in node if k.startswith("$")]
    if unknown:
        raise FilterError(f"{where}: unknown operator {unknown[0]!r}")
    matches = []
    for key, value in node.items():
        if not key.strip():
            raise FilterError(f"{where}: a key is empty")
        matches.append(_value_predicate(key.strip().lower(), value, f"{where}.{key}", depth))
    return Logic("and", tuple(matches)) if len(matches) != 1 else matches[0]


def _primitive(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value).lower()
    raise FilterError(f"{where} must be a string, number or boolean, not {_json_type(value)}")


def _value_predicate(key: str, value: Any, where: str, depth: int) -> Expr:
    if not isinstance(value, dict):
        return Match(key, "in", (_primitive(value, where),))
    if len(value) != 1:
        raise FilterError(f"{where} must have exactly one operator ($exists, $in, ...)")
    ((op, argument),) = value.items()
    if op == "$exists":
        if not isinstance(argument, bool):
            raise FilterError(f"{where}.$exists must be true or false")
        exists = Match(key, "exists")
        return exists if argument else Logic("not", (exists,))
    if op == "$in":
        if not isinstance(argument, list):
            raise FilterError(f"{where}.$in must be a list")
        values = tuple(_primitive(v, f"{where}.$in[{i}]") for i, v in enumerate(argument))
        return Match(key, "in", values) if values else Nothing()
    if op == "$hasPrefix":
        if not isinstance(argument, str):
            raise FilterError(f"{where}.$hasPrefix must be a string")
        return Match(key, "prefix", (argument.lower(),))
    if op == "$contains":
        # Arrays are flattened in the search document: an item matching a primitive is the
        # key having that value; an object item matches key by key.
        if not isinstance(argument, dict):
            return Match(key, "in", (_primitive(argument, f"{where}.$contains"),))
        if key == "relations":
            return _relation_contains(argument, where)
        parts = [
            _value_predicate(f"{key}.{sub.lower()}", item, f"{where}.$contains.{sub}", depth)
            for sub, item in argument.items()
        ]
        return _and(parts) if parts else Match(key, "exists")
    raise FilterError(f"{where}: unknown operator {op!r}")


def _relation_contains(argument: dict[str, Any], where: str) -> Expr:
    relation_type = argument.get("type")
    target = argument.get("targetRef")
    extra = set(argument) - {"type", "targetRef"}
    if extra or not isinstance(relation_type, str):
        raise FilterError(f"{where}.$contains must be {{type, targetRef?}} for relations")
    key = f"relations.{relation_type.lower()}"
    if target is None:
        return Match(key, "exists")
    return Match(key, "in", (_primitive(target, f"{where}.$contains.targetRef"),))


def _json_type(value: Any) -> str:
    return {list: "a list", dict: "an object", type(None): "null"}.get(type(value), "a value")


def pinned_kind(expr: Expr | None) -> str | None:
    """Return the one kind every matching entity has (`kind=x` ANDed in), if there is one."""
    if isinstance(expr, Match):
        if expr.key == "kind" and expr.op == "in" and len(expr.values) == 1:
            return expr.values[0]
        return None
    if isinstance(expr, Logic) and expr.op == "and":
        return next((k for k in map(pinned_kind, expr.items) if k is not None), None)
    return None


def all_of(*exprs: Expr | None) -> Expr | None:
    """Return the AND of the given expressions, ignoring Nones."""
    present = [e for e in exprs if e is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else Logic("and", tuple(present))


def evaluate(expr: Expr, document: dict[str, list[str | None]]) -> bool:
    """Evaluate an expression against a search-document-shaped dict, in Python."""
    if isinstance(expr, Nothing):
        return False
    if isinstance(expr, Logic):
        if expr.op == "not":
            return not evaluate(expr.items[0], document)
        results = (evaluate(item, document) for item in expr.items)
        return all(results) if expr.op == "and" else any(results)
    values = document.get(expr.key)
    if values is None:
        return False
    if expr.op == "exists":
        return True
    present = [v for v in values if v is not None]
    if expr.op == "prefix":
        return any(v.startswith(expr.values[0]) for v in present)
    return any(v in expr.values for v in present)


# --- SQL ---------------------------------------------------------------------------------


def expr_sql(expr: Expr) -> tuple[str, list[Any]]:
    """Return one SQL condition (and its parameters) for an expression."""
    if isinstance(expr, Nothing):
        return "1 = 0", []
    if isinstance(expr, Match):
        return _match_sql(expr)
    if not expr.items:
        return ("1 = 0", []) if expr.op == "or" else ("1 = 1", [])
    parts = [expr_sql(item) for item in expr.items]
    params = [p for _, part_params in parts for p in part_params]
    if expr.op == "not":
        return f"NOT ({parts[0][0]})", params
    joiner = " AND " if expr.op == "and" else " OR "
    return "(" + joiner.join(sql for sql, _ in parts) + ")", params


def _match_sql(match: Match) -> tuple[str, list[Any]]:
    table = Entity._meta.db_table
    key, op, values = match.key, match.op, list(match.values)
    if key.startswith("relations."):
        sql = (
            f"EXISTS (SELECT 1 FROM {Relation._meta.db_table} r WHERE r.source_ref = "
            f"{table}.ref AND LOWER(r.type) = %s"
        )
        params: list[Any] = [key[len("relations.") :]]
        if op == "in":
            sql += f" AND r.target_ref IN ({_placeholders(values)})"
            params.extend(values)
        elif op == "prefix":
            sql += r" AND r.target_ref LIKE %s ESCAPE '\'"
            params.append(_like_prefix(values[0]))
        return sql + ")", params
    if key == ORPHAN_KEY and op != "prefix":
        # Ingestion sets this annotation exactly when it flags the entity an orphan (and
        # drops it from descriptors), so Backstage's orphan query reads the flag's index.
        if op == "exists" or "true" in values:
            return f"{table}.orphan = %s", [True]
        return "1 = 0", []
    if key == "metadata.tags" and op == "in" and connection.vendor == "postgresql":
        # `?|` on the tags array is what the (search -> 'metadata.tags') GIN index answers
        # (migration 0005); containment over the whole document would scan every entity.
        return f"({table}.search -> 'metadata.tags') ?| %s", [list(values)]
    column = _COLUMNS.get(key)
    if column is not None:  # lower-cased, on every entity
        return _column_sql(f"{table}.{column}", op, values, always_present=True)
    promoted = PROMOTED.get(key)
    if promoted is not None and not has_irregular(promoted):
        # The usual case: the column alone answers, and its index serves ordered pages.
        return _column_sql(f"{table}.{promoted}", op, values, always_present=False)
    if promoted is not None:
        column_sql, column_params = _column_sql(
            f"{table}.{promoted}", op, values, always_present=False
        )
        generic_sql, generic_params = _search_sql(key, op, values)
        return (
            f"({column_sql} OR ({table}.{promoted} = %s AND {generic_sql}))",
            [*column_params, IRREGULAR, *generic_params],
        )
    return _search_sql(key, op, values)


def catalog_kinds() -> list[str]:
    """Return every kind the catalog may hold, lower-cased: listing them lets a query probe
    the (kind, column, …) indexes when it does not care about the kind."""
    return sorted(get_config().allowed_kinds | {"location"})


def has_irregular(column: str) -> bool:
    """Return whether any entity has an irregular value in a promoted column (an index probe
    per kind), so the usual query can leave out the fallback to the search document."""
    return Entity.objects.filter(kind__in=catalog_kinds(), **{column: IRREGULAR}).exists()


def _column_sql(
    column: str, op: str, values: list[str], *, always_present: bool
) -> tuple[str, list[Any]]:
    if op == "exists":
        if always_present:
            return "1 = 1", []
        return f"{column} NOT IN ('', %s)", [IRREGULAR]
    if op == "prefix":
        return rf"{column} LIKE %s ESCAPE '\'", [_like_prefix(values[0])]
    if len(values) == 1:
        return f"{column} = %s", values
    return f"{column} IN ({_placeholders(values)})", values


def _search_sql(key: str, op: str, values: list[str]) -> tuple[str, list[Any]]:
    table = Entity._meta.db_table
    if connection.vendor == "postgresql":
        if op == "exists":
            return f"{table}.search ? %s", [key]
        if op == "prefix":
            return _value_like_sql(key, _like_prefix(values[0]))
        if len(values) == 1:  # containment can use a GIN index
            return f"{table}.search @> %s::jsonb", [json.dumps({key: values})]
        return f"({table}.search -> %s) ?| %s", [key, values]
    path = json_path(key)
    if op == "exists":
        return f"json_type({table}.search, %s) IS NOT NULL", [path]
    if op == "prefix":
        return _value_like_sql(key, _like_prefix(values[0]))
    return (
        f"EXISTS (SELECT 1 FROM json_each({table}.search, %s) "
        f"WHERE json_each.value IN ({_placeholders(values)}))",
        [path, *values],
    )


def _text_expression() -> str:
    table = Entity._meta.db_table
    if connection.vendor == "postgresql":
        # The expression of the trigram index of migration 0005, spelled exactly as there.
        return (
            f"lower({table}.name || ' ' || coalesce({table}.body #>> '{{metadata,title}}', '') "
            f"|| ' ' || coalesce({table}.body #>> '{{metadata,description}}', ''))"
        )
    return (
        f"lower({table}.name || ' ' || coalesce(json_extract({table}.body, '$.metadata.title'), "
        f"'') || ' ' || coalesce(json_extract({table}.body, '$.metadata.description'), ''))"
    )


def text_search_sql(term: str) -> tuple[str, list[Any]]:
    """Return a condition: the entity's name, title or description contains term (any case).

    The catalog page's text box. On PostgreSQL a trigram index answers it (terms of three
    characters or more); the sub-select keeps the planner from walking the page's sort index
    and testing every row instead.
    """
    table = Entity._meta.db_table
    pattern = "%" + _like_escape(term.lower()) + "%"
    condition = rf"{_text_expression()} LIKE %s ESCAPE '\'"
    if connection.vendor == "postgresql":
        return f"{table}.id IN (SELECT {table}.id FROM {table} WHERE {condition} OFFSET 0)", [
            pattern
        ]
    return condition, [pattern]


def full_text_sql(term: str, fields: list[str]) -> tuple[str, list[Any]]:
    """Return a condition: some value of one of the given keys contains term (any case)."""
    pattern = "%" + _like_escape(term.lower()) + "%"
    parts = [_value_like_sql(field.lower(), pattern) for field in fields]
    sql = " OR ".join(part for part, _ in parts)
    return "(" + sql + ")", [p for _, part_params in parts for p in part_params]


def _value_like_sql(key: str, pattern: str) -> tuple[str, list[Any]]:
    """Return a condition: some value of key in the search document is LIKE pattern."""
    table = Entity._meta.db_table
    if connection.vendor == "postgresql":
        return (
            f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({table}.search -> %s) v "
            r"WHERE v LIKE %s ESCAPE '\')",
            [key, pattern],
        )
    return (
        f"EXISTS (SELECT 1 FROM json_each({table}.search, %s) "
        r"WHERE json_each.value LIKE %s ESCAPE '\')",
        [json_path(key), pattern],
    )


def _placeholders(values: list[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(prefix: str) -> str:
    return _like_escape(prefix) + "%"


def json_path(key: str) -> str:
    """Return SQLite's JSON path to a top-level key of the search document (keys hold dots)."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sort_column(field: str, *, promoted: bool = False) -> str | None:
    """Return the NOT NULL column that orders by field, if one does (a plain index scan).

    With `promoted`, the promoted columns count too (the catalog page's sort by owner, type
    or lifecycle), unless some value is irregular. Their '' for "absent" sorts before any
    value, where Backstage's API puts absent values last, so the API does not use them.
    """
    key = field.lower()
    if key in _COLUMNS:
        return _COLUMNS[key]
    column = PROMOTED.get(key) if promoted else None
    if column is not None and not has_irregular(column):
        return column
    return None


def order_sql(field: str, *, promoted: bool = False) -> tuple[str, list[Any]]:
    """Return an ORDER BY expression for a dotted field (its first value in the search doc)."""
    table = Entity._meta.db_table
    key = field.lower()
    column = sort_column(key, promoted=promoted)
    if column is not None:
        return f"{table}.{column}", []
    if connection.vendor == "postgresql":
        return f"({table}.search -> %s ->> 0)", [key]
    return f"json_extract({table}.search, %s)", [json_path(key) + "[0]"]
