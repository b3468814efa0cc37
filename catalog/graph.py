"""The entity page's relations graph (Backstage's catalog-graph card), drawn server-side as SVG.

`build_graph` walks the relations table breadth-first from one entity with one query per level,
then reads the drawn entities' display columns in one more query, so the page costs the same
number of queries whether the entity has five relations or five thousand. `layout` places the
nodes in columns and `render_svg` turns the result into a self-contained, escaped `<svg>`.

Every relation is stored in both directions (ownedBy and ownerOf), so following outgoing rows
from each node reaches its neighbours whichever side declared the edge; the graph then draws each
pair once, in the direction descriptors write it (see FORWARD_TYPES).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from itertools import zip_longest

from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils.safestring import SafeString, mark_safe

from catalog.models import Entity, Relation

MAX_DEPTH = 4
# A node budget beyond this would not be readable, and it bounds the IN lists of the queries.
MAX_NODES = 300
# Rows read per level at most, so that a few hub entities (a group owning thousands of
# components) cannot make one page read the whole relations table. Hitting it only makes the
# `truncated` count a lower bound: the drawn nodes are still the first ones in a stable order.
MAX_ROWS_PER_LEVEL = 20_000

# Built-in relation pairs as (drawn, inverse). The drawn type is the direction descriptors
# write (spec.owner → ownedBy, spec.system → partOf, spec.dependsOn → dependsOn, a user's
# memberOf, a group's parent → childOf), so arrows read like the YAML: "component ownedBy
# group". Types outside this table (custom relations) are drawn as stored.
RELATION_PAIRS: tuple[tuple[str, str], ...] = (
    ("ownedBy", "ownerOf"),
    ("partOf", "hasPart"),
    ("dependsOn", "dependencyOf"),
    ("providesApi", "apiProvidedBy"),
    ("consumesApi", "apiConsumedBy"),
    ("memberOf", "hasMember"),
    ("childOf", "parentOf"),
)
FORWARD_TYPES: dict[str, str] = {inverse: drawn for drawn, inverse in RELATION_PAIRS}
INVERSE_TYPES: dict[str, str] = {
    **{drawn: inverse for drawn, inverse in RELATION_PAIRS},
    **FORWARD_TYPES,
}

# Box geometry, in SVG user units (px at 1:1). Text widths are estimated from character
# counts: exact metrics need the browser's fonts, and a rough box is enough to keep names
# inside it once long ones are shortened with an ellipsis.
NODE_HEIGHT = 46
NODE_MIN_WIDTH = 110
NODE_MAX_WIDTH = 230
NODE_PADDING = 12
NAME_CHAR_WIDTH = 7.4  # 13px sans-serif, average glyph
KIND_CHAR_WIDTH = 5.9  # 10px
COLUMN_GAP = 130  # room for an edge label between columns
ROW_GAP = 14
MARGIN = 20
LOOP_BULGE = 48  # how far an edge between two nodes of one column curves out


@dataclass
class Node:
    """One entity in the graph; x and y are the box's top-left corner once laid out."""

    ref: str  # lower-cased lookup key, kind:namespace/name
    kind: str  # lower-cased
    namespace: str
    name: str  # original case when the entity exists, else as in the ref
    title: str | None = None  # metadata.title
    type: str | None = None  # spec.type
    depth: int = 0  # hops from the root
    missing: bool = False  # a relation points at it but it is not in the catalog
    x: float = 0
    y: float = 0
    width: float = NODE_MIN_WIDTH
    height: float = NODE_HEIGHT

    @property
    def label(self) -> str:
        """Return the text people read: the title, else the name (namespaced when not default)."""
        if self.title:
            return self.title
        if self.namespace != "default":
            return f"{self.namespace}/{self.name}"
        return self.name

    @property
    def caption(self) -> str:
        """Return the small line above the label: kind, and spec.type when there is one."""
        return f"{self.kind} · {self.type}" if self.type else self.kind


