"""Backstage catalog API: entities/by-query (cursor pages, predicates, full text), facets."""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from catalog import ingest
from tests.conftest import component

API = "/api/catalog"

# 18 components: types cycle service/website/library, lifecycles production/experimental,
# owners team-a/team-b/team-c, tags by divisibility; plus 2 groups and an API.
TYPES = ["service", "website", "library"]


def _components() -> list[dict]:
    docs = []
    for i in range(18):
        tags = [t for t, d in (("java", 2), ("python", 3)) if i % d == 0]
        docs.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {
                    "name": f"comp-{i:02d}",
                    "title": f"Component number {i}",
                    "tags": tags,
                },
                "spec": {
                    "type": TYPES[i % 3],
                    "lifecycle": "production" if i % 2 == 0 else "experimental",
                    "owner": ["team-a", "team-b", "Team-C"][i % 3],
                },
            }
        )
    return docs


@pytest.fixture
def catalog(register, write_file):
    docs = _components()
    docs += [
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": name},
            "spec": {"type": "team", "children": []},
        }
        for name in ("team-a", "team-b")
    ]
    docs.append(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "orders-api", "description": "Takes ORDERS"},
            "spec": {
                "type": "openapi",
                "lifecycle": "production",
                "owner": "team-a",
                "definition": "openapi: 3.0.0",
            },
        }
    )
    path = write_file("all.yaml", yaml.safe_dump_all(docs, sort_keys=False))
    run = register(path)
    assert run.error_count == 0, run.errors
    return run


def names(items: list[dict]) -> list[str]:
    return [item["metadata"]["name"] for item in items]


def by_query(api, query: str = "", **kwargs):
    response = api.get(f"{API}/entities/by-query?{query}", **kwargs)
    assert response.status_code == 200, response.content
    return response.json()


def walk(api, first: str, *, post: dict | None = None) -> tuple[list[str], list[dict]]:
    """Follow nextCursor from a first page to the end; return names and every page."""
    if post is None:
        page = by_query(api, first)
    else:
        page = api.post(f"{API}/entities/by-query", post, format="json").json()
    pages = [page]
    while cursor := page["pageInfo"].get("nextCursor"):
        if post is None:
            page = by_query(api, f"cursor={cursor}&limit=4")
        else:
            page = api.post(
                f"{API}/entities/by-query", {"cursor": cursor, "limit": 4}, format="json"
            ).json()
        pages.append(page)
        assert len(pages) < 50
    return [n for p in pages for n in names(p["items"])], pages


def test_by_query_walks_every_entity_once_by_cursor(api, catalog):
    # when: pages of 4 without any filter (21 entities + the Location entity)
    seen, pages = walk(api, "limit=4")

    # then: no entity twice, none missed, the total on every page, cursors opaque base64 JSON
    assert len(seen) == len(set(seen)) == 22
    assert all(p["totalItems"] == 22 for p in pages)
    assert all(len(p["items"]) == 4 for p in pages[:-1])
    assert "prevCursor" not in pages[0]["pageInfo"]
    assert "nextCursor" not in pages[-1]["pageInfo"]
    decoded = json.loads(base64.b64decode(pages[0]["pageInfo"]["nextCursor"]))
    assert "query" not in decoded  # Backstage's client reads this to pick GET or POST


def test_pages_of_one_kind_come_by_name_and_walk_back_and_forth(api, catalog):
    # when: a kind filter and no order (the catalog table's request)
    seen, pages = walk(api, "filter=kind=component&limit=4")
    back = by_query(api, f"cursor={pages[2]['pageInfo']['prevCursor']}&limit=4")

    # then
    assert seen == [f"comp-{i:02d}" for i in range(18)]
    assert names(back["items"]) == names(pages[1]["items"])


def test_by_query_filter_order_and_fields(api, catalog):
    # when: services ordered by name descending, only a few fields
    first = "filter=kind=component,spec.type=service&orderField=metadata.name,desc"
    first += "&fields=metadata.name,spec.owner&limit=4"
    seen, pages = walk(api, first)

    # then
    expected = sorted((f"comp-{i:02d}" for i in range(0, 18, 3)), reverse=True)
    assert seen == expected
    assert pages[0]["totalItems"] == 6
    assert set(pages[0]["items"][0]) == {"metadata", "spec"}
    assert set(pages[0]["items"][0]["metadata"]) == {"name"}


