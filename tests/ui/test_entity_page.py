"""`/catalog/{namespace}/{kind}/{name}[/tab]`: the About card, source links, processing
errors, orphans, unregistering, stars, visits, ownership and capped relation tables."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from catalog.models import Entity, EntityStar, EntityVisit, Location
from portal.registry import registry
from tests.ui.conftest import doc, docs, html

CHECKOUT = "/catalog/default/component/checkout"


def section(page: str, marker: str, end: str = "</section>") -> str:
    """Return the HTML from a marker to the next `end` (the end of its card by default)."""
    start = page.index(marker)
    return page[start : page.index(end, start)]


def row_links(fragment: str) -> list[str]:
    """Return the names linked from a relation or ownership table's rows."""
    return re.findall(r'<tr><td><a href="/catalog/[^/"]+/[^/"]+/([^"/]+)">', fragment)


def component_file(write_file, name: str = "svc.yaml", **metadata: object) -> object:
    spec = {"type": "service", "lifecycle": "production", "owner": "team-a"}
    return write_file(name, doc("Component", "svc", spec, **metadata))


NOT_FOUND = [
    "/catalog/default/component/nope",
    "/catalog/other/component/checkout",
    "/catalog/default/api/checkout",
    "/catalog/default/component/nope/inspect",
    "/catalog/default/component/nope/graph",
    "/catalog/default/component/nope/unregister",
    f"{CHECKOUT}/nope",
    f"{CHECKOUT}/definition",  # only APIs have one
    "/catalog/default/group/team-a/api",  # only components and systems
    "/catalog/default/group/team-a/dependencies",
]


def test_it_answers_404_for_an_unknown_entity_or_tab(small_catalog, as_alice, subtests):
    for url in NOT_FOUND:
        with subtests.test(msg=url):
            # when
            response = as_alice.get(url)

            # then
            assert response.status_code == 404
            assert not EntityVisit.objects.exists()


def test_it_finds_an_entity_whatever_the_case_of_its_url(small_catalog, as_alice):
    # when
    response = as_alice.get("/catalog/Default/Component/CheckOut")

    # then
    assert response.status_code == 200


RELATIONS_TABS = [("", "Overview"), ("/api", "APIs"), ("/dependencies", "Dependencies")]
TABS = [
    (CHECKOUT, RELATIONS_TABS),
    ("/catalog/default/system/shop", RELATIONS_TABS),
    ("/catalog/default/api/orders-api", [("", "Overview"), ("/definition", "Definition")]),
    ("/catalog/default/group/team-a", [("", "Overview")]),
    ("/catalog/default/user/alice", [("", "Overview")]),
    ("/catalog/default/domain/commerce", [("", "Overview")]),
]


def test_it_shows_the_tabs_of_each_kind(small_catalog, as_alice, subtests):
    for url, tabs in TABS:
        with subtests.test(msg=url):
            # when
            page = html(as_alice.get(url))

            # then
            nav = section(page, 'aria-label="Entity tabs"', "</nav>")
            links = re.findall(r'class="nav-link[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', nav)
            # Enabled plugins may add tabs (tests/test_plugins.py covers those); core's are these.
            contributed = {tab.path for tab in registry.entity_tabs}
            links = [
                (href, label) for href, label in links if href.rsplit("/", 1)[-1] not in contributed
            ]
            expected = [(url + path, label) for path, label in [*tabs, ("/inspect", "Inspect")]]
            assert links == expected
            for href, _ in links:
                assert html(as_alice.get(href))


def test_it_renders_the_description_as_sanitised_markdown(register, write_file, as_alice):
    # given
    description = (
        "Handles **payments**.\n\n<script>alert('stolen')</script>\n\n"
        '[click](javascript:alert(1)) <img src=x onerror="alert(2)">'
    )
    register(component_file(write_file, description=description))

    # when
    page = html(as_alice.get("/catalog/default/component/svc"))

    # then
    about = section(page, 'class="entity-description', "<dl")
    assert "<strong>payments</strong>" in about
    assert "<script" not in about and "stolen" not in about
    assert "javascript:" not in about
    assert "onerror" not in about


