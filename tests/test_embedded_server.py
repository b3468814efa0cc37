"""The embedded default end to end: `runserver` alone serves and runs background work."""

from __future__ import annotations

import time

import requests

from catalog.models import Entity
from tests.conftest import component
from tests.liveserver import runserver, server_environment


def test_runserver_alone_ingests_static_locations_on_its_schedule(
    transactional_db, configure, write_file, tmp_path
):
    # given: a config with a static location, and a server with no broker
    static = write_file("static.yaml", component("served-by-runserver"))
    config = configure(locations=[{"type": "file", "target": str(static)}])
    env = server_environment(GREENROOM_CONFIG=str(config), GREENROOM_SCHEDULER_TICK_SECONDS="1")
    with runserver(env, tmp_path / "server.log") as server:
        # when: nothing but time passes
        deadline = time.monotonic() + 60
        while not Entity.objects.filter(ref="component:default/served-by-runserver").exists():
            assert server.process.poll() is None, server.log()
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.3)

        # then: the entity came from the server's own scheduler (which starts with the app,
        # before runserver's checks end and it listens), and the server answers
        while True:
            try:
                health = requests.get(f"{server.url}/healthz", timeout=5).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.3)
        assert health == {"status": "ok"}
        assert "could not schedule" not in server.log()
