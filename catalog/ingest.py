"""Ingestion: from a location to entities and relations, in bulk, skipping what did not change.

A run goes through three steps, each a task so that big locations are worked in bounded
batches and urgent runs can overtake them:

1. start_run: claim the run, write the location's own Location entity, and "discover" its
   root sources (the files a glob matches, or the URL) by stamping them with the run id.
2. process_lane (one or more in parallel): claim a batch of discovered, unprocessed sources
   (FOR UPDATE SKIP LOCKED on PostgreSQL), read and parse them, upsert their entities and
   relations, discover the targets of any Location entity among them, and go again until
   nothing is left. A source whose bytes hash as before is skipped without parsing.
3. finalize_run (by the last lane out): entities that a successfully parsed source no longer
   produces, or whose source is gone from the location, become orphans, deleted or kept as
   the config says; then the run records its counts.

Nothing valid is ever lost to bad input: a file that fails to read or parse keeps its
entities and its children, and an invalid document keeps the last valid version of its
entity, with the error attached to it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from catalog import readers, search_documents
from catalog.bulk import copy_rows, insert_rows, update_rows, upsert_rows
from catalog.choices import (
    LocationOrigin,
    LocationType,
    OrphanStrategy,
    RunStatus,
    RunTrigger,
    SourceStatus,
)
from catalog.config import CatalogConfig, get_config, is_glob
from catalog.descriptors import DescriptorError, Document, decode, parse_documents
from catalog.filters import promoted_tags, promoted_values, search_document
from catalog.models import (
    Entity,
    EntityConflict,
    IngestionRun,
    Location,
    Relation,
    Source,
)
from catalog.processors import run_processors
from catalog.refs import ref_key
from catalog.validation import FieldError, relations_of, validate_entity
from portal.registry import registry

logger = logging.getLogger(__name__)

ANNOTATION_LOCATION = "backstage.io/managed-by-location"
ANNOTATION_ORIGIN = "backstage.io/managed-by-origin-location"
ANNOTATION_ORPHAN = "backstage.io/orphan"
PROCESSING_ERROR = "backstage.io/catalog-processing"
SERVER_SET_METADATA = ("uid", "etag", "generation")

# Part of every hash: bump it when what ingestion derives from a file changes (a new
# column, the search document), and the next refresh re-derives every entity.
FORMAT_VERSION = "3"

BATCH_SOURCES = 500
DISCOVERY_CHUNK = 2000
LANE_WAIT_SECONDS = 0.3
WRITE_BATCH = 2000
STALE_RUN_AFTER = timedelta(minutes=10)
REDISPATCH_PENDING_AFTER = timedelta(seconds=60)


class LocationExists(Exception):
    """A registration for a target that is already registered."""

    def __init__(self, location: Location) -> None:
        super().__init__(f"location {location.key} is already registered")
        self.location = location


class InvalidTarget(ValueError):
    """A registration target that cannot be read under the config (type, path or host)."""


# --------------------------------------------------------------------------------------------
# Requests: register, unregister, refresh
# --------------------------------------------------------------------------------------------


def check_target(type_: str, target: str, config: CatalogConfig | None = None) -> str:
    """Return the normalised target if it may be read, else raise InvalidTarget."""
    config = config or get_config()
    target = target.strip()
    if type_ not in LocationType.values:
        raise InvalidTarget(f"location type {type_!r} is not supported (use file or url)")
    if not target:
        raise InvalidTarget("location target is empty")
    try:
        if type_ == LocationType.URL:
            readers.check_url(target, config)
        elif is_glob(target):
            readers.check_glob_root(target, config)
        else:
            readers.check_file_path(target, config)
    except readers.ReadError as exc:
        raise InvalidTarget(exc.message) from None
    return target


def register_location(
    type_: str, target: str, *, by: str = "", origin: str = LocationOrigin.REGISTERED
) -> tuple[Location, IngestionRun]:
    """Register a location and queue its first ingestion ahead of periodic work.

    Raises LocationExists for a target registered before, InvalidTarget for one that may not
    be read.
    """
    target = check_target(type_, target)
    with transaction.atomic():
        existing = Location.objects.filter(type=type_, target=target).first()
        if existing is not None:
            raise LocationExists(existing)
        try:
            with transaction.atomic():
                location = Location.objects.create(
                    type=type_, target=target, origin=origin, created_by=by
                )
        except IntegrityError:
            raise LocationExists(Location.objects.get(type=type_, target=target)) from None
        run = request_run(location, RunTrigger.REGISTRATION, by=by, priority=True)
    return location, run


def sync_static_locations(config: CatalogConfig | None = None) -> list[IngestionRun]:
    """Make the config's static locations exist (and removed ones go); queue new ones."""
    config = config or get_config()
    runs = []
    wanted = {(s.type, s.target): s for s in config.locations}
    with transaction.atomic():
        for location in Location.objects.filter(origin=LocationOrigin.CONFIG):
            if (location.type, location.target) not in wanted:
                unregister_location(location)
        for (type_, target), static in wanted.items():
            kinds = list(static.allowed_kinds) if static.allowed_kinds is not None else None
            location, created = Location.objects.get_or_create(
                type=type_,
                target=target,
                defaults={"origin": LocationOrigin.CONFIG, "allowed_kinds": kinds},
            )
            if not created and location.allowed_kinds != kinds:
                location.allowed_kinds = kinds
                location.save(update_fields=["allowed_kinds", "updated_at"])
            if created:
                runs.append(request_run(location, RunTrigger.REGISTRATION, priority=True))
    return runs


def unregister_location(location: Location) -> int:
    """Delete a location and every entity that only it produced; return how many went.

    Definitions of those entities that lost a conflict to this location get their chance:
    their sources are refreshed.
    """
    with transaction.atomic():
        doomed = Entity.objects.filter(location=location)
        refs = list(doomed.values_list("ref", flat=True))
        removed = doomed.delete_with_relations()
        search_documents.remove_entities(refs)
        Entity.objects.filter(source__location=location).update(source=None)
        location.delete()
        _retry_conflicts(refs)
    return removed


