from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Software catalog"

    def ready(self) -> None:
        from catalog.cards import CARDS
        from portal import background
        from portal.registry import registry

        for card in CARDS:
            registry.add_card(card)

        background.start_embedded_scheduler_if_serving()