@dataclass(frozen=True)
class Edge:
    """One drawn relation between two nodes, `source --label--> target`."""

    source: str
    target: str
    label: str


@dataclass
class Graph:
    """Nodes in breadth-first order (root first), edges, and how many neighbours were left out.

    `truncated` counts distinct entities one hop from a drawn node, within the requested depth
    and filters, that did not fit in max_nodes (what a "+N more" note would say).
    """

    nodes: list[Node]
    edges: list[Edge]
    root: str
    truncated: int = 0
    _by_ref: dict[str, Node] = field(default_factory=dict, repr=False, compare=False)

    def node(self, ref: str) -> Node:
        """Return the node with this ref."""
        if len(self._by_ref) != len(self.nodes):
            self._by_ref = {node.ref: node for node in self.nodes}
        return self._by_ref[ref]

    @property
    def width(self) -> float:
        return max((n.x + n.width for n in self.nodes), default=0) + MARGIN

    @property
    def height(self) -> float:
        return max((n.y + n.height for n in self.nodes), default=0) + MARGIN


def build_graph(
    root_ref: str,
    *,
    depth: int = 1,
    kinds: Collection[str] | None = None,
    relation_types: Collection[str] | None = None,
    max_nodes: int = 60,
) -> Graph:
    """Return the laid-out graph of the entities within `depth` hops of `root_ref`.

    1. Walk breadth-first, one query per level over the drawn nodes of the level before.
       `relation_types` filters the stored rows followed, so it is directional: name both
       `dependsOn` and `dependencyOf` to see dependencies both ways (RELATION_PAIRS lists the
       pairs). `kinds` keeps only nodes of those kinds (taken from the refs, so filtered-out
       entities are neither drawn nor walked through); the root always stays.
    2. Within a level, new nodes are admitted round-robin over (parent, relation type), so a
       thousand dependents do not crowd out the one owner when max_nodes cuts the list.
    3. One more query finds the edges between nodes of the last level, and one reads the
       drawn entities' names, titles and types (not their bodies). Refs with no entity stay
       in the graph, marked missing.

    The number of queries is depth + 2 (depth is clamped to 0..MAX_DEPTH), however many
    relations there are. `root_ref` must be a lookup key (lower-cased `kind:namespace/name`).
    """
    depth = max(0, min(depth, MAX_DEPTH))
    max_nodes = max(1, min(max_nodes, MAX_NODES))
    kind_set = {k.lower() for k in kinds} if kinds else None
    type_set = set(relation_types) if relation_types else None

    depths: dict[str, int] = {root_ref: 0}
    order: list[str] = [root_ref]
    edges: dict[tuple[str, str, str], Edge] = {}
    left_out: set[str] = set()
    frontier = [root_ref]

    for level in range(1, depth + 2):
        if not frontier:
            break
        closing = level > depth  # only edges among drawn nodes: nothing new may join
        rows = _level_rows(frontier, kind_set, type_set, within=order if closing else None)
        if not closing:
            new = _admit(frontier, rows, depths, max_nodes - len(order), left_out)
            for ref in new:
                depths[ref] = level
            order.extend(new)
            frontier = new
        for source, type_, target in rows:
            if target in depths and source != target:
                edge = _canonical(source, type_, target)
                edges.setdefault((edge.source, edge.label, edge.target), edge)

    graph = Graph(
        nodes=_load_nodes(order, depths),
        edges=list(edges.values()),
        root=root_ref,
        truncated=len(left_out - depths.keys()),
    )
    layout(graph)
    return graph


def _level_rows(
    frontier: list[str],
    kinds: set[str] | None,
    types: set[str] | None,
    within: list[str] | None,
) -> list[tuple[str, str, str]]:
    """Return the stored relations leaving the frontier, filtered, in a stable order."""
    query = Relation.objects.filter(source_ref__in=frontier)
    if types is not None:
        query = query.filter(type__in=sorted(types))
    if within is not None:
        query = query.filter(target_ref__in=within)
    elif kinds is not None:
        # The kind is the ref's prefix: filtering here keeps hub rows of other kinds unread.
        by_kind = Q()
        for kind in sorted(kinds):
            by_kind |= Q(target_ref__startswith=f"{kind}:")
        query = query.filter(by_kind)
    rows = query.order_by("source_ref", "type", "target_ref").values_list(
        "source_ref", "type", "target_ref"
    )
    return list(rows[:MAX_ROWS_PER_LEVEL])


