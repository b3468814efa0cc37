"""Run the catalog processors that apps and plugins registered on each entity as it is built.

A processor adds annotations, relations and status items (portal.registry.ProcessorResult).
The descriptor's own annotations win over a processor's. A processor that raises, or returns
something malformed, leaves the entity as the descriptor defines it, with a warning status
item naming the processor: one plugin's bug never stops ingestion.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from catalog.refs import parse_ref
from portal.registry import ProcessorResult, registry

log = logging.getLogger(__name__)

PROCESSOR_STATUS_TYPE = "greenroom.dev/catalog-processor"


@dataclass
class Processed:
    """An entity body after the processors, with what they added."""

    body: dict[str, Any]
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    status_items: list[dict[str, Any]] = field(default_factory=list)


def _warning(processor: str, message: str) -> dict[str, Any]:
    return {
        "type": PROCESSOR_STATUS_TYPE,
        "level": "warning",
        "message": f"catalog processor {processor}: {message}",
    }


def _status_item(processor: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("message"), str):
        return _warning(processor, f"returned a status item without a message: {item!r:.200}")
    level = item.get("level", "info")
    return {
        "type": str(item.get("type") or PROCESSOR_STATUS_TYPE),
        "level": level if level in ("info", "warning", "error") else "info",
        "message": item["message"],
    }


def run_processors(body: dict[str, Any], key: str) -> Processed:
    """Apply every registered processor that takes this entity's kind; never raises."""
    processed = Processed(body)
    kind = body["kind"].lower()
    namespace = (body["metadata"].get("namespace") or "default").lower()
    for processor in registry.catalog_processors:
        if processor.kinds and kind not in processor.kinds:
            continue
        try:
            result = processor.process(copy.deepcopy(processed.body))
        except Exception as exc:
            log.exception("catalog processor %s failed on %s", processor.name, key)
            processed.status_items.append(_warning(processor.name, f"failed: {exc}"))
            continue
        if result is None:
            continue
        if not isinstance(result, ProcessorResult):
            processed.status_items.append(
                _warning(processor.name, f"returned {type(result).__name__}, not ProcessorResult")
            )
            continue
        _apply(processed, processor.name, result, key, namespace)
    return processed


def _apply(
    processed: Processed, name: str, result: ProcessorResult, key: str, namespace: str
) -> None:
    if result.annotations:
        pairs = result.annotations.items()
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
            processed.status_items.append(_warning(name, "annotations must map strings to strings"))
        else:
            metadata = dict(processed.body["metadata"])
            metadata["annotations"] = {**result.annotations, **(metadata.get("annotations") or {})}
            processed.body = {**processed.body, "metadata": metadata}
    for relation in result.relations:
        try:
            relation_type, target, *reverse = relation
            target_key = parse_ref(target, None, namespace).key
            if not isinstance(relation_type, str) or len(reverse) > 1:
                raise ValueError("give (type, target ref) or (type, target ref, reverse type)")
        except Exception as exc:
            processed.status_items.append(_warning(name, f"bad relation {relation!r}: {exc}"))
            continue
        processed.relations.append((key, relation_type, target_key))
        if reverse:
            processed.relations.append((target_key, str(reverse[0]), key))
    processed.status_items.extend(_status_item(name, item) for item in result.status_items)
