"""GET /api/search/query: Backstage's parameters and result shape; bad input is a 400."""

from __future__ import annotations

import pytest

from portal.search import index
from portal.search.index import IndexDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents() -> None:
    index.upsert_documents(
        "software-catalog",
        [
            IndexDocument(
                f"component:default/svc-{i}",
                f"svc-{i}",
                "An orders service",
                f"/catalog/default/component/svc-{i}",
                {"kind": "Component", "lifecycle": "production"},
            )
            for i in range(3)
        ]
        + [
            IndexDocument(
                "api:default/orders-api",
                "orders-api",
                "Orders",
                "/catalog/default/api/orders-api",
                {"kind": "API"},
            )
        ],
    )
    index.upsert_documents(
        "template",
        [IndexDocument("template:default/t", "New orders service", "", "/t", {"kind": "Template"})],
    )


def test_it_answers_in_backstages_shape(api, documents):
    # when
    response = api.get("/api/search/query", {"term": "orders", "types[0]": "software-catalog"})

    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "nextPageCursor", "previousPageCursor", "numberOfResults"}
    assert body["numberOfResults"] == 4
    first = body["results"][0]
    assert first["type"] == "software-catalog"
    assert first["rank"] == 1
    assert first["document"]["title"] == "orders-api"  # the title match ranks first
    assert first["document"]["location"] == "/catalog/default/api/orders-api"
    assert first["document"]["kind"] == "API"
    assert first["highlight"]["preTag"] == "<mark>"
    assert first["highlight"]["postTag"] == "</mark>"
    assert first["highlight"]["fields"]["title"] == "<mark>orders</mark>-api"
    assert "text" in first["highlight"]["fields"]


def test_it_takes_types_and_filters_as_backstages_client_sends_them(api, documents):
    # when
    by_filter = api.get(
        "/api/search/query?term=orders&types[0]=software-catalog&types[1]=template"
        "&filters[kind]=template"
    ).json()
    by_list = api.get("/api/search/query?term=orders&filters[kind][0]=api&filters[kind][1]=x")
    repeated = api.get("/api/search/query?term=orders&types=template&types=software-catalog")

    # then
    assert [r["document"]["title"] for r in by_filter["results"]] == ["New orders service"]
    assert by_list.json()["numberOfResults"] == 1
    assert repeated.json()["numberOfResults"] == 5


def test_it_pages_with_cursors(api, documents):
    # when
    first = api.get("/api/search/query", {"term": "orders", "pageLimit": 2}).json()
    second = api.get(
        "/api/search/query",
        {"term": "orders", "pageLimit": 2, "pageCursor": first["nextPageCursor"]},
    ).json()

    # then
    assert [r["rank"] for r in second["results"]] == [3, 4]
    assert second["previousPageCursor"] == "MA=="
    titles = [r["document"]["title"] for r in first["results"] + second["results"]]
    assert len(set(titles)) == 4


@pytest.mark.parametrize(
    "params",
    [
        {"pageCursor": "%%%"},
        {"pageCursor": "OTk5OTk5"},  # page 999999: past what is served
        {"pageLimit": "0"},
        {"pageLimit": "many"},
        {"filters[bad key!]": "x"},
        {"term": "a\x00b"},
    ],
)
def test_bad_input_is_a_400_in_backstages_envelope(api, documents, params):
    # when
    response = api.get("/api/search/query", {"term": "orders", **params})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["name"] == "InputError"


@pytest.mark.parametrize("term", ['"', "*", ":", "&|!()", "a" * 10_000, "🚀", "' OR 1=1 --"])
def test_hostile_terms_never_fail(api, documents, term):
    assert api.get("/api/search/query", {"term": term}).status_code == 200


def test_reads_follow_the_api_read_rule(api, documents, settings):
    # given
    settings.API_READS_REQUIRE_AUTH = True

    # then
    assert api.get("/api/search/query", {"term": "orders"}).status_code == 401
