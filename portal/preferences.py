"""A person's portal preferences, kept in the session so pages read them without a query."""

from __future__ import annotations

from django.http import HttpRequest

from portal.models import Preference, Theme

_SESSION_KEY = "portal_theme"


def theme_for(request: HttpRequest) -> str:
    """Return the person's theme: light, dark or auto (one query per session at most)."""
    session = getattr(request, "session", None)
    if session is None or not request.user.is_authenticated:
        return Theme.AUTO
    theme = session.get(_SESSION_KEY)
    if theme is None:
        theme = (
            Preference.objects.filter(user=request.user).values_list("theme", flat=True).first()
            or Theme.AUTO
        )
        session[_SESSION_KEY] = theme
    return theme


def save_theme(request: HttpRequest, theme: str) -> None:
    """Store the person's theme choice (validated against Theme)."""
    if theme not in Theme.values:
        raise ValueError(f"unknown theme {theme!r}")
    Preference.objects.update_or_create(user=request.user, defaults={"theme": theme})
    request.session[_SESSION_KEY] = theme
