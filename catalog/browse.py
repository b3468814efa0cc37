"""The catalog page's questions: which entities match the person's filters, one page at a
time, with the options each filter offers — all bounded, whatever the catalog's size.

Nothing here grows with the catalog: a page is a keyset page (page 5,000 costs what page 1
costs), option lists are the top values of a facet (counted by the database and cached per
catalog version) or a typed-ahead search, and the owner picker asks the server as the
person types instead of shipping every group (Backstage's picker breaks at 4,000 groups).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import QueryDict

from catalog import filters, listing
from catalog.filters import Expr, Match
from catalog.listing import EntityQuery
from catalog.models import Entity, EntityStar, IngestionRun, Location
from catalog.refs import RefError, parse_ref

PAGE_SIZES = (20, 50, 100)
MAX_OPTIONS = 30
MAX_SUGGESTIONS = 15
SCOPES = ("all", "owned", "starred")


def _body(path: str) -> Callable[[Entity], Any]:
    keys = path.split(".")

    def get(entity: Entity) -> Any:
        value: Any = entity.body
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return get


@dataclass(frozen=True)
class Column:
    """A column of the catalog table: a label, where its value comes from, what sorts it."""

    key: str
    label: str
    value: Callable[[Entity], Any]
    sort_field: str | None = None
    link_kind: str | None = None  # the value is an entity ref of this default kind


_NAME = Column("name", "Name", _body("metadata.name"), "metadata.name")
_SYSTEM = Column("system", "System", _body("spec.system"), "spec.system", link_kind="system")
_OWNER = Column("owner", "Owner", _body("spec.owner"), "spec.owner", link_kind="group")
_TYPE = Column("type", "Type", _body("spec.type"), "spec.type")
_LIFECYCLE = Column("lifecycle", "Lifecycle", _body("spec.lifecycle"), "spec.lifecycle")
_DESCRIPTION = Column("description", "Description", _body("metadata.description"))
_TAGS = Column("tags", "Tags", _body("metadata.tags"))

COLUMNS_BY_KIND: dict[str, list[Column]] = {
    "component": [_NAME, _SYSTEM, _OWNER, _TYPE, _LIFECYCLE, _DESCRIPTION, _TAGS],
    "api": [_NAME, _SYSTEM, _OWNER, _TYPE, _LIFECYCLE, _DESCRIPTION, _TAGS],
    "resource": [_NAME, _SYSTEM, _OWNER, _TYPE, _LIFECYCLE, _DESCRIPTION, _TAGS],
    "system": [
        _NAME,
        Column("domain", "Domain", _body("spec.domain"), "spec.domain", link_kind="domain"),
        _OWNER,
        _DESCRIPTION,
        _TAGS,
    ],
    "domain": [_NAME, _OWNER, _DESCRIPTION, _TAGS],
    "group": [
        _NAME,
        _TYPE,
        Column("email", "Email", _body("spec.profile.email"), "spec.profile.email"),
        _DESCRIPTION,
    ],
    "user": [
        _NAME,
        Column("display", "Display name", _body("spec.profile.displayName")),
        Column("email", "Email", _body("spec.profile.email"), "spec.profile.email"),
    ],
    "template": [_NAME, _TYPE, _OWNER, _DESCRIPTION, _TAGS],
    "location": [_NAME, _TYPE, Column("target", "Target", _body("spec.target"))],
}
DEFAULT_COLUMNS = [_NAME, _OWNER, _TYPE, _DESCRIPTION, _TAGS]
# Facets offered as pickers, per kind (the owner and tags pickers are typed-ahead).
FACET_KEYS = {"spec.type": "Type", "spec.lifecycle": "Lifecycle", "metadata.namespace": "Namespace"}


def columns_for(kind: str) -> list[Column]:
    """Return the table columns suited to a kind."""
    return COLUMNS_BY_KIND.get(kind, DEFAULT_COLUMNS)


@dataclass
class CatalogFilters:
    """The catalog page's filters, as read from its query string."""

    kind: str = "component"
    type: str = ""
    owner: str = ""  # an entity ref (group or user)
    lifecycle: str = ""
    tag: str = ""
    namespace: str = ""
    scope: str = "all"
    text: str = ""
    order: str = "name"
    descending: bool = False
    page_size: int = PAGE_SIZES[0]
    after: tuple[str | None, str] | None = None
    before: tuple[str | None, str] | None = None
    annotation: str = ""  # only entities carrying this annotation (the Docs page)
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: Any, *, kind: str | None = None) -> CatalogFilters:
        """Read filters from a QueryDict; bad values are dropped with a message, not a 500."""
        found = cls()
        found.kind = (kind or params.get("kind") or "component").strip().lower()[:63]
        found.type = params.get("type", "").strip()[:200]
        found.lifecycle = params.get("lifecycle", "").strip()[:200]
        found.tag = params.get("tag", "").strip()[:200]
        found.namespace = params.get("namespace", "").strip()[:63]
        found.text = params.get("q", "").strip()[:200]
        owner = params.get("owner", "").strip()
        if owner:
            try:
                found.owner = str(parse_ref(owner, "group"))
            except RefError as exc:
                found.errors.append(f"Owner: {exc}")
        scope = params.get("scope", "all")
        found.scope = scope if scope in SCOPES else "all"
        columns = {c.key: c for c in columns_for(found.kind) if c.sort_field}
        order = params.get("order", "name")
        found.order = order if order in columns else "name"
        found.descending = params.get("dir") == "desc"
        try:
            size = int(params.get("size", PAGE_SIZES[0]))
        except ValueError:
            size = PAGE_SIZES[0]
        found.page_size = size if size in PAGE_SIZES else PAGE_SIZES[0]
        for name in ("after", "before"):
            token = params.get(name)
            if token:
                try:
                    setattr(found, name, decode_position(token))
                except ValueError:
                    found.errors.append("That page link has expired; showing the first page.")
        return found

    def sort_field(self) -> str:
        columns = {c.key: c for c in columns_for(self.kind)}
        column = columns.get(self.order)
        return column.sort_field if column and column.sort_field else "metadata.name"

    def query_string(self, **changes: Any) -> str:
        """Return these filters as a query string, with some changed (for links)."""
        values = {
            "kind": self.kind,
            "type": self.type,
            "owner": self.owner,
            "lifecycle": self.lifecycle,
            "tag": self.tag,
            "namespace": self.namespace,
            "scope": self.scope if self.scope != "all" else "",
            "q": self.text,
            "order": self.order if self.order != "name" else "",
            "dir": "desc" if self.descending else "",
            "size": str(self.page_size) if self.page_size != PAGE_SIZES[0] else "",
        }
        values.update(changes)
        query = QueryDict(mutable=True)
        for key, value in values.items():
            if value:
                query[key] = value
        return query.urlencode()


