"""Catalog ingestion benchmark: prints entities/second and latencies; never part of the tests.

    python bench/catalog_ingest.py --entities 100000 --database postgres --mode celery
    python bench/catalog_ingest.py --entities 100000 --database sqlite

Scenarios (all by default):
  full       first ingest of a fresh synthetic catalog (one glob location)
  nochange   a refresh of the same location where nothing changed
  onechange  one file changed: refresh of its entity until the change is visible, and a
             full refresh of the location that picks it up
  targets    one Location entity listing --targets files (Backstage fails near 50,000)
  bigfile    one file holding --documents documents

--mode inline runs the tasks in this process (one core); --mode celery starts a Celery worker
with --workers processes on Redis, as production does. The database is dropped and made anew.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["inline", "celery"], default="inline")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--scenarios", default="full,nochange,onechange,targets,bigfile")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    return parser.parse_args()


def prepare_environment(args: argparse.Namespace, recreate: bool = True) -> dict[str, str]:
    """Point this process at the benchmark database; drop and recreate it unless told not to."""
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"data-{args.database}"
    data.mkdir(exist_ok=True)
    if args.database == "postgres" and recreate:
        subprocess.run(
            [
                "dropdb",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "--if-exists",
                "--force",
                "greenroom_bench",
            ],
            check=True,
        )
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", "greenroom_bench"], check=True
        )
    if args.database == "postgres":
        url = "postgres://postgres@127.0.0.1:5432/greenroom_bench"
    else:
        for suffix in ("", "-wal", "-shm") if recreate else ():
            (data / f"bench.sqlite3{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{data / 'bench.sqlite3'}"
    config = OUT / "greenroom-bench.yaml"
    config.write_text(
        "catalog:\n"
        "  maxFileBytes: 67108864\n"
        "  maxDocumentsPerFile: 200000\n"
        f"  reading:\n    allow:\n      - path: {OUT}\n"
    )
    env = {
        "DATABASE_URL": url,
        "GREENROOM_CONFIG": str(config),
        "GREENROOM_DATA_DIR": str(data),
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "GREENROOM_INGEST_LANES": str(args.workers if args.mode == "celery" else 1),
        "CELERY_BROKER_URL": args.broker if args.mode == "celery" else "",
    }
    os.environ.update(env)
    return env


def _stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        worker.wait(timeout=30)


def start_worker(args: argparse.Namespace) -> subprocess.Popen | None:
    if args.mode != "celery":
        return None
    import redis

    from portal import background

    redis.Redis.from_url(args.broker).flushdb()
    log = (OUT / "worker.log").open("w")
    process = subprocess.Popen(
        background.worker_command(args.workers, "WARNING"),
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    time.sleep(4)
    if process.poll() is not None:
        sys.exit("the Celery worker did not start; see bench/out/worker.log")
    return process


def main() -> None:
    args = parse_args()
    prepare_environment(args)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.synthetic_catalog import write_catalog
    from catalog import ingest, queries
    from catalog.models import Entity, IngestionRun, Location, Relation
    from portal import background

    call_command("migrate", verbosity=0)
    worker = start_worker(args)
    if worker is not None:
        # Also on a crash: a worker left behind would consume the next run's tasks.
        atexit.register(_stop_worker, worker)
    results: dict[str, object] = {
        "entities": args.entities,
        "database": args.database,
        "mode": args.mode,
        "workers": args.workers,
    }
    scenarios = set(args.scenarios.split(","))

    def run_and_wait(start) -> tuple[float, IngestionRun]:
        began = time.perf_counter()
        if args.mode == "inline":
            with background.inline_tasks():
                run = start()
        else:
            run = start()
        while True:
            run.refresh_from_db()
            if run.finished:
                return time.perf_counter() - began, run
            if time.perf_counter() - began > 1800:
                sys.exit(f"run {run.pk} did not finish within 30 minutes")
            time.sleep(0.05)

    def report(
        name: str, seconds: float, run: IngestionRun | None, count: int | None = None
    ) -> None:
        entities = count if count is not None else Entity.objects.count()
        line = f"{name:<44} {seconds:8.2f} s"
        if run is not None:
            processed = run.added + run.updated + run.unchanged
            line += (
                f"  {processed / seconds:9.0f} entities/s  (+{run.added} ~{run.updated} "
                f"={run.unchanged} -{run.orphaned}, {run.error_count} errors, "
                f"{run.sources_done} files, {run.sources_skipped} skipped)"
            )
        print(line + f"  [{entities} entities in catalog]", flush=True)
        results[name] = {
            "seconds": round(seconds, 3),
            **(
                {
                    "added": run.added,
                    "updated": run.updated,
                    "unchanged": run.unchanged,
                    "errors": run.error_count,
                    "files": run.sources_done,
                }
                if run
                else {}
            ),
        }

    print(
        f"== {args.entities} entities on {args.database}, mode {args.mode}"
        f"{f' ({args.workers} worker processes)' if args.mode == 'celery' else ''}"
    )
    catalog_dir = OUT / f"catalog-{args.entities}"
    if not (catalog_dir / ".complete").exists():
        began = time.perf_counter()
        counts = write_catalog(catalog_dir, args.entities)
        (catalog_dir / ".complete").write_text(json.dumps(counts))
        print(f"generated {counts} in {time.perf_counter() - began:.1f} s")
    target = str(catalog_dir / "**" / "*.yaml")

    if scenarios & {"full", "nochange", "onechange"}:
        seconds, run = run_and_wait(lambda: ingest.register_location("file", target)[1])
        report("(a) full first ingest", seconds, run)
        results["relations"] = Relation.objects.count()
        location = Location.objects.get(target=target)

        began = time.perf_counter()
        owned = queries.owned_by("team-0")
        results["owned_by_root_group"] = {
            "entities": len(owned),
            "ms": round((time.perf_counter() - began) * 1000, 1),
        }
        print(
            f"    owned by team-0 and its sub-groups: {len(owned)} entities in "
            f"{results['owned_by_root_group']['ms']} ms (one recursive query); "
            f"{results['relations']} relation rows"
        )

        if "nochange" in scenarios or "onechange" in scenarios:
            seconds, run = run_and_wait(lambda: ingest.refresh_location(location))
            report("(b) refresh, nothing changed", seconds, run)

        if "onechange" in scenarios:
            path = catalog_dir / "repos" / "00" / "service-0" / "catalog-info.yaml"
            original = re.sub(
                r"(?m)^  description: .*$",
                "  description: Synthetic service 0",
                path.read_text(),
                count=1,
            )
            stamp = f"changed at {time.time()}"
            try:
                path.write_text(original.replace("Synthetic service 0", stamp))
                entity = Entity.objects.get(ref="component:default/service-0")
                began = time.perf_counter()
                if args.mode == "inline":
                    with background.inline_tasks():
                        ingest.refresh_entity(entity)
                else:
                    ingest.refresh_entity(entity)
                while stamp not in json.dumps(Entity.objects.get(pk=entity.pk).body):
                    if time.perf_counter() - began > 120:
                        sys.exit("(c) the change did not become visible within 120 s")
                    time.sleep(0.01)
                report(
                    "(c) one file changed: refresh of its entity", time.perf_counter() - began, None
                )
                path.write_text(original.replace("Synthetic service 0", stamp + " again"))
                seconds, run = run_and_wait(lambda: ingest.refresh_location(location))
                report("(c') one file changed: full location refresh", seconds, run)
            finally:
                path.write_text(original)

    if "targets" in scenarios:
        Entity.objects.all().delete_with_relations()
        Location.objects.all().delete()
        folder = OUT / f"targets-{args.targets}"
        if not (folder / ".complete").exists():
            folder.mkdir(exist_ok=True)
            for i in range(args.targets):
                (folder / f"t{i}.yaml").write_text(
                    "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                    f"metadata: {{name: target-{i}}}\n"
                    "spec: {type: service, lifecycle: production, owner: team-0}\n"
                )
            (folder / "location.yaml").write_text(
                "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: many}\n"
                "spec:\n  targets:\n" + "".join(f"    - ./t{i}.yaml\n" for i in range(args.targets))
            )
            (folder / ".complete").write_text("ok")
        seconds, run = run_and_wait(
            lambda: ingest.register_location("file", str(folder / "location.yaml"))[1]
        )
        report(f"(d) one Location with {args.targets} targets", seconds, run)

    if "bigfile" in scenarios:
        Entity.objects.all().delete_with_relations()
        Location.objects.all().delete()
        big = OUT / f"bigfile-{args.documents}.yaml"
        if not big.exists():
            big.write_text(
                "".join(
                    "---\napiVersion: backstage.io/v1alpha1\nkind: Component\n"
                    f"metadata: {{name: doc-{i}}}\n"
                    "spec: {type: service, lifecycle: production, owner: team-0}\n"
                    for i in range(args.documents)
                )
            )
        seconds, run = run_and_wait(lambda: ingest.register_location("file", str(big))[1])
        report(f"(e) one file with {args.documents} documents", seconds, run)

    if worker is not None:
        _stop_worker(worker)
    connection.close()
    out = OUT / f"results-{args.database}-{args.mode}-{args.entities}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
