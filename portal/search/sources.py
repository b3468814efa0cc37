"""Where the index's documents come from, for a full rebuild and the collators' passes.

Apps contribute a rebuild function per document type from their own `search_documents`
module (found the way Django's admin finds `admin` modules), so the portal never imports an
app: `catalog/search_documents.py` registers "software-catalog" and "template", the docs
build will register "techdocs". Plugins contribute collators through the registry
(`registry.search_collators`); their documents are replaced type by type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.utils.module_loading import autodiscover_modules

from portal.registry import SearchDocument, registry
from portal.search.index import IndexChanges, IndexDocument, replace_type

logger = logging.getLogger(__name__)

Rebuilder = Callable[[], dict[str, IndexChanges]]
_rebuilders: dict[str, Rebuilder] = {}
_discovered = False


def register_rebuilder(name: str, rebuild: Rebuilder) -> None:
    """Register how an app re-indexes all of its documents (called from its module)."""
    _rebuilders[name] = rebuild


def rebuilders() -> dict[str, Rebuilder]:
    """Return the apps' rebuild functions, importing each app's search_documents once."""
    global _discovered
    if not _discovered:
        autodiscover_modules("search_documents")
        _discovered = True
    return dict(_rebuilders)


def collator_documents(documents: Iterable[SearchDocument]) -> Iterable[IndexDocument]:
    """Return a collator's documents keyed by their location (a fields["key"] wins).

    Backstage's documents have no id; the location is what a result links to, so two
    documents with the same one are the same result. Repeats get a counter.
    """
    seen: dict[str, int] = {}
    for document in documents:
        fields = {str(k): str(v) for k, v in (document.fields or {}).items() if v is not None}
        key = fields.pop("key", "") or document.location or document.title
        count = seen.get(key, 0)
        seen[key] = count + 1
        yield IndexDocument(
            key=key if count == 0 else f"{key}#{count}",
            title=document.title,
            text=document.text,
            location=document.location,
            fields=fields,
        )


def refresh_collators(types: Iterable[str] | None = None) -> dict[str, IndexChanges | str]:
    """Run the plugins' collators and replace each one's documents; return what changed.

    A collator that raises keeps its previous documents (its error is logged and returned);
    the others still run.
    """
    wanted = set(types) if types is not None else None
    results: dict[str, IndexChanges | str] = {}
    for collator in registry.search_collators:
        if wanted is not None and collator.type not in wanted:
            continue
        try:
            results[collator.type] = replace_type(
                collator.type, collator_documents(collator.collect())
            )
        except Exception as exc:  # a plugin's bug must not stop the others
            logger.exception("search collator %s failed", collator.type)
            results[collator.type] = f"failed: {exc}"
    return results


def rebuild_all() -> dict[str, IndexChanges | str]:
    """Re-index everything: every app's documents, then every collator's."""
    results: dict[str, IndexChanges | str] = {}
    for name, rebuild in sorted(rebuilders().items()):
        logger.info("rebuilding search documents of %s", name)
        results.update(rebuild())
    results.update(refresh_collators())
    return results


def collator_types() -> list[str]:
    """Return the document types plugins' collators contribute."""
    return [collator.type for collator in registry.search_collators]
