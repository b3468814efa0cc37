"""Catalog tables.

Location (what an admin registered) → Source (each file or URL read under it) → Entity (each
valid document) → Relation (each edge the entity declares, stored in both directions).
IngestionRun records one pass over a location for people and for progress.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.choices import (
    LocationOrigin,
    LocationType,
    RunStatus,
    RunTrigger,
    SourceStatus,
)


class Location(models.Model):
    """A root location: a file path or glob, or a URL, that the catalog reads entities from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=16, choices=LocationType.choices)
    target = models.TextField()
    origin = models.CharField(
        max_length=16, choices=LocationOrigin.choices, default=LocationOrigin.REGISTERED
    )
    presence = models.CharField(max_length=16, default="required")
    # Kinds this location may produce, for static locations that carry their own rules.
    allowed_kinds = models.JSONField(null=True, blank=True)
    next_refresh_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("type", "target"), name="catalog_location_unique_target"
            )
        ]
        ordering = ("created_at",)

    def __str__(self) -> str:
        return self.key

    @property
    def key(self) -> str:
        """Return Backstage's `<type>:<target>` form, used in managed-by annotations."""
        return f"{self.type}:{self.target}"

    @property
    def entity_name(self) -> str:
        """Return the name of the Location entity that stands for this location, as
        Backstage generates it (`generated-<sha1 of type:target>`)."""
        return "generated-" + hashlib.sha1(self.key.encode()).hexdigest()

    def latest_run(self) -> IngestionRun | None:
        """Return the most recent ingestion run of this location."""
        return self.runs.order_by("-id").first()


class Source(models.Model):
    """One file or URL read for a location: what was there last time and whether it parsed.

    A source's raw content hash lets an unchanged file cost one read and no parsing. Sources
    pointed at by a Location entity keep a link to the source that declared them, so a parent
    that fails to parse does not make its children look deleted.
    """

    # No separate index: the (location, target) unique constraint serves location lookups.
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="sources", db_index=False
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    type = models.CharField(max_length=16, choices=LocationType.choices)
    target = models.TextField()
    optional = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=SourceStatus.choices, default=SourceStatus.NEW)
    errors = models.JSONField(default=list, blank=True)
    # Set when the content has placeholders ($text, …): those read other files, so the raw
    # hash alone cannot tell that nothing changed.
    has_placeholders = models.BooleanField(default=False)
    discovered_run_id = models.BigIntegerField(null=True, blank=True)
    # The run that still has to read this source; cleared once read (the run's work queue).
    queued_run_id = models.BigIntegerField(null=True, blank=True)
    processed_run_id = models.BigIntegerField(null=True, blank=True)
    parsed_run_id = models.BigIntegerField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("location", "target"), name="catalog_source_unique_target"
            )
        ]
        indexes = [
            models.Index(
                fields=("queued_run_id", "id"),
                name="catalog_source_queued",
                condition=models.Q(queued_run_id__isnull=False),
            ),
            models.Index(fields=("parsed_run_id",), name="catalog_source_parsed_run"),
        ]

    def __str__(self) -> str:
        return f"{self.type}:{self.target}"

    @property
    def key(self) -> str:
        return f"{self.type}:{self.target}"


class EntityQuerySet(models.QuerySet["Entity"]):
    def delete_with_relations(self) -> int:
        """Delete these entities and the relations they emitted, in bulk; return the count.

        Relations point at entities with DO_NOTHING so that deleting 100,000 entities is two
        DELETE statements instead of Django's collector loading every row into memory.
        """
        with transaction.atomic():
            ids = self.values("id")
            Relation.objects.filter(originating_id__in=ids).delete()
            EntityStar.objects.filter(entity_id__in=ids).delete()
            return self.model.objects.filter(id__in=ids)._raw_delete(self.db)


