"""Service tokens for scripts and CI calling the API (Backstage's external-access tokens)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "grt_"


def hash_token(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is as strong as a slow password hash
    # and lets a request find its token by an indexed equality lookup.
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(models.Model):
    """A named bearer token; only its hash is stored, the token is shown once."""

    name = models.CharField(max_length=100, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the first characters, to recognise it in lists
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def issue(cls, name: str, created_by: str = "") -> tuple[ApiToken, str]:
        """Create a token; return it with the clear-text token (never stored)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = cls.objects.create(
            name=name, token_hash=hash_token(token), hint=token[:10], created_by=created_by
        )
        return record, token
