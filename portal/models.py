"""Service tokens for scripts and CI calling the API (Backstage's external-access tokens)."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
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


class Theme(models.TextChoices):
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"
    AUTO = "auto", "Same as my system"


class Preference(models.Model):
    """One person's settings for the portal (created on first save)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_preference"
    )
    theme = models.CharField(max_length=8, choices=Theme.choices, default=Theme.AUTO)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user}"


def validate_link_target(value: str) -> None:
    """Accept a path inside the portal ("/catalog") or an http(s) URL; nothing that runs."""
    if value.startswith("/") and not value.startswith("//"):
        return
    if urlsplit(value).scheme.lower() in {"http", "https"}:
        return
    raise ValidationError("Use a path starting with / or an http(s) URL.")


class OnboardingLink(models.Model):
    """A first step for new engineers, shown on everyone's home page (edited in the admin)."""

    title = models.CharField(max_length=200)
    url = models.CharField(max_length=500, validators=[validate_link_target])
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "title")

    def __str__(self) -> str:
        return self.title


class SearchEntry(models.Model):
    """One document in the search index: an entity, a docs page, a template, a plugin's item.

    `type` is Backstage's document type ("software-catalog", "techdocs", "template", or a
    collator's); `key` is stable and unique per type (an entity's ref, a page's path).
    `kind`, `lifecycle`, `owner` and `namespace` are copied out of `fields` for the
    filters. The full-text index lives beside the table, per database (migration 0003): a
    generated tsvector column with a GIN index on PostgreSQL, an FTS5 table on SQLite.
    Written only through `portal.search.index`.
    """

    type = models.CharField(max_length=100)
    key = models.CharField(max_length=500)
    title = models.CharField(max_length=500)
    text = models.TextField(blank=True)
    location = models.CharField(max_length=2000)
    kind = models.CharField(max_length=63, blank=True)  # lower-cased, as entity refs
    lifecycle = models.CharField(max_length=200, blank=True)
    owner = models.CharField(max_length=255, blank=True)  # a full ref, lower-cased
    namespace = models.CharField(max_length=63, blank=True)
    fields = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("type", "key"), name="portal_search_type_key")
        ]
        # The filters narrow a full-text match; alone (no term) they list by title.
        indexes = [
            models.Index(fields=("type", "title"), name="portal_search_type_title"),
            models.Index(fields=("kind", "title"), name="portal_search_kind_title"),
            models.Index(fields=("owner",), name="portal_search_owner"),
            models.Index(fields=("lifecycle",), name="portal_search_lifecycle"),
        ]
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return f"{self.type}:{self.key}"
