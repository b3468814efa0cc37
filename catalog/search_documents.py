"""How catalog entities become search documents, and how the index follows ingestion.

Each entity is one document of type "software-catalog" (Backstage's name), or "template"
for kind Template (the software templates), keyed by its ref. Location entities (the
generated `generated-<sha1>` ones) are not indexed: nobody searches for them.

The index follows the catalog incrementally:

- a run that added or changed entities sends `index_run_task`, which re-indexes the
  location's entities written since the run started (one indexed query, then bulk upserts);
  a run that changed nothing sends nothing;
- every path that deletes entities (orphans, unregistering, `DELETE /entities/by-uid`,
  moving a location) removes their documents by ref in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from catalog.entity_page import page_url
from catalog.models import Entity, IngestionRun
from portal.search import sources
from portal.search.index import IndexChanges, IndexDocument, delete_documents, upsert_documents

ENTITY_TYPE = "software-catalog"
TEMPLATE_TYPE = "template"
TYPES = (ENTITY_TYPE, TEMPLATE_TYPE)
NOT_INDEXED_KINDS = ("location",)
BATCH = 1000


def document_type(kind: str) -> str:
    """Return the search document type of an entity kind."""
    return TEMPLATE_TYPE if kind.lower() == "template" else ENTITY_TYPE


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def entity_document(ref: str, kind: str, namespace: str, body: dict[str, Any]) -> IndexDocument:
    """Return the search document of one entity (its ref, lower-cased kind and namespace).

    Title: metadata.title, else the name. Text: the description, then what people search
    entities by (name, tags, type, owner, system, a user's display name and email…).
    Fields: Backstage's catalog collator's (kind, namespace, name, type, lifecycle, owner).
    """
    metadata = body.get("metadata") or {}
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    name = str(metadata.get("name") or ref.rsplit("/", 1)[-1])
    title = metadata.get("title") if isinstance(metadata.get("title"), str) else ""
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    description = metadata.get("description")
    parts = [
        description if isinstance(description, str) else "",
        name if title else "",
        *_strings(metadata.get("tags")),
        *(_strings(spec.get(key)) for key in ("type", "owner", "system", "lifecycle")),
        *_strings(profile.get("displayName")),
        *_strings(profile.get("email")),
    ]
    text = " ".join(
        part for item in parts for part in (item if isinstance(item, list) else [item]) if part
    )
    fields = {
        "kind": str(body.get("kind") or kind),
        "namespace": namespace,
        "name": name,
    }
    for key, column in (("type", "type"), ("lifecycle", "lifecycle"), ("owner", "owner")):
        value = spec.get(key)
        if isinstance(value, str) and value:
            fields[column] = value
    if "owner" in fields:
        fields["owner"] = _owner_ref(fields["owner"], namespace)
    return IndexDocument(
        key=ref,
        title=title or name,
        text=text,
        location=page_url(namespace, kind, name),
        fields=fields,
    )


def _owner_ref(owner: str, namespace: str) -> str:
    # Owners default to kind Group and the entity's own namespace (Backstage's rule).
    owner = owner.lower()
    if ":" not in owner:
        owner = f"group:{owner}"
    kind, rest = owner.split(":", 1)
    if "/" not in rest:
        rest = f"{namespace}/{rest}"
    return f"{kind}:{rest}"


def _documents(rows: Iterable[tuple[str, str, str, dict[str, Any]]]) -> Iterator[IndexDocument]:
    for ref, kind, namespace, body in rows:
        yield entity_document(ref, kind, namespace, body)


def index_entities(queryset: Any) -> dict[str, IndexChanges]:
    """(Re)index the entities of a queryset, in batches; return the changes per type."""
    changes = {kind_type: IndexChanges() for kind_type in TYPES}
    rows = (
        queryset.exclude(kind__in=NOT_INDEXED_KINDS)
        .order_by()
        .values_list("ref", "kind", "namespace", "body")
    )
    batch: dict[str, list[IndexDocument]] = {ENTITY_TYPE: [], TEMPLATE_TYPE: []}

    def flush(kind_type: str) -> None:
        done = upsert_documents(kind_type, batch[kind_type])
        changes[kind_type].written += done.written
        changes[kind_type].unchanged += done.unchanged
        batch[kind_type] = []

    for document in _documents(rows.iterator(chunk_size=BATCH)):
        kind_type = document_type(document.fields["kind"])
        batch[kind_type].append(document)
        if len(batch[kind_type]) >= BATCH:
            flush(kind_type)
    for kind_type in TYPES:
        if batch[kind_type]:
            flush(kind_type)
    return changes


def run_changed_anything(run: IngestionRun) -> bool:
    """Return whether a finished run wrote entities the index has not seen."""
    return bool(run.added or run.updated)


def index_run(run_id: int) -> dict[str, IndexChanges]:
    """Re-index the entities of the run's location written since the run started.

    Keyed on the location and the write time (not the run id): a later run of the same
    location may have stamped them already, and they must still be indexed.
    """
    run = IngestionRun.objects.filter(pk=run_id).only("id", "location_id", "started_at").first()
    if run is None or run.location_id is None:
        return {}
    queryset = Entity.objects.filter(location_id=run.location_id)
    if run.started_at is not None:
        queryset = queryset.filter(updated_at__gte=run.started_at)
    return index_entities(queryset)


def remove_entities(refs: Iterable[str]) -> int:
    """Delete the documents of entities that are gone (by ref); return how many went."""
    refs = list(refs)
    if not refs:
        return 0
    return sum(delete_documents(kind_type, refs) for kind_type in TYPES)


def rebuild() -> dict[str, IndexChanges]:
    """Index every entity, and drop documents of entities that are no longer there."""
    changes = index_entities(Entity.objects.all())
    current = set(Entity.objects.exclude(kind__in=NOT_INDEXED_KINDS).values_list("ref", flat=True))
    from portal.models import SearchEntry

    stale = [
        key
        for key in SearchEntry.objects.filter(type__in=TYPES).values_list("key", flat=True)
        if key not in current
    ]
    removed = remove_entities(stale)
    changes[ENTITY_TYPE].deleted += removed
    return changes


def after_run(run: IngestionRun) -> None:
    """Have the entities a finished run wrote indexed, in the background, once it commits."""
    from catalog import tasks  # tasks import ingestion, which imports this module
    from portal import background

    if run_changed_anything(run):
        background.dispatch(tasks.index_run_for_search_task, run.pk)


sources.register_rebuilder("catalog", rebuild)
