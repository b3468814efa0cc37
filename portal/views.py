"""Project-level pages and endpoints that belong to no app: health, home, settings."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.models import OnboardingLink, Theme
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


def render_cards(request: HttpRequest, slot: str) -> list[dict[str, Any]]:
    """Render the registered cards of a slot; a card that raises becomes an error card.

    One broken card (a plugin's bug, an outside service down) must not take the page down.
    """
    cards = []
    for card in registry.cards_for(slot):
        try:
            html = card.render(request)
        except Exception:
            log.exception("card %s failed to render", card.key)
            cards.append({"key": card.key, "title": card.title, "error": True, "html": ""})
            continue
        if html:
            cards.append({"key": card.key, "title": card.title, "error": False, "html": html})
    return cards


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