def _admit(
    frontier: list[str],
    rows: list[tuple[str, str, str]],
    depths: dict[str, int],
    room: int,
    left_out: set[str],
) -> list[str]:
    """Return up to `room` new refs from the rows, taken round-robin over (parent, type).

    Refs that did not fit are added to left_out.
    """
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    position = {ref: i for i, ref in enumerate(frontier)}
    for source, type_, target in rows:
        if target not in depths:
            groups[(position[source], type_)].append(target)
    new: list[str] = []
    seen: set[str] = set()
    ordered = [groups[key] for key in sorted(groups)]
    for ring in zip_longest(*ordered):
        for ref in ring:
            if ref is None or ref in seen:
                continue
            seen.add(ref)
            if len(new) < room:
                new.append(ref)
            else:
                left_out.add(ref)
    return new


def _canonical(source: str, type_: str, target: str) -> Edge:
    """Return the edge as drawn: built-in inverse types turned around to the written one."""
    forward = FORWARD_TYPES.get(type_)
    if forward is not None:
        return Edge(source=target, target=source, label=forward)
    return Edge(source=source, target=target, label=type_)


def _load_nodes(refs: list[str], depths: dict[str, int]) -> list[Node]:
    """Return a node per ref, in the given order, with display fields read in one query.

    Only the few JSON keys shown are selected (KT extracts them as text on both SQLite and
    PostgreSQL), so large descriptors are never transferred.
    """
    rows = {
        row["ref"]: row
        for row in Entity.objects.filter(ref__in=refs).values(
            "ref",
            "kind",
            "namespace",
            "name",
            display_name=KT("body__metadata__name"),
            display_title=KT("body__metadata__title"),
            display_type=KT("body__spec__type"),
        )
    }
    nodes = []
    for ref in refs:
        row = rows.get(ref)
        if row is None:
            kind, namespace, name = _split_ref(ref)
            nodes.append(Node(ref=ref, kind=kind, namespace=namespace, name=name, missing=True))
            continue
        nodes.append(
            Node(
                ref=ref,
                kind=row["kind"],
                namespace=row["namespace"],
                name=row["display_name"] or row["name"],
                title=row["display_title"] or None,
                type=row["display_type"] or None,
            )
        )
    for node in nodes:
        node.depth = depths[node.ref]
    return nodes


def _split_ref(ref: str) -> tuple[str, str, str]:
    """Return (kind, namespace, name) of a lookup key, tolerating malformed dangling refs."""
    kind, _, rest = ref.partition(":") if ":" in ref else ("", "", ref)
    namespace, _, name = rest.rpartition("/")
    return kind or "unknown", namespace or "default", name


# --- Layout ---------------------------------------------------------------------------------


