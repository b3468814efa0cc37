"""The relations graph: walking relations from an entity, laying it out and drawing it as SVG."""

from __future__ import annotations

import re

import pytest

from catalog.graph import INVERSE_TYPES, Graph, Node, build_graph, render_svg
from catalog.models import Entity, Relation

pytestmark = pytest.mark.django_db


def add_entity(ref: str, *, title: str | None = None, type_: str | None = None) -> Entity:
    """Create an entity straight in the table from a lookup ref like `component:default/web`."""
    kind, rest = ref.split(":", 1)
    namespace, name = rest.split("/", 1)
    metadata: dict[str, str] = {"name": name, "namespace": namespace}
    if title is not None:
        metadata["title"] = title
    spec = {"type": type_} if type_ else {}
    return Entity.objects.create(
        ref=ref,
        kind=kind,
        namespace=namespace,
        name=name.lower(),
        body={
            "apiVersion": "backstage.io/v1alpha1",
            "kind": kind,
            "metadata": metadata,
            "spec": spec,
        },
        content_hash="x",
        etag="x",
    )


def relate(source: Entity, type_: str, target_ref: str) -> None:
    """Store a declared relation in both directions, as ingestion does."""
    Relation.objects.bulk_create(
        [
            Relation(originating=source, source_ref=source.ref, type=type_, target_ref=target_ref),
            Relation(
                originating=source,
                source_ref=target_ref,
                type=INVERSE_TYPES[type_],
                target_ref=source.ref,
            ),
        ]
    )


def edges_of(graph: Graph) -> set[tuple[str, str, str]]:
    return {(e.source, e.label, e.target) for e in graph.edges}


def url_for(node: Node) -> str:
    return f"/catalog/{node.namespace}/{node.kind}/{node.name}"


def test_depth_one_shows_neighbours_both_ways_with_one_edge_per_pair() -> None:
    # given
    web = add_entity("component:default/web", type_="website")
    add_entity("group:default/team-a")
    worker = add_entity("component:default/worker")
    relate(web, "ownedBy", "group:default/team-a")
    relate(worker, "dependsOn", "component:default/web")

    # when
    graph = build_graph("component:default/web", depth=1)

    # then
    assert graph.nodes[0].ref == "component:default/web"
    assert {n.ref for n in graph.nodes} == {
        "component:default/web",
        "group:default/team-a",
        "component:default/worker",
    }
    assert edges_of(graph) == {
        ("component:default/web", "ownedBy", "group:default/team-a"),
        ("component:default/worker", "dependsOn", "component:default/web"),
    }
    assert graph.truncated == 0
    assert graph.node("component:default/web").type == "website"


def test_relations_declared_from_both_sides_make_one_edge() -> None:
    # given: each side declares the same dependency (dependsOn on one, dependencyOf on the other)
    web = add_entity("component:default/web")
    db = add_entity("resource:default/db")
    relate(web, "dependsOn", "resource:default/db")
    relate(db, "dependencyOf", "component:default/web")

    # when
    graph = build_graph("component:default/web")

    # then
    assert edges_of(graph) == {("component:default/web", "dependsOn", "resource:default/db")}


def test_depth_two_reaches_two_hops_and_depth_one_does_not() -> None:
    # given
    web = add_entity("component:default/web")
    team = add_entity("group:default/team-a")
    add_entity("group:default/org")
    relate(web, "ownedBy", "group:default/team-a")
    relate(team, "childOf", "group:default/org")

    # when
    shallow = build_graph("component:default/web", depth=1)
    deep = build_graph("component:default/web", depth=2)

    # then
    assert "group:default/org" not in {n.ref for n in shallow.nodes}
    assert deep.node("group:default/org").depth == 2
    assert ("group:default/team-a", "childOf", "group:default/org") in edges_of(deep)


