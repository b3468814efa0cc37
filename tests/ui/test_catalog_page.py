"""`/catalog`: the catalog table's filters, scopes, sorting and keyset paging, and the owner
picker's suggestions. Bad input is dropped with a message, never a 500."""

from __future__ import annotations

import base64
import json
import re
from html import unescape

import pytest
from django.utils import timezone

from catalog.browse import encode_position
from catalog.choices import RunStatus, RunTrigger
from catalog.models import EntityStar, IngestionRun
from tests.ui.conftest import doc, docs, html, org_docs

EXPIRED = "That page link has expired; showing the first page."


def names(page: str, kind: str = "component") -> list[str]:
    """Return the names in the table's rows, in order (the Name column's links)."""
    table = page.split('id="catalog-results"', 1)[1]
    return re.findall(rf'<td><a href="/catalog/[^/"]+/{kind}/([^"/]+)">', table)


def total(page: str) -> int:
    return int(re.search(r'id="results-heading">[^(]*\((\d+)\)</h2>', page).group(1))


def link(page: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="\?([^"]+)"', page)
    return "/catalog?" + unescape(found.group(1)) if found else None


def token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


ALL_COMPONENTS = ["billing", "cart", "checkout", "legacy", "ops-tool", "sub-tool"]


FILTERS = [
    ("", "component", ALL_COMPONENTS),
    ("kind=component", "component", ALL_COMPONENTS),
    ("type=website", "component", ["cart"]),
    ("type=SERVICE", "component", ["billing", "checkout"]),
    ("lifecycle=deprecated", "component", ["legacy"]),
    ("owner=team-b", "component", ["billing", "legacy", "ops-tool"]),
    ("owner=group:default/team-a", "component", ["cart", "checkout"]),
    ("owner=user:alice", "component", []),
    ("tag=python", "component", ["checkout"]),
    ("tag=PAYMENTS", "component", ["checkout"]),
    ("namespace=ops", "component", ["ops-tool"]),
    ("q=invoices", "component", ["billing"]),
    ("q=money", "component", ["checkout"]),
    ("q=100%25", "component", []),
    ("type=service&lifecycle=production&owner=team-a&tag=payments", "component", ["checkout"]),
    ("kind=group", "group", ["team-a", "team-a-sub", "team-b"]),
    ("kind=GROUP&q=sub", "group", ["team-a-sub"]),
    ("kind=user", "user", ["alice", "bob", "charlie"]),
    ("kind=api", "api", ["orders-api"]),
    ("kind=system", "system", ["shop"]),
    ("kind=domain", "domain", ["commerce"]),
    ("kind=template", "template", ["new-service"]),
]


def test_it_narrows_the_table_with_each_filter(small_catalog, as_alice, subtests):
    for query, kind, expected in FILTERS:
        with subtests.test(msg=query):
            # when
            page = html(as_alice.get(f"/catalog?{query}"))

            # then
            assert names(page, kind) == expected
            assert total(page) == len(expected)


def test_it_shows_an_empty_table_for_an_unknown_kind(small_catalog, as_alice):
    # when
    response = as_alice.get("/catalog?kind=spaceship")

    # then
    page = html(response)
    assert total(page) == 0
    assert "No entities match these filters." in page


def test_it_explains_a_bad_owner_reference_instead_of_failing(small_catalog, as_alice, subtests):
    for owner in ["a/b/c", ":team-a", "group:", "group:default/", "user:ops/"]:
        with subtests.test(msg=owner):
            # when
            page = html(as_alice.get("/catalog", {"owner": owner}))

            # then
            assert 'role="alert">Owner: entity reference' in page
            assert names(page) == ALL_COMPONENTS


BAD_POSITIONS = [
    "not-a-page-link",
    "%%%",
    token([1, 2]),
    token({"value": "x"}),
    token(["a", "b", "c"]),
    token([None, 5]),
    token("x"),
    encode_position("cart", "component:default/cart")[:-6],  # cut short
]


def test_it_shows_the_first_page_for_a_bad_page_link(small_catalog, as_alice, subtests):
    for direction in ("after", "before"):
        for position in BAD_POSITIONS:
            with subtests.test(msg=f"{direction}={position}"):
                # when
                page = html(as_alice.get("/catalog", {direction: position}))

                # then
                assert EXPIRED in page
                assert names(page) == ALL_COMPONENTS


