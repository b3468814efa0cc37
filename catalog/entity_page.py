"""What an entity's page shows: its About facts, its related entities by relation type, the
sub-group ownership of a group, and where it came from — each in a fixed number of queries.

A group may own 20,000 entities, so related lists are capped per relation type (the first
RELATED_LIMIT by ref, with the full count and a link to the filtered catalog), and rows for
the related entities come back in one query for all the tables of the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count

from catalog import listing, queries
from catalog.models import Entity, Relation
from catalog.refs import RefError, parse_ref
from portal.markup import render_markdown, safe_url

RELATED_LIMIT = 50

# Relation type -> (table title, the kinds the page shows it for). Order is display order.
RELATION_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "hasSubcomponent": ("Subcomponents", ("component",)),
    "providesApi": ("Provided APIs", ("component", "system")),
    "consumesApi": ("Consumed APIs", ("component", "system")),
    "apiProvidedBy": ("Providers", ("api",)),
    "apiConsumedBy": ("Consumers", ("api",)),
    "dependsOn": ("Depends on", ("component", "resource", "system")),
    "dependencyOf": ("Dependents", ("component", "resource", "system")),
    "hasMember": ("Members", ("group",)),
    "parentOf": ("Child groups", ("group",)),
    "childOf": ("Parent group", ("group",)),
    "memberOf": ("Groups", ("user",)),
}
GRAPH_KINDS = ("component", "api", "resource", "system", "domain", "group", "user")
TAB_RELATIONS = {
    "api": ("providesApi", "consumesApi"),
    "dependencies": ("dependsOn", "dependencyOf", "hasSubcomponent"),
}


@dataclass
class RelatedTable:
    type: str
    title: str
    entities: list[dict[str, Any]]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.entities)


@dataclass
class About:
    title: str
    description: Any
    owners: list[dict[str, Any]]
    system: dict[str, Any] | None
    domain: dict[str, Any] | None
    lifecycle: str
    type: str
    tags: list[str]
    links: list[dict[str, str]]
    view_url: str | None
    edit_url: str | None
    annotations: dict[str, str] = field(default_factory=dict)
    email: str | None = None  # groups' and users' spec.profile
    display_name: str = ""


def entity_key(namespace: str, kind: str, name: str) -> str:
    """Return the lookup key (Entity.ref) of a catalog URL's parts."""
    return f"{kind.lower()}:{namespace.lower()}/{name.lower()}"


def page_url(namespace: str, kind: str, name: str, tab: str = "") -> str:
    """Return the Backstage-shaped URL of an entity's page (or one of its tabs)."""
    url = f"/catalog/{namespace}/{kind}/{name}"
    return f"{url}/{tab}" if tab else url


def link_for_ref(ref: str, default_kind: str = "component") -> dict[str, Any]:
    """Return {ref, url, kind, name} for an entity reference written in a descriptor."""
    try:
        parsed = parse_ref(ref, default_kind)
    except RefError:
        return {"ref": str(ref), "url": None, "kind": "", "name": str(ref)}
    return {
        "ref": str(parsed),
        "url": page_url(parsed.namespace, parsed.kind, parsed.name),
        "kind": parsed.kind,
        "name": parsed.name,
    }


def entity_url(entity: Entity, tab: str = "") -> str:
    """Return the URL of an entity's page (or tab), with the name as its descriptor spells it."""
    name = entity.body.get("metadata", {}).get("name", entity.name)
    return page_url(entity.namespace, entity.kind, name, tab)


def _source_urls(annotations: dict[str, Any]) -> tuple[str | None, str | None]:
    view = annotations.get("backstage.io/view-url")
    location = annotations.get("backstage.io/source-location")
    if not view and isinstance(location, str) and location.startswith("url:"):
        view = location[len("url:") :]
    return safe_url(view), safe_url(annotations.get("backstage.io/edit-url"))


def about(entity: Entity, owners: list[str]) -> About:
    """Return the About card's facts, with every link checked and markdown sanitised."""
    metadata = entity.body.get("metadata", {})
    spec = entity.body.get("spec") or {}
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if isinstance(v, str)
    }
    links = []
    for link in metadata.get("links") or []:
        if isinstance(link, dict) and (url := safe_url(link.get("url"))):
            links.append({"url": url, "title": str(link.get("title") or url)})
    view_url, edit_url = _source_urls(annotations)
    system, domain = spec.get("system"), spec.get("domain")
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    email = profile.get("email")
    return About(
        email=email if isinstance(email, str) and safe_url(f"mailto:{email}") else None,
        display_name=str(profile.get("displayName") or ""),
        title=str(metadata.get("title") or metadata.get("name", "")),
        description=render_markdown(metadata.get("description")),
        owners=[link_for_ref(ref, "group") for ref in owners],
        system=link_for_ref(system, "system") if isinstance(system, str) else None,
        domain=link_for_ref(domain, "domain") if isinstance(domain, str) else None,
        lifecycle=str(spec.get("lifecycle") or ""),
        type=str(spec.get("type") or ""),
        tags=[str(tag) for tag in metadata.get("tags") or []],
        links=links,
        view_url=view_url,
        edit_url=edit_url,
        annotations=annotations,
    )


def _summaries(refs: set[str]) -> dict[str, dict[str, Any]]:
    """Return display rows for refs that are in the catalog (one query)."""
    if not refs:
        return {}
    rows = Entity.objects.filter(ref__in=refs).values(
        "ref", "kind", "namespace", "name", "body__metadata__name", "body__metadata__title",
        "body__metadata__description", "body__spec__type", "body__spec__lifecycle",
        "body__spec__owner",
    )  # fmt: skip
    found = {}
    for row in rows:
        name = row["body__metadata__name"] or row["name"]
        found[row["ref"]] = {
            "ref": f"{row['kind']}:{row['namespace']}/{name}",
            "kind": row["kind"],
            "name": name,
            "title": row["body__metadata__title"] or name,
            "description": row["body__metadata__description"] or "",
            "type": row["body__spec__type"] or "",
            "lifecycle": row["body__spec__lifecycle"] or "",
            "owner": row["body__spec__owner"] or "",
            "url": page_url(row["namespace"], row["kind"], name),
        }
    return found


