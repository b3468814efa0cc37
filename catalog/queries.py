"""Graph questions answered by one indexed SQL statement each (recursive CTEs over relations).

Both PostgreSQL and SQLite run `WITH RECURSIVE`; UNION (not UNION ALL) makes cycles in the
data (a group that is its own grandchild) terminate.
"""

from __future__ import annotations

from django.db import connection

from catalog.models import Entity, Relation
from catalog.refs import parse_ref

_REL = Relation._meta.db_table
_ENT = Entity._meta.db_table


def _walk(start: str, edge: str, select: str, params: list[str]) -> list[str]:
    sql = f"""
        WITH RECURSIVE reached(ref) AS (
            SELECT CAST(%s AS VARCHAR(255))
            UNION
            SELECT r.target_ref FROM {_REL} r JOIN reached ON r.source_ref = reached.ref
            WHERE r.type = %s
        )
        {select}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, edge, *params])
        return [row[0] for row in cursor.fetchall()]


def group_and_descendants(group_ref: str) -> list[str]:
    """Return the refs of a group and all its sub-groups, at any depth."""
    key = parse_ref(group_ref, "group").key
    return _walk(key, "parentOf", "SELECT ref FROM reached", [])


def owned_by(group_ref: str, include_subgroups: bool = True) -> list[str]:
    """Return the refs of every entity owned by a group (and, by default, its sub-groups)."""
    key = parse_ref(group_ref, "group").key
    if not include_subgroups:
        return list(
            Relation.objects.filter(type="ownedBy", target_ref=key)
            .values_list("source_ref", flat=True)
            .distinct()
        )
    select = f"""
        SELECT DISTINCT o.source_ref FROM {_REL} o
        WHERE o.type = 'ownedBy' AND o.target_ref IN (SELECT ref FROM reached)
        ORDER BY o.source_ref
    """
    return _walk(key, "parentOf", select, [])


def dependents_of(entity_ref: str, transitive: bool = True) -> list[str]:
    """Return the refs of everything that depends on an entity (directly or through others)."""
    key = parse_ref(entity_ref, "component").key
    if not transitive:
        return list(
            Relation.objects.filter(type="dependencyOf", source_ref=key)
            .values_list("target_ref", flat=True)
            .distinct()
        )
    select = "SELECT ref FROM reached WHERE ref <> %s ORDER BY ref"
    return _walk(key, "dependencyOf", select, [key])
