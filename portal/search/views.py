"""The search page (/search) and the header box's suggestions: thin adapters over query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.search import query, sources

PAGE_SIZE = 20
SUGGESTIONS = 6
CORE_TYPES = {"software-catalog": "Entity", "techdocs": "Docs", "template": "Template"}
KINDS = ["Component", "API", "Resource", "System", "Domain", "Group", "User", "Template"]
LIFECYCLES = ["experimental", "production", "deprecated"]


def type_labels() -> dict[str, str]:
    """Return the document types people can filter by, with their labels."""
    labels = dict(CORE_TYPES)
    for type_ in sources.collator_types():
        labels.setdefault(type_, type_.replace("-", " ").replace("_", " ").capitalize())
    return labels


@dataclass
class SearchForm:
    """What the search page was asked: the term, the filters and the page cursor."""

    term: str = ""
    types: list[str] = field(default_factory=list)
    kind: str = ""
    lifecycle: str = ""
    owner: str = ""
    cursor: str = ""

    @classmethod
    def from_query(cls, params: QueryDict) -> SearchForm:
        labels = type_labels()

        def clean(name: str, limit: int = 255) -> str:
            return params.get(name, "").replace("\x00", "").strip()[:limit]

        return cls(
            term=clean("q", query.MAX_TERM_LENGTH),
            types=[t for t in params.getlist("types") if t in labels],
            kind=clean("kind", 63),
            lifecycle=clean("lifecycle"),
            owner=clean("owner"),
            cursor=clean("page", 40),
        )

    @property
    def filters(self) -> dict[str, str]:
        return {
            key: value
            for key, value in (
                ("kind", self.kind),
                ("lifecycle", self.lifecycle),
                ("owner", self.owner),
            )
            if value
        }

    @property
    def asked(self) -> bool:
        return bool(self.term or self.types or self.filters)

    def url_for_page(self, cursor: str | None) -> str:
        params: list[tuple[str, str]] = [("q", self.term)]
        params += [("types", t) for t in self.types]
        params += list(self.filters.items())
        if cursor:
            params.append(("page", cursor))
        return "?" + urlencode(params)


def _results(form: SearchForm, limit: int) -> dict[str, Any] | None:
    if not form.asked:
        return None
    try:
        return query.search(
            form.term,
            types=form.types,
            filters=form.filters,
            page_cursor=form.cursor or None,
            page_limit=limit,
        )
    except query.InvalidQuery:  # a cursor edited by hand: start again at the first page
        return query.search(form.term, types=form.types, filters=form.filters, page_limit=limit)


def _labelled(results: dict[str, Any] | None) -> list[dict[str, Any]]:
    if results is None:
        return []
    labels = type_labels()
    return [
        {
            **result,
            "label": result["document"].get("kind") or labels.get(result["type"], result["type"]),
            "type_label": labels.get(result["type"], result["type"]),
        }
        for result in results["results"]
    ]


def _page_url(form: SearchForm, results: dict[str, Any] | None, which: str) -> str:
    cursor = results.get(which) if results else None
    if not cursor:
        return ""
    return form.url_for_page(None if query.decode_cursor(cursor) == 0 else cursor)


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """Search everything: the term, type/kind/lifecycle/owner filters, and pages of 20."""
    form = SearchForm.from_query(request.GET)
    results = _results(form, PAGE_SIZE)
    context = {
        "form": form,
        "search_term": form.term,
        "results": _labelled(results),
        "total": results["numberOfResults"] if results else 0,
        "next_url": _page_url(form, results, "nextPageCursor"),
        "previous_url": _page_url(form, results, "previousPageCursor"),
        "type_labels": type_labels(),
        "kinds": KINDS,
        "lifecycles": LIFECYCLES,
    }
    template = "portal/search.html"
    if request.htmx and request.htmx.target == "search-results":
        template = "portal/partials/_search_results.html"
    return render(request, template, context)


@require_GET
def suggestions(request: HttpRequest) -> HttpResponse:
    """Return the header box's suggestions for what the person typed (a few best results)."""
    form = SearchForm(term=request.GET.get("q", "").replace("\x00", "").strip()[:200])
    results = _results(form, SUGGESTIONS) if form.term else None
    return render(
        request,
        "portal/partials/_search_suggestions.html",
        {"form": form, "results": _labelled(results), "see_all": form.url_for_page(None)},
    )