@pytest.fixture
def many_components(register, write_file):
    """25 components: even ones owned by team-a, odd by team-b, every third in shop."""
    texts = [
        doc(
            "Component",
            f"c-{i:02d}",
            {
                "type": "service",
                "lifecycle": "production",
                "owner": "team-a" if i % 2 == 0 else "team-b",
                **({"system": "shop"} if i % 3 == 0 else {}),
            },
        )
        for i in range(25)
    ]
    run = register(write_file("many.yaml", docs(*texts)))
    assert run.status == "succeeded", run.errors
    return [f"c-{i:02d}" for i in range(25)]


def test_it_falls_back_to_twenty_rows_for_an_unknown_page_size(many_components, as_alice, subtests):
    for size, rows in [("7", 20), ("abc", 20), ("-50", 20), ("20", 20), ("50", 25)]:
        with subtests.test(msg=f"size={size}"):
            # when
            page = html(as_alice.get("/catalog", {"size": size}))

            # then
            assert len(names(page)) == rows
            assert f"<strong>{50 if size == '50' else 20}</strong>" in page


def test_it_sorts_by_owner_descending(small_catalog, as_alice):
    # given
    owners = {"billing": "team-b", "legacy": "team-b", "sub-tool": "team-a-sub"}
    owners |= {"cart": "team-a", "checkout": "team-a"}

    # when
    page = html(as_alice.get("/catalog?namespace=default&order=owner&dir=desc"))

    # then
    rows = names(page)
    assert sorted(rows) == sorted(owners)
    assert [owners[name] for name in rows] == ["team-b", "team-b", "team-a-sub", "team-a", "team-a"]
    assert 'aria-sort="descending"' in page