def summaries_in_order(refs: list[str]) -> list[dict[str, Any]]:
    """Return display rows for refs in the given order, dropping those no longer in the
    catalog (one query)."""
    found = _summaries(set(refs))
    return [found[ref] for ref in refs if ref in found]


def _missing(ref: str) -> dict[str, Any]:
    kind, _, rest = ref.partition(":")
    blank = dict.fromkeys(("description", "type", "lifecycle", "owner"), "")
    name = rest.split("/", 1)[-1]
    return {
        "ref": ref,
        "kind": kind,
        "name": name,
        "title": ref,
        "url": None,
        "missing": True,
        **blank,
    }


def _window_rows(ref: str, types: list[str], limit: int) -> list[tuple[str, str]]:
    """Return up to `limit` (type, target) pairs per relation type, in one query."""
    table = Relation._meta.db_table
    marks = ", ".join(["%s"] * len(types))
    sql = f"""
        SELECT type, target_ref FROM (
            SELECT DISTINCT type, target_ref,
                   DENSE_RANK() OVER (PARTITION BY type ORDER BY target_ref) AS position
            FROM {table} WHERE source_ref = %s AND type IN ({marks})
        ) ranked WHERE position <= %s ORDER BY type, target_ref
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [ref, *types, limit])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def related_tables(
    entity: Entity, types: list[str], limit: int = RELATED_LIMIT
) -> list[RelatedTable]:
    """Return a table per relation type the entity has (of those asked), capped at limit.

    Three queries: the counts per type, the first rows per type, their entities.
    """
    if not types:
        return []
    totals = dict(
        Relation.objects.filter(source_ref=entity.ref, type__in=types)
        .values("type")
        .annotate(n=Count("target_ref", distinct=True))
        .values_list("type", "n")
    )
    present = [t for t in types if totals.get(t)]
    if not present:
        return []
    pairs = _window_rows(entity.ref, present, limit)
    summaries = _summaries({target for _, target in pairs})
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for relation_type, target in pairs:
        by_type[relation_type].append(summaries.get(target) or _missing(target))
    return [
        RelatedTable(t, RELATION_TABLES.get(t, (t, ()))[0], by_type[t], totals[t]) for t in present
    ]


def tables_for_kind(kind: str) -> list[str]:
    """Return the relation types whose tables the Overview tab shows for a kind."""
    shown_elsewhere = {t for types in TAB_RELATIONS.values() for t in types}
    return [
        t
        for t, (_, kinds) in RELATION_TABLES.items()
        if kind in kinds and not (kind == "component" and t in shown_elsewhere)
    ]


def owner_refs(entity: Entity) -> list[str]:
    """Return the entity's owners (its ownedBy relations), by ref."""
    return list(
        Relation.objects.filter(source_ref=entity.ref, type="ownedBy")
        .values_list("target_ref", flat=True)
        .order_by("target_ref")
        .distinct()
    )


PART_TITLES = {"component": "Components", "api": "APIs", "resource": "Resources",
               "system": "Systems"}  # fmt: skip


def part_tables(entity: Entity, limit: int = RELATED_LIMIT) -> list[RelatedTable]:
    """Return a system's or domain's parts (hasPart), one table per kind, each capped.

    One query counts the parts per kind, then one query per kind present (four at most).
    """
    parts = Relation.objects.filter(source_ref=entity.ref, type="hasPart").values("target_ref")
    in_catalog = Entity.objects.filter(ref__in=parts)
    totals = dict(in_catalog.values("kind").annotate(n=Count("id")).values_list("kind", "n"))
    tables = []
    for kind, title in PART_TITLES.items():
        if not totals.get(kind):
            continue
        refs = list(
            in_catalog.filter(kind=kind).order_by("name").values_list("ref", flat=True)[:limit]
        )
        tables.append(RelatedTable("hasPart", title, summaries_in_order(refs), totals[kind]))
    return tables


@dataclass
class Ownership:
    entities: list[dict[str, Any]]
    total: int
    include_subgroups: bool


def ownership(entity: Entity, *, aggregated: bool, limit: int = RELATED_LIMIT) -> Ownership:
    """Return what a group (with its sub-groups when aggregated) or a user owns, capped.

    For a user, aggregated means owned by the user or by any group the user is a member of.
    """
    if entity.kind == "group":
        owners = queries.group_and_descendants(entity.ref) if aggregated else [entity.ref]
    else:
        owners = [entity.ref]
        if aggregated:
            owners += list(
                Relation.objects.filter(source_ref=entity.ref, type="memberOf").values_list(
                    "target_ref", flat=True
                )
            )
    owned = Relation.objects.filter(type="ownedBy", target_ref__in=owners)
    # Counting what a big organisation owns reads every edge (95,000 at 100k entities);
    # between catalog changes the answer cannot change.
    total = listing.per_catalog_version(
        ("owned-count", entity.ref, aggregated),
        lambda: owned.values("source_ref").distinct().count(),
    )
    refs = list(
        owned.values_list("source_ref", flat=True).distinct().order_by("source_ref")[:limit]
    )
    summaries = _summaries(set(refs))
    return Ownership([summaries.get(r) or _missing(r) for r in refs], total, aggregated)
