"""Shared fixtures: a catalog config per test, files to ingest, and ingestion helpers."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from catalog import ingest
from catalog.config import clear_config_cache
from catalog.models import Entity, IngestionRun, Location

ALL_KINDS = [
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "Location",
    "Template",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: their server lives for the rest of the session."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


@pytest.fixture(autouse=True)
def _inline_tasks(settings: pytest.FixtureRequest) -> None:
    """Run background tasks synchronously unless a test asks for a real worker."""
    settings.GREENROOM_TASKS_INLINE = True


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (facets are cached per catalog version)."""
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    """A client for Greenroom's JSON APIs (not signed in)."""
    return APIClient()


@pytest.fixture
def writer(transactional_db) -> APIClient:
    """An API client carrying a service token (`token:tests`), allowed to write."""
    from portal.models import ApiToken  # after Django is set up

    _, token = ApiToken.issue("tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A folder of descriptor files that the test config allows reading."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    return folder


@pytest.fixture
def configure(settings, tmp_path: Path, catalog_dir: Path) -> Iterator[Callable[..., Path]]:
    """Return a function that writes greenroom.yaml for this test and makes it current."""

    def write(**catalog: object) -> Path:
        section: dict[str, object] = {
            "rules": [{"allow": ALL_KINDS}],
            "reading": {"allow": [{"path": str(catalog_dir)}]},
        }
        section.update(catalog)
        path = tmp_path / "greenroom.yaml"
        path.write_text(yaml.safe_dump({"catalog": section}), encoding="utf-8")
        settings.GREENROOM_CONFIG = path
        clear_config_cache()
        return path

    write()
    yield write
    clear_config_cache()


@pytest.fixture
def write_file(catalog_dir: Path) -> Callable[[str, str], Path]:
    """Return a function that writes a (dedented) file below catalog_dir."""

    def write(name: str, text: str) -> Path:
        path = catalog_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def register(transactional_db, configure) -> Callable[..., IngestionRun]:
    """Return a function that registers a file location and returns its finished first run."""

    def run(path: Path | str, type_: str = "file") -> IngestionRun:
        _location, pending = ingest.register_location(type_, str(path), by="test")
        pending.refresh_from_db()
        return pending

    return run


@pytest.fixture
def refresh(transactional_db) -> Callable[[Location], IngestionRun]:
    """Return a function that refreshes a location and returns the finished run."""

    def run(location: Location) -> IngestionRun:
        pending = ingest.refresh_location(location)
        pending.refresh_from_db()
        return pending

    return run


def subprocess_database_url() -> str:
    """Return a DATABASE_URL that points a subprocess (worker, server) at the test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}"


def entity(ref: str) -> Entity:
    """Return the entity with a lookup ref like `component:default/x`."""
    return Entity.objects.get(ref=ref)


COMPONENT = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
spec:
  type: service
  lifecycle: production
  owner: {owner}
"""


def component(name: str, owner: str = "team-a", **spec: object) -> str:
    """Return a Component descriptor as YAML text."""
    doc = yaml.safe_load(COMPONENT.format(name=name, owner=owner))
    doc["spec"].update(spec)
    return yaml.safe_dump(doc, sort_keys=False)
