"""What the portal is assembled from: everything core apps and plugins contribute.

Sidebar entries, entity-page tabs and cards, home and settings cards, search collators,
scaffolder actions and catalog processors. Core apps and plugins add to the one `registry`
at start-up (in their AppConfig.ready; plugins through `portal.plugins.PortalPlugin`);
pages, the search indexer, the scaffolder and ingestion read it. This is the only way core
code learns about anything a plugin contributes: core never imports a plugin. Registration
checks its inputs so a mistake fails at start-up, not on a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    """A sidebar entry between Search and Settings."""

    label: str
    url_name: str  # a URL name to reverse, or a path starting with "/"
    icon: str = "puzzle"  # a name from static/portal/icons.svg
    order: int = 100
    plugin: str = ""  # set by the plugin loader


def _lowered(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(value.lower() for value in values)


@dataclass(frozen=True, kw_only=True)
class EntityMatch:
    """Which entities a tab or card is shown for: kind in `kinds` (all when empty), spec.type
    in `types` (all when empty), every annotation in `annotations` present, and at least one
    of `any_annotations` (when given)."""

    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    any_annotations: tuple[str, ...] = ()
    order: int = 100
    plugin: str = ""  # set by the plugin loader

    def __post_init__(self) -> None:
        # Entity rows hold kind and type lower-cased; "Component" in a plugin means the same.
        object.__setattr__(self, "kinds", _lowered(tuple(self.kinds)))
        object.__setattr__(self, "types", _lowered(tuple(self.types)))
        object.__setattr__(self, "annotations", tuple(self.annotations))
        object.__setattr__(self, "any_annotations", tuple(self.any_annotations))

    def applies_to(self, entity: Any) -> bool:
        """Return whether it is shown for this entity (a catalog Entity row)."""
        if self.kinds and entity.kind not in self.kinds:
            return False
        if self.types and entity.spec_type not in self.types:
            return False
        annotations = entity.body.get("metadata", {}).get("annotations") or {}
        if self.any_annotations and not any(name in annotations for name in self.any_annotations):
            return False
        return all(name in annotations for name in self.annotations)


@dataclass(frozen=True)
class EntityTab(EntityMatch):
    """A tab on entity pages, at /catalog/{ns}/{kind}/{name}/{path}, for matching entities.

    `render(request, entity)` returns the tab's HTML (a string, already safe).
    """

    path: str
    label: str
    render: Callable[[HttpRequest, Any], str]


@dataclass(frozen=True)
class EntityCard(EntityMatch):
    """A card on an entity's Overview tab, for matching entities.

    `render(request, entity)` returns the card's body HTML (already safe), or "" to leave
    it out.
    """

    key: str
    title: str
    render: Callable[[HttpRequest, Any], str]


CARD_SLOTS = ("home", "settings")


@dataclass(frozen=True)
class Card:
    """A card on the home page ("home") or the settings page ("settings").

    `render(request)` returns the card's body HTML (already safe), or "" to leave it out.
    """

    slot: str
    key: str
    title: str
    render: Callable[[HttpRequest], str]
    order: int = 100
    plugin: str = ""


@dataclass(frozen=True)
class SearchDocument:
    """One document for the search index (Backstage's IndexableDocument).

    `location` is the URL a result links to; `fields` holds filterable extras (kind, owner,
    lifecycle…), all strings.
    """

    title: str
    text: str
    location: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchCollator:
    """A source of search documents of one `type` (Backstage's document collator).

    `collect()` yields every document of the type; the search indexer calls it when it
    rebuilds the index and on its periodic pass.
    """

    type: str
    collect: Callable[[], Iterable[SearchDocument]]
    plugin: str = ""


class ActionContext(Protocol):
    """What a scaffolder action's handler receives (Backstage's action context).

    `input` is the step's input after templating, checked against the action's
    input_schema; `workspace` is the task's workspace folder (paths the action writes must
    stay inside it); `log(message)` adds a line to the step's log (secrets are masked);
    `output(name, value)` sets a step output, as returning a dict does; `secrets` holds the
    task's secrets; `user_entity_ref` is who runs it; `dry_run` is True when nothing may
    leave the workspace; `cancelled()` says whether the task was cancelled.
    """

    input: dict[str, Any]
    workspace: Path
    secrets: dict[str, str]
    user_entity_ref: str
    dry_run: bool

    def log(self, message: str) -> None: ...

    def output(self, name: str, value: Any) -> None: ...

    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class ActionSpec:
    """A scaffolder action (Backstage's createTemplateAction): an id like "acme:notify".

    `handler(context)` runs the step (context: ActionContext) and may return a dict of
    outputs; `input_schema` (JSON Schema) is checked before the task starts; both are
    listed on the actions page and in /api/scaffolder/v2/actions.
    """

    id: str
    description: str
    handler: Callable[[ActionContext], dict[str, Any] | None]
    input_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    output_schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    examples: tuple[dict[str, Any], ...] = ()
    plugin: str = ""


@dataclass(frozen=True)
class ProcessorResult:
    """What a catalog processor adds to one entity during ingestion.

    `annotations` are merged into metadata.annotations (the descriptor's own win);
    `relations` are (type, target entity ref) pairs from this entity, or (type, target,
    reverse type) to store the edge back too, as descriptors' relations are; `status_items`
    are {"type", "level", "message"} items shown on the entity like processing errors.
    """

    annotations: dict[str, str] = field(default_factory=dict)
    relations: tuple[tuple[str, ...], ...] = ()
    status_items: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class CatalogProcessor:
    """A hook run on every valid entity of the kinds given (all when empty) as it is ingested.

    `process(entity)` receives a copy of the entity's body and returns a ProcessorResult or
    None. Bump `version` when its output changes, so unchanged files are processed again.
    A processor that raises leaves the entity as written, with a warning on it.
    """

    name: str
    process: Callable[[dict[str, Any]], ProcessorResult | None]
    kinds: tuple[str, ...] = ()
    version: str = "1"
    plugin: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", _lowered(tuple(self.kinds)))


# Paths the entity page itself owns; a contributed tab may not shadow them.
RESERVED_TAB_PATHS = frozenset(
    {"", "api", "dependencies", "definition", "inspect", "unregister", "graph", "star"}
)


ACTION_ID = re.compile(r"^[a-z][a-zA-Z0-9_-]*(:[a-zA-Z0-9_-]+)+$")


@dataclass
class Registry:
    navigation: list[NavItem] = field(default_factory=list)
    entity_tabs: list[EntityTab] = field(default_factory=list)
    entity_cards: list[EntityCard] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    search_collators: list[SearchCollator] = field(default_factory=list)
    scaffolder_actions: dict[str, ActionSpec] = field(default_factory=dict)
    catalog_processors: list[CatalogProcessor] = field(default_factory=list)

    def add_nav_item(self, item: NavItem) -> None:
        if not isinstance(item, NavItem):
            raise ImproperlyConfigured(f"navigation entries must be NavItem, got {item!r}")
        self.navigation.append(item)
        self.navigation.sort(key=lambda entry: (entry.order, entry.label))

    def add_entity_tab(self, tab: EntityTab) -> None:
        if not isinstance(tab, EntityTab) or not callable(tab.render):
            raise ImproperlyConfigured(f"entity tabs must be EntityTab with render, got {tab!r}")
        if tab.path in RESERVED_TAB_PATHS or "/" in tab.path:
            raise ImproperlyConfigured(f"entity tab path {tab.path!r} is reserved or invalid")
        if any(existing.path == tab.path for existing in self.entity_tabs):
            raise ImproperlyConfigured(f"entity tab path {tab.path!r} is registered twice")
        self.entity_tabs.append(tab)
        self.entity_tabs.sort(key=lambda entry: (entry.order, entry.label))

    def add_card(self, card: Card) -> None:
        if not isinstance(card, Card) or not callable(card.render):
            raise ImproperlyConfigured(f"cards must be Card with render, got {card!r}")
        if card.slot not in CARD_SLOTS:
            raise ImproperlyConfigured(f"card slot {card.slot!r} is not one of {CARD_SLOTS}")
        if any(existing.key == card.key for existing in self.cards):
            raise ImproperlyConfigured(f"card {card.key!r} is registered twice")
        self.cards.append(card)
        self.cards.sort(key=lambda entry: (entry.order, entry.title))

    def add_entity_card(self, card: EntityCard) -> None:
        if not isinstance(card, EntityCard) or not callable(card.render):
            raise ImproperlyConfigured(f"entity cards must be EntityCard with render, got {card!r}")
        if any(existing.key == card.key for existing in self.entity_cards):
            raise ImproperlyConfigured(f"entity card {card.key!r} is registered twice")
        self.entity_cards.append(card)
        self.entity_cards.sort(key=lambda entry: (entry.order, entry.title))

    def add_search_collator(self, collator: SearchCollator) -> None:
        if not isinstance(collator, SearchCollator) or not callable(collator.collect):
            raise ImproperlyConfigured(f"collators must be SearchCollator, got {collator!r}")
        if any(existing.type == collator.type for existing in self.search_collators):
            raise ImproperlyConfigured(f"search document type {collator.type!r} is taken")
        self.search_collators.append(collator)

    def add_scaffolder_action(self, action: ActionSpec) -> None:
        if not isinstance(action, ActionSpec) or not callable(action.handler):
            raise ImproperlyConfigured(f"actions must be ActionSpec with handler, got {action!r}")
        if not ACTION_ID.match(action.id):
            raise ImproperlyConfigured(
                f"action id {action.id!r} must look like 'namespace:name' (e.g. 'acme:notify')"
            )
        if action.id in self.scaffolder_actions:
            raise ImproperlyConfigured(f"scaffolder action {action.id!r} is registered twice")
        if not isinstance(action.input_schema, dict):
            raise ImproperlyConfigured(f"action {action.id!r}: input_schema must be a dict")
        self.scaffolder_actions[action.id] = action

    def add_catalog_processor(self, processor: CatalogProcessor) -> None:
        if not isinstance(processor, CatalogProcessor) or not callable(processor.process):
            raise ImproperlyConfigured(
                f"catalog processors must be CatalogProcessor, got {processor!r}"
            )
        if any(existing.name == processor.name for existing in self.catalog_processors):
            raise ImproperlyConfigured(f"catalog processor {processor.name!r} is registered twice")
        self.catalog_processors.append(processor)

    def processors_fingerprint(self) -> str:
        """Return what identifies the processors' output (part of each file's skip hash)."""
        return ",".join(f"{p.name}@{p.version}" for p in self.catalog_processors)

    def cards_for(self, slot: str) -> list[Card]:
        """Return the cards of one page slot, in order."""
        return [card for card in self.cards if card.slot == slot]

    def tabs_for(self, entity: Any) -> list[EntityTab]:
        """Return the contributed tabs shown on this entity's page, in order."""
        return [tab for tab in self.entity_tabs if tab.applies_to(entity)]

    def entity_cards_for(self, entity: Any) -> list[EntityCard]:
        """Return the contributed cards shown on this entity's Overview, in order."""
        return [card for card in self.entity_cards if card.applies_to(entity)]


registry = Registry()
