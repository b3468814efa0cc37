"""Which Kubernetes objects belong to an entity: Backstage's annotations, made into queries.

- `backstage.io/kubernetes-label-selector`: the selector as written (wins over the id);
- `backstage.io/kubernetes-id`: objects labelled `backstage.io/kubernetes-id=<id>`;
- `backstage.io/kubernetes-namespace`: only that namespace (all namespaces otherwise);
- `backstage.io/kubernetes-cluster`: only that configured cluster (all otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

ID_ANNOTATION = "backstage.io/kubernetes-id"
SELECTOR_ANNOTATION = "backstage.io/kubernetes-label-selector"
NAMESPACE_ANNOTATION = "backstage.io/kubernetes-namespace"
CLUSTER_ANNOTATION = "backstage.io/kubernetes-cluster"
ANNOTATIONS = (ID_ANNOTATION, SELECTOR_ANNOTATION)

# A label value (what `in (a,b)` may hold) and a namespace name (an RFC 1123 label).
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Pod names are DNS subdomains (dots allowed).
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")


class SelectionError(ValueError):
    """An entity's Kubernetes annotations cannot be used as written."""


@dataclass(frozen=True)
class ObjectQuery:
    """What to fetch: objects matching a label selector, in one namespace ("" = all), from
    one configured cluster ("" = every one)."""

    label_selector: str
    namespace: str = ""
    cluster: str = ""

    def describe(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        return f"{self.label_selector} in {where}"


def annotations_of(body: dict[str, Any]) -> dict[str, str]:
    """Return an entity body's annotations (strings only)."""
    found = (body.get("metadata") or {}).get("annotations") or {}
    return {str(k): v for k, v in found.items() if isinstance(v, str)}


def opts_in(body: dict[str, Any]) -> bool:
    """Return whether the entity carries the id or the label-selector annotation."""
    annotations = annotations_of(body)
    return any(annotations.get(name, "").strip() for name in ANNOTATIONS)


def query_for(body: dict[str, Any]) -> ObjectQuery:
    """Return the query an entity's annotations describe; raise SelectionError."""
    annotations = annotations_of(body)
    selector = annotations.get(SELECTOR_ANNOTATION, "").strip()
    kubernetes_id = annotations.get(ID_ANNOTATION, "").strip()
    if not selector and not kubernetes_id:
        raise SelectionError(f"the entity has neither {ID_ANNOTATION} nor {SELECTOR_ANNOTATION}")
    if not selector:
        if not LABEL_VALUE.match(kubernetes_id):
            raise SelectionError(
                f"{ID_ANNOTATION} {kubernetes_id!r} is not a valid label value (up to 63 "
                "letters, digits, '-', '_' or '.', starting and ending with a letter or digit)"
            )
        selector = f"{ID_ANNOTATION}={kubernetes_id}"
    namespace = annotations.get(NAMESPACE_ANNOTATION, "").strip()
    if namespace and not DNS_LABEL.match(namespace):
        raise SelectionError(f"{NAMESPACE_ANNOTATION} {namespace!r} is not a namespace name")
    return ObjectQuery(selector, namespace, annotations.get(CLUSTER_ANNOTATION, "").strip())


def id_only(body: dict[str, Any]) -> str | None:
    """Return the entity's kubernetes-id when that alone selects its objects (no selector
    annotation), so several entities can share one `in (…)` query."""
    annotations = annotations_of(body)
    if annotations.get(SELECTOR_ANNOTATION, "").strip():
        return None
    kubernetes_id = annotations.get(ID_ANNOTATION, "").strip()
    return kubernetes_id if kubernetes_id and LABEL_VALUE.match(kubernetes_id) else None