def move_location(location: Location, type_: str, target: str, *, by: str = "") -> Location:
    """Point a registered location at another target (`PUT /locations/{id}`).

    The location keeps its id; its next run (queued now) reads the new target, and entities
    only the old target defined become orphans by the config's orphan strategy.
    """
    target = check_target(type_, target)
    with transaction.atomic():
        if (type_, target) != (location.type, location.target):
            other = Location.objects.filter(type=type_, target=target).exclude(pk=location.pk)
            if other.exists():
                raise LocationExists(other.first())
            old_entity = ref_key("location", "default", location.entity_name)
            Entity.objects.filter(ref=old_entity).delete_with_relations()
            location.type, location.target = type_, target
            location.save(update_fields=["type", "target", "updated_at"])
        request_run(location, RunTrigger.MANUAL, by=by, priority=True)
    return location


def delete_entity(entity: Entity) -> None:
    """Delete an entity now, as `DELETE /entities/by-uid` does in Backstage.

    If its file still defines it, the next refresh brings it back (with a new uid): the
    file's hash is forgotten so that refresh parses it.
    """
    with transaction.atomic():
        if entity.source_id is not None:
            Source.objects.filter(pk=entity.source_id).update(content_hash="")
        Entity.objects.filter(pk=entity.pk).delete_with_relations()
        search_documents.remove_entities([entity.ref])
        # A change outside any run: move the catalog's version on (listing.catalog_version).
        Location.objects.filter(pk=entity.location_id).update(updated_at=timezone.now())


def request_run(
    location: Location,
    trigger: str,
    *,
    by: str = "",
    priority: bool = False,
    source: Source | None = None,
) -> IngestionRun:
    """Return a pending or running run for this location and scope, creating one if needed.

    The run is saved first and its task sent only once the transaction commits, so a worker
    never sees an ID that is not in the database yet.
    """
    from catalog import tasks  # tasks import this module

    with transaction.atomic():
        active = IngestionRun.objects.active().filter(location=location, source=source).first()
        explicit = trigger in (RunTrigger.MANUAL, RunTrigger.ENTITY)
        if active is not None and active.status == RunStatus.RUNNING and explicit:
            # The running run may have read the files already: an explicit request must
            # see what is there now, so the run goes again when it finishes. The update only
            # lands while the run still runs; if it finished meanwhile, a new run starts.
            flagged = IngestionRun.objects.filter(pk=active.pk, status=RunStatus.RUNNING).update(
                rerun_requested=True
            )
            if flagged:
                return active
            active = None
        if active is not None:
            if priority and not active.priority and active.status == RunStatus.PENDING:
                active.priority = True
                active.save(update_fields=["priority"])
                _send(tasks.start_run_task, active)
            return active
        run = IngestionRun.objects.create(
            location=location, source=source, trigger=trigger, priority=priority, requested_by=by
        )
        _send(tasks.start_run_task, run)
    return run


def refresh_location(location: Location, *, by: str = "") -> IngestionRun:
    """Queue an urgent full refresh of a location."""
    return request_run(location, RunTrigger.MANUAL, by=by, priority=True)


def refresh_entity(entity: Entity, *, by: str = "") -> IngestionRun | None:
    """Queue an urgent refresh of the file an entity came from (and what that file leads to).

    Its source's hash is forgotten so the file is parsed even if its bytes did not change.
    Returns None for an entity that came from no file (a location's own Location entity).
    """
    if entity.source_id is None or entity.location_id is None:
        if entity.location_id is None:
            return None
        return refresh_location(entity.location, by=by)
    Source.objects.filter(pk=entity.source_id).update(content_hash="")
    return request_run(
        entity.location, RunTrigger.ENTITY, by=by, priority=True, source=entity.source
    )


def schedule_due_refreshes(limit: int = 100) -> list[IngestionRun]:
    """Queue periodic refreshes of due locations, and repair runs a lost worker left behind.

    Called by Celery beat (or the embedded scheduler) every few seconds; bounded by limit so
    a tick never floods the queue.
    """
    config = get_config()
    now = timezone.now()
    sync_static_locations(config)
    _repair_runs(now)
    busy = IngestionRun.objects.active().values("location_id")
    due = (
        Location.objects.filter(Q(next_refresh_at__lte=now) | Q(next_refresh_at__isnull=True))
        .exclude(id__in=busy)
        .order_by("next_refresh_at")[:limit]
    )
    return [request_run(location, RunTrigger.SCHEDULED) for location in due]


def _repair_runs(now: Any) -> None:
    """Fail runs whose worker went silent; re-send runs that were never picked up."""
    from catalog import tasks

    stale = IngestionRun.objects.filter(
        status=RunStatus.RUNNING, started_at__lt=now - STALE_RUN_AFTER
    ).filter(Q(heartbeat_at__lt=now - STALE_RUN_AFTER) | Q(heartbeat_at__isnull=True))
    for run in stale:
        _finish(run, RunStatus.FAILED, failure="the worker stopped reporting progress")
    for run in IngestionRun.objects.filter(
        status=RunStatus.PENDING, requested_at__lt=now - REDISPATCH_PENDING_AFTER
    )[:50]:
        _send(tasks.start_run_task, run)


def _send(task: Any, run: IngestionRun, countdown: float = 0.0) -> None:
    from portal import background

    background.dispatch(task, run.pk, priority=run.priority, countdown=countdown)


def _retry_conflicts(refs: Iterable[str]) -> None:
    refs = list(refs)
    if not refs:
        return
    conflicts = (
        EntityConflict.objects.filter(ref__in=refs)
        .select_related("location", "source")
        .order_by("detected_at")
    )
    seen: set[int] = set()
    for conflict in conflicts:
        if conflict.source_id in seen:
            continue
        seen.add(conflict.source_id)
        Source.objects.filter(pk=conflict.source_id).update(content_hash="")
        request_run(conflict.location, RunTrigger.MANUAL, priority=True, source=conflict.source)


# --------------------------------------------------------------------------------------------
# Step 1: start a run
# --------------------------------------------------------------------------------------------


def start_run(run_id: int) -> None:
    """Claim a pending run, queue its root sources and open its lanes.

    Lanes open as soon as the first chunk of new sources is committed, so reading and
    parsing overlap with walking a large tree.
    """
    now = timezone.now()
    claimed = IngestionRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        return  # already taken, finished, or deleted with its location
    run = IngestionRun.objects.select_related("location", "source").get(pk=run_id)
    config = get_config()
    try:
        if run.source_id is not None:
            with transaction.atomic():
                Source.objects.filter(pk=run.source_id).update(
                    discovered_run_id=run.id, queued_run_id=run.id
                )
                _open_lanes(run, 1)
                _mark_discovered(run)
            return
        with transaction.atomic():
            _write_location_entity(run)
        _discover_roots(run, config)
    except Exception as exc:
        logger.exception("run %s could not start", run_id)
        _finish(run, RunStatus.FAILED, failure=f"{exc.__class__.__name__}: {exc}")


