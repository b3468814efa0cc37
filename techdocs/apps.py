"""The TechDocs app: registers the Docs tab on entities that carry a techdocs-ref."""

from __future__ import annotations

from django.apps import AppConfig

ANNOTATION = "backstage.io/techdocs-ref"


class TechdocsConfig(AppConfig):
    name = "techdocs"
    verbose_name = "TechDocs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.registry import EntityTab, registry
        from techdocs import views

        if not any(tab.path == "docs" for tab in registry.entity_tabs):
            registry.add_entity_tab(
                EntityTab(
                    path="docs",
                    label="Docs",
                    render=views.render_docs_tab,
                    annotations=(ANNOTATION,),
                    order=10,
                )
            )