def test_it_leaves_out_links_that_are_not_http(register, write_file, as_alice):
    # given
    links = [
        {"url": "javascript:alert(document.cookie)", "title": "Evil"},
        {"url": "JaVaScRiPt:alert(1)", "title": "Evil too"},
        {"url": "data:text/html,<script>alert(1)</script>", "title": "Data"},
        {"url": "https://runbook.example/svc", "title": "Runbook"},
        {"url": "mailto:team-a@example.com"},
    ]
    register(component_file(write_file, links=links))

    # when
    page = html(as_alice.get("/catalog/default/component/svc"))

    # then
    assert '<a href="https://runbook.example/svc" rel="noopener noreferrer">Runbook</a>' in page
    assert 'href="mailto:team-a@example.com"' in page
    assert "javascript:" not in page.lower()
    assert "data:text/html" not in page
    assert "Evil" not in page


def test_it_links_view_source_and_edit_from_the_annotations(register, write_file, as_alice):
    # given
    annotations = {
        "backstage.io/source-location": "url:https://github.com/acme/svc/tree/main/",
        "backstage.io/edit-url": "https://github.com/acme/svc/edit/main/catalog-info.yaml",
    }
    register(component_file(write_file, annotations=annotations))

    # when
    page = html(as_alice.get("/catalog/default/component/svc"))

    # then
    assert (
        '<a class="btn btn-sm btn-outline-secondary" href="https://github.com/acme/svc/tree/main/"'
        ' rel="noopener noreferrer">View source</a>'
    ) in page
    assert (
        'href="https://github.com/acme/svc/edit/main/catalog-info.yaml" '
        'rel="noopener noreferrer">Edit</a>'
    ) in page


def test_it_prefers_the_view_url_annotation_for_view_source(register, write_file, as_alice):
    # given
    annotations = {
        "backstage.io/source-location": "url:https://github.com/acme/svc/tree/main/",
        "backstage.io/view-url": "https://github.com/acme/svc/blob/main/catalog-info.yaml",
    }
    register(component_file(write_file, annotations=annotations))

    # when
    page = html(as_alice.get("/catalog/default/component/svc"))

    # then
    assert 'href="https://github.com/acme/svc/blob/main/catalog-info.yaml"' in page
    assert 'href="https://github.com/acme/svc/tree/main/"' not in page


UNSAFE_SOURCES = {
    "plain": {},
    "from-a-file": {"backstage.io/source-location": "file:/srv/svc/catalog-info.yaml"},
    "script-source": {"backstage.io/source-location": "url:javascript:alert(1)"},
    "script-view": {"backstage.io/view-url": " javascript:alert(1)"},
    "script-edit": {"backstage.io/edit-url": "javascript:alert(1)"},
    "data-edit": {"backstage.io/edit-url": "data:text/html;base64,PHNjcmlwdD4="},
}


def test_it_shows_no_source_buttons_without_a_safe_url(register, write_file, as_alice, subtests):
    # given
    spec = {"type": "service", "lifecycle": "production", "owner": "team-a"}
    texts = [doc("Component", name, spec, annotations=a) for name, a in UNSAFE_SOURCES.items()]
    register(write_file("unsafe.yaml", docs(*texts)))

    for name in UNSAFE_SOURCES:
        with subtests.test(msg=name):
            # when
            page = html(as_alice.get(f"/catalog/default/component/{name}"))

            # then
            assert ">View source</a>" not in page
            assert ">Edit</a>" not in page
            assert "javascript:" not in page
            assert 'href="data:' not in page


def test_it_shows_processing_errors_and_keeps_the_last_valid_version(
    register, refresh, write_file, as_alice
):
    # given
    path = component_file(write_file, description="The valid one")
    location = register(path).location
    path.write_text(
        doc("Component", "svc", {"type": "service", "lifecycle": 7, "owner": "team-a"}),
        encoding="utf-8",
    )
    run = refresh(location)
    assert run.error_count >= 1

    # when
    page = html(as_alice.get("/catalog/default/component/svc"))

    # then
    errors = section(page, "data-processing-errors", "</ul>")
    assert "spec.lifecycle" in errors
    assert "The valid one" in page
    assert Entity.objects.get(ref="component:default/svc").body["spec"]["lifecycle"] == "production"


def test_it_shows_no_error_panel_for_a_valid_entity(small_catalog, as_alice):
    # when
    page = html(as_alice.get(CHECKOUT))

    # then
    assert "data-processing-errors" not in page
    assert "data-orphan" not in page


