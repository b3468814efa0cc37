"""`GET /api/catalog/entities`: Backstage's filter, fields, order and paging semantics."""

from __future__ import annotations

import pytest

from catalog.filters import search_document
from tests.conftest import component

API = "/api/catalog/entities"


@pytest.fixture
def catalog(register, write_file):
    docs = [
        component("alpha", owner="team-a", lifecycle="production", type="service"),
        component("Beta", owner="team-b", lifecycle="experimental", type="website"),
        component("gamma", owner="team-a", lifecycle="deprecated", type="library"),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\n"
        "spec: {type: team, children: []}\n",
    ]
    text = "---\n".join(docs)
    text = text.replace(
        "name: alpha\n",
        "name: alpha\n  tags: [python, payments]\n  annotations:\n"
        "    backstage.io/techdocs-ref: dir:.\n",
    )
    return register(write_file("all.yaml", text))


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["metadata"]["name"] for e in response.json()]


def get(api, query: str):
    return api.get(f"{API}?{query}" if query else API)


def test_without_parameters_it_returns_every_entity(api, catalog):
    response = get(api, "")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"[") and body.count(b'"apiVersion"') == 5  # + the Location entity


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter=kind=component", ["alpha", "Beta", "gamma"]),
        ("filter=kind=COMPONENT,spec.lifecycle=production", ["alpha"]),
        ("filter=spec.type=website&filter=spec.type=library", ["Beta", "gamma"]),
        ("filter=metadata.tags=PAYMENTS", ["alpha"]),
        ("filter=metadata.annotations.backstage.io/techdocs-ref", ["alpha"]),
        ("filter=metadata.annotations.backstage.io/techdocs-ref=DIR:.", ["alpha"]),
        ("filter=relations.ownedBy=group:default/team-a", ["alpha", "gamma"]),
        ("filter=relations.ownerof", ["team-a"]),
        ("filter=metadata.namespace=default,kind=group", ["team-a"]),
        ("filter=metadata.name=beta", ["Beta"]),
        ("filter=spec.nothing=x", []),
    ],
)
def test_filters_follow_backstage_semantics(api, catalog, query, expected):
    assert sorted(names(get(api, query + "&limit=50")), key=str.lower) == expected


def test_fields_project_each_entity(api, catalog):
    response = get(api, "filter=kind=component&fields=metadata.name,spec.owner&limit=1")
    assert response.json() == [{"metadata": {"name": "alpha"}, "spec": {"owner": "team-a"}}]


def test_order_sorts_by_any_field(api, catalog):
    query = "filter=kind=component&order=desc:spec.lifecycle&limit=10"
    assert names(get(api, query)) == ["alpha", "Beta", "gamma"]  # production > exp > dep
    query = "filter=kind=component&order=asc:metadata.name&limit=10"
    assert names(get(api, query)) == ["alpha", "Beta", "gamma"]


def test_limit_pages_with_a_next_link(api, catalog):
    # given
    first = get(api, "filter=kind=component&order=asc:metadata.name&limit=2")

    # when
    link = first["Link"]
    next_url = link[1 : link.index(">")]
    second = api.get(next_url)

    # then
    assert names(first) == ["alpha", "Beta"] and link.endswith('rel="next"')
    assert names(second) == ["gamma"] and "Link" not in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter==x", "has no key"),
        ("filter=,", "has no conditions"),
        ("offset=-1", "must not be negative"),
        ("limit=abc", "whole number"),
        ("limit=1000000", "at most"),
        ("after=bogus", "cursor"),
        ("order=sideways:metadata.name", "invalid order"),
    ],
)
def test_bad_parameters_are_a_clear_400(api, catalog, query, message):
    response = get(api, query)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["name"] == "InputError" and message in body["error"]["message"]
    assert body["response"] == {"statusCode": 400}


def test_the_search_document_flattens_like_backstage():
    body = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "X",
            "tags": ["A", "b"],
            "links": [{"url": "https://E.com"}],
            "annotations": {"acme.io/long": "y" * 300},
        },
        "spec": {"owner": "Team", "flag": True, "none": None, "empty": []},
    }
    assert search_document(body) == {
        "apiversion": ["backstage.io/v1alpha1"],
        "kind": ["component"],
        "metadata.name": ["x"],
        "metadata.tags": ["a", "b"],
        # string items also as keys, so `filter=metadata.tags.java` works as in Backstage
        "metadata.tags.a": ["true"],
        "metadata.tags.b": ["true"],
        "metadata.links.url": ["https://e.com"],
        "metadata.annotations.acme.io/long": [None],
        "metadata.namespace": ["default"],
        "spec.owner": ["team"],
        "spec.flag": ["true"],
        "spec.none": [None],
        "spec.empty": [],
    }
