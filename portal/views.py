"""Project-level pages and endpoints that belong to no app: health, home, settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.models import OnboardingLink, Theme
from portal.plugins import PluginTimeout
from portal.preferences import save_theme, theme_for
from portal.registry import registry

log = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """Report liveness and whether the database answers (for load balancers and compose)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "error", "error": str(exc)}, status=503)


def render_contribution(
    key: str, title: str, render: Callable[[], str], what: str = "card"
) -> dict[str, Any]:
    """Render one contributed card or tab; one that raises or times out becomes an error.

    One broken contribution (a plugin's bug, an outside service down or slow) must not take
    the page down: the error is logged and the card says it could not be shown.
    """
    try:
        html = render()
    except PluginTimeout as exc:
        log.warning("%s %s", key, exc)
        error = f"This {what} could not be shown: its data gave {exc}."
        return {"key": key, "title": title, "error": error, "html": ""}
    except Exception:
        log.exception("%s failed to render", key)
        error = f"This {what} could not be shown. The error has been logged."
        return {"key": key, "title": title, "error": error, "html": ""}
    return {"key": key, "title": title, "error": "", "html": html}


def render_cards(request: HttpRequest, slot: str) -> list[dict[str, Any]]:
    """Render the registered cards of a page slot, leaving out those with nothing to show."""
    rendered = [
        render_contribution(card.key, card.title, lambda card=card: card.render(request))
        for card in registry.cards_for(slot)
    ]
    return [card for card in rendered if card["html"] or card["error"]]


def render_entity_cards(request: HttpRequest, entity: Any) -> list[dict[str, Any]]:
    """Render the contributed cards shown on this entity's Overview."""
    rendered = [
        render_contribution(card.key, card.title, lambda card=card: card.render(request, entity))
        for card in registry.entity_cards_for(entity)
    ]
    return [card for card in rendered if card["html"] or card["error"]]


def home(request: HttpRequest) -> HttpResponse:
    """The home page: onboarding links, then the registered cards (stars, team, recent…)."""
    return render(
        request,
        "portal/home.html",
        {
            "onboarding_links": list(OnboardingLink.objects.all()[:20]),
            "cards": render_cards(request, "home"),
        },
    )


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    """Profile, the person's groups (a card from the catalog) and the theme choice."""
    if request.method == "POST":
        try:
            save_theme(request, request.POST.get("theme", ""))
        except ValueError:
            messages.error(request, "Choose light, dark or your system's theme.")
        else:
            messages.success(request, "Theme saved.")
        return redirect("settings")
    return render(
        request,
        "portal/settings.html",
        {
            "themes": Theme.choices,
            "current_theme": theme_for(request),
            "cards": render_cards(request, "settings"),
            "github_configured": bool(settings.GITHUB_CLIENT_ID),
        },
    )
