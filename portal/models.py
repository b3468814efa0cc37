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
