"""The search index's write API: upsert, delete and replace the documents of one type.

Every writer goes through here (catalog ingestion, the docs build, plugin collators).
Documents carry a `key` that is stable and unique within their type (an entity's ref, a
docs page's path), so a writer can change or remove exactly its own documents. A content
hash per row makes re-sending an unchanged document cost one indexed read, no write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from portal.models import SearchEntry

# Bounded so a huge page cannot make a tsvector overflow (1 MB) or a row hard to read; what
# is past it is rarely what a search for a page should match on.
MAX_TEXT = 100_000
MAX_TITLE = 500
MAX_LOCATION = 2000
CHUNK = 1000
# Copied from a document's fields into their own indexed columns, for the filters.
FILTER_COLUMNS = ("kind", "lifecycle", "owner", "namespace")


@dataclass(frozen=True)
class IndexDocument:
    """One document to index: Backstage's IndexableDocument plus the key that identifies it.

    `fields` are extra strings served with the document and filterable (`kind`,
    `lifecycle`, `owner`, `namespace` have indexed columns; others are read from JSON).
    """

    key: str
    title: str
    text: str
    location: str
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass
class IndexChanges:
    """What a write did to the index."""

    written: int = 0
    unchanged: int = 0
    deleted: int = 0


def _clean(value: object, limit: int) -> str:
    # PostgreSQL cannot store NUL characters in text.
    return str(value or "").replace("\x00", "")[:limit]


def _row(type_: str, document: IndexDocument, now: object) -> SearchEntry:
    fields = {
        str(name): _clean(value, MAX_TITLE)
        for name, value in (document.fields or {}).items()
        if value is not None and value != ""
    }
    title = _clean(document.title, MAX_TITLE)
    text = _clean(document.text, MAX_TEXT)
    location = _clean(document.location, MAX_LOCATION)
    digest = hashlib.sha256(
        json.dumps([title, text, location, fields], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return SearchEntry(
        type=type_,
        key=_clean(document.key, 500),
        title=title,
        text=text,
        location=location,
        fields=fields,
        content_hash=digest,
        updated_at=now,
        **{column: fields.get(column, "").lower()[:63] for column in ("kind", "namespace")},
        lifecycle=fields.get("lifecycle", "").lower()[:200],
        owner=fields.get("owner", "").lower()[:255],
    )


def _chunks(items: Sequence[object], size: int = CHUNK) -> Iterator[Sequence[object]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(
    documents: Iterable[IndexDocument], size: int = CHUNK
) -> Iterator[list[IndexDocument]]:
    batch: list[IndexDocument] = []
    for document in documents:
        batch.append(document)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _upsert_batch(type_: str, batch: list[IndexDocument], changes: IndexChanges) -> list[str]:
    now = timezone.now()
    rows = {row.key: row for row in (_row(type_, document, now) for document in batch)}
    current = dict(
        SearchEntry.objects.filter(type=type_, key__in=list(rows)).values_list(
            "key", "content_hash"
        )
    )
    changed = [row for key, row in rows.items() if current.get(key) != row.content_hash]
    changes.unchanged += len(rows) - len(changed)
    if changed:
        SearchEntry.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=("type", "key"),
            update_fields=(
                "title",
                "text",
                "location",
                "kind",
                "lifecycle",
                "owner",
                "namespace",
                "fields",
                "content_hash",
                "updated_at",
            ),
        )
        changes.written += len(changed)
    return list(rows)


def upsert_documents(type_: str, documents: Iterable[IndexDocument]) -> IndexChanges:
    """Insert or update documents of one type by key; unchanged ones are not rewritten.

    Streams: documents are read and written in batches of 1,000, so a generator over
    100,000 pages never sits in memory whole.
    """
    changes = IndexChanges()
    with transaction.atomic():
        for batch in _batches(documents):
            _upsert_batch(type_, batch, changes)
    return changes


def delete_documents(type_: str, keys: Iterable[str]) -> int:
    """Delete the documents of one type with these keys; return how many went."""
    keys = list(dict.fromkeys(keys))
    deleted = 0
    with transaction.atomic():
        for chunk in _chunks(keys):
            deleted += SearchEntry.objects.filter(type=type_, key__in=chunk).delete()[0]
    return deleted


def replace_type(type_: str, documents: Iterable[IndexDocument]) -> IndexChanges:
    """Make the index hold exactly these documents of one type (a collator's full pass).

    Documents whose content did not change are not rewritten; keys not given any more are
    deleted.
    """
    changes = IndexChanges()
    seen: set[str] = set()
    with transaction.atomic():
        for batch in _batches(documents):
            seen.update(_upsert_batch(type_, batch, changes))
        stale = [
            key
            for key in SearchEntry.objects.filter(type=type_).values_list("key", flat=True)
            if key not in seen
        ]
        changes.deleted = delete_documents(type_, stale)
    return changes


def delete_type(type_: str) -> int:
    """Delete every document of one type (a collator that is gone)."""
    return SearchEntry.objects.filter(type=type_).delete()[0]


def counts() -> dict[str, int]:
    """Return how many documents the index holds per type."""
    rows = SearchEntry.objects.values("type").annotate(n=Count("id")).order_by("type")
    return {row["type"]: row["n"] for row in rows}