def _open_lanes(run: IngestionRun, lanes: int) -> None:
    """Send the run's lanes (once its queue has work), within the caller's transaction."""
    from catalog import tasks

    IngestionRun.objects.filter(pk=run.pk).update(active_lanes=lanes)
    for _ in range(lanes):
        _send(tasks.process_lane_task, run)


def _mark_discovered(run: IngestionRun) -> None:
    """Record that the run's root sources are all queued (lanes may now finish)."""
    total = Source.objects.filter(location_id=run.location_id, discovered_run_id=run.id).count()
    IngestionRun.objects.filter(pk=run.pk).update(sources_total=total, discovered_at=timezone.now())


def location_entity_body(location: Location) -> dict[str, Any]:
    """Return the body of the Location entity that stands for a location (Backstage's)."""
    managed_by = "bootstrap:bootstrap" if location.origin == LocationOrigin.CONFIG else location.key
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Location",
        "metadata": {
            "name": location.entity_name,
            "namespace": "default",
            "annotations": {ANNOTATION_LOCATION: managed_by, ANNOTATION_ORIGIN: managed_by},
        },
        "spec": {"type": location.type, "target": location.target},
    }


def _write_location_entity(run: IngestionRun) -> None:
    """Upsert the Location entity that stands for a registered location (Backstage's
    `generated-<sha1>` entity), so the location shows up in the catalog itself."""
    location = run.location
    body = location_entity_body(location)
    key = ref_key("location", "default", location.entity_name)
    existing = Entity.objects.filter(ref=key).first()
    digest = _hash_body(body)
    if existing is not None and existing.content_hash == digest:
        Entity.objects.filter(pk=existing.pk).update(last_run_id=run.id)
        return
    entity = _entity_row(
        key,
        body,
        digest,
        existing,
        location_id=location.pk,
        source_id=None,
        run_id=run.id,
        now=timezone.now(),
    )
    _upsert_entities([entity])


def _discover_roots(run: IngestionRun, config: CatalogConfig) -> None:
    """Queue the location's root sources for the run, committing new ones in chunks.

    If the root cannot be listed, every source the location had is carried over, so a
    folder that is briefly unreadable does not orphan its entities.
    """
    location = run.location
    known = dict(Source.objects.filter(location=location).values_list("target", "id"))
    seen: set[str] = set()
    fresh: list[str] = []
    lanes_open = False

    def commit_fresh() -> None:
        nonlocal lanes_open
        with transaction.atomic():
            _insert_sources(location, [(None, location.type, t, False) for t in fresh], run.id)
            if not lanes_open:
                _open_lanes(run, settings.GREENROOM_INGEST_LANES)
                lanes_open = True
        fresh.clear()

    try:
        targets = (
            [location.target]
            if location.type == LocationType.URL
            else readers.iter_file_target(location.target, config)
        )
        for target in targets:
            seen.add(target)
            if target not in known:
                fresh.append(target)
                if len(fresh) >= DISCOVERY_CHUNK:
                    commit_fresh()
    except readers.ReadError as exc:
        run.record_errors([_error(location.key, None, None, "", exc.message)])
        seen.clear()
    if fresh:
        commit_fresh()

    queue = {"discovered_run_id": run.id, "queued_run_id": run.id}
    with transaction.atomic():
        if not seen:
            if location.presence != "optional":
                run.record_errors(
                    [_error(location.key, None, None, "", f"{location.target}: no file matches")]
                )
            Source.objects.filter(location=location).update(**queue)
        else:
            matched = [known[t] for t in seen if t in known]
            unmatched = [source_id for target, source_id in known.items() if target not in seen]
            # One statement either way: name the few that match, or all but the few that don't.
            if len(matched) <= len(unmatched) or len(unmatched) > WRITE_BATCH:
                for chunk in _chunks(matched, WRITE_BATCH):
                    Source.objects.filter(pk__in=chunk).update(**queue, parent=None)
            elif matched:
                Source.objects.filter(location=location).exclude(pk__in=unmatched).update(
                    **queue, parent=None
                )
        if not lanes_open:
            _open_lanes(run, settings.GREENROOM_INGEST_LANES)
        _mark_discovered(run)


# --------------------------------------------------------------------------------------------
# Step 2: lanes process batches of sources
# --------------------------------------------------------------------------------------------


def process_lane(run_id: int) -> None:
    """Process one batch of the run's sources, then send this lane again or close it."""
    from catalog import tasks

    run = IngestionRun.objects.select_related("location").filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return
    # Read before claiming: if discovery had finished then, its last sources are visible
    # to the claim below, so an empty claim really means the run is out of work.
    discovery_done = run.discovered_at is not None
    config = get_config()
    with transaction.atomic():
        batch = list(
            Source.objects.select_for_update(skip_locked=True)
            .filter(queued_run_id=run.id)
            .order_by("id")[:BATCH_SOURCES]
        )
        if batch:
            if connection.vendor == "postgresql":
                # Everything here can be read again from its source: a crash may lose the
                # last few hundred milliseconds of commits, never consistency, and commits
                # stop waiting for the disk.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            _process_batch_safely(run, config, batch)
    if batch:
        _send(tasks.process_lane_task, run)
        return
    if not discovery_done:
        _send(tasks.process_lane_task, run, countdown=LANE_WAIT_SECONDS)
        return
    with transaction.atomic():
        locked = IngestionRun.objects.select_for_update().get(pk=run.pk)
        locked.active_lanes = max(0, locked.active_lanes - 1)
        locked.save(update_fields=["active_lanes"])
        last_lane = locked.active_lanes == 0 and locked.status == RunStatus.RUNNING
    if last_lane:
        finalize_run(run)


def _process_batch_safely(run: IngestionRun, config: CatalogConfig, batch: list[Source]) -> None:
    """Process a batch in a savepoint; if it raises, redo it file by file.

    A bug or a value the database refuses must cost only the file that caused it: that file
    is recorded as failed (its entities kept) and every other file of the batch is ingested.
    Losing the database itself is not handled here: it propagates, and the task is retried.
    """
    try:
        with transaction.atomic():
            BatchProcessor(run, config).process(batch)
        return
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception(
            "run %s: a batch of %s files failed; retrying one by one", run.pk, len(batch)
        )
    for source in batch:
        fresh = Source.objects.get(pk=source.pk)  # the failed attempt changed it in memory
        try:
            with transaction.atomic():
                BatchProcessor(run, config).process([fresh])
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:
            logger.exception("run %s: %s failed", run.pk, fresh.key)
            _fail_internally(run, fresh, exc)