def test_edges_between_neighbours_are_drawn() -> None:
    # given: the root's owner also owns the root's system
    web = add_entity("component:default/web")
    add_entity("group:default/team-a")
    shop = add_entity("system:default/shop")
    relate(web, "ownedBy", "group:default/team-a")
    relate(web, "partOf", "system:default/shop")
    relate(shop, "ownedBy", "group:default/team-a")

    # when
    graph = build_graph("component:default/web", depth=1)

    # then
    assert ("system:default/shop", "ownedBy", "group:default/team-a") in edges_of(graph)
    assert len(graph.nodes) == 3


def test_kind_filter_keeps_only_those_kinds_and_the_root() -> None:
    # given
    web = add_entity("component:default/web")
    add_entity("group:default/team-a")
    add_entity("api:default/web-api")
    worker = add_entity("component:default/worker")
    relate(web, "ownedBy", "group:default/team-a")
    relate(web, "providesApi", "api:default/web-api")
    relate(worker, "consumesApi", "api:default/web-api")

    # when
    graph = build_graph("component:default/web", depth=2, kinds=["API"])

    # then: the worker is only reachable through the API but is not of a chosen kind
    assert {n.ref for n in graph.nodes} == {"component:default/web", "api:default/web-api"}
    assert edges_of(graph) == {("component:default/web", "providesApi", "api:default/web-api")}


def test_relation_type_filter_follows_only_those_stored_types() -> None:
    # given
    web = add_entity("component:default/web")
    add_entity("group:default/team-a")
    worker = add_entity("component:default/worker")
    relate(web, "ownedBy", "group:default/team-a")
    relate(worker, "dependsOn", "component:default/web")

    # when
    graph = build_graph("component:default/web", relation_types=["dependencyOf"])

    # then
    assert {n.ref for n in graph.nodes} == {"component:default/web", "component:default/worker"}


def test_max_nodes_truncates_and_reports_how_many_were_left_out() -> None:
    # given
    add_entity("group:default/team-a")
    for i in range(10):
        component = add_entity(f"component:default/c{i:02}")
        relate(component, "ownedBy", "group:default/team-a")

    # when
    graph = build_graph("group:default/team-a", max_nodes=4)

    # then
    assert len(graph.nodes) == 4
    assert graph.nodes[0].ref == "group:default/team-a"
    assert graph.truncated == 7


def test_truncation_shares_room_between_relation_types() -> None:
    # given: many dependents and a single owner
    web = add_entity("component:default/web")
    add_entity("group:default/team-a")
    relate(web, "ownedBy", "group:default/team-a")
    for i in range(20):
        relate(add_entity(f"component:default/d{i:02}"), "dependsOn", "component:default/web")

    # when
    graph = build_graph("component:default/web", max_nodes=5)

    # then: the owner is drawn although the dependents alone would fill the graph
    assert "group:default/team-a" in {n.ref for n in graph.nodes}
    assert graph.truncated == 21 - 4


def test_dangling_target_is_a_missing_node_without_a_link() -> None:
    # given
    web = add_entity("component:default/web")
    relate(web, "dependsOn", "resource:default/ghost")

    # when
    graph = build_graph("component:default/web")
    svg = render_svg(graph, url_for)

    # then
    ghost = graph.node("resource:default/ghost")
    assert ghost.missing
    assert (ghost.kind, ghost.namespace, ghost.name) == ("resource", "default", "ghost")
    group = re.search(r'<g class="node kind-resource missing"[^>]*>(.*?)</g>', svg)
    assert group is not None
    assert "<a " not in group.group(1)
    assert 'stroke-dasharray="4 3"' in group.group(1)
    assert 'href="/catalog/default/component/web"' in svg


def test_svg_escapes_names_and_titles() -> None:
    # given
    web = add_entity("component:default/web", title="<script>alert(1)</script>")
    evil = add_entity("component:default/evil", title='"><script>x</script>')
    relate(evil, "dependsOn", "component:default/web")

    # when
    svg = render_svg(build_graph("component:default/web"), url_for)

    # then
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)" in svg
    assert "&quot;&gt;&lt;script&gt;" in svg
    assert web.ref in svg