def encode_position(value: str | None, ref: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, ref]).encode()).decode()


def decode_position(token: str) -> tuple[str | None, str]:
    try:
        value, ref = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise ValueError("not a page position") from None
    if not isinstance(ref, str) or not (value is None or isinstance(value, str)):
        raise ValueError("not a page position")
    return value, ref


@dataclass
class CatalogPage:
    filters: CatalogFilters
    entities: list[Entity]
    total: int
    next_position: str | None
    prev_position: str | None
    starred_refs: set[str]
    columns: list[Column]


def _expression(found: CatalogFilters, ownership_refs: tuple[str, ...]) -> Expr | None:
    conditions: list[Expr | None] = [Match("kind", "in", (found.kind,))]
    for key, value in (
        ("spec.type", found.type),
        ("spec.lifecycle", found.lifecycle),
        ("metadata.namespace", found.namespace),
        ("metadata.tags", found.tag),
    ):
        if value:
            conditions.append(Match(key, "in", (value.lower(),)))
    if found.owner:
        conditions.append(Match("relations.ownedby", "in", (found.owner.lower(),)))
    if found.annotation:
        conditions.append(Match(f"metadata.annotations.{found.annotation}", "exists"))
    if found.scope == "owned":
        refs = tuple(ref.lower() for ref in ownership_refs)
        conditions.append(Match("relations.ownedby", "in", refs) if refs else filters.Nothing())
    return filters.all_of(*conditions)


def entity_query(found: CatalogFilters, ownership_refs: tuple[str, ...] = ()) -> EntityQuery:
    """Return the listing query for the filters (without the starred restriction)."""
    query = EntityQuery(expr=_expression(found, ownership_refs), sort_by_column=True)
    query.order_field = found.sort_field()
    query.descending = found.descending
    query.text_search = found.text
    return query


