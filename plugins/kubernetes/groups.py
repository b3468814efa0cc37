"""A group's aggregated view: the Kubernetes objects of everything it owns directly.

Two queries find the owned entities that opt in (a subquery over ownedBy relations, and its
count), however many there are. Entities found by kubernetes-id alone share one query per
namespace and cluster (`backstage.io/kubernetes-id in (a,b,c)`), so a team of fifty services
costs each cluster one request per object type, not fifty; objects are then given back to
their entity by that label.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from plugins.kubernetes.selection import (
    ID_ANNOTATION,
    SELECTOR_ANNOTATION,
    ObjectQuery,
    SelectionError,
    id_only,
    opts_in,
    query_for,
)

if TYPE_CHECKING:
    from catalog.models import Entity

MAX_ENTITIES = 100  # the view says when a group owns more
IDS_PER_QUERY = 50  # keeps the selector (a URL parameter) short


@dataclass
class Member:
    """One owned entity and where its objects come from."""

    entity: Entity
    query: ObjectQuery | None = None
    kubernetes_id: str | None = None  # set when its objects come from a shared query
    problem: str = ""


@dataclass
class Plan:
    """The owned entities that opt in, and the queries that fetch all their objects."""

    members: list[Member] = field(default_factory=list)
    queries: list[ObjectQuery] = field(default_factory=list)
    total: int = 0


def owned_entities(group: Entity, limit: int = MAX_ENTITIES) -> tuple[list[Entity], int]:
    """Return up to `limit` entities the group owns directly that carry either annotation,
    and how many there are."""
    from catalog.models import Entity, Relation

    owned = Relation.objects.filter(type="ownedBy", target_ref=group.ref).values("source_ref")
    annotated = Q(body__metadata__annotations__has_key=ID_ANNOTATION) | Q(
        body__metadata__annotations__has_key=SELECTOR_ANNOTATION
    )
    found = Entity.objects.filter(ref__in=owned).filter(annotated)
    entities = [
        entity
        for entity in found.only("ref", "kind", "namespace", "name", "body").order_by("ref")[:limit]
        if opts_in(entity.body)
    ]
    return entities, found.count()


def plan(entities: list[Entity]) -> Plan:
    """Return the queries for the entities, sharing one per namespace/cluster where it can."""
    result = Plan()
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entity in entities:
        member = Member(entity)
        result.members.append(member)
        try:
            query = query_for(entity.body)
        except SelectionError as exc:
            member.problem = str(exc)
            continue
        member.kubernetes_id = id_only(entity.body)
        if member.kubernetes_id is None:
            member.query = query
            result.queries.append(query)
        else:
            shared[(query.namespace, query.cluster)].append(member.kubernetes_id)
    batches: dict[tuple[str, str, str], ObjectQuery] = {}
    for (namespace, cluster), ids in shared.items():
        unique = sorted(set(ids))
        for start in range(0, len(unique), IDS_PER_QUERY):
            chunk = unique[start : start + IDS_PER_QUERY]
            query = ObjectQuery(f"{ID_ANNOTATION} in ({','.join(chunk)})", namespace, cluster)
            result.queries.append(query)
            for one in chunk:
                batches[(namespace, cluster, one)] = query
    for member in result.members:
        if member.kubernetes_id is not None:
            query = query_for(member.entity.body)
            member.query = batches[(query.namespace, query.cluster, member.kubernetes_id)]
    return result


def results_for(
    member: Member, answers: dict[ObjectQuery, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Return the member's per-cluster results: its own query's, or its share of a shared one."""
    if member.query is None:
        return []
    results = answers.get(member.query, [])
    if member.kubernetes_id is None:
        return results
    mine = []
    for result in results:
        resources = [
            {
                "type": group["type"],
                "resources": [
                    obj
                    for obj in group["resources"]
                    if ((obj.get("metadata") or {}).get("labels") or {}).get(ID_ANNOTATION)
                    == member.kubernetes_id
                ],
            }
            for group in result["resources"]
        ]
        mine.append({**result, "resources": resources})
    return mine
