"""TechDocs tables.

DocsSite is one documented entity's site: where its sources are, the hash of what was last
built (so an unchanged source is never rebuilt) and what is online. DocsBuild is one build
attempt, with its status, duration and full log, appended as the build runs.
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from techdocs.choices import BuildStatus, BuildTrigger


class DocsSite(models.Model):
    """One entity's documentation: its source, the last build and what is published."""

    # kind:namespace/name lower-cased, like Entity.ref (the entity may come and go).
    entity_ref = models.CharField(max_length=255, unique=True)
    namespace = models.CharField(max_length=63)
    kind = models.CharField(max_length=63)
    name = models.CharField(max_length=63)
    techdocs_ref = models.CharField(max_length=1000, blank=True)  # the annotation last seen
    # Hash of mkdocs.yml + the docs tree (or the commit of a url: ref) last built, success
    # or failure: the same input is not built again until it changes.
    built_hash = models.CharField(max_length=64, blank=True)
    # {relative path: [size, mtime_ns, sha256]} of the last hashing: unchanged files are not
    # read again to hash them.
    file_hashes = models.JSONField(default=dict, blank=True)
    published_hash = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    site_name = models.CharField(max_length=500, blank=True)
    # Keys of this site's documents in the search index, to delete the ones a build drops.
    search_keys = models.JSONField(default=list, blank=True)
    last_build = models.ForeignKey(
        "DocsBuild", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("entity_ref",)

    def __str__(self) -> str:
        return self.entity_ref

    @property
    def triplet(self) -> tuple[str, str, str]:
        return (self.namespace, self.kind, self.name)

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def active_build(self) -> DocsBuild | None:
        """Return the build waiting or running for this site, if any."""
        return (
            self.builds.filter(status__in=(BuildStatus.PENDING, BuildStatus.RUNNING))
            .order_by("-id")
            .first()
        )


class DocsBuildQuerySet(models.QuerySet["DocsBuild"]):
    def claim(self, build_id: int) -> DocsBuild | None:
        """Move a pending build to running; return it, or None if taken or finished."""
        with transaction.atomic():
            taken = self.filter(pk=build_id, status=BuildStatus.PENDING).update(
                status=BuildStatus.RUNNING, started_at=timezone.now()
            )
        return self.get(pk=build_id) if taken else None


class DocsBuild(models.Model):
    """One build (or outside publish) of a site: status, timing and the full log."""

    site = models.ForeignKey(DocsSite, on_delete=models.CASCADE, related_name="builds")
    status = models.CharField(
        max_length=16, choices=BuildStatus.choices, default=BuildStatus.PENDING
    )
    trigger = models.CharField(
        max_length=16, choices=BuildTrigger.choices, default=BuildTrigger.SCHEDULED
    )
    source_hash = models.CharField(max_length=64, blank=True)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)
    requested_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = DocsBuildQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=("site", "status"), name="techdocs_build_site_status")]

    def __str__(self) -> str:
        return f"build {self.pk} of {self.site_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (BuildStatus.SUCCEEDED, BuildStatus.FAILED)

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def append_log(self, text: str) -> None:
        """Append lines to the stored log in one UPDATE (readers see them at once)."""
        if text:
            DocsBuild.objects.filter(pk=self.pk).update(
                log=Concat(F("log"), Value(text), output_field=models.TextField())
            )