def test_by_query_prev_cursor_goes_back_a_page(api, catalog):
    first = by_query(api, "filter=kind=component&orderField=metadata.title,asc&limit=5")
    second = by_query(api, f"cursor={first['pageInfo']['nextCursor']}&limit=5")
    back = by_query(api, f"cursor={second['pageInfo']['prevCursor']}&limit=5")
    assert names(back["items"]) == names(first["items"])
    assert "prevCursor" not in back["pageInfo"]
    assert names(second["items"]) != names(first["items"])


def test_by_query_orders_by_a_field_some_entities_lack_with_those_last(api, catalog):
    # metadata.description only exists on the API
    seen, _ = walk(api, "orderField=metadata.description,asc&limit=4")
    assert seen[0] == "orders-api"
    assert len(seen) == len(set(seen)) == 22


def test_by_query_full_text_filter(api, catalog):
    page = by_query(
        api,
        "fullTextFilterTerm=NUMBER 1&fullTextFilterFields=metadata.title&limit=50"
        "&orderField=metadata.name,asc",
    )
    assert names(page["items"]) == [f"comp-{i:02d}" for i in (1, 10, 11, 12, 13, 14, 15, 16, 17)]
    # without fields, Backstage searches the sort field (case-insensitively)...
    page = by_query(api, "fullTextFilterTerm=orders&orderField=metadata.description,asc")
    assert names(page["items"]) == ["orders-api"]
    # ...and without one the uid, so a word from elsewhere matches nothing
    assert by_query(api, "fullTextFilterTerm=orders")["items"] == []


def test_by_query_total_items_can_be_excluded_and_limit_zero_counts(api, catalog):
    assert by_query(api, "filter=kind=component&limit=0") == {
        "items": [],
        "totalItems": 18,
        "pageInfo": {},
    }
    page = by_query(api, "filter=kind=component&totalItems=exclude&limit=2")
    assert page["totalItems"] == 0 and len(page["items"]) == 2


def test_post_by_query_with_predicates(api, catalog):
    # given: Backstage's predicate operators combined
    query = {
        "$all": [
            {"kind": "Component"},
            {"spec.type": {"$in": ["service", "WEBSITE"]}},
            {"$not": {"spec.lifecycle": "experimental"}},
            {"metadata.tags": {"$contains": "java"}},
            {"$any": [{"spec.owner": {"$hasPrefix": "team-"}}, {"metadata.name": "nope"}]},
            {"metadata.title": {"$exists": True}},
        ]
    }

    # when
    seen, pages = walk(
        api, "", post={"query": query, "limit": 2, "orderBy": [{"field": "metadata.name"}]}
    )

    # then: even i, i % 3 in (0, 1) -> 0, 4, 6, 10, 12, 16
    assert seen == ["comp-00", "comp-04", "comp-06", "comp-10", "comp-12", "comp-16"]
    assert pages[0]["totalItems"] == 6
    cursor = json.loads(base64.b64decode(pages[0]["pageInfo"]["nextCursor"]))
    assert "query" in cursor


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"metadata.tags.python": "true"}, {0, 6, 12, 3, 9, 15}),
        ({"spec.owner": "team-c"}, {2, 5, 8, 11, 14, 17}),
        ({"spec.owner": {"$exists": False}, "kind": "component"}, set()),
        ({"relations.ownedBy": "group:default/team-a", "kind": "component"}, {0, 3, 6, 9, 12, 15}),
        ({"$any": []}, set()),
        ({"spec.type": {"$in": []}}, set()),
    ],
)
def test_predicate_semantics(api, catalog, query, expected):
    response = api.post(f"{API}/entities/by-query", {"query": query, "limit": 100}, format="json")
    assert response.status_code == 200, response.content
    assert set(names(response.json()["items"])) == {f"comp-{i:02d}" for i in expected}


