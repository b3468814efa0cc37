"""Run one build job end to end, and publish sites built elsewhere.

A job: claim the pending DocsBuild, prepare the source (a dir: folder or a shallow clone),
build it in a temporary folder, publish it atomically, index its pages for search, and
record status, duration and log. A failure leaves the published site as it was and keeps
the error and the log on the build for the Docs tab and the reader.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from catalog.models import Entity
from catalog.readers import PathGuard
from techdocs import builder, search_documents, sources
from techdocs.choices import BuildStatus, BuildTrigger
from techdocs.models import DocsBuild, DocsSite
from techdocs.storage import get_storage

logger = logging.getLogger(__name__)
LOG_FLUSH_SECONDS = 0.3


class LogWriter:
    """Collect build log lines and append them to the build row a few times a second."""

    def __init__(self, build: DocsBuild) -> None:
        self.build = build
        self._pending: list[str] = []
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        with self._lock:
            self._pending.append(f"{stamp} {line}\n")
            due = time.monotonic() - self._last >= LOG_FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            text = "".join(self._pending)
            self._pending.clear()
            self._last = time.monotonic()
        self.build.append_log(text)


def _finish(build: DocsBuild, status: str, error: str = "") -> None:
    DocsBuild.objects.filter(pk=build.pk).update(
        status=status, error=error, finished_at=timezone.now()
    )


def run_build(build_id: int) -> DocsBuild | None:
    """Run a pending build; return it finished (None if another worker has it)."""
    build = DocsBuild.objects.claim(build_id)
    if build is None:
        return None
    site = build.site
    log = LogWriter(build)
    workdir = Path(tempfile.mkdtemp(prefix="greenroom-techdocs-"))
    source_hash = build.source_hash
    try:
        entity = Entity.objects.filter(ref=site.entity_ref).select_related("source").first()
        if entity is None:
            raise sources.SourceError(f"{site.entity_ref} is no longer in the catalog")
        ref = sources.parse_ref(sources.entity_ref_value(entity.body))
        config = sources.catalog_config()
        guard = PathGuard(config)
        log(f"Building docs of {entity.display_ref} from {ref}")
        if ref.type == "dir":
            folder = sources.resolve_dir(
                ref, entity.body, entity.source.target if entity.source else None, config
            )
            if not source_hash:
                source_hash, _record = sources.content_hash(folder, site.file_hashes, guard)
        else:
            log("Cloning the repository (git clone --depth 1)")
            folder = sources.clone(ref, config, workdir / "repo")
            guard = None  # the clone is ours: its links may point anywhere inside it only
        built = builder.build(folder, workdir / "build", source_hash, log, guard)
        get_storage().publish(site.triplet, built.site_dir)
        log("Published")
        keys = search_documents.index_site(site, entity)
        log(f"Indexed {len(keys)} pages and sections for search")
        with transaction.atomic():
            DocsSite.objects.filter(pk=site.pk).update(
                published_hash=source_hash,
                published_at=timezone.now(),
                site_name=str(built.metadata.get("site_name") or "")[:500],
            )
            _finish(build, BuildStatus.SUCCEEDED)
    except (sources.SourceError, builder.BuildError) as exc:
        log(f"ERROR {exc}")
        _finish(build, BuildStatus.FAILED, str(exc))
    except Exception as exc:  # a bug must still end the build, with its reason shown
        logger.exception("docs build %s failed", build.pk)
        log(f"ERROR internal error: {exc!r}")
        _finish(build, BuildStatus.FAILED, f"internal error: {exc!r}")
    finally:
        log.flush()
        shutil.rmtree(workdir, ignore_errors=True)
        DocsSite.objects.filter(pk=site.pk).update(last_build=build, built_hash=source_hash)
    build.refresh_from_db()
    return build


def publish_directory(entity: Entity, directory: Path, *, by: str = "") -> DocsBuild:
    """Publish a site built elsewhere (`techdocs-cli generate`) for an entity, as it is.

    Raises builder.BuildError when the folder is not a site (no index.html).
    """
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise builder.BuildError(f"{directory} is not a built site: it has no index.html")
    site = site_for(entity)
    build = DocsBuild.objects.create(
        site=site,
        status=BuildStatus.RUNNING,
        trigger=BuildTrigger.PUBLISHED,
        requested_by=by,
        started_at=timezone.now(),
    )
    log = LogWriter(build)
    workdir = Path(tempfile.mkdtemp(prefix="greenroom-techdocs-publish-"))
    try:
        staged = workdir / "site"
        shutil.copytree(directory, staged, symlinks=False)
        metadata = builder.write_metadata(staged, etag=f"published-{int(time.time())}")
        get_storage().publish(site.triplet, staged)
        log(f"Published {len(metadata['files'])} files from {directory}")
        keys = search_documents.index_site(site, entity)
        log(f"Indexed {len(keys)} pages and sections for search")
        DocsSite.objects.filter(pk=site.pk).update(
            published_at=timezone.now(),
            site_name=str(metadata.get("site_name") or "")[:500],
            last_build=build,
        )
        _finish(build, BuildStatus.SUCCEEDED)
    finally:
        log.flush()
        shutil.rmtree(workdir, ignore_errors=True)
    build.refresh_from_db()
    return build


def site_for(entity: Entity) -> DocsSite:
    """Return the entity's DocsSite, made if it has none yet."""
    site, _created = DocsSite.objects.get_or_create(
        entity_ref=entity.ref,
        defaults={
            "namespace": entity.namespace,
            "kind": entity.kind,
            "name": entity.name.lower(),
            "techdocs_ref": sources.entity_ref_value(entity.body),
        },
    )
    return site


def remove_site(site: DocsSite) -> None:
    """Delete a site: its published files, its search documents and its rows."""
    get_storage().delete(site.triplet)
    search_documents.remove_site(site)
    site.delete()
