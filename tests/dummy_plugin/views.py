from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tests.dummy_plugin.models import DummyNote


def index(request: HttpRequest) -> HttpResponse:
    """The plugin's own page, inside the portal's layout."""
    notes = DummyNote.objects.order_by("-pk")[:50]
    return render(request, "dummy_plugin/index.html", {"notes": notes})