def test_legacy_filter_key_of_array_item_matches(api, catalog):
    response = api.get(f"{API}/entities?filter=metadata.tags.java&fields=metadata.name")
    items = json.loads(b"".join(response.streaming_content))
    assert sorted(names(items)) == [f"comp-{i:02d}" for i in range(0, 18, 2)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": {"$all": {"kind": "x"}}}, "must be a list"),
        ({"query": {"kind": {"$regex": "x"}}}, "unknown operator"),
        ({"query": {"$all": [], "kind": "x"}}, "only key"),
        ({"query": {"kind": {"$exists": "yes"}}}, "true or false"),
        ({"query": {"kind": ["a"]}}, "string, number or boolean"),
        ({"query": "kind=component"}, "must be an object"),
        ({"limit": -1}, "negative"),
        ({"limit": 10**9}, "at most"),
        ({"cursor": "bm90IGpzb24="}, "cursor"),
        ({"cursor": "!!!"}, "cursor"),
        ({"orderBy": [{"field": "x", "order": "up"}]}, "asc or desc"),
        ({"surprise": 1}, "unknown field"),
        ({"totalItems": "maybe"}, "include or exclude"),
    ],
)
def test_post_by_query_bad_input_is_a_clear_400(api, catalog, body, message):
    response = api.post(f"{API}/entities/by-query", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["name"] == "InputError"
    assert message in response.json()["error"]["message"]


def test_deeply_nested_predicate_is_refused_not_crashing(api, catalog):
    query: dict = {"kind": "component"}
    for _ in range(200):
        query = {"$not": query}
    response = api.post(f"{API}/entities/by-query", {"query": query}, format="json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("cursor=garbage", "cursor"),
        ("orderField=metadata.name,sideways", "invalid orderField"),
        ("orderField=a,asc&orderField=b,asc", "only one order field"),
        ("limit=-5", "negative"),
        ("offset=x", "whole number"),
        ("filter=", "no conditions"),
    ],
)
def test_get_by_query_bad_input_is_a_clear_400(api, catalog, query, message):
    response = api.get(f"{API}/entities/by-query?{query}")
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["message"]


def test_tampered_cursor_with_bad_filter_is_a_400(api, catalog):
    cursor = base64.b64encode(
        json.dumps({"v": 1, "query": {"$bogus": 1}, "after": [None, "x"]}).encode()
    ).decode()
    response = api.get(f"{API}/entities/by-query?cursor={cursor}")
    assert response.status_code == 400


def facet(api, query: str) -> dict:
    response = api.get(f"{API}/entity-facets?{query}")
    assert response.status_code == 200, response.content
    return response.json()["facets"]


def test_facets_count_values_with_original_case(api, catalog):
    facets = facet(
        api,
        "facet=kind&facet=spec.type&facet=spec.owner&facet=metadata.tags&facet=spec.lifecycle",
    )
    assert facets["kind"] == [
        {"value": "Component", "count": 18},
        {"value": "Group", "count": 2},
        {"value": "API", "count": 1},
        {"value": "Location", "count": 1},
    ]
    assert {f["value"]: f["count"] for f in facets["spec.type"]} == {
        "service": 6,
        "website": 6,
        "library": 6,
        "team": 2,
        "openapi": 1,
        "file": 1,  # the registered location's own Location entity
    }
    assert {"value": "Team-C", "count": 6} in facets["spec.owner"]
    assert facets["metadata.tags"] == [
        {"value": "java", "count": 9},
        {"value": "python", "count": 6},
    ]


def test_facets_honour_filters_and_generic_keys(api, catalog):
    facets = facet(api, "facet=spec.lifecycle&facet=metadata.title&filter=spec.type=service")
    assert facets["spec.lifecycle"] == [
        {"value": "experimental", "count": 3},
        {"value": "production", "count": 3},
    ]
    assert len(facets["metadata.title"]) == 6
    assert facets["metadata.title"][0]["value"].startswith("Component number")


def test_facets_of_relations(api, catalog):
    facets = facet(api, "facet=relations.ownedBy&filter=kind=component")
    assert {f["value"]: f["count"] for f in facets["relations.ownedBy"]} == {
        "group:default/team-a": 6,
        "group:default/team-b": 6,
        "group:default/team-c": 6,
    }


