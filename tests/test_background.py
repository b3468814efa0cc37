"""portal.background: the embedded thread pool, priorities, and the periodic schedule."""

from __future__ import annotations

import threading
import time

import pytest

from catalog import ingest
from catalog.choices import RunStatus, RunTrigger
from catalog.models import Entity, IngestionRun, Location
from portal import background
from tests.conftest import component


class Recorder:
    """A stand-in task: records its calls (it has the call signature of a Celery task)."""

    name = "tests.recorder"

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.release = threading.Event()

    def __call__(self, *args: object) -> None:
        self.calls.append(args)
        if args and args[0] == "block":
            self.release.wait(5)


def test_embedded_mode_runs_urgent_work_first(transactional_db, settings):
    # given: one worker thread, busy with a blocking task
    settings.GREENROOM_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = ""
    task = Recorder()
    background._send(task, ("block",), priority=False)
    time.sleep(0.2)

    # when: normal work is queued before urgent work
    background._send(task, ("normal",), priority=False)
    background._send(task, ("urgent",), priority=True)
    task.release.set()

    # then
    assert background.wait_for_embedded_pool(10)
    assert [c[0] for c in task.calls] == ["block", "urgent", "normal"]


def test_embedded_mode_ingests_in_the_background(transactional_db, settings, configure, write_file):
    # given
    settings.GREENROOM_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = ""
    path = write_file("a.yaml", component("a"))

    # when
    _location, run = ingest.register_location("file", str(path))

    # then
    assert background.wait_for_embedded_pool(30)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert Entity.objects.filter(ref="component:default/a").exists()


def test_a_failing_task_does_not_stop_the_pool(transactional_db, settings):
    settings.GREENROOM_TASKS_INLINE = False
    settings.CELERY_BROKER_URL = ""

    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    task = Recorder()
    background._send(explode, (), priority=False)
    background._send(task, ("after",), priority=False)
    assert background.wait_for_embedded_pool(10)
    assert task.calls == [("after",)]


def test_the_schedule_refreshes_due_locations_and_syncs_static_ones(
    transactional_db, configure, write_file
):
    # given: a static location in the config, and a registered one that is due
    static = write_file("static.yaml", component("from-config"))
    configure(locations=[{"type": "file", "target": str(static)}])
    other = write_file("other.yaml", component("registered"))
    location, _run = ingest.register_location("file", str(other))
    Location.objects.filter(pk=location.pk).update(next_refresh_at=None)

    # when
    runs = ingest.schedule_due_refreshes()

    # then
    assert Entity.objects.filter(ref="component:default/from-config").exists()
    assert {r.trigger for r in runs} == {RunTrigger.SCHEDULED}
    assert Location.objects.get(pk=location.pk).next_refresh_at is not None

    # when the static location leaves the config
    configure(locations=[])
    ingest.schedule_due_refreshes()

    # then it goes, with what it produced
    assert not Entity.objects.filter(ref="component:default/from-config").exists()


def test_runs_a_lost_worker_left_behind_are_repaired(transactional_db, configure, write_file):
    # given: a run stuck "running" with a silent worker, and one never picked up
    location = Location.objects.create(type="file", target=str(write_file("a.yaml", "")))
    old = ingest.timezone.now() - ingest.STALE_RUN_AFTER * 2
    stuck = IngestionRun.objects.create(
        location=location,
        trigger=RunTrigger.SCHEDULED,
        status=RunStatus.RUNNING,
        started_at=old,
        heartbeat_at=old,
    )
    lost = Location.objects.create(type="file", target=str(write_file("b.yaml", component("b"))))
    pending = IngestionRun.objects.create(
        location=lost, trigger=RunTrigger.SCHEDULED, requested_at=old
    )

    # when
    ingest.schedule_due_refreshes()

    # then
    stuck.refresh_from_db()
    pending.refresh_from_db()
    assert stuck.status == RunStatus.FAILED and "stopped reporting" in stuck.failure
    assert pending.status == RunStatus.SUCCEEDED
    assert Entity.objects.filter(ref="component:default/b").exists()


@pytest.mark.parametrize("argv", [["manage.py", "migrate"], ["pytest"]])
def test_the_embedded_scheduler_only_starts_in_a_serving_process(monkeypatch, argv):
    monkeypatch.setattr(background.sys, "argv", argv)
    monkeypatch.setattr(background, "_scheduler_started", False)
    background.start_embedded_scheduler_if_serving()
    assert background._scheduler_started is False