def test_svg_is_an_accessible_standalone_image_with_a_root_and_arrowheads() -> None:
    # given
    web = add_entity("component:default/web", title="Web Shop")
    add_entity("group:default/team-a")
    relate(web, "ownedBy", "group:default/team-a")

    # when
    svg = str(render_svg(build_graph("component:default/web"), url_for))

    # then
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert 'role="img"' in svg
    assert '<title id="relations-graph-title">Relations of Web Shop</title>' in svg
    assert re.search(r'viewBox="0 0 [\d.]+ [\d.]+"', svg)
    assert svg.count('<g class="node ') == 2
    assert '<g class="node kind-component root"' in svg
    assert '<marker id="relations-graph-arrow"' in svg
    assert 'marker-end="url(#relations-graph-arrow)"' in svg
    assert ">ownedBy</text>" in svg
    assert 'href="/catalog/default/group/team-a"' in svg


def test_layout_puts_what_the_root_points_at_right_and_what_points_at_it_left() -> None:
    # given
    web = add_entity("component:default/web")
    add_entity("group:default/team-a")
    worker = add_entity("component:default/worker")
    relate(web, "ownedBy", "group:default/team-a")
    relate(worker, "dependsOn", "component:default/web")

    # when
    graph = build_graph("component:default/web")

    # then
    root, owner = graph.node("component:default/web"), graph.node("group:default/team-a")
    dependent = graph.node("component:default/worker")
    assert dependent.x + dependent.width < root.x
    assert root.x + root.width < owner.x


def test_layout_boxes_do_not_overlap() -> None:
    # given
    add_entity("group:default/team-a")
    for i in range(12):
        relate(add_entity(f"component:default/c{i}"), "ownedBy", "group:default/team-a")

    # when
    graph = build_graph("group:default/team-a")

    # then
    boxes = [(n.x, n.y, n.x + n.width, n.y + n.height) for n in graph.nodes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


@pytest.mark.parametrize("neighbours", [5, 200])
def test_query_count_does_not_grow_with_the_number_of_relations(
    neighbours: int, django_assert_max_num_queries
) -> None:
    # given
    team = add_entity("group:default/team-a")
    Entity.objects.bulk_create(
        Entity(
            ref=f"component:default/c{i}",
            kind="component",
            namespace="default",
            name=f"c{i}",
            body={"kind": "Component", "metadata": {"name": f"C{i}"}},
            content_hash="x",
            etag="x",
        )
        for i in range(neighbours)
    )
    for i in range(neighbours):
        relate(team, "ownerOf", f"component:default/c{i}")

    # when / then: one query per level, one for the last level's edges, one for the entities
    with django_assert_max_num_queries(2 + 2):
        graph = build_graph("group:default/team-a", depth=2, max_nodes=300)
    assert len(graph.nodes) == neighbours + 1
    assert graph.node("component:default/c1").name == "C1"


def test_cycles_terminate() -> None:
    # given
    a = add_entity("component:default/a")
    b = add_entity("component:default/b")
    c = add_entity("component:default/c")
    relate(a, "dependsOn", "component:default/b")
    relate(b, "dependsOn", "component:default/c")
    relate(c, "dependsOn", "component:default/a")

    # when
    graph = build_graph("component:default/a", depth=4)

    # then
    assert len(graph.nodes) == 3
    assert edges_of(graph) == {
        ("component:default/a", "dependsOn", "component:default/b"),
        ("component:default/b", "dependsOn", "component:default/c"),
        ("component:default/c", "dependsOn", "component:default/a"),
    }


def test_depth_is_capped() -> None:
    # given: a chain of seven components
    previous = add_entity("component:default/n0")
    for i in range(1, 7):
        current = add_entity(f"component:default/n{i}")
        relate(previous, "dependsOn", current.ref)
        previous = current

    # when
    graph = build_graph("component:default/n0", depth=10)

    # then
    assert max(n.depth for n in graph.nodes) == 4
    assert len(graph.nodes) == 5