def test_post_facets_with_a_predicate(api, catalog):
    response = api.post(
        f"{API}/entity-facets",
        {"facets": ["spec.type"], "query": {"spec.owner": {"$in": ["team-a"]}}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {
        "facets": {
            "spec.type": [{"value": "service", "count": 6}, {"value": "openapi", "count": 1}]
        }
    }


def test_irregular_promoted_values_still_filter_and_facet(api, configure, register, write_file):
    # given: spec.type as a list (not one string) on a custom kind
    configure(
        rules=[{"allow": ["Widget"]}],
        customKinds=[{"kind": "Widget", "apiVersions": ["acme.io/v1"]}],
    )
    path = write_file(
        "odd.yaml",
        yaml.safe_dump(
            {
                "apiVersion": "acme.io/v1",
                "kind": "Widget",
                "metadata": {"name": "odd"},
                "spec": {"type": ["Alpha", "beta"], "lifecycle": "x" * 300},
            }
        ),
    )
    run = register(path)
    assert run.error_count == 0, run.errors

    # then: the search document answers where the column cannot
    assert names(by_query(api, "filter=spec.type=alpha")["items"]) == ["odd"]
    assert names(by_query(api, "filter=kind=widget,spec.lifecycle")["items"]) == ["odd"]
    facets = facet(api, "facet=spec.type&filter=kind=widget")
    assert facets["spec.type"] == [{"value": "Alpha", "count": 1}, {"value": "beta", "count": 1}]


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "at least one facet"), ("facet=kind&filter=,", "no conditions")],
)
def test_facets_bad_input(api, catalog, query, message):
    response = api.get(f"{API}/entity-facets?{query}")
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/entity-facets?facet=%00", None),
        ("get", "/entities?filter=kind=a%00b", None),
        ("get", "/entities/by-name/component/default/x%00", None),
        ("post", "/entities/by-query", {"query": {"kind": "a\x00"}}),
    ],
)
def test_nul_characters_are_a_400(api, catalog, method, path, body):
    response = getattr(api, method)(f"{API}{path}", body, format="json")
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]["message"]


def test_cached_facets_and_counts_follow_every_change(api, writer, catalog, write_file, refresh):
    # given: a facet answer, remembered
    def type_counts() -> dict[str, int]:
        return {f["value"]: f["count"] for f in facet(api, "facet=spec.type")["spec.type"]}

    assert type_counts()["service"] == 6
    assert by_query(api, "filter=kind=component&limit=0")["totalItems"] == 18

    # when: a refresh changes the catalog, then the API deletes an entity
    docs = [d for d in _components() if d["metadata"]["name"] != "comp-00"]
    write_file("all.yaml", yaml.safe_dump_all(docs, sort_keys=False))
    refresh(catalog.location)
    after_refresh = type_counts()
    uid = by_query(api, "filter=metadata.name=comp-03")["items"][0]["metadata"]["uid"]
    assert writer.delete(f"{API}/entities/by-uid/{uid}").status_code == 204

    # then: each answer is the catalog's, not the cache's
    assert after_refresh["service"] == 5
    assert type_counts()["service"] == 4
    assert by_query(api, "filter=kind=component&limit=0")["totalItems"] == 16


def test_orphans_are_found_by_backstages_annotation_filter(api, configure, register, write_file):
    # given: b is no longer in its file, and the orphan strategy keeps it
    configure(orphanStrategy="keep")
    path = write_file("all.yaml", component("a") + "---\n" + component("b"))
    run = register(path)
    write_file("all.yaml", component("a"))
    ingest.refresh_location(run.location)

    # when / then: the flag answers, the same as the annotation would
    orphan_filter = "filter=metadata.annotations.backstage.io/orphan=true"
    assert names(by_query(api, orphan_filter)["items"]) == ["b"]
    assert names(by_query(api, "filter=metadata.annotations.backstage.io/orphan")["items"]) == ["b"]
    assert by_query(api, "filter=metadata.annotations.backstage.io/orphan=false")["items"] == []
    body = api.get(f"{API}/entities/by-name/component/default/b").json()
    assert body["metadata"]["annotations"]["backstage.io/orphan"] == "true"
