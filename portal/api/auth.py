"""API authentication: bearer service tokens beside signed-in sessions, and the rule that
reads are open (or token-protected by configuration) while every write needs a principal."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import ApiToken, hash_token

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Recording every use would turn each read into a write; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ServicePrincipal:
    """Who a request is when it carries a service token (DRF's request.user)."""

    token_name: str
    is_authenticated: bool = True
    is_staff: bool = False
    is_superuser: bool = False

    @property
    def username(self) -> str:
        return f"token:{self.token_name}"

    def get_username(self) -> str:
        return self.username

    def __str__(self) -> str:
        return self.username


def settings_token_name(token: str) -> str | None:
    """Return the name of a token given in settings (GREENROOM_API_TOKENS), if it is one."""
    for name, configured in settings.API_TOKENS.items():
        if hmac.compare_digest(configured.encode(), token.encode()):
            return name
    return None


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` with a token from `manage.py api_token` or settings."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[ServicePrincipal, str] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        try:
            token = parts[1].decode()
        except UnicodeError:
            raise AuthenticationFailed("the bearer token is not valid") from None
        name = settings_token_name(token)
        if name is not None:
            return ServicePrincipal(name), token
        record = ApiToken.objects.filter(token_hash=hash_token(token)).first()
        if record is None or record.revoked_at is not None:
            raise AuthenticationFailed("the bearer token is not valid or has been revoked")
        now = timezone.now()
        if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        return ServicePrincipal(record.name), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="greenroom"'


class ReadOpenWriteAuthenticated(BasePermission):
    """Reads are open unless GREENROOM_API_READS_REQUIRE_AUTH; writes need a principal.

    Some reads are POSTs in Backstage's API (by-refs, by-query, facets): views say so with
    `post_is_read = True`.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        is_read = request.method in SAFE_METHODS or (
            request.method == "POST" and getattr(view, "post_is_read", False)
        )
        authenticated = bool(request.user and request.user.is_authenticated)
        if is_read and not settings.API_READS_REQUIRE_AUTH:
            return True
        return authenticated


def principal_name(request: Any) -> str:
    """Return who made a request, for `requested_by`/`created_by` fields."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return user.get_username()
