"""Published docs as search documents of type "techdocs" (Backstage's collator's type).

Each page is one document and each of its h2/h3 sections another, located at the reader URL
(with `#anchor` for sections), with the entity's kind, namespace, name, owner and lifecycle
as fields. A build replaces the site's documents (unchanged ones are not rewritten by the
index); removing a site removes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from catalog.models import Entity
from portal.search import sources as search_sources
from portal.search.index import IndexChanges, IndexDocument, delete_documents, upsert_documents
from techdocs import reader
from techdocs.models import DocsSite
from techdocs.storage import get_storage

DOC_TYPE = "techdocs"
_HEADING = re.compile(r"<h([1-3])\b([^>]*)>(.*?)</h\1>", re.DOTALL | re.IGNORECASE)
_ID = re.compile(r'\bid="([^"]+)"')
SKIPPED_PAGES = ("404.html",)


def _fields(entity: Entity) -> dict[str, str]:
    spec = entity.body.get("spec") if isinstance(entity.body.get("spec"), dict) else {}
    fields = {
        "kind": str(entity.body.get("kind") or entity.kind),
        "namespace": entity.namespace,
        "name": str(entity.body["metadata"]["name"]),
    }
    for key in ("owner", "lifecycle"):
        value = spec.get(key)
        if isinstance(value, str) and value:
            fields[key] = value
    return fields


def page_paths(metadata: dict[str, Any]) -> list[str]:
    """Return the reader paths of the site's pages ("" for the home page)."""
    paths = []
    for name in metadata.get("files") or []:
        if not isinstance(name, str) or not name.endswith("index.html"):
            continue
        if name.startswith(("assets/", "search/")) or name in SKIPPED_PAGES:
            continue
        paths.append(name[: -len("index.html")])
    return sorted(paths)


def _sections(content: str) -> Iterator[tuple[int, str, str, str]]:
    """Yield (level, anchor, heading text, section HTML) for each h1-h3 of a page."""
    matches = list(_HEADING.finditer(content))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(content)
        anchor = _ID.search(match.group(2))
        yield (
            int(match.group(1)),
            anchor.group(1) if anchor else "",
            reader.text_of(match.group(3)).rstrip("¶").strip(),
            content[match.end() : end],
        )


def site_documents(site: DocsSite, entity: Entity) -> Iterator[IndexDocument]:
    """Yield the documents of a published site: each page, then each of its sections."""
    storage = get_storage()
    metadata = storage.read_metadata(site.triplet) or {}
    fields = _fields(entity)
    site_title = str(metadata.get("site_name") or fields["name"])
    for path in page_paths(metadata):
        html = storage.read_text(site.triplet, reader.page_file(path))
        if html is None:
            continue
        content = reader.extract(html)["content"]
        sections = list(_sections(content))
        title = next((text for level, _a, text, _h in sections if level == 1), "") or site_title
        yield IndexDocument(
            key=f"{site.entity_ref}/{path}",
            title=f"{title} · {site_title}" if title != site_title else title,
            text=reader.text_of(content),
            location=reader.reader_url(site, path),
            fields=fields,
        )
        for level, anchor, heading, body in sections:
            if level == 1 or not anchor:
                continue
            yield IndexDocument(
                key=f"{site.entity_ref}/{path}#{anchor}",
                title=f"{heading} · {title}",
                text=reader.text_of(body),
                location=reader.reader_url(site, path, anchor),
                fields=fields,
            )


def index_site(site: DocsSite, entity: Entity) -> list[str]:
    """Index a freshly published site; drop its documents the new build no longer has."""
    documents = list(site_documents(site, entity))
    upsert_documents(DOC_TYPE, documents)
    keys = [document.key for document in documents]
    previous = DocsSite.objects.filter(pk=site.pk).values_list("search_keys", flat=True).first()
    stale = set(previous or []) - set(keys)
    if stale:
        delete_documents(DOC_TYPE, stale)
    DocsSite.objects.filter(pk=site.pk).update(search_keys=keys)
    return keys


def remove_site(site: DocsSite) -> int:
    """Delete every search document of a site."""
    return delete_documents(DOC_TYPE, site.search_keys or [])


def rebuild() -> dict[str, IndexChanges]:
    """Re-index every published site (the search index's full rebuild)."""
    changes = IndexChanges()
    entities = {
        entity.ref: entity
        for entity in Entity.objects.filter(
            ref__in=DocsSite.objects.filter(published_at__isnull=False).values("entity_ref")
        )
    }
    for site in DocsSite.objects.filter(published_at__isnull=False):
        entity = entities.get(site.entity_ref)
        if entity is not None:
            changes.written += len(index_site(site, entity))
    return {DOC_TYPE: changes}


search_sources.register_rebuilder("techdocs", rebuild)
