"""The embedded default end to end: `runserver` alone serves and runs background work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from catalog.models import Entity
from tests.conftest import component, subprocess_database_url

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_runserver_alone_ingests_static_locations_on_its_schedule(
    transactional_db, configure, write_file, tmp_path
):
    # given: a config with a static location, and a server with no broker
    static = write_file("static.yaml", component("served-by-runserver"))
    config = configure(locations=[{"type": "file", "target": str(static)}])
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"},
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "GREENROOM_CONFIG": str(config),
        "GREENROOM_SCHEDULER_TICK_SECONDS": "1",
    }
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # when: nothing but time passes
        deadline = time.monotonic() + 60
        while not Entity.objects.filter(ref="component:default/served-by-runserver").exists():
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.3)

        # then: the entity came from the server's own scheduler, and the server answers
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {
            "status": "ok"
        }
        assert "could not schedule" not in (tmp_path / "server.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