class Entity(models.Model):
    """One catalog entity: the validated descriptor plus the columns we query on.

    `body` is the entity as served (apiVersion, kind, metadata incl. uid/etag/generation,
    spec) without relations and status, which are attached at read time from their tables.
    """

    uid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    # kind:namespace/name lower-cased: names are unique per kind and namespace ignoring case.
    ref = models.CharField(max_length=255)  # unique by constraint (no LIKE index needed)
    kind = models.CharField(max_length=63)  # lower-cased
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=63)
    body = models.JSONField()
    # Lower-cased, flattened {key: [values]} for Backstage's filters (catalog/filters.py).
    search = models.JSONField(default=dict)
    # Lower-cased copies of the keys the catalog page filters and facets on (filters.PROMOTED):
    # the value when it is one string, '' when absent, filters.IRREGULAR otherwise.
    spec_type = models.CharField(max_length=255, blank=True, default="")
    lifecycle = models.CharField(max_length=255, blank=True, default="")
    owner = models.CharField(max_length=255, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)  # metadata.tags, original case
    content_hash = models.CharField(max_length=64)
    generation = models.PositiveIntegerField(default=1)
    etag = models.CharField(max_length=64)
    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="entities",
        db_index=False,  # (location, last_run_id) serves it
    )
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.DO_NOTHING, related_name="entities"
    )
    # Processing problems of the last pass, as Backstage's status.items.
    errors = models.JSONField(default=list, blank=True)
    last_run_id = models.BigIntegerField(null=True, blank=True)
    orphan = models.BooleanField(default=False)
    orphaned_at = models.DateTimeField(null=True, blank=True)
    orphan_reason = models.TextField(blank=True)
    processed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = EntityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entities"
        # Every index costs each of 100,000 upserts: only what queries use.
        constraints = [models.UniqueConstraint(fields=("ref",), name="catalog_entity_unique_ref")]
        indexes = [
            models.Index(fields=("location", "last_run_id"), name="catalog_entity_loc_run"),
            # Pages of one kind by name (the default order with a kind filter, and the
            # catalog table's), kind facets and counts; lookups by name use the unique ref.
            models.Index(fields=("kind", "name", "ref"), name="catalog_entity_kind_name"),
            models.Index(
                fields=("orphan",), name="catalog_entity_orphan", condition=Q(orphan=True)
            ),
            # Filter pages on the promoted keys come out of these in ref order (a LIMIT reads
            # just the page), and their facets are index-only scans.
            models.Index(fields=("kind", "spec_type", "ref"), name="catalog_entity_kind_type"),
            models.Index(fields=("kind", "lifecycle", "ref"), name="catalog_entity_kind_lifecycle"),
            models.Index(fields=("kind", "owner", "ref"), name="catalog_entity_owner"),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def display_ref(self) -> str:
        """Return the ref with the name's original case, as Backstage prints it."""
        return f"{self.kind}:{self.namespace}/{self.body['metadata']['name']}"


class Relation(models.Model):
    """One directed edge, as `source_ref --type--> target_ref`.

    Every declared edge is stored twice (ownedBy and ownerOf), both rows credited to the entity
    whose descriptor declared it, so re-ingesting that entity replaces exactly its edges and
    "what does X own" is an index lookup on source_ref.
    """

    originating = models.ForeignKey(
        Entity, on_delete=models.DO_NOTHING, related_name="emitted_relations"
    )
    source_ref = models.CharField(max_length=255)
    type = models.CharField(max_length=63)
    target_ref = models.CharField(max_length=255)

    class Meta:
        indexes = [
            models.Index(fields=("source_ref", "type"), name="catalog_rel_source"),
            models.Index(fields=("target_ref", "type"), name="catalog_rel_target"),
        ]

    def __str__(self) -> str:
        return f"{self.source_ref} {self.type} {self.target_ref}"


class EntityConflict(models.Model):
    """A definition of an entity that lost to an existing one from another location."""

    ref = models.CharField(max_length=255, db_index=True)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="conflicts")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="conflicts")
    message = models.TextField()
    detected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("ref", "source"), name="catalog_conflict_unique")
        ]

    def __str__(self) -> str:
        return f"{self.ref} from {self.source}"


class EntityStar(models.Model):
    """A person's star on an entity (Backstage's starred entities)."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="starred")
    entity = models.ForeignKey(Entity, on_delete=models.DO_NOTHING, related_name="stars")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "entity"), name="catalog_star_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.entity_id}"


class IngestionRunQuerySet(models.QuerySet["IngestionRun"]):
    def active(self) -> IngestionRunQuerySet:
        return self.filter(status__in=(RunStatus.PENDING, RunStatus.RUNNING))


class IngestionRun(models.Model):
    """One pass over a location (or over one of its sources), with what it found."""

    MAX_RECORDED_ERRORS = 500

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="runs")
    # Set when the run covers one source (refresh of one entity's file) and what it leads to.
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    priority = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING)
    requested_by = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(null=True, blank=True)  # root sources listed
    active_lanes = models.PositiveIntegerField(default=0)
    # Someone asked for this scope again while the run was past reading: run it once more.
    rerun_requested = models.BooleanField(default=False)
    sources_total = models.PositiveIntegerField(default=0)
    sources_done = models.PositiveIntegerField(default=0)
    sources_skipped = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    orphaned = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)

    objects = IngestionRunQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=("location", "-id"), name="catalog_run_location_latest"),
            models.Index(fields=("status",), name="catalog_run_status"),
            # The newest finished run is part of the catalog's version (listing.catalog_version).
            models.Index(fields=("finished_at",), name="catalog_run_finished"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.location_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    def add_counts(self, also_set: dict[str, object] | None = None, **counts: int) -> None:
        """Add to the run's counters atomically (several lanes may report at once), and set
        the fields in also_set in the same statement."""
        changes = {name: F(name) + value for name, value in counts.items() if value}
        changes.update(also_set or {})
        if changes:
            IngestionRun.objects.filter(pk=self.pk).update(**changes)

    def record_errors(self, errors: list[dict]) -> None:
        """Append errors to the run, keeping the first MAX_RECORDED_ERRORS in full."""
        if not errors:
            return
        with transaction.atomic():
            run = IngestionRun.objects.select_for_update().get(pk=self.pk)
            room = self.MAX_RECORDED_ERRORS - len(run.errors)
            if room > 0:
                run.errors = run.errors + errors[:room]
            run.error_count += sum(1 for e in errors if e.get("level", "error") == "error")
            run.save(update_fields=["errors", "error_count"])


class EntityVisit(models.Model):
    """When a person last opened an entity's page (one row per person and entity)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entity_visits"
    )
    entity_ref = models.CharField(max_length=255)
    visited_at = models.DateTimeField(default=timezone.now)
    hits = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "entity_ref"), name="catalog_visit_unique")
        ]
        indexes = [models.Index(fields=("user", "-visited_at"), name="catalog_visit_recent")]

    def __str__(self) -> str:
        return f"{self.user} visited {self.entity_ref}"
