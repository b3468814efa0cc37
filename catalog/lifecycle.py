"""Explaining the catalog to people: why an entity is here, what a run did, what is wrong."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from catalog.choices import LocationType
from catalog.config import get_config
from catalog.descriptors import DescriptorError, decode, parse_documents
from catalog.ingest import _error, _identify, check_document
from catalog.models import Entity, EntityConflict, IngestionRun, Relation
from catalog.readers import ReadError, read_file
from catalog.serialization import backstage_entities


def validate_file(path: Path) -> list[dict[str, Any]]:
    """Return every problem in a descriptor file, as ingestion would record it.

    Used offline (CI, a laptop), so the file and its placeholders may be read anywhere on
    this machine; URL placeholders are only checked against the allowlist.
    """
    config = dataclasses.replace(get_config(), allowed_paths=(Path("/"),))
    target = str(path)
    try:
        documents = parse_documents(
            decode(read_file(target, config)), config.max_documents_per_file
        )
    except (ReadError, DescriptorError) as exc:
        return [_error(target, None, getattr(exc, "line", None), "", exc.message)]
    problems = []
    for document in documents:
        if document.error is not None:
            problems.append(
                _error(
                    target,
                    document.index,
                    document.error.line,
                    document.error.field,
                    document.error.message,
                )
            )
            continue
        _, errors, _ = check_document(document.data, config, None, LocationType.FILE, target)
        for error in errors:
            problems.append(
                _error(
                    target,
                    document.index,
                    document.line_of(error.field),
                    error.field,
                    error.message,
                    ref=_identify(document.data),
                )
            )
    return problems


def describe_error(error: dict[str, Any], shown_as: str | None = None) -> str:
    """Return one line: `file, document N, line L: field: message`."""
    where = shown_as or error.get("location", "")
    if "document" in error:
        where += f", document {error['document']}"
    if "line" in error:
        where += f", line {error['line']}"
    field = (
        f"{error['field']}: "
        if error.get("field") and not error["message"].startswith(error["field"])
        else ""
    )
    level = "warning: " if error.get("level") == "warning" else ""
    return f"{where}: {level}{field}{error['message']}"


def describe_run(run: IngestionRun) -> str:
    """Return a one-line summary of a run."""
    when = run.started_at or run.requested_at
    duration = f"{run.duration.total_seconds():.2f}s" if run.duration else "-"
    text = (
        f"run {run.pk} {run.status} ({run.trigger}) at {when:%Y-%m-%d %H:%M:%S} in {duration}: "
        f"{run.sources_done}/{run.sources_total} files ({run.sources_skipped} unchanged), "
        f"{run.added} added, {run.updated} updated, {run.unchanged} unchanged, "
        f"{run.orphaned} orphaned ({run.removed} removed), {run.error_count} errors"
    )
    if run.failure:
        text += f" — {run.failure}"
    return text


def explain(ref: str) -> list[str]:
    """Return lines telling where an entity comes from, when it was processed, and its trouble."""
    entity = Entity.objects.select_related("location", "source").filter(ref=ref).first()
    conflicts = list(EntityConflict.objects.filter(ref=ref).select_related("source"))
    lines: list[str] = []
    if entity is None:
        lines.append(f"{ref} is not in the catalog.")
        lines.extend(
            f"  a definition in {c.source.key} was refused: {c.message}" for c in conflicts
        )
        return lines
    lines.append(f"{entity.display_ref} (uid {entity.uid}, generation {entity.generation})")
    if entity.location is not None:
        lines.append(f"  location: {entity.location.key} ({entity.location.origin})")
    if entity.source is not None:
        read_at = entity.source.last_read_at
        lines.append(f"  file: {entity.source.key} (read {read_at:%Y-%m-%d %H:%M:%S})")
    lines.append(
        f"  last processed {entity.processed_at:%Y-%m-%d %H:%M:%S} by run "
        f"{entity.last_run_id}; content changed {entity.updated_at:%Y-%m-%d %H:%M:%S}"
    )
    if entity.orphan:
        lines.append(
            f"  ORPHAN since {entity.orphaned_at:%Y-%m-%d %H:%M:%S}: "
            f"{entity.orphan_reason}. Delete it, or restore its definition."
        )
    for item in entity.errors:
        lines.append(f"  {item.get('level', 'error')}: {item['message']}")
    lines.extend(f"  conflict: {c.source.key}: {c.message}" for c in conflicts)
    relation_count = Relation.objects.filter(source_ref=ref).count()
    lines.append(f"  {relation_count} relations")
    return lines


def _processing_parent(entity: Entity) -> Entity | None:
    """Return the Location entity that led the catalog to this entity's file."""
    if entity.source_id is None:
        return None  # a location's own generated Location entity is a root
    parent_source = entity.source.parent_id
    if parent_source is not None:
        found = Entity.objects.filter(source_id=parent_source, kind="location")[:1]
        return next(iter(found), None)
    location = entity.location
    if location is None:
        return None
    return next(
        iter(Entity.objects.filter(ref=f"location:default/{location.entity_name}")[:1]), None
    )


def ancestry(entity: Entity) -> dict[str, Any]:
    """Return Backstage's ancestry of an entity: it and the Location entities above it."""
    chain: list[tuple[Entity, Entity | None]] = []
    seen: set[str] = set()
    current: Entity | None = entity
    while current is not None and current.ref not in seen:
        seen.add(current.ref)
        parent = _processing_parent(current)
        chain.append((current, parent))
        current = parent
    documents = backstage_entities([item for item, _ in chain])
    return {
        "rootEntityRef": entity.display_ref,
        "items": [
            {"entity": document, "parentEntityRefs": [parent.display_ref] if parent else []}
            for document, (_, parent) in zip(documents, chain, strict=True)
        ],
    }