def _insert_sources(
    location: Location, rows: list[tuple[int | None, str, str, bool]], run_id: int
) -> None:
    """Insert new sources (parent id, type, target, optional), queued for this run."""
    location_id = Location._meta.get_field("id").get_db_prep_value(location.pk, connection)
    insert_rows(
        Source._meta.db_table,
        [
            "location_id",
            "parent_id",
            "type",
            "target",
            "optional",
            "content_hash",
            "status",
            "errors",
            "has_placeholders",
            "discovered_run_id",
            "queued_run_id",
        ],
        [
            (
                location_id,
                parent,
                type_,
                target,
                optional,
                "",
                SourceStatus.NEW,
                "[]",
                False,
                run_id,
                run_id,
            )
            for parent, type_, target, optional in rows
        ],
        ignore_conflicts=True,
    )


def _carry_over_children(parent_ids: Sequence[int], run_id: int) -> None:
    """Queue the children of files that were not parsed this run: they are still wanted."""
    Source.objects.filter(parent_id__in=parent_ids).exclude(discovered_run_id=run_id).update(
        discovered_run_id=run_id, queued_run_id=run_id
    )


def _fail_internally(run: IngestionRun, source: Source, exc: Exception) -> None:
    message = f"internal error while processing: {exc.__class__.__name__}: {str(exc)[:300]}"
    errors = [_error(source.key, None, None, "", message)]
    Source.objects.filter(pk=source.pk).update(
        processed_run_id=run.id,
        queued_run_id=None,
        content_hash="",
        status=SourceStatus.FAILED,
        errors=errors,
    )
    _carry_over_children([source.pk], run.id)
    run.record_errors(errors)
    run.add_counts(sources_done=1)


@dataclass
class _Built:
    """An entity built from one valid document."""

    key: str
    body: dict[str, Any]
    digest: str
    source: Source
    where: str  # "file doc N" for messages
    relations: list[tuple[str, str, str]] = field(default_factory=list)
    status_items: list[dict[str, Any]] = field(default_factory=list)  # from processors


