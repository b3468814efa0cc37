"""No page makes more than a constant number of queries, whatever the catalog's size.

Each page is measured cold (empty cache, fresh session) on a small catalog and on a larger
one (300 more components depending on each other, 50 more APIs, 50 more members of the
owning group, every component starred and every entity visited), against the same bound.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection

from catalog.browse import encode_position
from catalog.models import Entity, EntityStar, EntityVisit, Location

# Page -> the most queries it may make on (SQLite, PostgreSQL): measured on the small catalog,
# plus 2. The session and user lookups, the theme preference and the session write count;
# the catalog table's cold facets cost more on PostgreSQL (per-column facet queries).
BOUNDS: dict[str, tuple[int, int]] = {
    "/": (18, 18),
    "/settings": (11, 11),
    "/catalog": (29, 41),
    "/catalog?kind=group": (28, 37),
    "/catalog?kind=user": (27, 33),
    "/catalog?kind=api": (29, 41),
    "/catalog?size=100": (29, 41),
    "/catalog?kind=component&type=service&lifecycle=production&owner=group:default/team-a"
    "&tag=python&namespace=default&q=check&order=owner&dir=desc": (31, 43),
    "/catalog?kind=group&type=team&q=team": (29, 38),
    "/catalog?kind=user&q=user&order=email": (26, 32),
    "/catalog?kind=api&type=openapi&lifecycle=production": (31, 43),
    "/catalog?scope=owned": (29, 41),
    "/catalog?kind=api&scope=owned": (29, 41),
    "/catalog?scope=starred": (28, 40),
    "/catalog?kind=api&scope=starred&size=100": (28, 40),
    "page 2": (29, 41),
    "/api-docs": (26, 35),
    "/docs": (26, 35),
    "/create": (25, 31),
    "/search?q=e": (11, 11),
    "/catalog/default/component/checkout": (12, 12),
    "/catalog/default/component/checkout/api": (15, 15),
    "/catalog/default/component/checkout/dependencies": (15, 15),
    "/catalog/default/component/checkout/inspect": (18, 18),
    "/catalog/default/component/checkout/graph": (12, 12),
    "/catalog/default/component/checkout/graph?depth=4": (14, 14),
    "/catalog/default/api/orders-api": (15, 15),
    "/catalog/default/api/orders-api/definition": (12, 12),
    "/catalog/default/api/orders-api/inspect": (18, 18),
    "/catalog/default/api/orders-api/graph?depth=2&kinds=component": (13, 13),
    "/catalog/default/group/team-a": (19, 19),
    "/catalog/default/group/team-a?direct=1": (18, 18),
    "/catalog/default/group/team-a/inspect": (18, 18),
    "/catalog/default/group/team-a/graph?depth=3": (13, 13),
    "/catalog/default/user/alice": (19, 19),
    "/catalog/default/user/alice?direct=1": (17, 17),
    "/catalog/default/user/alice/inspect": (18, 18),
    "/catalog/default/system/shop": (18, 18),
    "/catalog/default/system/shop/api": (13, 13),
    "/catalog/default/system/shop/dependencies": (13, 13),
    "/catalog/default/system/shop/inspect": (18, 18),
    "/catalog/default/system/shop/graph?depth=2": (13, 13),
    "/catalog/default/domain/commerce": (15, 15),
    "/catalog/default/domain/commerce/inspect": (18, 18),
    "/locations": (12, 12),
    "location row": (11, 11),
    "/catalog-import": (8, 8),
}

# The catalog is ingested by committed transactions (its fixture is picked per size).
pytestmark = pytest.mark.django_db(transaction=True)

NEXT_LINK = re.compile(r'rel="next" href="\?([^"]+)"')


def second_page_url(client) -> str:
    """Return the URL of the catalog's page 2 (the Next link's, when page 1 has one).

    The small catalog fits on one page: its page 2 starts after the first row instead, so
    both sizes run the same keyset query.
    """
    first = client.get("/catalog")
    found = NEXT_LINK.search(first.content.decode())
    if found:
        return "/catalog?" + unescape(found.group(1))
    row = Entity.objects.filter(kind="component", namespace="default").order_by("name").first()
    return "/catalog?after=" + encode_position(row.name, row.ref)


def url_of(page: str, client) -> str:
    if page == "page 2":
        return second_page_url(client())
    if page == "location row":
        return f"/locations/{Location.objects.get(target__endswith='systems.yaml').pk}"
    return page


def star_and_visit_everything(user) -> None:
    """Give the person a star on every component and API and a visit to every entity."""
    entities = list(Entity.objects.only("id", "ref", "kind"))
    EntityStar.objects.bulk_create(
        EntityStar(user=user, entity=e) for e in entities if e.kind in ("component", "api")
    )
    EntityVisit.objects.bulk_create(EntityVisit(user=user, entity_ref=e.ref) for e in entities)


@pytest.mark.parametrize("size", ["small_catalog", "large_catalog"])
def test_it_keeps_every_page_under_the_same_query_bound_whatever_the_catalog_size(
    request, size, alice, signed_in, django_assert_max_num_queries, subtests
):
    # given
    request.getfixturevalue(size)
    star_and_visit_everything(alice)
    measured = {}

    column = 1 if connection.vendor == "postgresql" else 0
    for page, bounds in BOUNDS.items():
        bound = bounds[column]
        with subtests.test(msg=page):
            url = url_of(page, lambda: signed_in(alice))
            client = signed_in(alice)
            cache.clear()  # the cold page: facets, counts and identity are cached per version

            # when
            with django_assert_max_num_queries(bound) as queries:
                response = client.get(url)

            # then
            measured[page] = len(queries.captured_queries)
            assert response.status_code == 200, url

    print(f"\nqueries per page ({size}):", measured)
