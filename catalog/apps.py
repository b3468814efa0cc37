from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Software catalog"

    def ready(self) -> None:
        from portal import background

        background.start_embedded_scheduler_if_serving()
