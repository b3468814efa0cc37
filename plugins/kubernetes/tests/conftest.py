"""Fixtures of the Kubernetes plugin's tests: fake clusters, the plugin's settings, a small
catalog ingested for real, and signed-in clients.
Helpers the tests import live in support.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from catalog import ingest
from catalog.config import clear_config_cache
from plugins.kubernetes import clusters
from plugins.kubernetes.tests.support import cluster_entry
from tests.kubefake import FakeCluster, kube_cluster

PLUGIN = "plugins.kubernetes"


@pytest.fixture(autouse=True)
def _fresh_state(settings) -> Iterator[None]:
    """Each test starts with no cached answers and no cached clients, tasks inline."""
    settings.GREENROOM_TASKS_INLINE = True
    cache.clear()
    clusters._clients.clear()
    yield
    clusters._clients.clear()


@pytest.fixture
def prod() -> Iterator[FakeCluster]:
    """A fake cluster named prod (token "prod-token")."""
    with kube_cluster("prod", token="prod-token") as cluster:
        yield cluster


@pytest.fixture
def staging() -> Iterator[FakeCluster]:
    """A second fake cluster, staging (token "staging-token")."""
    with kube_cluster("staging", token="staging-token") as cluster:
        yield cluster


@pytest.fixture
def configure(settings) -> Callable[..., dict[str, Any]]:
    """Return a function that sets the plugin's settings (clusters as entries or fakes)."""

    def set_settings(*entries: FakeCluster | dict[str, Any], **options: Any) -> dict[str, Any]:
        values = {
            "clusters": [cluster_entry(e) if isinstance(e, FakeCluster) else e for e in entries],
            "timeoutSeconds": 2,
            **options,
        }
        settings.PORTAL_PLUGINS_CONFIG = {**settings.PORTAL_PLUGINS_CONFIG, PLUGIN: values}
        return values

    return set_settings


@pytest.fixture
def ingest_catalog(transactional_db, settings, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """Return a function that ingests descriptors as the catalog does (file, register)."""
    config = {
        "catalog": {
            "rules": [{"allow": ["Component", "Group", "User", "Resource", "System", "Location"]}],
            "reading": {"allow": [{"path": str(tmp_path)}]},
        }
    }
    config_file = tmp_path / "greenroom.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    settings.GREENROOM_CONFIG = config_file
    clear_config_cache()

    def run(*documents: dict, file_name: str = "catalog-info.yaml") -> None:
        path = tmp_path / file_name
        path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
        _location, pending = ingest.register_location("file", str(path), by="tests")
        pending.refresh_from_db()
        assert pending.status == "succeeded" and pending.error_count == 0, pending.errors

    yield run
    clear_config_cache()


@pytest.fixture
def alice(transactional_db):
    return get_user_model().objects.create_user("alice", "alice@example.com", "pw")


@pytest.fixture
def as_alice(alice) -> Client:
    """A client signed in as alice."""
    client = Client()
    client.force_login(alice)
    return client
