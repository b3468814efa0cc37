"""What the UI is assembled from: sidebar entries, entity-page tabs, home and settings cards.

Core apps and plugins add to the one `registry` at start-up (in their AppConfig.ready);
templates read it through `portal.context_processors.layout` and the entity page. This is
the only way portal code learns about anything a plugin contributes: core never imports a
plugin. Registration checks its inputs so a mistake fails at start-up, not on a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    """A sidebar entry between Search and Settings."""

    label: str
    url_name: str  # a URL name to reverse, or a path starting with "/"
    icon: str = "puzzle"  # a name from static/portal/icons.svg
    order: int = 100


@dataclass(frozen=True)
class EntityTab:
    """A tab on entity pages, at /catalog/{ns}/{kind}/{name}/{path}.

    `render(request, entity)` returns the tab's HTML (a string, already safe). The tab is
    shown for entities whose kind is in `kinds` (all when empty), whose spec.type is in
    `types` (all when empty) and that carry every annotation in `annotations`.
    """

    path: str
    label: str
    render: Callable[[HttpRequest, Any], str]
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    annotations: tuple[str, ...] = ()
    order: int = 100

    def applies_to(self, entity: Any) -> bool:
        """Return whether the tab is shown for this entity (an catalog Entity row)."""
        if self.kinds and entity.kind not in self.kinds:
            return False
        if self.types and entity.spec_type not in self.types:
            return False
        annotations = entity.body.get("metadata", {}).get("annotations") or {}
        return all(name in annotations for name in self.annotations)


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


# Paths the entity page itself owns; a contributed tab may not shadow them.
RESERVED_TAB_PATHS = frozenset(
    {"", "api", "dependencies", "definition", "inspect", "unregister", "graph", "star"}
)


@dataclass
class Registry:
    navigation: list[NavItem] = field(default_factory=list)
    entity_tabs: list[EntityTab] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)

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

    def cards_for(self, slot: str) -> list[Card]:
        """Return the cards of one page slot, in order."""
        return [card for card in self.cards if card.slot == slot]

    def tabs_for(self, entity: Any) -> list[EntityTab]:
        """Return the contributed tabs shown on this entity's page, in order."""
        return [tab for tab in self.entity_tabs if tab.applies_to(entity)]


registry = Registry()
