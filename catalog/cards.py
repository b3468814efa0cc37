"""The catalog's cards on the home and settings pages, registered in CatalogConfig.ready."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from catalog import entity_page, identity
from catalog.models import EntityStar, EntityVisit, Relation
from portal.registry import Card

CARD_LIMIT = 10


def _entities_card(request: HttpRequest, rows: list[dict], empty: str) -> str:
    return render_to_string(
        "catalog/partials/_card_entities.html", {"rows": rows, "empty": empty}, request=request
    )


def starred_card(request: HttpRequest) -> str:
    """The person's starred entities, newest first."""
    refs = list(
        EntityStar.objects.filter(user=request.user)
        .order_by("-created_at")
        .values_list("entity__ref", flat=True)[:CARD_LIMIT]
    )
    rows = entity_page.summaries_in_order(refs)
    return _entities_card(request, rows, "Star an entity on its page to keep it here.")


def team_card(request: HttpRequest) -> str:
    """Entities owned by the person's groups (or by the person)."""
    person = identity.for_request(request)
    if not person.ownership_refs:
        return _entities_card(
            request, [], "Your account is not linked to a User entity in the catalog yet."
        )
    refs = list(
        Relation.objects.filter(type="ownedBy", target_ref__in=person.ownership_refs)
        .values_list("source_ref", flat=True)
        .distinct()
        .order_by("source_ref")[:CARD_LIMIT]
    )
    return _entities_card(
        request, entity_page.summaries_in_order(refs), "Your teams own nothing in the catalog."
    )


def recent_card(request: HttpRequest) -> str:
    """The entity pages the person opened last."""
    refs = list(
        EntityVisit.objects.filter(user=request.user)
        .order_by("-visited_at")
        .values_list("entity_ref", flat=True)[:CARD_LIMIT]
    )
    return _entities_card(
        request, entity_page.summaries_in_order(refs), "Pages you visit show up here."
    )


def groups_card(request: HttpRequest) -> str:
    """The settings page's card: the person's User entity and groups."""
    person = identity.for_request(request)
    return render_to_string(
        "catalog/partials/_card_identity.html",
        {
            "user_link": entity_page.link_for_ref(person.user_ref, "user")
            if person.user_ref
            else None,
            "groups": [entity_page.link_for_ref(ref, "group") for ref in person.group_refs],
        },
        request=request,
    )


CARDS = [
    Card("home", "starred", "Starred entities", starred_card, order=10),
    Card("home", "my-team", "My team's entities", team_card, order=20),
    Card("home", "recent", "Recently visited", recent_card, order=30),
    Card("settings", "identity", "You in the catalog", groups_card, order=10),
]
