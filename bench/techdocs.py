"""TechDocs benchmarks: (1) the scheduler's pass over 1,000 documented entities with nothing
changed (target: under 10 s), (2) one build of a 50-page site through Greenroom's pipeline
next to `mkdocs build` run by hand on the same site.

    GREENROOM_DATA_DIR=/tmp/tdbench .venv/bin/python bench/techdocs.py [--entities 1000]

It uses its own SQLite database under GREENROOM_DATA_DIR (or DATABASE_URL if set), loads a
synthetic catalog of documented components through real ingestion, builds each site once
(with the external builder, so only the pass is timed, the first pass records the hashes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("GREENROOM_DATA_DIR", tempfile.mkdtemp(prefix="greenroom-td-bench-"))
os.environ.setdefault("GREENROOM_TASKS_INLINE", "true")


def page(index: int) -> str:
    return f"# Page {index}\n\n" + "\n\n".join(
        f"## Section {s}\n\nText of section {s} on page {index}. " * 3 for s in range(4)
    )


def write_site(folder: Path, pages: int) -> None:
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    nav = "\n".join(f"  - Page {i}: page-{i}.md" for i in range(1, pages))
    (folder / "mkdocs.yml").write_text(
        f"site_name: Bench\nnav:\n  - Home: index.md\n{nav}\nplugins:\n  - techdocs-core\n"
    )
    (folder / "docs" / "index.md").write_text(page(0))
    for index in range(1, pages):
        (folder / "docs" / f"page-{index}.md").write_text(page(index))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=50)
    options = parser.parse_args()

    import django

    work = Path(tempfile.mkdtemp(prefix="greenroom-td-bench-src-"))
    config = work / "greenroom.yaml"
    config.write_text(
        "catalog:\n  rules: [{allow: [Component, Location, Group]}]\n"
        f"  reading:\n    allow: [{{path: {work}}}]\n"
    )
    os.environ["GREENROOM_CONFIG"] = str(config)
    os.environ["GREENROOM_TECHDOCS_BUILDER"] = "external"  # load without building
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from catalog import ingest
    from techdocs import scheduler

    # (1) the periodic pass over N documented entities, nothing changed
    for index in range(options.entities):
        folder = work / "repos" / f"svc-{index}"
        write_site(folder, 3)
        (folder / "catalog-info.yaml").write_text(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
            f"metadata:\n  name: svc-{index}\n"
            "  annotations:\n    backstage.io/techdocs-ref: dir:.\n"
            "spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
        )
    ingest.register_location("file", str(work / "repos" / "*" / "catalog-info.yaml"))
    settings.GREENROOM_TECHDOCS_BUILDER = "local"
    # First pass records each source's hash; builds are not run (marked as done) so that
    # only the check is measured.
    from techdocs import tasks

    tasks.build_site_task = type("NoBuild", (), {"name": "x", "__call__": lambda *a: None})()
    first = time.perf_counter()
    result = scheduler.check_sites()
    first_seconds = time.perf_counter() - first
    from techdocs.models import DocsBuild, DocsSite

    for site in DocsSite.objects.all():
        build = DocsBuild.objects.filter(site=site).order_by("-id").first()
        DocsSite.objects.filter(pk=site.pk).update(built_hash=build.source_hash if build else "")
    DocsBuild.objects.update(status="succeeded")
    started = time.perf_counter()
    second = scheduler.check_sites()
    seconds = time.perf_counter() - started
    print(
        f"(1) scheduler pass, {second.checked} documented entities, nothing changed: "
        f"{seconds:.2f} s ({second.unchanged} unchanged, {len(second.queued)} queued; "
        f"first pass hashing everything: {first_seconds:.2f} s, {len(result.queued)} queued) "
        f"{'OK' if seconds < 10 else 'OVER 10 s'}"
    )

    # (2) one 50-page site: our pipeline (copy, patch, build, metadata) vs mkdocs by hand
    from techdocs import builder

    site = work / "big"
    write_site(site, options.pages)
    out = work / "by-hand"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(site / "mkdocs.yml"),
         "-d", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    by_hand = time.perf_counter() - started
    started = time.perf_counter()
    built = builder.build(site, work / "pipeline", "bench", lambda line: None)
    ours = time.perf_counter() - started
    print(
        f"(2) {options.pages}-page site: Greenroom pipeline {ours:.2f} s "
        f"({len(built.metadata['files'])} files), mkdocs build by hand {by_hand:.2f} s"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