def layout(graph: Graph) -> None:
    """Place the nodes in columns, left to right, setting each node's box.

    The root sits in the middle column. A neighbour whose drawn edge points at the root
    (a component ownedBy the root group, a dependent) goes to the left, one the root points
    at (its owner, system, APIs, dependencies) to the right, so most arrows run left to right.
    Deeper nodes continue outwards on their parent's side, one column per hop. Within a column
    nodes follow their parents' order, to limit crossings, and each column is centred
    vertically.
    """
    if not graph.nodes:
        return
    for node in graph.nodes:
        node.width = _node_width(node)
        node.height = NODE_HEIGHT

    touching: dict[str, list[Edge]] = defaultdict(list)
    for edge in graph.edges:
        touching[edge.source].append(edge)
        touching[edge.target].append(edge)

    side: dict[str, int] = {}
    parent: dict[str, str] = {}
    for node in graph.nodes:  # breadth-first order: parents come before their children
        if node.depth == 0:
            side[node.ref] = 0
            continue
        parent[node.ref], points_out = _parent_of(graph, node, touching[node.ref])
        if node.depth == 1:
            side[node.ref] = 1 if points_out else -1
        else:
            side[node.ref] = side[parent[node.ref]] or 1

    columns: dict[int, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        columns[side[node.ref] * node.depth].append(node)
    # Sort inner columns first so each node can be ranked by its parent's final row.
    row: dict[str, int] = {}
    for index in sorted(columns, key=abs):
        nodes = columns[index]
        nodes.sort(
            key=lambda n: (row.get(parent.get(n.ref, ""), 0), n.kind, n.label.lower(), n.ref)
        )
        row.update((n.ref, i) for i, n in enumerate(nodes))

    heights = {
        index: sum(n.height for n in nodes) + ROW_GAP * (len(nodes) - 1)
        for index, nodes in columns.items()
    }
    tallest = max(heights.values())
    x = float(MARGIN)
    for index in sorted(columns):
        nodes = columns[index]
        width = max(n.width for n in nodes)
        y = MARGIN + (tallest - heights[index]) / 2
        for node in nodes:
            node.x = x + (width - node.width) / 2
            node.y = y
            y += node.height + ROW_GAP
        x += width + COLUMN_GAP


def _parent_of(graph: Graph, node: Node, edges: list[Edge]) -> tuple[str, bool]:
    """Return the node's parent (its first neighbour one level up) and whether the drawn
    edge between them points from the parent to the node."""
    for edge in edges:
        other = edge.target if edge.source == node.ref else edge.source
        if graph.node(other).depth == node.depth - 1:
            return other, edge.target == node.ref
    return graph.root, True


def _node_width(node: Node) -> float:
    wanted = max(len(node.label) * NAME_CHAR_WIDTH, len(node.caption) * KIND_CHAR_WIDTH)
    return round(min(max(wanted + 2 * NODE_PADDING, NODE_MIN_WIDTH), NODE_MAX_WIDTH))


def _fit(text: str, width: float, char_width: float) -> str:
    """Return text shortened with an ellipsis to about `width` units."""
    # round, not int: widths were rounded from this same estimate, so int would cut one short.
    room = max(round((width - 2 * NODE_PADDING) / char_width), 1)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


# --- SVG ------------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _n(value: float) -> str:
    """Format a coordinate compactly (no trailing .0)."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def render_svg(
    graph: Graph, url_for: Callable[[Node], str], *, id_prefix: str = "relations-graph"
) -> SafeString:
    """Return the graph as a standalone `<svg>` element, safe to put in a template as-is.

    Nodes are `<g class="node">` (plus `root`, `missing` and `kind-<kind>`) holding a link to
    url_for(node) around a box and two text lines; missing entities are dashed and not linked.
    Edges are `<g class="edge">` with a curved `<path>` ending in an arrowhead and the relation
    type at its middle. Presentation attributes give a readable default that page CSS
    overrides. Every text and attribute value is escaped here, which is what makes the
    mark_safe at the end correct; id_prefix keeps ids unique when a page shows two graphs.
    """
    prefix = _e(id_prefix)
    root = graph.node(graph.root) if graph.nodes else None
    subject = root.label if root else graph.root
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="relations-graph" role="img"'
        f' aria-labelledby="{prefix}-title" viewBox="0 0 {_n(graph.width)} {_n(graph.height)}"'
        f' width="{_n(graph.width)}" height="{_n(graph.height)}"'
        f' font-family="system-ui, sans-serif">',
        f'<title id="{prefix}-title">{_e(f"Relations of {subject}")}</title>',
    ]
    if graph.truncated:
        parts.append(f"<desc>{_e(f'{graph.truncated} more related entities not shown')}</desc>")
    parts.append(
        f'<defs><marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5"'
        ' markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#8a8f98"/></marker></defs>'
    )
    parts.append('<g class="edges">')
    parts.extend(_render_edge(graph, edge, prefix) for edge in graph.edges)
    parts.append('</g><g class="nodes">')
    parts.extend(_render_node(node, node.ref == graph.root, url_for) for node in graph.nodes)
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # every value above went through _e


def _render_edge(graph: Graph, edge: Edge, prefix: str) -> str:
    source, target = graph.node(edge.source), graph.node(edge.target)
    sy, ty = source.y + source.height / 2, target.y + target.height / 2
    if abs(source.x - target.x) < 1:  # same column: bulge out to the right
        sx, tx = source.x + source.width, target.x + target.width
        c1x, c2x = sx + LOOP_BULGE, tx + LOOP_BULGE
    elif source.x < target.x:
        sx, tx = source.x + source.width, target.x
        c1x = c2x = (sx + tx) / 2
    else:
        sx, tx = source.x, target.x + target.width
        c1x = c2x = (sx + tx) / 2
    # Edges fan out from inner nodes to outer ones, so labels sit three quarters of the way
    # to the outer (deeper) end, where the fanned curves are furthest apart.
    t = 0.5
    if source.depth != target.depth:
        t = 0.75 if target.depth > source.depth else 0.25
    mx = _bezier(t, sx, c1x, c2x, tx)
    my = _bezier(t, sy, sy, ty, ty)
    d = f"M{_n(sx)},{_n(sy)} C{_n(c1x)},{_n(sy)} {_n(c2x)},{_n(ty)} {_n(tx)},{_n(ty)}"
    return (
        f'<g class="edge" data-source="{_e(edge.source)}" data-target="{_e(edge.target)}">'
        f'<path d="{d}" fill="none" stroke="#8a8f98" stroke-width="1.2"'
        f' marker-end="url(#{prefix}-arrow)"/>'
        f'<text x="{_n(mx)}" y="{_n(my - 4)}" text-anchor="middle" font-size="10"'
        f' fill="#5f6670" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{_e(edge.label)}</text></g>"
    )


def _bezier(t: float, p0: float, p1: float, p2: float, p3: float) -> float:
    """Return one coordinate of the cubic Bézier point at t."""
    u = 1 - t
    return u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3


def _render_node(node: Node, is_root: bool, url_for: Callable[[Node], str]) -> str:
    classes = ["node", f"kind-{node.kind}"]
    if is_root:
        classes.append("root")
    if node.missing:
        classes.append("missing")
    cx = node.x + node.width / 2
    caption = node.caption + (" (missing)" if node.missing else "")
    dashed = ' stroke-dasharray="4 3"' if node.missing else ""
    box = (
        f"<title>{_e(node.ref if node.missing else _tooltip(node))}</title>"
        f'<rect x="{_n(node.x)}" y="{_n(node.y)}" width="{_n(node.width)}"'
        f' height="{_n(node.height)}" rx="6" fill="#fff" stroke="#8a8f98"'
        f' stroke-width="{2 if is_root else 1}"'
        f"{dashed}/>"
        f'<text class="kind" x="{_n(cx)}" y="{_n(node.y + 17)}" text-anchor="middle"'
        f' font-size="10" fill="#5f6670">{_e(_fit(caption, node.width, KIND_CHAR_WIDTH))}</text>'
        f'<text class="name" x="{_n(cx)}" y="{_n(node.y + 35)}" text-anchor="middle"'
        f' font-size="13" fill="#1f2328">{_e(_fit(node.label, node.width, NAME_CHAR_WIDTH))}'
        "</text>"
    )
    if not node.missing:
        box = f'<a href="{_e(url_for(node))}">{box}</a>'
    return f'<g class="{_e(" ".join(classes))}" data-ref="{_e(node.ref)}">{box}</g>'


def _tooltip(node: Node) -> str:
    name = f"{node.namespace}/{node.name}" if node.namespace != "default" else node.name
    return f"{node.kind}:{name}" + (f" ({node.title})" if node.title else "")
