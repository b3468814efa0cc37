"""Entities in Backstage's API shape: body + relations + status, built in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from catalog.models import Entity, Relation

EXPORT_CHUNK = 2000


def relations_by_ref(refs: Sequence[str]) -> dict[str, list[dict[str, str]]]:
    """Return each ref's outgoing relations as Backstage's [{type, targetRef}], one query.

    An edge declared from both ends (a group's `children` and the child's `parent`) is
    stored twice and returned once.
    """
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for source, kind, target in Relation.objects.filter(source_ref__in=refs).values_list(
        "source_ref", "type", "target_ref"
    ):
        found[source].add((kind, target))
    return {
        ref: [{"type": kind, "targetRef": target} for kind, target in sorted(edges)]
        for ref, edges in found.items()
    }


def backstage_entities(
    entities: Sequence[Entity], with_relations: bool = True
) -> list[dict[str, Any]]:
    """Return the entities as the catalog API serves them, with relations and status.

    with_relations=False skips the relation query when the caller's `fields` drop them.
    """
    relations = relations_by_ref([e.ref for e in entities]) if with_relations else {}
    documents = []
    for entity in entities:
        document = dict(entity.body)
        document["relations"] = relations.get(entity.ref, [])
        if entity.errors:
            document["status"] = {"items": entity.errors}
        documents.append(document)
    return documents


def iter_backstage_entities(
    queryset: QuerySet[Entity], with_relations: bool = True
) -> Iterator[dict[str, Any]]:
    """Yield every entity of a queryset, in its order, in API shape.

    One database cursor streams the rows (server-side on PostgreSQL), and relations are
    attached EXPORT_CHUNK entities at a time, so memory stays flat for any catalog size.
    """
    rows = queryset.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := list(islice(rows, EXPORT_CHUNK)):
        yield from backstage_entities(chunk, with_relations)


def project(document: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Return only the dotted paths in fields (Backstage's `fields`); all of it without."""
    if not fields:
        return document
    result: dict[str, Any] = {}
    for path in fields:
        parts = path.split(".")
        value: Any = document
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            target = result
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    return result
