"""Who the signed-in person is in the catalog: their User entity and their groups.

A Django account is matched to a `User` entity by username (the entity's metadata.name) or
by email (spec.profile.email), as GREENROOM_IDENTITY_MATCH says; the groups are the user's
`memberOf` relations. The person's ownership refs — their user ref plus their groups' — are
what "owned by me" means on every page, as in Backstage's sign-in resolvers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from catalog.listing import catalog_version
from catalog.models import Entity, Relation
from catalog.refs import DEFAULT_NAMESPACE


@dataclass(frozen=True)
class Identity:
    """A person as the catalog knows them (user_ref is None when no User entity matches)."""

    user_ref: str | None = None
    group_refs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ownership_refs(self) -> tuple[str, ...]:
        """Return the refs whose ownership counts as the person's own."""
        return ((self.user_ref,) if self.user_ref else ()) + self.group_refs


def _match_user_entity(username: str, email: str) -> str | None:
    if settings.GREENROOM_IDENTITY_MATCH == "email":
        if not email:
            return None
        match = (
            Entity.objects.filter(kind="user", body__spec__profile__email__iexact=email)
            .order_by("ref")
            .values_list("ref", flat=True)
            .first()
        )
        return match
    ref = f"user:{DEFAULT_NAMESPACE}/{username.lower()}"
    return ref if Entity.objects.filter(ref=ref).exists() else None


def resolve(username: str, email: str = "") -> Identity:
    """Return the catalog identity of an account (two indexed queries, cached per version)."""
    version = catalog_version()
    question = f"{version}|{settings.GREENROOM_IDENTITY_MATCH}|{username}|{email}"
    key = "identity:" + hashlib.sha256(question.encode()).hexdigest()
    # While a run writes (version None) nothing may be cached: groups may be changing.
    found = cache.get(key) if version is not None else None
    if found is not None:
        return found
    user_ref = _match_user_entity(username, email)
    groups: tuple[str, ...] = ()
    if user_ref:
        groups = tuple(
            Relation.objects.filter(source_ref=user_ref, type="memberOf")
            .order_by("target_ref")
            .values_list("target_ref", flat=True)
            .distinct()
        )
    identity = Identity(user_ref, groups)
    if version is not None:
        cache.set(key, identity, 300)
    return identity


def for_request(request: HttpRequest) -> Identity:
    """Return the identity of the request's person, resolved once per request."""
    if not hasattr(request, "_catalog_identity"):
        user = request.user
        identity = (
            resolve(user.get_username(), user.email or "") if user.is_authenticated else Identity()
        )
        request._catalog_identity = identity  # type: ignore[attr-defined]
    return request._catalog_identity  # type: ignore[attr-defined]