def _hash_body(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((FORMAT_VERSION + canonical).encode()).hexdigest()


def _error(
    target: str,
    document: int | None,
    line: int | None,
    field_path: str,
    message: str,
    *,
    ref: str | None = None,
    level: str = "error",
) -> dict[str, Any]:
    """Return an error record naming the file, document, line and field."""
    record: dict[str, Any] = {"level": level, "location": target, "message": message}
    if document is not None:
        record["document"] = document
    if line is not None:
        record["line"] = line
    if field_path:
        record["field"] = field_path
    if ref:
        record["entityRef"] = ref
    return record


def _status_item(record: dict[str, Any]) -> dict[str, Any]:
    """Return Backstage's status.items shape for an error record."""
    where = record["location"]
    if "document" in record:
        where += f", document {record['document']}"
    if "line" in record:
        where += f", line {record['line']}"
    return {
        "type": PROCESSING_ERROR,
        "level": record.get("level", "error"),
        "message": f"{where}: {record['message']}",
        "error": {
            "name": "InputError",
            "message": record["message"],
            **{k: record[k] for k in ("location", "document", "line", "field") if k in record},
        },
    }


class BatchProcessor:
    """Read, parse, validate and write one batch of sources within one transaction."""

    def __init__(self, run: IngestionRun, config: CatalogConfig) -> None:
        self.run = run
        self.config = config
        self.location = run.location
        self.location_kinds = (
            frozenset(k.lower() for k in self.location.allowed_kinds)
            if self.location.allowed_kinds is not None
            else None
        )
        self.now = timezone.now()
        self.built: dict[str, _Built] = {}
        self.invalid: dict[str, list[dict[str, Any]]] = {}  # existing refs whose doc is bad
        self.source_errors: dict[int, list[dict[str, Any]]] = {}
        self.children: list[tuple[Source, str, str, bool]] = []
        self.skipped: list[Source] = []
        self.failed: list[Source] = []
        self.parsed: list[Source] = []
        self.partial: list[Source] = []
        self.conflicts: list[EntityConflict] = []
        self.counts = {"added": 0, "updated": 0, "unchanged": 0}
        self.guard = readers.PathGuard(config)

    # -- reading ------------------------------------------------------------------------------

    def process(self, batch: Sequence[Source]) -> None:
        salt = (
            FORMAT_VERSION
            + self.config.fingerprint
            + self.location.key
            + repr(self.location_kinds)
            # Enabling a plugin's processor (or a new version of one) re-reads every file.
            + registry.processors_fingerprint()
        ).encode()
        for source in batch:
            source.processed_run_id = self.run.id
            source.last_read_at = self.now
            try:
                raw = readers.read_target(source.type, source.target, self.config, self.guard)
            except readers.ReadError as exc:
                if exc.missing and source.optional:
                    raw = b""
                else:
                    self._fail_source(source, exc.message)
                    continue
            digest = hashlib.sha256(salt + raw).hexdigest()
            if (
                digest == source.content_hash
                and source.status in (SourceStatus.OK, SourceStatus.PARTIAL)
                and not source.has_placeholders
            ):
                self.skipped.append(source)
                continue
            source.content_hash = digest
            source.last_changed_at = self.now
            self._parse_source(source, raw)
        self._write(batch)

    def _fail_source(self, source: Source, message: str, line: int | None = None) -> None:
        source.status = SourceStatus.FAILED
        source.content_hash = ""
        self.source_errors[source.pk] = [_error(source.key, None, line, "", message)]
        self.failed.append(source)

    def _parse_source(self, source: Source, raw: bytes) -> None:
        errors: list[dict[str, Any]] = []
        partial = False
        source.has_placeholders = False
        try:
            documents = parse_documents(decode(raw), self.config.max_documents_per_file)
        except DescriptorError as exc:
            self._fail_source(source, exc.message, exc.line)
            return
        for document in documents:
            if document.error is not None:
                errors.append(
                    _error(
                        source.key,
                        document.index,
                        document.error.line,
                        document.error.field,
                        document.error.message,
                    )
                )
                partial = True
                continue
            problem = self._build(source, document)
            if problem is not None:
                errors.append(problem)
                if "entityRef" not in problem:
                    partial = True  # we cannot tell which entity it was: keep them all
        # PARTIAL: some document could not be tied to an entity, so none of the file's
        # entities may be taken for deleted (no orphaning from it this run).
        source.status = SourceStatus.PARTIAL if partial else SourceStatus.OK
        self.source_errors[source.pk] = errors
        (self.partial if partial else self.parsed).append(source)

    def _build(self, source: Source, document: Document) -> dict[str, Any] | None:
        """Build an entity from a document; return an error record if it is invalid."""
        identity = _identify(document.data)
        data, problems, placeholders = check_document(
            document.data, self.config, self.location_kinds, source.type, source.target
        )
        source.has_placeholders = source.has_placeholders or placeholders
        if problems:
            return self._invalid(source, document, identity, problems)

        key, body = descriptor_body(data, source.key, self.location.key)
        relations = relations_of(body, key)
        status_items: list[dict[str, Any]] = []
        if registry.catalog_processors:
            processed = run_processors(body, key)
            body, status_items = processed.body, processed.status_items
            relations += processed.relations
        where = f"{source.key} document {document.index}"
        if key in self.built:
            return _error(
                source.key,
                document.index,
                document.line,
                "metadata.name",
                f"{key} is defined twice; the definition in {self.built[key].where} wins",
                ref=key,
            )
        built = _Built(key, body, _hash_body(body), source, where, relations, status_items)
        self.built[key] = built
        if body["kind"].lower() == "location":
            self._discover_children(source, body["spec"])
        return None

    def _invalid(
        self,
        source: Source,
        document: Document,
        identity: str | None,
        problems: list[FieldError],
    ) -> dict[str, Any]:
        record = invalid_document_error(source.key, document, problems, identity)
        if identity is not None:
            self.invalid.setdefault(identity, []).append(record)
        return record

    def _discover_children(self, source: Source, spec: dict[str, Any]) -> None:
        """Queue a Location entity's targets, resolved relative to the file that lists them."""
        for child_type, child_target, optional in location_children(
            source.type, source.target, spec
        ):
            self.children.append((source, child_type, child_target, optional))

    # -- writing ------------------------------------------------------------------------------

    def _write(self, batch: Sequence[Source]) -> None:
        run = self.run
        existing = {
            e.ref: e
            for chunk in _chunks(list(self.built) + list(self.invalid), WRITE_BATCH)
            for e in Entity.objects.filter(ref__in=chunk).only(
                "id",
                "ref",
                "uid",
                "content_hash",
                "location_id",
                "source_id",
                "last_run_id",
                "generation",
                "orphan",
                "errors",
            )
        }
        rows: list[Entity] = []
        unchanged_ids: list[int] = []
        relation_owners: list[str] = []
        for key, built in self.built.items():
            current = existing.get(key)
            if current is not None and self._conflicts(current, built):
                continue
            if (
                current is not None
                and current.content_hash == built.digest
                and current.source_id == built.source.pk
                and not current.orphan
                and current.errors == built.status_items
            ):
                unchanged_ids.append(current.pk)
                self.counts["unchanged"] += 1
                continue
            self.counts["updated" if current is not None else "added"] += 1
            rows.append(
                _entity_row(
                    key,
                    built.body,
                    built.digest,
                    current,
                    location_id=self.location.pk,
                    source_id=built.source.pk,
                    run_id=run.id,
                    now=self.now,
                    errors=built.status_items,
                )
            )
            relation_owners.append(key)

        ids = _upsert_entities(rows)
        for key in [k for k in relation_owners if k not in ids]:
            # Another file of this location wrote it first, in a parallel lane.
            self.counts["updated" if key in existing else "added"] -= 1
            self._record_conflict(
                self.built[key],
                f"{key} is defined in two files of this location; the other definition "
                f"was written first and wins over {self.built[key].where}",
            )
        relation_owners = [k for k in relation_owners if k in ids]
        for chunk in _chunks(unchanged_ids, WRITE_BATCH):
            Entity.objects.filter(pk__in=chunk).update(last_run_id=run.id, processed_at=self.now)
        self._write_relations(relation_owners, ids, existing)
        self._record_invalid(existing)
        self._write_sources(batch)
        self._write_children()

        errors = [e for s in batch for e in self.source_errors.get(s.pk, [])]
        skipped_ids = [s.pk for s in self.skipped]
        unchanged_in_skipped = (
            sum(
                Entity.objects.filter(source_id__in=chunk).count()
                for chunk in _chunks(skipped_ids, WRITE_BATCH)
            )
            if skipped_ids
            else 0
        )
        run.record_errors(errors)
        progress: dict[str, object] = {"heartbeat_at": self.now}
        if self.children:  # the run grew: recount what it has to read
            progress["sources_total"] = Source.objects.filter(
                location_id=run.location_id, discovered_run_id=run.id
            ).count()
        run.add_counts(
            progress,
            sources_done=len(batch),
            sources_skipped=len(self.skipped),
            added=self.counts["added"],
            updated=self.counts["updated"],
            unchanged=self.counts["unchanged"] + unchanged_in_skipped,
        )

    def _conflicts(self, current: Entity, built: _Built) -> bool:
        """Return whether current wins over built; record the conflict if so."""
        if current.location_id not in (None, self.location.pk) and not current.orphan:
            owner = current.location_id
            message = (
                f"{built.key} is already provided by another location ({owner}); "
                f"the definition in {built.where} is ignored until that one goes"
            )
        elif (
            current.location_id == self.location.pk
            and current.source_id not in (None, built.source.pk)
            and current.last_run_id == self.run.id
        ):
            message = (
                f"{built.key} is defined in two files of this location; the other definition "
                f"was read first and wins over {built.where}"
            )
        else:
            return False
        self._record_conflict(built, message)
        return True

    def _record_conflict(self, built: _Built, message: str) -> None:
        self.conflicts.append(
            EntityConflict(
                ref=built.key, location=self.location, source=built.source, message=message
            )
        )
        self.source_errors.setdefault(built.source.pk, []).append(
            _error(built.source.key, None, None, "metadata.name", message, ref=built.key)
        )

    def _write_relations(
        self, owner_keys: list[str], ids: dict[str, int], existing: dict[str, Entity]
    ) -> None:
        """Replace the relations of the entities written (new ones have none to delete)."""
        if not owner_keys:
            return
        replaced = [ids[key] for key in owner_keys if key in existing]
        for chunk in _chunks(replaced, WRITE_BATCH):
            Relation.objects.filter(originating_id__in=chunk).delete()
        copy_rows(
            Relation._meta.db_table,
            ["originating_id", "source_ref", "type", "target_ref"],
            [
                (ids[key], source, kind, target)
                for key in owner_keys
                for source, kind, target in self.built[key].relations
            ],
        )

    def _record_invalid(self, existing: dict[str, Entity]) -> None:
        """Attach document errors to the last valid version of each entity they concern."""
        for key, records in self.invalid.items():
            current = existing.get(key)
            if current is None or current.location_id != self.location.pk or key in self.built:
                continue
            Entity.objects.filter(pk=current.pk).update(
                errors=[_status_item(r) for r in records], last_run_id=self.run.id
            )

    def _write_sources(self, batch: Sequence[Source]) -> None:
        run_id = self.run.id
        touched = self.parsed + self.partial + self.failed
        for source in self.parsed:
            source.parsed_run_id = run_id
        for source in touched:
            source.errors = self.source_errors.get(source.pk, [])
        update_rows(
            Source._meta.db_table,
            "id",
            [
                "content_hash",
                "status",
                "errors",
                "has_placeholders",
                "processed_run_id",
                "queued_run_id",
                "parsed_run_id",
                "last_read_at",
                "last_changed_at",
            ],
            [
                (
                    s.pk,
                    s.content_hash,
                    s.status,
                    json.dumps(s.errors),
                    s.has_placeholders,
                    s.processed_run_id,
                    None,
                    s.parsed_run_id,
                    s.last_read_at,
                    s.last_changed_at,
                )
                for s in touched
            ],
            casts={
                "errors": "jsonb",
                "has_placeholders": "boolean",
                "processed_run_id": "bigint",
                "queued_run_id": "bigint",
                "parsed_run_id": "bigint",
                "last_read_at": "timestamptz",
                "last_changed_at": "timestamptz",
                "id": "bigint",
            },
        )
        skipped_ids = [s.pk for s in self.skipped]
        for chunk in _chunks(skipped_ids, WRITE_BATCH):
            Source.objects.filter(pk__in=chunk).update(
                processed_run_id=run_id, queued_run_id=None, last_read_at=self.now
            )
        # Children of a file that was skipped or failed are still wanted: carry them over.
        carried = skipped_ids + [s.pk for s in self.failed + self.partial]
        for chunk in _chunks(carried, WRITE_BATCH):
            _carry_over_children(chunk, run_id)
        parsed_ids = [s.pk for s in self.parsed + self.partial]
        for chunk in _chunks(parsed_ids, WRITE_BATCH):
            EntityConflict.objects.filter(source_id__in=chunk).delete()
        EntityConflict.objects.bulk_create(self.conflicts, ignore_conflicts=True)

    def _write_children(self) -> None:
        if not self.children:
            return
        location = self.location
        targets = {target for _, _, target, _ in self.children}
        already = {}
        for chunk in _chunks(list(targets), WRITE_BATCH):
            already.update(
                Source.objects.filter(location=location, target__in=chunk).values_list(
                    "target", "discovered_run_id"
                )
            )
        fresh: dict[str, Source] = {}
        revisit: list[str] = []
        warnings = []
        for parent, type_, target, optional in self.children:
            if target in already:
                if already[target] == self.run.id and target not in fresh:
                    warnings.append(
                        _error(
                            parent.key,
                            None,
                            None,
                            "spec.targets",
                            f"{target} is already read in this run "
                            "(listed twice or a cycle); read once",
                            level="warning",
                        )
                    )
                else:
                    revisit.append(target)
                    already[target] = self.run.id
            elif target not in fresh:
                fresh[target] = (parent.pk, type_, target, optional)
        _insert_sources(location, list(fresh.values()), self.run.id)
        for chunk in _chunks(revisit, WRITE_BATCH):
            Source.objects.filter(location=location, target__in=chunk).update(
                discovered_run_id=self.run.id, queued_run_id=self.run.id
            )
        self.run.record_errors(warnings[:50])


def check_document(
    data: Any,
    config: CatalogConfig,
    location_kinds: frozenset[str] | None,
    base_type: str,
    base_target: str,
) -> tuple[Any, list[FieldError], bool]:
    """Resolve a document's placeholders and validate it.

    Returns (resolved data, problems, whether it had placeholders); no problems means the
    document is a valid entity.
    """
    placeholders = readers.has_placeholders(data)
    if placeholders:
        try:
            data = readers.resolve_placeholders(data, base_type, base_target, config)
        except DescriptorError as exc:
            return data, [FieldError(exc.field, exc.message.split(": ", 1)[-1])], True
    return data, validate_entity(data, config, location_kinds), placeholders


def descriptor_body(
    data: dict[str, Any], source_key: str, origin_key: str
) -> tuple[str, dict[str, Any]]:
    """Return the ref and the stored body of a valid descriptor read from source_key.

    Server-set metadata is dropped, the namespace defaulted, and the managed-by annotations
    set, as Backstage does.
    """
    metadata = {k: v for k, v in data["metadata"].items() if k not in SERVER_SET_METADATA}
    metadata.setdefault("namespace", "default")
    annotations = dict(metadata.get("annotations") or {})
    annotations.pop(ANNOTATION_ORPHAN, None)
    annotations[ANNOTATION_LOCATION] = source_key
    annotations[ANNOTATION_ORIGIN] = origin_key
    metadata["annotations"] = annotations
    body: dict[str, Any] = {
        "apiVersion": data["apiVersion"],
        "kind": data["kind"],
        "metadata": metadata,
    }
    if "spec" in data:
        body["spec"] = data["spec"]
    return ref_key(data["kind"], metadata["namespace"], metadata["name"]), body


def invalid_document_error(
    source_key: str, document: Document, problems: list[FieldError], identity: str | None
) -> dict[str, Any]:
    """Return the error record of a document that failed validation: every problem in one
    message, at the line of the first."""
    first = problems[0]
    return _error(
        source_key,
        document.index,
        document.line_of(first.field),
        first.field,
        "; ".join(str(p) for p in problems),
        ref=identity,
    )


def location_children(
    base_type: str, base_target: str, spec: dict[str, Any]
) -> list[tuple[str, str, bool]]:
    """Return a Location entity's targets as (type, target, optional), resolved relative to
    the file or URL that declares them, `target` before `targets`."""
    targets = list(spec.get("targets") or [])
    if spec.get("target"):
        targets.insert(0, spec["target"])
    optional = spec.get("presence") == "optional"
    return [
        (*readers.resolve_child_target(base_type, base_target, target), optional)
        for target in targets
    ]


def _identify(data: Any) -> str | None:
    """Return the ref a document claims to be, if its kind and name can be read."""
    if not isinstance(data, dict):
        return None
    metadata = data.get("metadata")
    kind = data.get("kind")
    if not isinstance(kind, str) or not isinstance(metadata, dict):
        return None
    name = metadata.get("name")
    namespace = metadata.get("namespace") or "default"
    if not isinstance(name, str) or not name or not isinstance(namespace, str):
        return None
    return ref_key(kind, namespace, name)


def _entity_row(
    key: str,
    body: dict[str, Any],
    digest: str,
    current: Entity | None,
    *,
    location_id: Any,
    source_id: int | None,
    run_id: int,
    now: Any,
    errors: list[dict[str, Any]] | None = None,
) -> Entity:
    """Return an unsaved Entity for an upsert, keeping the uid of the current row."""
    uid = current.uid if current is not None else uuid.uuid4()
    generation = (current.generation + 1) if current is not None else 1
    etag = hashlib.sha1(f"{digest}:{generation}:{uid}".encode()).hexdigest()
    kind, rest = key.split(":", 1)
    namespace, name = rest.split("/", 1)
    served = dict(body)
    served["metadata"] = {
        **body["metadata"],
        "uid": str(uid),
        "etag": etag,
        "generation": generation,
    }
    return Entity(
        uid=uid,
        ref=key,
        kind=kind,
        namespace=namespace,
        name=name,
        body=served,
        search=search_document(served),
        tags=promoted_tags(served),
        **promoted_values(served),
        content_hash=digest,
        generation=generation,
        etag=etag,
        location_id=location_id,
        source_id=source_id,
        errors=errors or [],
        last_run_id=run_id,
        orphan=False,
        orphaned_at=None,
        orphan_reason="",
        processed_at=now,
        created_at=now,
        updated_at=now,
    )


_ENTITY_COLUMNS = [
    "uid",
    "ref",
    "kind",
    "namespace",
    "name",
    "body",
    "search",
    "spec_type",
    "lifecycle",
    "owner",
    "tags",
    "content_hash",
    "generation",
    "etag",
    "location_id",
    "source_id",
    "errors",
    "last_run_id",
    "orphan",
    "orphaned_at",
    "orphan_reason",
    "processed_at",
    "created_at",
    "updated_at",
]
_ENTITY_UPDATE = [c for c in _ENTITY_COLUMNS if c not in ("uid", "ref", "created_at")]


def _upsert_entities(rows: list[Entity]) -> dict[str, int]:
    """Insert or update entities by ref in bulk (INSERT … ON CONFLICT (ref) DO UPDATE).

    Rows are written as plain tuples, prepared the way each database's Django backend
    stores them (UUIDs, JSON, timestamps): model instances and per-row SQL compilation cost
    more than the database's own work at this volume.
    """
    if not rows:
        return {}
    ops = connection.ops
    uid_field = Entity._meta.get_field("uid")
    location_field = Entity._meta.get_field("location")
    prepared = [
        (
            uid_field.get_db_prep_value(row.uid, connection),
            row.ref,
            row.kind,
            row.namespace,
            row.name,
            json.dumps(row.body, ensure_ascii=False, separators=(",", ":")),
            json.dumps(row.search, ensure_ascii=False, separators=(",", ":")),
            row.spec_type,
            row.lifecycle,
            row.owner,
            json.dumps(row.tags, ensure_ascii=False),
            row.content_hash,
            row.generation,
            row.etag,
            location_field.get_db_prep_value(row.location_id, connection),
            row.source_id,
            json.dumps(row.errors),
            row.last_run_id,
            row.orphan,
            ops.adapt_datetimefield_value(row.orphaned_at),
            row.orphan_reason,
            ops.adapt_datetimefield_value(row.processed_at),
            ops.adapt_datetimefield_value(row.created_at),
            ops.adapt_datetimefield_value(row.updated_at),
        )
        for row in rows
    ]
    table = Entity._meta.db_table
    # Never overwrite an entity another file wrote in this same run: with lanes in parallel,
    # two files of a location defining one new entity both reach this upsert, and the first
    # must win as it does when they run one after the other (see _conflicts).
    same = "IS NOT DISTINCT FROM" if connection.vendor == "postgresql" else "IS"
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    written = upsert_rows(
        table,
        _ENTITY_COLUMNS,
        prepared,
        "ref",
        _ENTITY_UPDATE,
        returning="ref, id",
        only_if=f"{table}.last_run_id {differs} excluded.last_run_id "
        f"OR {table}.source_id {same} excluded.source_id",
    )
    if written is None:  # SQLite: look up what now stands, and keep the rows that are ours
        ours = {row.ref: row.source_id for row in rows}
        written = []
        for chunk in _chunks(list(ours), WRITE_BATCH):
            written.extend(
                (ref, entity_id)
                for ref, entity_id, source_id in Entity.objects.filter(ref__in=chunk).values_list(
                    "ref", "id", "source_id"
                )
                if source_id == ours[ref]
            )
    return dict(written)


# --------------------------------------------------------------------------------------------
# Step 3: finalize
# --------------------------------------------------------------------------------------------


def finalize_run(run: IngestionRun) -> None:
    """Turn what the run no longer found into orphans and record the run as finished."""
    config = get_config()
    run.refresh_from_db()
    location = run.location
    now = timezone.now()
    with transaction.atomic():
        # Driven by the sources parsed in this run (index on parsed_run_id, then entities by
        # source_id), so the plan stays cheap even before the planner has statistics.
        gone_from_file = Entity.objects.filter(source__parsed_run_id=run.id).exclude(
            last_run_id=run.id
        )
        orphan_ids = set(gone_from_file.values_list("id", flat=True))
        reasons = {
            i: f"no longer defined in its file (last read {now:%Y-%m-%d %H:%M:%S} UTC, "
            f"run {run.pk})"
            for i in orphan_ids
        }
        stale_sources: list[int] = []
        if run.source_id is None:
            stale = Source.objects.filter(location=location).exclude(discovered_run_id=run.id)
            stale_sources = list(stale.values_list("id", flat=True))
            for chunk in _chunks(stale_sources, WRITE_BATCH):
                for entity_id, target in Entity.objects.filter(source_id__in=chunk).values_list(
                    "id", "source__target"
                ):
                    orphan_ids.add(entity_id)
                    reasons[entity_id] = (
                        f"its file {target} is no longer part of location {location.key}"
                    )
        removed = _handle_orphans(orphan_ids, reasons, config, now)
        for chunk in _chunks(stale_sources, WRITE_BATCH):
            Entity.objects.filter(source_id__in=chunk).update(source=None)
            Source.objects.filter(pk__in=chunk).delete()
        run.refresh_from_db()
        _analyze_if_grown(run)
        warnings = _dangling_references(run) if (run.added or run.updated) else []
        run.record_errors(warnings)
        counts = {
            "removed": removed if config.orphan_strategy == OrphanStrategy.DELETE else 0,
            "orphaned": len(orphan_ids),
        }
        run.add_counts(**counts)
        failed = run.source_id is None and not _any_root_readable(run)
        _finish(
            run,
            RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
            failure="the location could not be read" if failed else "",
        )
        search_documents.after_run(run)
        jitter = random.uniform(1.0, 1.5)
        Location.objects.filter(pk=location.pk).update(
            next_refresh_at=now + timedelta(seconds=config.refresh_interval_seconds * jitter)
        )
    if run.added or run.updated or run.removed or run.orphaned:
        _warm_catalog_pages()
    from techdocs.scheduler import after_catalog_run  # late: techdocs imports the catalog

    after_catalog_run(run)  # queue checks of the docs of entities this run changed


def _warm_catalog_pages() -> None:
    """Have the catalog page's counts and options for the new version computed now, in the
    background, so the first person to open the catalog does not wait for them.

    Only where the answers will be seen: the web process's own cache (embedded mode) or a
    cache shared with it (GREENROOM_CACHE_URL); never in tests' inline mode.
    """
    from catalog import tasks
    from portal import background

    if not settings.GREENROOM_WARM_CATALOG_PAGES:
        return
    current = background.mode()
    if current == "embedded" or (current == "celery" and settings.GREENROOM_CACHE_URL):
        background.dispatch(tasks.warm_catalog_pages_task)


ANALYZE_AFTER_ROWS = 5000


def _analyze_if_grown(run: IngestionRun) -> None:
    """Refresh the planner's statistics after a run that changed many rows.

    A first ingest takes the tables from empty to 100,000 rows inside minutes, before
    autovacuum has looked; with empty statistics PostgreSQL picks nested loops that turn
    milliseconds into minutes, for ingestion and for every API query after it.
    """
    if run.added + run.updated + run.orphaned < ANALYZE_AFTER_ROWS:
        return
    tables = [Entity._meta.db_table, Relation._meta.db_table, Source._meta.db_table]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {', '.join(tables)}")
        else:
            cursor.execute("PRAGMA optimize")


def _any_root_readable(run: IngestionRun) -> bool:
    """Return whether at least one of the location's top-level files was read this run."""
    return (
        Source.objects.filter(location_id=run.location_id, parent=None, discovered_run_id=run.id)
        .exclude(status=SourceStatus.FAILED)
        .exists()
    )


def _handle_orphans(
    orphan_ids: set[int], reasons: dict[int, str], config: CatalogConfig, now: Any
) -> int:
    if not orphan_ids:
        return 0
    ids = sorted(orphan_ids)
    if config.orphan_strategy == OrphanStrategy.DELETE:
        refs: list[str] = []
        removed = 0
        for chunk in _chunks(ids, WRITE_BATCH):
            queryset = Entity.objects.filter(pk__in=chunk)
            refs.extend(queryset.values_list("ref", flat=True))
            removed += queryset.delete_with_relations()
        search_documents.remove_entities(refs)
        _retry_conflicts(refs)
        return removed
    rows = []
    for chunk in _chunks(ids, WRITE_BATCH):
        for entity in Entity.objects.filter(pk__in=chunk, orphan=False).only("id", "body"):
            annotations = dict(entity.body["metadata"].get("annotations") or {})
            annotations[ANNOTATION_ORPHAN] = "true"
            entity.body = {
                **entity.body,
                "metadata": {**entity.body["metadata"], "annotations": annotations},
            }
            entity.search = search_document(entity.body)
            entity.orphan = True
            entity.orphaned_at = now
            entity.orphan_reason = reasons.get(entity.pk, "")
            rows.append(entity)
    Entity.objects.bulk_update(
        rows, ["body", "search", "orphan", "orphaned_at", "orphan_reason"], batch_size=500
    )
    return 0


def _dangling_references(run: IngestionRun, limit: int = 20) -> list[dict[str, Any]]:
    """Return warnings for relations this run wrote whose target entity does not exist.

    One anti-join (NOT EXISTS) over the run's relations, capped at `limit` examples.
    """
    dangling = (
        Relation.objects.filter(
            originating__last_run_id=run.id,
            originating__location_id=run.location_id,
            source_ref=F("originating__ref"),  # the declared direction only
        )
        .annotate(found=Exists(Entity.objects.filter(ref=OuterRef("target_ref"))))
        .filter(found=False)
        .values_list(
            "source_ref",
            "type",
            "target_ref",
            "originating__source__type",
            "originating__source__target",
        )[:limit]
    )
    return [
        _error(
            f"{file_type}:{file_target}" if file_target else run.location.key,
            None,
            None,
            "",
            f"{source} {kind} {target}, which is not in the catalog",
            ref=source,
            level="warning",
        )
        for source, kind, target, file_type, file_target in dangling
    ]


def _finish(run: IngestionRun, status: str, failure: str = "") -> None:
    IngestionRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), failure=failure, active_lanes=0
    )
    run.refresh_from_db()
    if run.rerun_requested:
        request_run(
            run.location, run.trigger, by=run.requested_by, priority=True, source=run.source
        )
    logger.info(
        "run %s of %s %s in %s: +%s ~%s =%s -%s, %s errors",
        run.pk,
        run.location.key,
        status,
        run.duration,
        run.added,
        run.updated,
        run.unchanged,
        run.orphaned,
        run.error_count,
    )


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
