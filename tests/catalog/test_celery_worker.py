"""Ingestion through a real Celery worker process on the real Redis broker and database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

from catalog import ingest
from catalog.choices import RunStatus, RunTrigger
from catalog.models import Entity, IngestionRun, Location
from portal import background
from portal.celery import app as celery_app
from tests.conftest import component, entity, subprocess_database_url
from tests.httpserver import fake_host

pytestmark = pytest.mark.celery_worker

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/13"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, settings, configure, tmp_path) -> Iterator[subprocess.Popen]:
    """Start `celery worker` against the test database and a clean broker database."""
    try:
        redis.Redis.from_url(BROKER_URL).flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis is needed for this test and is not answering at {BROKER_URL}: {exc}")
    settings.GREENROOM_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = BROKER_URL
    use_broker(BROKER_URL)
    env = worker_environment()
    log = (tmp_path / "worker.log").open("w+")
    process = subprocess.Popen(
        background.worker_command(1),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while "ready." not in (tmp_path / "worker.log").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(
                "the Celery worker did not start:\n" + (tmp_path / "worker.log").read_text()
            )
        time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def worker_environment(**extra: str) -> dict[str, str]:
    """Return the environment of a Celery process that works on the test database."""
    return {
        **os.environ,
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "GREENROOM_CONFIG": str(django_settings.GREENROOM_CONFIG),
        **extra,
    }


def use_broker(url: str, **options: object) -> None:
    """Point this process's Celery app at url, with fresh connections and given options."""
    # Forget (never close) the producer pool: kombu shares pools per URL process-wide, and a
    # closed one would break every later send to that URL.
    celery_app._pool = None
    celery_app.conf.broker_url = url
    celery_app.conf.broker_connection_timeout = options.get("timeout", 4)
    celery_app.conf.broker_connection_max_retries = options.get("retries", 100)


def wait_for(run: IngestionRun, timeout: float = 60) -> IngestionRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished:
            return run
        time.sleep(0.1)
    pytest.fail(f"run {run.pk} still {run.status} after {timeout}s")


def test_a_worker_ingests_a_registered_location(worker, write_file):
    # given
    write_file("a.yaml", component("a", dependsOn=["component:b"]))
    write_file("b.yaml", component("b"))
    target = write_file("c.yaml", component("c")).parent / "*.yaml"

    # when
    _location, run = ingest.register_location("file", str(target))

    # then
    run = wait_for(run)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.added, run.error_count, run.sources_done) == (3, 0, 3)
    assert entity("component:default/b").body["metadata"]["annotations"]
    assert ingest.Relation.objects.filter(
        source_ref="component:default/b", type="dependencyOf", target_ref="component:default/a"
    ).exists()


def test_a_new_registration_overtakes_a_backlog_of_periodic_refreshes(worker, configure):
    with fake_host() as host:
        # given: 30 locations whose periodic refreshes each take 0.3 s to read
        configure(reading={"allow": [{"host": host.base_url.split("//")[1]}]})
        for index in range(30):
            host.serve(f"/slow/{index}.yaml", component(f"slow-{index}"), delay=0.3)
            Location.objects.create(type="url", target=f"{host.base_url}/slow/{index}.yaml")
        backlog = [ingest.request_run(loc, RunTrigger.SCHEDULED) for loc in Location.objects.all()]

        # when
        url = host.serve("/new.yaml", component("brand-new"))
        _location, urgent = ingest.register_location("url", url)

        # then: visible within seconds, while most of the backlog still waits
        urgent = wait_for(urgent, timeout=15)
        assert entity("component:default/brand-new")
        waiting = IngestionRun.objects.filter(
            pk__in=[r.pk for r in backlog], finished_at__isnull=True
        ).count()
        assert waiting >= 20, f"only {waiting} of 30 backlog runs were still waiting"


def test_a_broker_that_does_not_answer_leaves_the_run_pending_for_repair(
    transactional_db, settings, configure, write_file
):
    # given
    settings.GREENROOM_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    use_broker("redis://127.0.0.1:1/0", timeout=1, retries=0)
    try:
        # when
        _location, run = ingest.register_location("file", str(write_file("a.yaml", component("a"))))
    finally:
        use_broker(BROKER_URL)

    # then: the registration is kept, and the scheduler re-sends it later
    run.refresh_from_db()
    assert run.status == RunStatus.PENDING
    assert not Entity.objects.filter(kind="component").exists()


def test_register_wait_blocks_until_the_worker_has_ingested(worker, write_file):
    # given
    import io

    from django.core.management import call_command

    path = write_file("a.yaml", component("a") + "---\n" + component("b"))
    out = io.StringIO()

    # when
    call_command("catalog", "register", str(path), "--wait", "--timeout", "60", stdout=out)

    # then
    assert "2 added" in out.getvalue()
    assert Entity.objects.filter(kind="component").count() == 2


def test_lanes_that_start_during_discovery_wait_for_all_of_it(worker, catalog_dir):
    # given: more files than one discovery chunk, so lanes start while the walk goes on
    count = ingest.DISCOVERY_CHUNK + 700
    for index in range(count):
        folder = catalog_dir / f"repo-{index}"
        folder.mkdir()
        (folder / "catalog-info.yaml").write_text(component(f"svc-{index}"))

    # when
    _location, run = ingest.register_location("file", str(catalog_dir / "**" / "*.yaml"))

    # then: one finalize, after every file
    run = wait_for(run, timeout=120)
    assert run.status == RunStatus.SUCCEEDED
    assert (run.sources_done, run.sources_total, run.added) == (count, count, count)
    assert run.orphaned == 0 and run.error_count == 0
    assert Entity.objects.filter(kind="component").count() == count


def test_celery_beat_schedules_refreshes_that_the_worker_runs(
    worker, configure, write_file, tmp_path
):
    # given: a static location in the config, and beat ticking every second
    static = write_file("static.yaml", component("scheduled-by-beat"))
    configure(locations=[{"type": "file", "target": str(static)}])
    log = (tmp_path / "beat.log").open("w+")
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=ROOT,
        env=worker_environment(GREENROOM_SCHEDULER_TICK_SECONDS="1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # when: nothing but time passes
        deadline = time.monotonic() + 60
        while not Entity.objects.filter(ref="component:default/scheduled-by-beat").exists():
            assert beat.poll() is None, (tmp_path / "beat.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()
            time.sleep(0.3)

        # then: the location beat's schedule created is registered from the config
        assert Location.objects.get(target=str(static)).origin == "config"
    finally:
        beat.terminate()
        beat.wait(timeout=20)
        log.close()
