"""The plugin's pages (HTMX fragments, and whole pages without JavaScript): an entity's
objects, a group's workloads, a pod's recent logs. Thin: look up, fetch, shape, render."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from plugins.kubernetes import groups
from plugins.kubernetes.clusters import current_settings
from plugins.kubernetes.detection import ERROR, detect
from plugins.kubernetes.fetch import ClusterCallError, fetch, forget, read_pod_log
from plugins.kubernetes.selection import (
    DNS_LABEL,
    DNS_SUBDOMAIN,
    SelectionError,
    query_for,
)
from plugins.kubernetes.summaries import summarize, versions_by_cluster, when


def _entity(namespace: str, kind: str, name: str) -> Any:
    from catalog.models import Entity

    if "\x00" in namespace + kind + name:
        raise Http404("no such entity")
    ref = f"{kind.lower()}:{namespace.lower()}/{name.lower()}"
    entity = Entity.objects.defer("search").filter(ref=ref).first()
    if entity is None:
        raise Http404(f"No {kind} named {namespace}/{name} in the catalog")
    return entity


def _page(request: HttpRequest, partial: str, context: dict[str, Any]) -> HttpResponse:
    """Render the fragment for HTMX, or the fragment inside the layout without it."""
    context["partial"] = partial
    context["now"] = timezone.now()
    template = partial if request.htmx else "kubernetes/fragment_page.html"
    return render(request, template, context)


def entity_tab_url(entity: Any) -> str:
    """Return the URL of an entity's Kubernetes tab."""
    name = (entity.body.get("metadata") or {}).get("name", entity.name)
    return reverse("catalog:entity_tab", args=(entity.namespace, entity.kind, name, "kubernetes"))


def _shown(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return problems with what templates need: `since` as a datetime."""
    return [dict(problem, since_at=when(problem["since"])) for problem in problems]


def cluster_failures(results: list[dict[str, Any]]) -> list[str]:
    """Return each cluster's failure, or its per-object-type errors, once each."""
    messages: list[str] = []
    for result in results:
        found = (
            [result["failure"]]
            if result.get("failure")
            else [error["message"] for error in result.get("errors") or []]
        )
        messages += [message for message in found if message not in messages]
    return messages


def entity_report(entity: Any, *, fresh: bool = False) -> dict[str, Any]:
    """Return what the tab and the API show of one entity: per-cluster results, detected
    problems, and fetch failures (or why its annotations cannot be used)."""
    try:
        query = query_for(entity.body)
    except SelectionError as exc:
        return {"selection_error": str(exc), "results": [], "problems": [], "failures": []}
    if fresh:
        forget([query])
    results = fetch([query])[query]
    problems = [problem for result in results for problem in detect(result)]
    problems.sort(key=lambda p: (p["severity"] != ERROR, p["cluster"], p["since"] or "~"))
    return {
        "query": query,
        "results": results,
        "problems": problems,
        "failures": cluster_failures(results),
    }


@require_GET
def entity_objects(request: HttpRequest, namespace: str, kind: str, name: str) -> HttpResponse:
    """One entity's objects in every cluster it concerns: problems first, then per cluster."""
    entity = _entity(namespace, kind, name)
    report = entity_report(entity, fresh=request.GET.get("fresh") == "1")
    summaries = [summarize(result) for result in report["results"]]
    context = {
        **report,
        "problems": _shown(report["problems"]),
        "problem_total": len(report["problems"]) + len(report["failures"]),
        "entity": entity,
        "summaries": summaries,
        "versions": versions_by_cluster(summaries),
        "selection": report["query"].describe() if "query" in report else "",
    }
    return _page(request, "kubernetes/partials/_objects.html", context)


@require_GET
def group_objects(request: HttpRequest, namespace: str, name: str) -> HttpResponse:
    """The workloads of everything a group owns directly, problems first."""
    group = _entity(namespace, "group", name)
    entities, total = groups.owned_entities(group)
    plan = groups.plan(entities)
    if request.GET.get("fresh") == "1":
        forget(plan.queries)
    answers = fetch(plan.queries)
    rows, problems, failures = [], [], []
    for member in plan.members:
        results = groups.results_for(member, answers)
        summaries = [summarize(result) for result in results]
        url = entity_tab_url(member.entity)
        found = [dict(p, entity=member.entity, entity_url=url) for r in results for p in detect(r)]
        problems += found
        failures += [m for m in cluster_failures(results) if m not in failures]
        rows.append(
            {
                "entity": member.entity,
                "url": url,
                "problem": member.problem,
                "summaries": summaries,
                "problem_count": len(found),
                "workload_count": sum(len(s["workloads"]) for s in summaries),
            }
        )
    problems.sort(key=lambda p: (p["severity"] != ERROR, p["entity"].ref, p["since"] or "~"))
    context = {
        "group": group,
        "rows": rows,
        "problems": _shown(problems),
        "problem_total": len(problems) + len(failures),
        "failures": failures,
        "total": total,
        "shown": len(plan.members),
        "query_count": len(plan.queries),
    }
    return _page(request, "kubernetes/partials/_group_objects.html", context)


@require_GET
def pod_logs(request: HttpRequest, cluster: str, namespace: str, pod: str) -> HttpResponse:
    """The last lines of a pod container's log, from a configured cluster only."""
    settings = current_settings()
    chosen = settings.cluster(cluster)
    if chosen is None:
        raise Http404(f"No cluster named {cluster!r} is configured")
    container = request.GET.get("container", "")
    if not DNS_LABEL.match(namespace) or not DNS_SUBDOMAIN.match(pod):
        raise Http404("not a namespace and pod name")
    if container and not DNS_LABEL.match(container):
        raise Http404("not a container name")
    context: dict[str, Any] = {
        "cluster": chosen,
        "namespace": namespace,
        "pod": pod,
        "container": container,
        "lines": settings.log_lines,
    }
    try:
        context["text"] = read_pod_log(
            chosen, namespace, pod, container, settings.log_lines, settings.timeout
        )
    except ClusterCallError as exc:
        context["error"] = str(exc)
    return _page(request, "kubernetes/partials/_logs.html", context)
