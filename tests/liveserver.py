"""A real `manage.py runserver` process on loopback, for tests that talk HTTP to Greenroom."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import subprocess_database_url

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LiveServer:
    process: subprocess.Popen
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(**extra: str) -> dict[str, str]:
    """The test process's environment for a server on the test database, with no broker
    (background work runs in the server, the embedded default)."""
    return {
        **{k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"},
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        **extra,
    }


@contextmanager
def runserver(env: dict[str, str], log_path: Path) -> Iterator[LiveServer]:
    """Start `manage.py runserver --noreload` with env; stop it on leaving."""
    port = free_port()
    with log_path.open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield LiveServer(process, port, log_path)
        finally:
            process.terminate()
            process.wait(timeout=20)
