"""What every page's layout needs: the sidebar, the theme, the person's catalog identity."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from portal.preferences import theme_for
from portal.registry import registry

_CORE_NAV = [
    ("Home", "home", "home"),
    ("Catalog", "catalog:entity_list", "catalog"),
    ("APIs", "catalog:api_list", "api"),
    ("Docs", "techdocs:docs_home", "docs"),
    ("Create…", "catalog:create_home", "create"),
    ("Search", "search", "search"),
]


def _url(name: str) -> str:
    if name.startswith("/"):
        return name
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _entry(label: str, url: str, icon: str, path: str) -> dict[str, Any]:
    active = path == url if url == "/" else bool(url) and path.startswith(url)
    return {"label": label, "url": url, "icon": icon, "active": active}


def layout(request: HttpRequest) -> dict[str, Any]:
    """Return the sidebar entries (core, then plugins', then Settings) and the theme."""
    path = request.path
    sidebar = [_entry(label, _url(name), icon, path) for label, name, icon in _CORE_NAV]
    sidebar += [
        _entry(item.label, url, item.icon, path)
        for item in registry.navigation
        if (url := _url(item.url_name))
    ]
    return {
        "sidebar": sidebar,
        "settings_entry": _entry("Settings", _url("settings"), "settings", path),
        "theme": theme_for(request),
        "guest_signin": settings.GREENROOM_GUEST_SIGNIN,
    }
