"""The Docs page: every documented entity, filtered by kind, owner, text and "mine"."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.techdocs.conftest import documented_component
from tests.ui.conftest import doc


def names(page: str) -> list[str]:
    table = page.split('id="catalog-results"', 1)[1]
    return re.findall(r'<td><a href="/catalog/[^/"]+/[^/"]+/([^"/]+)">', table)


@pytest.fixture
def docs_catalog(register, write_file, catalog_dir):
    write_file(
        "org.yaml",
        "---\n".join(
            [
                doc("Group", "team-a", {"type": "team", "children": []}),
                doc("Group", "team-b", {"type": "team", "children": []}),
                doc("User", "alice", {"memberOf": ["team-a"]}),
            ]
        ),
    )
    write_file("a.yaml", documented_component("alpha", owner="team-a"))
    write_file("b.yaml", documented_component("beta", owner="team-b"))
    write_file(
        "c.yaml",
        documented_component("gamma", owner="team-b")
        .replace("Component", "System")
        .replace("  type: service\n  lifecycle: production\n", ""),
    )
    write_file(
        "d.yaml",
        doc(
            "Component",
            "undocumented",
            {"type": "service", "lifecycle": "production", "owner": "team-a"},
        ),
    )
    # builds fail (no mkdocs.yml): the list still shows them, with the status
    register(catalog_dir / "*.yaml")


@pytest.fixture
def as_alice(transactional_db) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create(username="alice"))
    return client


def test_it_lists_every_documented_entity(docs_catalog, as_alice):
    page = as_alice.get("/docs").content.decode()
    assert names(page) == ["alpha", "beta", "gamma"]
    assert "Documented entities (3)" in page
    assert 'data-build-status="failed"' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=system", ["gamma"]),
        ("owner=team-b", ["beta", "gamma"]),
        ("q=alp", ["alpha"]),
        ("scope=owned", ["alpha"]),
    ],
)
def test_it_filters(docs_catalog, as_alice, query, expected):
    assert names(as_alice.get(f"/docs?{query}").content.decode()) == expected


def test_the_sidebar_links_to_it(docs_catalog, as_alice):
    assert 'href="/docs"' in as_alice.get("/catalog").content.decode()
