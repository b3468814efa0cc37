"""The search page and the header box's suggestions (Django's test client, signed in)."""

from __future__ import annotations

import re

import pytest

from portal.search import index
from portal.search.index import IndexDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_alice(client, django_user_model):
    client.force_login(django_user_model.objects.create(username="alice"))
    return client


@pytest.fixture
def documents() -> None:
    index.upsert_documents(
        "software-catalog",
        [
            IndexDocument(
                f"component:default/svc-{i:02d}",
                f"svc-{i:02d}",
                "Handles orders",
                f"/catalog/default/component/svc-{i:02d}",
                {
                    "kind": "Component",
                    "lifecycle": "production" if i % 2 else "experimental",
                    "owner": "group:default/team-a",
                },
            )
            for i in range(25)
        ],
    )
    index.upsert_documents(
        "template",
        [IndexDocument("template:default/t", "New orders service", "", "/create/t", {})],
    )
    index.upsert_documents(
        "techdocs",
        [IndexDocument("default/component/svc-00/", "Orders runbook", "Page", "/docs/x", {})],
    )


def links(page: str) -> list[str]:
    return re.findall(r'<li class="mb-2"><a href="([^"]+)">', page)


def test_it_searches_and_pages(as_alice, documents):
    # when
    first = as_alice.get("/search", {"q": "orders"}).content.decode()
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = as_alice.get("/search" + next_url).content.decode()

    # then
    assert "27 results for “orders”." in first
    assert len(links(first)) == 20 and len(links(second)) == 7
    assert not set(links(first)) & set(links(second))
    assert 'rel="prev"' in second
    assert "<mark>orders</mark>" in first.lower() or "<mark>Orders</mark>" in first


def test_it_filters_by_type_kind_lifecycle_and_owner(as_alice, documents):
    # when
    templates = as_alice.get("/search", {"q": "orders", "types": "template"}).content.decode()
    docs = as_alice.get("/search", {"q": "orders", "types": "techdocs"}).content.decode()
    production = as_alice.get(
        "/search", {"q": "orders", "kind": "component", "lifecycle": "production"}
    ).content.decode()
    owned = as_alice.get("/search", {"owner": "team-a", "kind": "component"}).content.decode()

    # then
    assert links(templates) == ["/create/t"]
    assert links(docs) == ["/docs/x"]
    assert "12 results" in production
    assert "25 results" in owned
    assert 'value="template" checked' in templates


def test_the_type_filter_offers_entity_docs_template_and_plugin_types(as_alice):
    # when
    page = as_alice.get("/search").content.decode()

    # then
    labels = re.findall(r'<label class="form-check-label" for="search-type-\d+">([^<]+)<', page)
    assert labels == ["Entity", "Docs", "Template", "Dummy note"]


def test_it_never_renders_indexed_markup(as_alice):
    # given
    index.upsert_documents(
        "software-catalog",
        [
            IndexDocument(
                "component:default/x",
                "probe <script>alert(1)</script>",
                'probe <img src=x onerror="alert(2)">',
                "/catalog/default/component/x",
                {"kind": "Component"},
            )
        ],
    )

    # when
    page = as_alice.get("/search", {"q": "probe"}).content.decode()
    suggestions = as_alice.get("/search/suggestions", {"q": "probe"}).content.decode()

    # then
    for html in (page, suggestions):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"*:&|!()'},
        {"q": "x" * 5000},
        {"q": "🚀 日本"},
        {"q": "a", "page": "garbage"},
        {"q": "a", "page": "OTk5OTk5"},
        {"q": "a\x00b"},
        {"kind": "x" * 500, "owner": "::::", "lifecycle": "'"},
        {"types": ["nope", "template"]},
    ],
)
def test_odd_input_never_fails(as_alice, documents, params):
    assert as_alice.get("/search", params).status_code == 200
    assert as_alice.get("/search/suggestions", params).status_code == 200


def test_suggestions_show_a_handful_and_a_link_to_all(as_alice, documents):
    # when
    html = as_alice.get("/search/suggestions", {"q": "svc"}, HTTP_HX_REQUEST="true")

    # then
    options = re.findall(r'<li role="option" id="([^"]+)"', html.content.decode())
    assert len(options) == 7  # six results, then "See all"
    assert options[-1] == "header-search-option-all"
    assert 'href="/search?q=svc"' in html.content.decode()


def test_the_header_box_submits_to_the_search_page(as_alice):
    # when
    page = as_alice.get("/").content.decode()

    # then
    assert 'action="/search"' in page
    assert 'hx-get="/search/suggestions"' in page
    assert 'role="combobox"' in page


def test_the_page_needs_sign_in(client):
    assert client.get("/search", {"q": "x"}).status_code == 302