@pytest.fixture
def orphan(configure, register, refresh, write_file):
    """component:default/gone, left an orphan when its file stopped defining it."""
    configure(orphanStrategy="keep")
    spec = {"type": "service", "lifecycle": "production", "owner": "team-a"}
    path = write_file(
        "two.yaml", docs(doc("Component", "kept", spec), doc("Component", "gone", spec))
    )
    location = register(path).location
    path.write_text(doc("Component", "kept", spec), encoding="utf-8")
    refresh(location)
    return Entity.objects.get(ref="component:default/gone")


def test_it_shows_the_orphan_banner(orphan, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/component/gone"))

    # then
    banner = section(page, "data-orphan", "</a>")
    assert "This entity is an orphan" in banner
    assert 'href="/catalog/default/component/gone/unregister"' in banner


def test_it_removes_an_orphan_alone(orphan, as_alice):
    # given
    confirm = html(as_alice.get("/catalog/default/component/gone/unregister"))
    assert "Remove component:default/gone" in confirm

    # when
    response = as_alice.post("/catalog/default/component/gone/unregister")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/catalog"
    assert not Entity.objects.filter(ref="component:default/gone").exists()
    assert Entity.objects.filter(ref="component:default/kept").exists()
    assert Location.objects.filter(pk=orphan.location_id).exists()
    assert as_alice.get("/catalog/default/component/gone").status_code == 404


def test_it_lists_what_unregistering_removes_before_doing_it(small_catalog, as_alice):
    # given
    location = small_catalog["systems"].location
    doomed = Entity.objects.filter(location=location).count()

    # when
    page = html(as_alice.get(f"{CHECKOUT}/unregister"))

    # then
    assert f"These <strong>{doomed}</strong> entities will be removed" in page
    assert "<code>component:default/cart</code>" in page
    assert "<code>group:default/team-a</code>" not in page
    assert Entity.objects.filter(location=location).count() == doomed


def test_it_unregisters_the_location_of_an_entity(small_catalog, as_alice):
    # given
    location = small_catalog["systems"].location
    org = small_catalog["org"].location
    org_entities = Entity.objects.filter(location=org).count()

    # when
    response = as_alice.post(f"{CHECKOUT}/unregister")

    # then
    assert response.status_code == 302
    assert not Location.objects.filter(pk=location.pk).exists()
    assert not Entity.objects.filter(location_id=location.pk).exists()
    assert not Entity.objects.filter(kind__in=["component", "api", "system"]).exists()
    assert Entity.objects.filter(location=org).count() == org_entities
    assert as_alice.get(CHECKOUT).status_code == 404


def test_it_stars_and_unstars_an_entity(small_catalog, alice, as_alice):
    # when
    starred = as_alice.post(f"{CHECKOUT}/star")

    # then
    assert starred.status_code == 302 and starred["Location"] == CHECKOUT
    assert EntityStar.objects.filter(user=alice, entity__ref="component:default/checkout").exists()
    assert 'aria-pressed="true"' in html(as_alice.get(CHECKOUT))

    # when
    as_alice.post(f"{CHECKOUT}/star")

    # then
    assert not EntityStar.objects.exists()
    assert 'aria-pressed="false"' in html(as_alice.get(CHECKOUT))


def test_it_answers_an_htmx_star_with_the_button_alone(small_catalog, alice, bob, as_alice):
    # given
    EntityStar.objects.create(user=bob, entity=Entity.objects.get(ref="component:default/checkout"))

    # when
    response = as_alice.post(f"{CHECKOUT}/star", HTTP_HX_REQUEST="true")

    # then
    fragment = html(response)
    assert fragment.startswith("<form") and fragment.rstrip().endswith("</form>")
    assert f'hx-post="{CHECKOUT}/star"' in fragment
    assert 'aria-pressed="true"' in fragment
    assert "Unstar component:default/checkout" in fragment
    assert EntityStar.objects.filter(entity__ref="component:default/checkout").count() == 2

    # when
    again = html(as_alice.post(f"{CHECKOUT}/star", HTTP_HX_REQUEST="true"))

    # then
    assert 'aria-pressed="false"' in again
    assert list(EntityStar.objects.values_list("user__username", flat=True)) == ["bob"]


def test_it_refuses_to_star_by_get(small_catalog, as_alice):
    # when
    response = as_alice.get(f"{CHECKOUT}/star")

    # then
    assert response.status_code == 405
    assert not EntityStar.objects.exists()


def test_it_records_visits_and_lists_them_on_home(small_catalog, alice, bob, signed_in):
    # given
    as_alice = signed_in(alice)
    as_alice.get(CHECKOUT)
    as_alice.get(f"{CHECKOUT}/dependencies")
    as_alice.get("/catalog/default/api/orders-api")
    signed_in(bob).get("/catalog/default/component/legacy")

    # when
    page = html(as_alice.get("/"))

    # then
    visit = EntityVisit.objects.get(user=alice, entity_ref="component:default/checkout")
    assert visit.hits == 2
    recent = section(page, 'data-card="recent"')
    assert re.findall(r'<a href="([^"]+)">', recent) == [
        "/catalog/default/api/orders-api",
        CHECKOUT,
    ]
    assert "legacy" not in recent


def test_it_lists_starred_entities_on_home(small_catalog, as_alice):
    # given
    as_alice.post("/catalog/default/system/shop/star")

    # when
    page = html(as_alice.get("/"))

    # then
    starred = section(page, 'data-card="starred"')
    assert '<a href="/catalog/default/system/shop">shop</a>' in starred


def ownership_names(page: str) -> list[str]:
    return row_links(section(page, 'id="ownership-heading"').split("</table>")[0])


def test_it_aggregates_a_groups_ownership_over_its_sub_groups(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/group/team-a"))

    # then
    owned = ownership_names(page)
    assert "sub-tool" in owned
    assert sorted(owned) == sorted(
        ["cart", "checkout", "commerce", "new-service", "orders-api", "shop", "sub-tool"]
    )
    assert "Ownership (7)" in page


def test_it_shows_only_direct_ownership_when_asked(small_catalog, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/group/team-a?direct=1"))

    # then
    owned = ownership_names(page)
    assert "sub-tool" not in owned
    assert len(owned) == 6
    assert "Ownership (6)" in page


def test_it_shows_a_users_groups_ownership(small_catalog, as_alice):
    # when
    aggregated = html(as_alice.get("/catalog/default/user/alice"))
    direct = html(as_alice.get("/catalog/default/user/alice?direct=1"))

    # then
    assert "Ownership (6)" in aggregated
    assert "Ownership (0)" in direct


@pytest.fixture
def hub(register, write_file):
    """component:default/hub depending on 60 leaves, all 61 owned by team-x."""
    spec = {"type": "service", "lifecycle": "production", "owner": "team-x"}
    leaves = [f"leaf-{i:02d}" for i in range(60)]
    texts = [
        doc("Group", "team-x", {"type": "team", "children": []}),
        doc("Component", "hub", {**spec, "dependsOn": [f"component:{n}" for n in leaves]}),
        *(doc("Component", name, spec) for name in leaves),
    ]
    run = register(write_file("hub.yaml", docs(*texts)))
    assert run.status == "succeeded", run.errors
    return leaves


def test_it_caps_relation_tables_at_fifty_rows(hub, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/component/hub/dependencies"))

    # then
    table = section(page, 'data-relation="dependsOn"')
    assert "Depends on (60)" in table
    assert row_links(table) == hub[:50]
    assert "Showing the first 50 of 60." in table


def test_it_caps_ownership_at_fifty_rows(hub, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/group/team-x"))

    # then
    assert "Ownership (61)" in page
    assert len(ownership_names(page)) == 50
    assert "Showing 50 of 61." in page
    see_all = re.search(r'<a href="(/catalog\?owner=[^"]+)">See them in the catalog', page)
    assert unquote(see_all.group(1)) == "/catalog?owner=group:default/team-x"


def test_it_does_not_cap_a_short_relation_table(hub, as_alice):
    # when
    page = html(as_alice.get("/catalog/default/component/leaf-07/dependencies"))

    # then
    table = section(page, 'data-relation="dependencyOf"')
    assert row_links(table) == ["hub"]
    assert "Showing the first" not in table


def test_it_refreshes_an_entity_from_its_file(register, write_file, as_alice):
    # given
    path = component_file(write_file, description="Before")
    register(path)
    component_file(write_file, description="After")

    # when
    response = as_alice.post("/catalog/default/component/svc/refresh")

    # then
    assert response.status_code == 302
    page = html(as_alice.get("/catalog/default/component/svc"))
    assert "After" in page and "Before" not in page
