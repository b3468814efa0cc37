"""Fixtures of the web UI tests: the personas, signed-in clients and a small catalog.

The catalog is ingested for real (descriptor files + `register`), so pages read what
ingestion wrote. Personas: alice (owner, member of team-a), bob (teammate, member of
team-a), charlie (outsider: a User entity in no group).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import IngestionRun


def doc(kind: str, name: str, spec: dict | None = None, **metadata: object) -> str:
    """Return one descriptor as YAML text."""
    api_version = (
        "scaffolder.backstage.io/v1beta3" if kind == "Template" else "backstage.io/v1alpha1"
    )
    body = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, **metadata},
        "spec": spec or {},
    }
    return yaml.safe_dump(body, sort_keys=False)


def docs(*texts: str) -> str:
    """Return descriptors joined into one multi-document YAML file."""
    return "---\n".join(texts)


OPENAPI = """openapi: 3.0.0
info: {title: Orders, version: 1.0.0}
paths:
  /orders:
    get:
      responses:
        '200': {description: ok}
"""


def org_docs(extra_members: int = 0) -> list[str]:
    """Return the org: team-a (parent of team-a-sub), team-b, users alice, bob, charlie."""
    members = [f"user-{i:03d}" for i in range(extra_members)]
    return [
        doc("Group", "team-a", {"type": "team", "children": ["team-a-sub"]}),
        doc("Group", "team-a-sub", {"type": "team", "parent": "team-a", "children": []}),
        doc("Group", "team-b", {"type": "team", "children": []}),
        doc("User", "alice", {"memberOf": ["team-a"], "profile": {"displayName": "Alice"}}),
        doc("User", "bob", {"memberOf": ["team-a"]}),
        doc("User", "charlie", {"memberOf": []}),
        *(doc("User", name, {"memberOf": ["team-a"]}) for name in members),
    ]


def system_docs(bulk: int = 0, apis: int = 0) -> list[str]:
    """Return a domain, a system, an API, a template and six components (five in default).

    With bulk/apis, checkout also depends on `bulk` services and provides `apis` more APIs,
    and the services and APIs come too: all owned by team-a, in system shop, each service
    depending on the next one and consuming orders-api.
    """
    services = [f"svc-{i:03d}" for i in range(bulk)]
    extra_apis = [f"api-{i:03d}" for i in range(apis)]
    return [
        doc("Domain", "commerce", {"owner": "team-a"}),
        doc("System", "shop", {"owner": "team-a", "domain": "commerce"}),
        doc(
            "API",
            "orders-api",
            {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "shop",
                "definition": OPENAPI,
            },
        ),
        doc(
            "Template",
            "new-service",
            {"type": "service", "owner": "team-a", "steps": [], "parameters": []},
        ),
        doc(
            "Component",
            "checkout",
            {
                "type": "service",
                "lifecycle": "production",
                "owner": "team-a",
                "system": "shop",
                "providesApis": ["orders-api", *extra_apis],
                "dependsOn": ["component:cart", *(f"component:{s}" for s in services)],
            },
            description="Takes the **money**.",
            tags=["python", "payments"],
            annotations={"backstage.io/techdocs-ref": "dir:."},
        ),
        doc(
            "Component",
            "cart",
            {"type": "website", "lifecycle": "experimental", "owner": "team-a", "system": "shop"},
            tags=["javascript"],
        ),
        doc(
            "Component",
            "billing",
            {"type": "service", "lifecycle": "production", "owner": "team-b"},
            description="Sends invoices",
        ),
        doc(
            "Component",
            "legacy",
            {"type": "library", "lifecycle": "deprecated", "owner": "team-b"},
        ),
        doc(
            "Component",
            "sub-tool",
            {"type": "tool", "lifecycle": "production", "owner": "team-a-sub"},
        ),
        doc(
            "Component",
            "ops-tool",
            {"type": "tool", "lifecycle": "production", "owner": "group:default/team-b"},
            namespace="ops",
        ),
        *(
            doc(
                "Component",
                name,
                {
                    "type": "service",
                    "lifecycle": "production",
                    "owner": "team-a",
                    "system": "shop",
                    "consumesApis": ["orders-api"],
                    "dependsOn": [f"component:svc-{(i + 1) % bulk:03d}"],
                },
                description=f"Bulk service {i}",
            )
            for i, name in enumerate(services)
        ),
        *(
            doc(
                "API",
                name,
                {
                    "type": "openapi",
                    "lifecycle": "production",
                    "owner": "team-a",
                    "system": "shop",
                    "definition": OPENAPI,
                },
            )
            for name in extra_apis
        ),
    ]


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """Hash test passwords cheaply (the sign-in form still checks them)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db) -> Callable[..., object]:
    def make(username: str, **fields: object):
        return get_user_model().objects.create_user(
            username=username, email=f"{username}@example.com", password="pw", **fields
        )

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice", first_name="Alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def charlie(make_user):
    return make_user("charlie")


@pytest.fixture
def signed_in() -> Callable[[object], Client]:
    """Return a function giving a fresh test client signed in as a person."""

    def sign_in(user: object, **options: object) -> Client:
        client = Client(**options)
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def as_alice(alice, signed_in) -> Client:
    return signed_in(alice)


def build_catalog(register, write_file, *, members: int = 0, bulk: int = 0, apis: int = 0):
    """Ingest the org in one file and the systems in another (two locations)."""
    org = register(write_file("org.yaml", docs(*org_docs(members))))
    systems = register(write_file("systems.yaml", docs(*system_docs(bulk, apis))))
    for run in (org, systems):
        assert run.status == "succeeded" and run.error_count == 0, run.errors
    return {"org": org, "systems": systems}


@pytest.fixture
def small_catalog(register, write_file) -> dict[str, IngestionRun]:
    """The small catalog: 6 components, 3 groups, 3 users, a domain, a system, an API."""
    return build_catalog(register, write_file)


@pytest.fixture
def large_catalog(register, write_file) -> dict[str, IngestionRun]:
    """The small catalog plus 300 services, 50 more APIs and 50 more members of team-a."""
    return build_catalog(register, write_file, members=50, bulk=300, apis=50)


def html(response) -> str:
    """Return a page's HTML after checking it rendered."""
    assert response.status_code == 200, response.status_code
    return response.content.decode()
