"""Backstage's own catalog client (`@backstage/catalog-client` 1.16.2) against a live Greenroom.

The test installs the pinned client with npm into tests/backstage_client, ingests a small known
catalog, starts `manage.py runserver` on loopback, and runs check_catalog.mjs. The script calls
the client and compares every answer with what this module computed from the database, so a
difference between what the client sends or expects and what the server does fails the test
with the step, the expected and actual values and the HTTP requests involved.

The script's queries and the expectations below go together: components with
`spec.type=service` by name descending, groups or APIs, components whose name contains "ing"
by name ascending, facets `spec.type` and `kind` of entities tagged `java`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from catalog.choices import RunStatus
from catalog.models import Entity, IngestionRun, Location
from tests.conftest import component
from tests.liveserver import runserver, server_environment

ROOT = Path(__file__).resolve().parents[1]
CLIENT_DIR = Path(__file__).resolve().parent / "backstage_client"
INSTALL_STAMP = CLIENT_DIR / "node_modules" / ".greenroom-install.sha256"

# Twelve areas with four components each. No area is a prefix of another, so ordering by name
# is the same under every database collation (hyphens are ignored by some, not by others).
AREAS = [
    "billing",
    "cart",
    "checkout",
    "delivery",
    "inventory",
    "notify",
    "orders",
    "payments",
    "pricing",
    "reviews",
    "search",
    "shipping",
]
ROLES = {"service": "service", "worker": "service", "web": "website", "lib": "library"}
VALIDATE_LOCATION = "url:https://github.com/acme/shop/blob/main/catalog-info.yaml"
TIMEOUT_SECONDS = 30


# -- the Node side -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client_dir() -> Path:
    """Return tests/backstage_client with `npm ci` done for its current lockfile.

    The install is skipped when node_modules carries a stamp with the hash of package.json and
    package-lock.json; `npm ci` removes node_modules first, so a stale stamp cannot survive it.
    A missing npm or a failed install fails the test: this check must never pass by skipping.
    """
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is not on PATH; this test needs Node 20 and npm", pytrace=False)
    lockfile = CLIENT_DIR / "package-lock.json"
    with lockfile.open("rb") as lock:
        # Two test runs at once (PostgreSQL and SQLite) share one node_modules.
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = hashlib.sha256((CLIENT_DIR / "package.json").read_bytes() + lock.read())
        if INSTALL_STAMP.is_file() and INSTALL_STAMP.read_text().strip() == digest.hexdigest():
            return CLIENT_DIR
        result = subprocess.run(
            [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
            cwd=CLIENT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(
                f"npm ci failed with exit code {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
        INSTALL_STAMP.write_text(digest.hexdigest() + "\n")
    return CLIENT_DIR


# -- the catalog -------------------------------------------------------------------------------


def _component(name: str, owner: str, type_: str, tags: list[str], **spec: object) -> str:
    """Return a Component descriptor (conftest's `component()`) with a type and tags."""
    doc = yaml.safe_load(component(name, owner, type=type_, **spec))
    doc["metadata"]["tags"] = tags
    return yaml.safe_dump(doc, sort_keys=False)


def _documents(*docs: dict[str, Any] | str) -> str:
    """Return one YAML file holding these documents (dicts or YAML text)."""
    return "---\n".join(
        d if isinstance(d, str) else yaml.safe_dump(d, sort_keys=False) for d in docs
    )


def _entity(kind: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """Return a descriptor of any kind as a dict."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **metadata},
        "spec": spec,
    }


@pytest.fixture
def shop_catalog(
    configure: Callable[..., Path],
    write_file: Callable[[str, str], Path],
    register: Callable[..., IngestionRun],
) -> dict[str, Path]:
    """Ingest a shop: 48 area components, 2 groups, 4 users, a domain, a system, an API, a
    resource and `refresh-me`, from files listed by one Location file (61 entities with the
    Location entities). Return the config, the root and the files the script edits or adds.
    """
    # No periodic refresh during the test: a removed entity must stay removed.
    config = configure(refreshIntervalSeconds=3600)
    targets = []
    for index, area in enumerate(AREAS):
        owner = "team-a" if index % 2 == 0 else "team-b"
        language = "python" if index % 2 == 0 else "java"
        docs = [
            _component(
                f"{area}-{role}",
                owner,
                type_,
                [language, "queue"] if role == "worker" else [language],
                system="shop",
            )
            for role, type_ in ROLES.items()
        ]
        write_file(f"areas/{area}.yaml", _documents(*docs))
        targets.append(f"./areas/{area}.yaml")
    write_file(
        "org.yaml",
        _documents(
            _entity("Group", "team-a", {"type": "team", "children": []}),
            _entity("Group", "team-b", {"type": "team", "children": []}),
            *[
                _entity("User", user, {"memberOf": [team]})
                for user, team in [
                    ("alice", "team-a"),
                    ("bob", "team-a"),
                    ("carol", "team-b"),
                    ("dave", "team-b"),
                ]
            ],
            _entity("Domain", "commerce", {"owner": "team-a"}),
            _entity("System", "shop", {"owner": "team-a", "domain": "commerce"}),
        ),
    )
    write_file(
        "apis.yaml",
        _documents(
            _entity(
                "API",
                "orders-api",
                {
                    "type": "openapi",
                    "lifecycle": "production",
                    "owner": "team-a",
                    "system": "shop",
                    "definition": "openapi: 3.0.0\ninfo: {title: Orders, version: 1.0.0}\n",
                },
                tags=["java"],
            ),
            _entity(
                "Resource", "orders-db", {"type": "database", "owner": "team-b", "system": "shop"}
            ),
        ),
    )
    refresh_me = write_file(
        "refresh-me.yaml",
        _documents(
            _entity(
                "Component",
                "refresh-me",
                {"type": "service", "lifecycle": "experimental", "owner": "team-b"},
                description="before refresh",
            )
        ),
    )
    targets += ["./org.yaml", "./apis.yaml", "./refresh-me.yaml"]
    root = write_file(
        "catalog-info.yaml",
        _documents(_entity("Location", "shop-catalog", {"targets": targets})),
    )
    # Registered by the script through the API, not here.
    extra = write_file(
        "extra.yaml",
        _documents(
            _component("late-arrival", "team-b", "service", ["go"]),
            _component("late-worker", "team-b", "service", ["go"]),
        ),
    )

    run = register(root)

    assert run.status == RunStatus.SUCCEEDED and run.error_count == 0, run.errors
    assert Entity.objects.count() == 61
    return {"config": config, "root": root, "refresh_me": refresh_me, "extra": extra}


# -- the server --------------------------------------------------------------------------------


@pytest.fixture
def server_env(shop_catalog: dict[str, Path]) -> dict[str, str]:
    """The environment of a server (and its commands) on the test database, without a broker."""
    return server_environment(GREENROOM_CONFIG=str(shop_catalog["config"]))


@pytest.fixture
def base_url(server_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """Start `manage.py runserver` on loopback; yield the catalog API's base URL."""
    with runserver(server_env, tmp_path / "server.log") as server:
        deadline = time.monotonic() + 60
        while True:
            assert server.process.poll() is None, server.log()
            assert time.monotonic() < deadline, server.log()
            try:
                requests.get(f"{server.url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield f"{server.url}/api/catalog"


def _service_token(env: dict[str, str]) -> str:
    """Create a service token with `manage.py api_token`; it prints the token last."""
    result = subprocess.run(
        [sys.executable, "manage.py", "api_token", "node-client"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip(), (
        f"manage.py api_token failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout.strip().splitlines()[-1].strip()


# -- what the catalog holds, computed here without the server's filter code ---------------------


def _tags(body: dict[str, Any]) -> list[str]:
    """Return an entity's tags lower-cased, as Backstage's filters compare them."""
    return [str(tag).lower() for tag in body["metadata"].get("tags", [])]


def _expected(shop_catalog: dict[str, Path]) -> dict[str, Any]:
    """Return what the script compares the client's answers with."""
    entities = list(Entity.objects.order_by("ref"))
    by_ref = {e.ref: e for e in entities}
    assert len({e.name.lower() for e in entities}) == len(entities), "names must be unique"

    services = sorted(
        (
            e
            for e in entities
            if e.kind == "component" and e.body["spec"].get("type", "").lower() == "service"
        ),
        key=lambda e: e.name.lower(),
        reverse=True,
    )
    with_ing = sorted(
        (e for e in entities if e.kind == "component" and "ing" in e.name.lower()),
        key=lambda e: e.name.lower(),
    )
    java = [e.body for e in entities if "java" in _tags(e.body)]
    extra = str(shop_catalog["extra"].resolve())
    lookup = by_ref["component:default/orders-service"]
    by_refs = [
        by_ref[r]
        for r in ("api:default/orders-api", "group:default/team-b", "component:default/cart-web")
    ]
    removed = by_ref["component:default/reviews-lib"]
    valid = _entity(
        "Component",
        "validated",
        {"type": "service", "lifecycle": "production", "owner": "team-a"},
    )
    return {
        "timeoutSeconds": TIMEOUT_SECONDS,
        "allRefs": sorted(by_ref),
        "services": [
            {
                "kind": e.body["kind"],
                "metadata": {"name": e.body["metadata"]["name"], "namespace": e.namespace},
                "spec": {"owner": e.body["spec"]["owner"]},
            }
            for e in services
        ],
        "groupsAndApis": sorted(e.ref for e in entities if e.kind in ("group", "api")),
        "fullTextIng": [e.ref for e in with_ing],
        "facets": {
            "spec.type": dict(Counter(b["spec"]["type"] for b in java if "type" in b["spec"])),
            "kind": dict(Counter(b["kind"] for b in java)),
        },
        "lookup": {
            "ref": lookup.ref,
            "shortRef": "component:orders-service",
            "uid": str(lookup.uid),
            "ownedBy": "group:default/team-a",
        },
        "byRefs": {
            "refs": [e.ref for e in by_refs],
            "uids": [str(e.uid) for e in by_refs],
            "names": [e.body["metadata"]["name"] for e in by_refs],
        },
        "locations": [
            {
                "id": str(location.id),
                "type": location.type,
                "target": location.target,
                "entityRef": f"location:default/{location.entity_name}",
            }
            for location in Location.objects.all()
        ],
        "root": Location.objects.get(target=str(shop_catalog["root"].resolve())).target,
        "validate": {
            "location": VALIDATE_LOCATION,
            "valid": valid,
            "invalid": {**valid, "metadata": {"name": "Not Valid!"}},
        },
        "extra": {
            "target": extra,
            "entityRef": f"location:default/{Location(type='file', target=extra).entity_name}",
            "refs": ["component:default/late-arrival", "component:default/late-worker"],
        },
        "remove": {"ref": removed.ref, "uid": str(removed.uid)},
        "refresh": {
            "ref": "component:default/refresh-me",
            "path": str(shop_catalog["refresh_me"]),
            "before": "before refresh",
            "after": "after refresh",
        },
    }


# -- the test ----------------------------------------------------------------------------------


def test_backstage_catalog_client_reads_and_writes_the_catalog(
    client_dir: Path,
    shop_catalog: dict[str, Path],
    server_env: dict[str, str],
    base_url: str,
    tmp_path: Path,
) -> None:
    # given: a live server over a known catalog, a service token, and what the catalog holds
    token = _service_token(server_env)
    expected = {**_expected(shop_catalog), "baseUrl": base_url, "token": token}

    # when: Backstage's client runs every call against the server
    result = subprocess.run(
        ["node", "check_catalog.mjs"],
        cwd=client_dir,
        env={**os.environ, "CATALOG_CHECK": json.dumps(expected)},
        capture_output=True,
        text=True,
        timeout=240,
    )

    # then: each answer matched what the database holds
    assert result.returncode == 0, (
        f"check_catalog.mjs exited {result.returncode}:\n{result.stdout}\n{result.stderr}\n"
        f"-- server log (tail) --\n{(tmp_path / 'server.log').read_text()[-4000:]}"
    )