def catalog_page(
    found: CatalogFilters, *, user: Any, ownership_refs: tuple[str, ...] = ()
) -> CatalogPage:
    """Return one page of the catalog table: a count, one page query and the page's stars.

    A fixed number of queries whatever the catalog's size: the catalog version and the count
    (cached per version), the page, and the person's stars among the page's rows.
    """
    query = entity_query(found, ownership_refs)
    matching = query.queryset()
    starred_only = found.scope == "starred"
    if starred_only:
        matching = matching.filter(stars__user=user) if user.is_authenticated else matching.none()
        total = matching.count()
    else:
        total = listing.count(query)
    position = found.after or found.before
    walking_back = found.before is not None
    if position is not None:
        sql, params = listing.keyset_condition(query, position[0], position[1], before=walking_back)
        matching = matching.extra(where=[sql], params=params)
    rows = list(listing.ordered(matching, query, reverse=walking_back)[: found.page_size + 1])
    more = len(rows) > found.page_size
    rows = rows[: found.page_size]
    if walking_back:
        rows.reverse()
        has_prev, has_next = more, True
    else:
        has_prev, has_next = found.after is not None, more

    def position_of(entity: Entity) -> str:
        value = getattr(entity, "sort_value", None)
        return encode_position(None if value is None else str(value), entity.ref)

    return CatalogPage(
        filters=found,
        entities=rows,
        total=total,
        next_position=position_of(rows[-1]) if rows and has_next else None,
        prev_position=position_of(rows[0]) if rows and has_prev else None,
        starred_refs=starred_refs(user, [e.id for e in rows]),
        columns=columns_for(found.kind),
    )


def starred_refs(user: Any, entity_ids: list[int]) -> set[str]:
    """Return which of these entities the person starred (one query)."""
    if not user.is_authenticated or not entity_ids:
        return set()
    return set(
        EntityStar.objects.filter(user=user, entity_id__in=entity_ids).values_list(
            "entity__ref", flat=True
        )
    )


def kind_options() -> list[dict[str, Any]]:
    """Return each kind in the catalog with its count (cached per catalog version)."""
    return listing.cached_facets(None, ["kind"])["kind"]


def facet_options(kind: str) -> dict[str, list[dict[str, Any]]]:
    """Return the top values of the type, lifecycle and namespace pickers for one kind."""
    found = listing.cached_facets(Match("kind", "in", (kind,)), list(FACET_KEYS))
    return {key: values[:MAX_OPTIONS] for key, values in found.items()}


def tag_options(kind: str) -> list[dict[str, Any]]:
    """Return the most used tags of one kind (the tag box accepts any other by typing)."""
    found = listing.cached_facets(Match("kind", "in", (kind,)), ["metadata.tags"])
    return found["metadata.tags"][:MAX_OPTIONS]


def warm_catalog_pages() -> int:
    """Compute (and so cache) what the first page of each kind needs: the kinds, each kind's
    filter options and its count. Return how many kinds were warmed.

    At 100,000 entities these cost 250-500 ms cold and 30 ms once cached; a run that changed
    the catalog calls this so people do not pay it.
    """
    kinds = [str(option["value"]).lower() for option in kind_options()]
    for kind in kinds:
        facet_options(kind)
        tag_options(kind)
        listing.count(entity_query(CatalogFilters(kind=kind)))
    return len(kinds)


def owner_suggestions(term: str, limit: int = MAX_SUGGESTIONS) -> list[Entity]:
    """Return groups and users whose name or title contains the term (a bounded search)."""
    term = term.strip()
    queryset: QuerySet[Entity] = Entity.objects.defer("search").filter(kind__in=("group", "user"))
    if term:
        queryset = queryset.filter(
            Q(name__icontains=term)
            | Q(body__metadata__title__icontains=term)
            | Q(body__spec__profile__displayName__icontains=term)
        )
    return list(queryset.order_by("kind", "name")[:limit])


def location_rows(locations: list[Location]) -> list[dict[str, Any]]:
    """Return each location with its latest ingestion run (two queries for the page)."""
    latest_ids = (
        IngestionRun.objects.filter(location__in=locations)
        .values("location_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    runs = {run.location_id: run for run in IngestionRun.objects.filter(id__in=list(latest_ids))}
    return [{"location": location, "run": runs.get(location.pk)} for location in locations]
