"""Decide which sites to build: a pass over documented entities that builds only what changed.

For each entity with a techdocs-ref, the source's content hash (mkdocs.yml + docs tree, files
whose size and mtime did not change are not read; for url: refs the remote HEAD commit) is
compared with the hash of the last build attempt. Only a difference queues a build: an
unchanged source, or one whose last build failed and that nobody has fixed, costs a stat walk.
Sites of entities that left the catalog (or lost the annotation) are removed.

Runs periodically (beat's `techdocs-check-sites`, or the embedded scheduler), after a catalog
run for that run's entities, and for one entity when someone asks (the sync API).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from catalog.models import Entity, IngestionRun
from catalog.readers import PathGuard
from techdocs import sources
from techdocs.choices import BuildStatus, BuildTrigger
from techdocs.models import DocsBuild, DocsSite

logger = logging.getLogger(__name__)
SEARCH_KEY = f"metadata.annotations.{sources.ANNOTATION}"


@dataclass
class CheckResult:
    """What a pass did."""

    checked: int = 0
    unchanged: int = 0
    queued: list[int] = field(default_factory=list)  # build ids
    failed: int = 0
    removed: int = 0


def documented_entities() -> Any:
    """Return the entities carrying a techdocs-ref (a queryset)."""
    return Entity.objects.filter(search__has_key=SEARCH_KEY)


def _error_marker(message: str) -> str:
    return "error:" + hashlib.sha256(message.encode()).hexdigest()[:58]


def check_sites(
    refs: Iterable[str] | None = None,
    trigger: str = BuildTrigger.SCHEDULED,
    *,
    force: bool = False,
    by: str = "",
) -> CheckResult:
    """Check the documented entities (all, or these refs) and queue builds for changed ones.

    With `force`, a build is queued even when nothing changed.
    """
    from techdocs import tasks

    result = CheckResult()
    wanted = list(refs) if refs is not None else None
    rows = documented_entities()
    if wanted is not None:
        rows = rows.filter(ref__in=wanted)
    entities = list(
        rows.order_by().values_list(
            "id", "ref", "namespace", "kind", "name", "body", "source__target"
        )
    )
    sites = {
        site.entity_ref: site
        for site in DocsSite.objects.filter(
            entity_ref__in=[row[1] for row in entities]
        ).select_related("last_build")
    }
    active = set(
        DocsBuild.objects.filter(
            site__in=list(sites.values()), status__in=(BuildStatus.PENDING, BuildStatus.RUNNING)
        ).values_list("site_id", flat=True)
    )
    config = sources.catalog_config()
    guard = PathGuard(config)
    external = settings.GREENROOM_TECHDOCS_BUILDER == "external"
    now = timezone.now()
    new_sites: list[DocsSite] = []
    for _id, ref, namespace, kind, _name, body, source_target in entities:
        result.checked += 1
        value = sources.entity_ref_value(body)
        site = sites.get(ref)
        if site is None:
            site = DocsSite(
                entity_ref=ref,
                namespace=namespace,
                kind=kind,
                name=str(body["metadata"]["name"]).lower(),
                techdocs_ref=value,
            )
            new_sites.append(site)
        if external or (site.pk is not None and site.pk in active):
            continue
        try:
            docs_ref = sources.parse_ref(value)
            if docs_ref.type == "dir":
                folder = sources.resolve_dir(docs_ref, body, source_target, config)
                digest, record = sources.content_hash(folder, site.file_hashes, guard)
            else:
                digest, record = sources.remote_head(docs_ref, config), {}
        except sources.SourceError as exc:
            marker = _error_marker(str(exc))
            if marker == site.built_hash and not force:
                result.unchanged += 1
                continue
            result.failed += 1
            _record_failure(site, str(exc), marker, trigger, by)
            continue
        changed_record = record != site.file_hashes
        site.file_hashes = record
        if digest == site.built_hash and not force and site.techdocs_ref == value:
            result.unchanged += 1
            if changed_record and site.pk is not None:
                DocsSite.objects.filter(pk=site.pk).update(file_hashes=record)
            continue
        site.techdocs_ref = value
        if site.pk is None:
            site.save()
            new_sites.remove(site)
        else:
            DocsSite.objects.filter(pk=site.pk).update(file_hashes=record, techdocs_ref=value)
        build = DocsBuild.objects.create(
            site=site, trigger=trigger, source_hash=digest, requested_by=by
        )
        result.queued.append(build.pk)
        from portal import background

        background.dispatch(tasks.build_site_task, build.pk, priority=trigger == "manual")
    if new_sites:
        DocsSite.objects.bulk_create(new_sites, ignore_conflicts=True)
    touched = [row[1] for row in entities]
    for start in range(0, len(touched), 500):
        DocsSite.objects.filter(entity_ref__in=touched[start : start + 500]).update(checked_at=now)
    if wanted is None:
        result.removed = remove_undocumented()
    elif wanted:
        result.removed = remove_undocumented(wanted)
    return result


def _record_failure(site: DocsSite, message: str, marker: str, trigger: str, by: str) -> None:
    # A source that cannot even be prepared gets a failed build, so the owner sees why.
    if site.pk is None:
        site.save()
    now = timezone.now()
    build = DocsBuild.objects.create(
        site=site,
        trigger=trigger,
        status=BuildStatus.FAILED,
        error=message,
        log=f"{now:%H:%M:%S} ERROR {message}\n",
        requested_by=by,
        started_at=now,
        finished_at=now,
    )
    DocsSite.objects.filter(pk=site.pk).update(last_build=build, built_hash=marker)


def remove_undocumented(refs: Iterable[str] | None = None) -> int:
    """Remove the sites of entities gone from the catalog or without the annotation."""
    from techdocs.publisher import remove_site

    sites = DocsSite.objects.all()
    if refs is not None:
        sites = sites.filter(entity_ref__in=list(refs))
    documented = documented_entities().filter(ref__in=sites.values("entity_ref"))
    doomed = list(sites.exclude(entity_ref__in=documented.values("ref")))
    for site in doomed:
        remove_site(site)
    return len(doomed)


def request_build(entity: Entity, *, by: str = "", force: bool = False) -> DocsBuild | None:
    """Check one entity now (someone asked); return its queued or running build, if any."""
    check_sites([entity.ref], BuildTrigger.MANUAL, force=force, by=by)
    site = DocsSite.objects.filter(entity_ref=entity.ref).first()
    return site.active_build() if site else None


def after_catalog_run(run: IngestionRun) -> None:
    """Queue a check of the documented entities a finished catalog run wrote or removed."""
    from portal import background
    from techdocs import tasks

    if not (run.added or run.updated or run.removed or run.orphaned):
        return
    background.dispatch(tasks.check_run_task, run.pk)


def check_run(run_id: int) -> CheckResult:
    """Check the documented entities a catalog run wrote, and drop sites of removed ones."""
    run = IngestionRun.objects.filter(pk=run_id).only("id", "location_id", "started_at").first()
    if run is None:
        return CheckResult()
    written = Entity.objects.filter(location_id=run.location_id)
    if run.started_at is not None:
        written = written.filter(Q(updated_at__gte=run.started_at) | Q(last_run_id=run.id))
    refs = list(written.filter(search__has_key=SEARCH_KEY).values_list("ref", flat=True))
    result = check_sites(refs, BuildTrigger.CATALOG) if refs else CheckResult()
    result.removed += remove_undocumented()
    return result
