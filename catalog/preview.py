"""Reading a location without registering it: the dry run of `POST /locations` and
`POST /analyze-location` (the catalog-import page's first step).

Everything goes through the same reader, parser and validator as ingestion, with the same
allowlist, so a preview accepts exactly what a registration would; nothing is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlparse

from catalog import readers
from catalog.choices import LocationType
from catalog.config import CatalogConfig, get_config
from catalog.descriptors import DescriptorError, decode, parse_documents
from catalog.ingest import (
    InvalidTarget,
    _error,
    _identify,
    check_document,
    check_target,
    descriptor_body,
    invalid_document_error,
    location_children,
    location_entity_body,
)
from catalog.models import Location

MAX_PREVIEW_FILES = 200
MAX_PREVIEW_ENTITIES = 5000
DEFAULT_CATALOG_FILE = "catalog-info.yaml"


@dataclass
class Preview:
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def preview_location(type_: str, target: str, config: CatalogConfig | None = None) -> Preview:
    """Read a location and what its Location entities lead to; return entities and errors.

    Raises ingest.InvalidTarget when the target may not be read at all.
    """
    config = config or get_config()
    target = check_target(type_, target, config)
    origin = f"{type_}:{target}"
    preview = Preview(entities=[location_entity_body(Location(type=type_, target=target))])
    pending: list[tuple[str, str, bool]] = [(type_, target, False)]
    seen: set[str] = set()
    while pending and len(preview.files) < MAX_PREVIEW_FILES:
        source_type, source_target, optional = pending.pop(0)
        try:
            files = (
                list(readers.iter_file_target(source_target, config))
                if source_type == LocationType.FILE
                else [source_target]
            )
        except readers.ReadError as exc:
            preview.errors.append(
                _error(f"{source_type}:{source_target}", None, None, "", str(exc))
            )
            continue
        for path in files:
            key = f"{source_type}:{path}"
            if key in seen or len(preview.files) >= MAX_PREVIEW_FILES:
                continue
            seen.add(key)
            preview.files.append(key)
            pending.extend(_read_one(preview, config, source_type, path, origin, optional))
            if len(preview.entities) > MAX_PREVIEW_ENTITIES:
                preview.errors.append(
                    _error(key, None, None, "", f"more than {MAX_PREVIEW_ENTITIES} entities")
                )
                return preview
    return preview


def _read_one(
    preview: Preview, config: CatalogConfig, type_: str, target: str, origin: str, optional: bool
) -> list[tuple[str, str, bool]]:
    """Read one file into the preview; return the targets its Location entities name."""
    key = f"{type_}:{target}"
    try:
        raw = readers.read_target(type_, target, config)
        documents = parse_documents(decode(raw), config.max_documents_per_file)
    except readers.ReadError as exc:
        if not (optional and exc.missing):
            preview.errors.append(_error(key, None, None, "", exc.message))
        return []
    except DescriptorError as exc:
        preview.errors.append(_error(key, None, exc.line, exc.field, exc.message))
        return []
    children = []
    for document in documents:
        if document.error is not None:
            preview.errors.append(
                _error(
                    key,
                    document.index,
                    document.error.line,
                    document.error.field,
                    document.error.message,
                )
            )
            continue
        data, problems, _ = check_document(document.data, config, None, type_, target)
        if problems:
            identity = _identify(document.data)
            preview.errors.append(invalid_document_error(key, document, problems, identity))
            continue
        _, body = descriptor_body(data, key, origin)
        preview.entities.append(body)
        if body["kind"].lower() == "location":
            children.extend(location_children(type_, target, body.get("spec") or {}))
    return children


def analyze_location(
    type_: str, target: str, catalog_file_name: str | None = None
) -> dict[str, Any]:
    """Return Backstage's analyze-location answer for a file, folder or URL.

    A descriptor (or a folder or repository URL holding `catalog-info.yaml`) gives
    `existingEntityFiles`, each saying whether it is registered already; anything else gives
    a suggested Component in `generateEntities` with the fields a person has to fill in.
    """
    config = get_config()
    target = check_target(type_, target, config)  # before looking: no probing outside the allowlist
    file_name = catalog_file_name or DEFAULT_CATALOG_FILE
    if "/" in file_name or file_name in ("", ".", ".."):
        raise InvalidTarget(f"catalogFileName {file_name!r} must be a plain file name")
    candidate = _descriptor_candidate(type_, target, file_name)
    registered = {(loc.type, loc.target) for loc in Location.objects.all().only("type", "target")}
    if candidate is not None:
        try:
            preview = preview_location(type_, candidate, config)
        except InvalidTarget:  # e.g. the descriptor's host is not allowed: suggest one
            preview = None
        if preview is not None and not preview.errors and len(preview.entities) > 1:
            return {
                "existingEntityFiles": [
                    {
                        "entity": entity,
                        "isRegistered": (type_, candidate) in registered,
                        "location": {"type": type_, "target": candidate},
                    }
                    for entity in preview.entities[1:]
                ],
                "generateEntities": [],
            }
    return {"existingEntityFiles": [], "generateEntities": [_suggestion(type_, target)]}


def _descriptor_candidate(type_: str, target: str, file_name: str) -> str | None:
    """Return the descriptor a target points at: itself, or file_name inside it."""
    if type_ == LocationType.FILE:
        if os.path.isdir(target):
            return os.path.join(target, file_name)
        return target
    path = urlparse(target).path
    if path.endswith((".yaml", ".yml")):
        return target
    return urljoin(target.rstrip("/") + "/", file_name)


def _suggestion(type_: str, target: str) -> dict[str, Any]:
    base = urlparse(target).path if type_ == LocationType.URL else target
    name = PurePosixPath(base.rstrip("/")).name or "new-component"
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-_.")[:63]
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {"name": name or "new-component"},
        "spec": {"type": "other", "lifecycle": "unknown"},
    }
    return {
        "entity": entity,
        "fields": [
            {
                "field": "spec.owner",
                "value": None,
                "state": "needsUserInput",
                "description": "The group or user that owns this component",
            },
            {
                "field": "metadata.name",
                "value": entity["metadata"]["name"],
                "state": "analysisSuggestedValue",
                "description": "Taken from the last part of the location",
            },
        ],
    }
