"""Backstage's entity filters, on a flattened search document per entity.

`search_document(body)` flattens an entity as Backstage's search table does — lower-cased
dotted keys (`spec.type`, `metadata.annotations.backstage.io/techdocs-ref`), arrays walked
(`metadata.tags`, `metadata.links.url`), lower-cased scalar values, values over 200
characters kept as present-but-unmatchable — into one JSON object `{key: [values]}`, written
with the entity in the same upsert (no extra rows).

`filter_sql(...)` turns `filter=` parameters into one SQL condition: several parameters are
OR'd, comma-separated conditions inside one are AND'd, `key` alone means the key exists,
`key=value` matches case-insensitively, and `relations.<type>=<ref>` is an EXISTS over the
relation table.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

from catalog.models import Entity, Relation

MAX_VALUE_LENGTH = 200
# Always present, as in Backstage, so `metadata.namespace=default` matches entities that
# never wrote a namespace.
_SKIPPED = {"relations", "status"}


# Keys with their own lower-cased column (indexed with kind first).
_COLUMNS = {"kind": "kind", "metadata.namespace": "namespace", "metadata.name": "name"}


class FilterError(ValueError):
    """A filter parameter that cannot be understood."""


def search_document(body: dict[str, Any]) -> dict[str, list[str | None]]:
    """Return the flattened, lower-cased search document of an entity body."""
    document: dict[str, list[str | None]] = {}

    def add(key: str, value: Any) -> None:
        if isinstance(value, dict):
            for child, item in value.items():
                add(f"{key}.{child}" if key else child, item)
            return
        if isinstance(value, list):
            for item in value:
                add(key, item)
            if not value:
                document.setdefault(key.lower(), [])
            return
        if isinstance(value, bool):
            text: str | None = "true" if value else "false"
        elif value is None:
            text = None
        else:
            text = str(value).lower()
            if len(text) > MAX_VALUE_LENGTH:
                text = None
        document.setdefault(key.lower(), []).append(text)

    add("", {k: v for k, v in body.items() if k not in _SKIPPED})
    document.setdefault("metadata.namespace", ["default"])
    return document


def parse_filters(params: list[str]) -> list[list[tuple[str, str | None]]]:
    """Parse `filter` parameters into OR'd groups of AND'd (key, value-or-None) pairs."""
    groups = []
    for param in params:
        conditions = []
        for part in param.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key = key.strip().lower()
            if not key:
                raise FilterError(f"invalid filter {param!r}: a condition has no key")
            conditions.append((key, value.strip().lower() if sep else None))
        if not conditions:
            raise FilterError(f"invalid filter {param!r}: it has no conditions")
        groups.append(conditions)
    return groups


def _condition(key: str, value: str | None) -> tuple[str, list[Any]]:
    table = Entity._meta.db_table
    if key.startswith("relations."):
        relation_type = key[len("relations.") :]
        sql = (
            f"EXISTS (SELECT 1 FROM {Relation._meta.db_table} r WHERE r.source_ref = "
            f"{table}.ref AND LOWER(r.type) = %s"
        )
        params: list[Any] = [relation_type]
        if value is not None:
            sql += " AND r.target_ref = %s"
            params.append(value)
        return sql + ")", params
    column = _COLUMNS.get(key)
    if column is not None:  # an indexed column holds it, lower-cased, on every entity
        return (f"{table}.{column} = %s", [value]) if value is not None else ("1 = 1", [])
    if connection.vendor == "postgresql":
        if value is None:
            return f"{table}.search ? %s", [key]
        return f"{table}.search @> %s::jsonb", [json.dumps({key: [value]})]
    path = _json_path(key)
    if value is None:
        return f"json_type({table}.search, %s) IS NOT NULL", [path]
    return (
        f"EXISTS (SELECT 1 FROM json_each({table}.search, %s) WHERE json_each.value = %s)",
        [path, value],
    )


def _json_path(key: str) -> str:
    """Return SQLite's JSON path to a top-level key of the search document (keys hold dots)."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_sql(groups: list[list[tuple[str, str | None]]]) -> tuple[str, list[Any]]:
    """Return one SQL condition (and its parameters) for parsed filter groups."""
    ors = []
    params: list[Any] = []
    for group in groups:
        ands = []
        for key, value in group:
            sql, condition_params = _condition(key, value)
            ands.append(sql)
            params.extend(condition_params)
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def order_sql(field: str) -> tuple[str, list[Any]]:
    """Return an ORDER BY expression for a dotted field (its first value in the search doc)."""
    table = Entity._meta.db_table
    key = field.lower()
    if connection.vendor == "postgresql":
        return f"({table}.search -> %s ->> 0)", [key]
    path = _json_path(key) + "[0]"
    return f"json_extract({table}.search, %s)", [path]
