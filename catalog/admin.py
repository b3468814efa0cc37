"""Read-only admin views of the catalog, for operators until the portal's own pages exist.

Entities and sources are written only by ingestion, so the admin shows them and never edits
them; locations are registered with `manage.py catalog register` (and later the API/UI).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from catalog.models import Entity, EntityConflict, IngestionRun, Location, Source


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ("type", "target", "origin", "next_refresh_at", "created_at")
    list_filter = ("type", "origin")
    search_fields = ("target",)


@admin.register(IngestionRun)
class IngestionRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "location",
        "trigger",
        "status",
        "started_at",
        "finished_at",
        "added",
        "updated",
        "unchanged",
        "orphaned",
        "error_count",
    )
    list_filter = ("status", "trigger")
    list_select_related = ("location",)


@admin.register(Entity)
class EntityAdmin(ReadOnlyAdmin):
    list_display = ("ref", "kind", "namespace", "orphan", "processed_at", "updated_at")
    list_filter = ("kind", "orphan")
    search_fields = ("ref",)  # the unique index makes prefix searches cheap enough
    show_full_result_count = False  # no COUNT(*) over 100,000 rows per page
    exclude = ("location", "source")


@admin.register(Source)
class SourceAdmin(ReadOnlyAdmin):
    list_display = ("target", "status", "last_read_at", "last_changed_at")
    list_filter = ("status",)
    search_fields = ("target",)
    show_full_result_count = False
    exclude = ("location", "parent")


@admin.register(EntityConflict)
class EntityConflictAdmin(ReadOnlyAdmin):
    list_display = ("ref", "source", "detected_at")
    list_select_related = ("source",)