def test_it_sorts_by_name_descending(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/catalog?order=name&dir=desc"))

    # then
    assert names(page) == list(reversed(ALL_COMPONENTS))


ORDERS = ["", "order=name&dir=desc", "order=owner", "order=owner&dir=desc", "order=system",
          "order=system&dir=desc", "order=lifecycle&dir=desc"]  # fmt: skip


def test_it_pages_forward_and_back_to_the_same_first_page(many_components, as_alice, subtests):
    for order in ORDERS:
        with subtests.test(msg=order or "by name"):
            # given
            first = html(as_alice.get(f"/catalog?{order}"))
            assert link(first, "prev") is None

            # when
            second = html(as_alice.get(link(first, "next")))
            back = html(as_alice.get(link(second, "prev")))

            # then
            assert len(names(first)) == 20
            assert len(names(second)) == 5
            assert sorted(names(first) + names(second)) == many_components
            assert link(second, "next") is None
            assert names(back) == names(first)
            assert link(back, "prev") is None
            assert total(back) == 25


def test_it_keeps_the_filters_on_the_page_links(many_components, as_alice):
    # given
    first = html(as_alice.get("/catalog?type=service&owner=team-a&order=system&dir=desc"))
    assert total(first) == 13 and link(first, "next") is None  # 13 rows fit on one page

    # when
    first = html(as_alice.get("/catalog?type=service&order=system&dir=desc"))
    second = html(as_alice.get(link(first, "next")))

    # then
    for page in (link(first, "next"), link(second, "prev")):
        assert "type=service" in page and "order=system" in page and "dir=desc" in page
    assert len(names(second)) == 5
    assert 'href="?kind=component&amp;type=service&amp;order=system&amp;dir=desc&amp;size=50"' in (
        first
    )


def test_it_shows_what_alices_groups_own(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/catalog?scope=owned"))

    # then
    assert names(page) == ["cart", "checkout"]


def test_it_shows_what_bobs_groups_own_to_his_teammate(small_catalog, bob, signed_in):
    # when
    page = html(signed_in(bob).get("/catalog?kind=api&scope=owned"))

    # then
    assert names(page, "api") == ["orders-api"]


def test_it_shows_an_outsider_nothing_as_owned(small_catalog, charlie, signed_in):
    # when
    page = html(signed_in(charlie).get("/catalog?scope=owned"))

    # then
    assert names(page) == []
    assert total(page) == 0


def test_it_shows_a_person_without_a_user_entity_nothing_as_owned(
    small_catalog, make_user, signed_in
):
    # given
    dave = make_user("dave")

    # when
    page = html(signed_in(dave).get("/catalog?scope=owned"))

    # then
    assert names(page) == []


def test_it_uses_the_persons_current_groups_while_another_location_is_ingesting(
    small_catalog, refresh, write_file, as_alice
):
    # given: a run in progress elsewhere (the catalog has no settled version meanwhile)
    IngestionRun.objects.create(
        location=small_catalog["systems"].location,
        trigger=RunTrigger.SCHEDULED,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
    )
    assert names(html(as_alice.get("/catalog?scope=owned"))) == ["cart", "checkout"]
    texts = org_docs()
    texts[3] = doc("User", "alice", {"memberOf": ["team-b"]})  # alice moves to team-b
    write_file("org.yaml", docs(*texts))
    assert refresh(small_catalog["org"].location).status == RunStatus.SUCCEEDED

    # when
    page = html(as_alice.get("/catalog?scope=owned"))

    # then
    assert names(page) == ["billing", "legacy", "ops-tool"]


def test_it_shows_only_starred_entities_in_the_starred_scope(small_catalog, alice, bob, signed_in):
    # given
    as_alice = signed_in(alice)
    as_alice.post("/catalog/default/component/checkout/star")
    as_alice.post("/catalog/default/component/legacy/star")
    signed_in(bob).post("/catalog/default/component/cart/star")

    # when
    page = html(as_alice.get("/catalog?scope=starred"))

    # then
    assert names(page) == ["checkout", "legacy"]
    assert total(page) == 2
    assert EntityStar.objects.filter(user=alice).count() == 2


def test_it_marks_starred_rows(small_catalog, alice, signed_in):
    # given
    client = signed_in(alice)
    client.post("/catalog/default/component/cart/star")

    # when
    page = html(client.get("/catalog"))

    # then
    assert page.count('aria-pressed="true"') == 1
    assert page.count('aria-pressed="false"') == len(ALL_COMPONENTS) - 1


def test_it_answers_htmx_with_the_table_alone(small_catalog, as_alice):
    # when
    response = as_alice.get(
        "/catalog?type=website", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="catalog-results"
    )

    # then
    page = html(response)
    assert page.startswith("<section") or 'id="catalog-results"' in page[:200]
    assert "<html" not in page
    assert names(page) == ["cart"]


OWNER_SUGGESTIONS = [
    ("ali", ["user:default/alice"]),
    ("team", ["group:default/team-a", "group:default/team-a-sub", "group:default/team-b"]),
    ("b", ["group:default/team-a-sub", "group:default/team-b", "user:default/bob"]),
    ("", ["group:default/team-a", "group:default/team-a-sub", "group:default/team-b",
          "user:default/alice", "user:default/bob", "user:default/charlie"]),
]  # fmt: skip


def test_it_suggests_groups_and_users_as_the_person_types(small_catalog, as_alice, subtests):
    for term, expected in OWNER_SUGGESTIONS:
        with subtests.test(msg=term or "nothing typed"):
            # when
            response = as_alice.get("/catalog/owners", {"owner": term})

            # then
            assert re.findall(r'<option value="([^"]+)">', html(response)) == expected


def test_it_pins_the_apis_page_to_apis(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/api-docs?kind=component"))

    # then
    assert names(page, "api") == ["orders-api"]
    assert names(page, "component") == []
    assert 'id="filter-kind"' not in page


def test_it_lists_only_documented_entities_on_the_docs_page(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/docs"))

    # then
    assert names(page) == ["checkout"]


def test_it_lists_templates_on_the_create_page(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/create"))

    # then
    assert names(page, "template") == ["new-service"]


SEARCHES = [
    # term, the first results (best first), how many in all
    ("invoices", ["/catalog/default/component/billing"], 1),
    ("MONEY", ["/catalog/default/component/checkout"], 1),
    # name matches first, then what team-a owns (the owner is part of each entity's text);
    # how many more depends on the engine ("a" is an English stop word for PostgreSQL only)
    ("team-a", ["/catalog/default/group/team-a", "/catalog/default/group/team-a-sub"], None),
    ("100%", [], 0),
]


def test_it_searches_names_titles_and_descriptions(small_catalog, as_alice, subtests):
    for term, expected, total in SEARCHES:
        with subtests.test(msg=term):
            # when
            page = html(as_alice.get("/search", {"q": term}))

            # then
            results = page.split('class="list-unstyled"', 1)[1]
            found = re.findall(r'<li class="mb-2"><a href="([^"]+)">', results)
            assert found[: len(expected)] == expected
            if total is not None:
                assert f"{total} result" in page
