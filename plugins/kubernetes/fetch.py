"""Reading clusters: every object type of a query from every cluster at once, within one
deadline, cached briefly; pod logs; the health check's /version calls.

Each (cluster, object type) list is one request on a shared thread pool, with the client's
`_request_timeout` and an overall deadline, so a dead or slow cluster costs the page at most
`timeoutSeconds` and never hides the other clusters' answers. Failures become data (Backstage's
fetch-error shape) with a message naming the cluster and what failed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from django.core.cache import cache

from plugins.kubernetes.clusters import (
    Cluster,
    ClusterConfigError,
    CustomResource,
    KubernetesSettings,
    api_client,
    current_settings,
)
from plugins.kubernetes.selection import ObjectQuery
from portal.plugins import PluginHealth

# How long past the request timeout the page still waits for an answer already arriving.
DEADLINE_GRACE_SECONDS = 0.5
LOG_LIMIT_BYTES = 512 * 1024
CACHE_PREFIX = "kubernetes:objects:v1:"


@dataclass(frozen=True)
class ResourceType:
    """A built-in object type the plugin lists (Backstage's objectTypes)."""

    type: str  # Backstage's name for it, the plural
    api: str  # the client's API class
    list_namespaced: str
    list_all: str
    path: str  # the REST path, for error reports

    def resource_path(self, namespace: str) -> str:
        prefix, plural = self.path.rsplit("/", 1)
        return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else self.path


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "pods", "CoreV1Api", "list_namespaced_pod", "list_pod_for_all_namespaces", "/api/v1/pods"
    ),
    ResourceType(
        "services",
        "CoreV1Api",
        "list_namespaced_service",
        "list_service_for_all_namespaces",
        "/api/v1/services",
    ),
    ResourceType(
        "configmaps",
        "CoreV1Api",
        "list_namespaced_config_map",
        "list_config_map_for_all_namespaces",
        "/api/v1/configmaps",
    ),
    ResourceType(
        "deployments",
        "AppsV1Api",
        "list_namespaced_deployment",
        "list_deployment_for_all_namespaces",
        "/apis/apps/v1/deployments",
    ),
    ResourceType(
        "replicasets",
        "AppsV1Api",
        "list_namespaced_replica_set",
        "list_replica_set_for_all_namespaces",
        "/apis/apps/v1/replicasets",
    ),
    ResourceType(
        "statefulsets",
        "AppsV1Api",
        "list_namespaced_stateful_set",
        "list_stateful_set_for_all_namespaces",
        "/apis/apps/v1/statefulsets",
    ),
    ResourceType(
        "daemonsets",
        "AppsV1Api",
        "list_namespaced_daemon_set",
        "list_daemon_set_for_all_namespaces",
        "/apis/apps/v1/daemonsets",
    ),
    ResourceType(
        "jobs",
        "BatchV1Api",
        "list_namespaced_job",
        "list_job_for_all_namespaces",
        "/apis/batch/v1/jobs",
    ),
    ResourceType(
        "cronjobs",
        "BatchV1Api",
        "list_namespaced_cron_job",
        "list_cron_job_for_all_namespaces",
        "/apis/batch/v1/cronjobs",
    ),
    ResourceType(
        "ingresses",
        "NetworkingV1Api",
        "list_namespaced_ingress",
        "list_ingress_for_all_namespaces",
        "/apis/networking.k8s.io/v1/ingresses",
    ),
    ResourceType(
        "horizontalpodautoscalers",
        "AutoscalingV2Api",
        "list_namespaced_horizontal_pod_autoscaler",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "/apis/autoscaling/v2/horizontalpodautoscalers",
    ),
)

_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=32, thread_name_prefix="kubernetes"
            )
        return _pool


# --- failures, in words -------------------------------------------------------------------


def _status_message(body: Any) -> str:
    """Return the message of a Kubernetes Status body, or the body's start."""
    if not body:
        return ""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        return str(json.loads(text).get("message") or "")
    except (ValueError, AttributeError):
        return text.strip()[:300]


def fetch_error(
    error_type: str,
    message: str,
    status: int | None = None,
    resource_type: str = "",
    resource_path: str = "",
) -> dict[str, Any]:
    """Return one fetch error in Backstage's shape (plus the object type it concerns)."""
    return {
        "errorType": error_type,
        "statusCode": status,
        "resourceType": resource_type,
        "resourcePath": resource_path,
        "message": message,
    }


def describe_failure(exc: BaseException, timeout: float) -> tuple[str, int | None, str]:
    """Return (Backstage error type, HTTP status, message for people) for a failed call."""
    import urllib3

    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, ApiException):
        if not exc.status:  # the client reports TLS failures as status 0
            detail = str(exc.reason or "").strip().splitlines()
            return "FETCH_ERROR", None, f"TLS failed: {detail[-1] if detail else 'unknown error'}"
        try:
            label = f"{exc.status} {HTTPStatus(exc.status).phrase}"
        except ValueError:
            label = str(exc.status)
        detail = _status_message(exc.body)
        suffix = f": {detail}" if detail else ""
        if exc.status == 401:
            return "UNAUTHORIZED_ERROR", 401, f"credentials refused ({label})"
        if exc.status == 403:
            return "UNAUTHORIZED_ERROR", 403, f"not allowed ({label}){suffix}"
        if exc.status == 404:
            return "NOT_FOUND", 404, f"not found ({label}){suffix}"
        if exc.status == 400:
            return "BAD_REQUEST", 400, f"request refused ({label}){suffix}"
        if exc.status >= 500:
            return "SYSTEM_ERROR", exc.status, f"the API server failed ({label}){suffix}"
        return "UNKNOWN_ERROR", exc.status, f"unexpected answer ({label}){suffix}"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return describe_failure(exc.reason, timeout)
    # Connection failures first: urllib3's NewConnectionError is a ConnectTimeoutError.
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return "FETCH_ERROR", None, f"host name not found ({exc.conn.host})"
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        reason = re.search(r"\[Errno -?\d+\] (.+)$", str(exc))
        why = reason.group(1).lower() if reason else "no connection"
        return "FETCH_ERROR", None, f"cannot connect to {exc.conn.host}:{exc.conn.port} ({why})"
    if isinstance(
        exc, (urllib3.exceptions.TimeoutError, TimeoutError, concurrent.futures.TimeoutError)
    ):
        return "FETCH_ERROR", None, f"no answer within {timeout:g} s"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "FETCH_ERROR", None, f"TLS failed: {exc}"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "FETCH_ERROR", None, f"connection broken ({exc})"
    if isinstance(exc, ClusterConfigError):
        return "CONFIG_ERROR", None, f"cannot be configured: {exc}"
    return "UNKNOWN_ERROR", None, f"{type(exc).__name__}: {str(exc)[:300]}"


# --- one list ---------------------------------------------------------------------------------


def _list_builtin(
    cluster: Cluster, resource: ResourceType, query: ObjectQuery, timeout: float
) -> list[dict[str, Any]]:
    from kubernetes import client

    api_client_ = api_client(cluster)
    api = getattr(client, resource.api)(api_client_)
    options = {"label_selector": query.label_selector, "_request_timeout": (timeout, timeout)}
    if query.namespace:
        answer = getattr(api, resource.list_namespaced)(query.namespace, **options)
    else:
        answer = getattr(api, resource.list_all)(**options)
    # The typed objects back to the API's JSON shape (camelCase keys, RFC 3339 times).
    return [api_client_.sanitize_for_serialization(item) for item in answer.items or []]


def _list_custom(
    cluster: Cluster, resource: CustomResource, query: ObjectQuery, timeout: float
) -> list[dict[str, Any]]:
    from kubernetes import client

    api = client.CustomObjectsApi(api_client(cluster))
    options = {"label_selector": query.label_selector, "_request_timeout": (timeout, timeout)}
    if query.namespace:
        answer = api.list_namespaced_custom_object(
            resource.group, resource.api_version, query.namespace, resource.plural, **options
        )
    else:
        answer = api.list_cluster_custom_object(
            resource.group, resource.api_version, resource.plural, **options
        )
    return list(answer.get("items") or [])


# --- many lists, one deadline -------------------------------------------------------------


def cache_key(cluster: Cluster, query: ObjectQuery, timeout: float) -> str:
    """Return the cache key of one cluster's answer to one query."""
    raw = json.dumps([cluster.fingerprint, query.label_selector, query.namespace, timeout])
    return CACHE_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def forget(queries: Iterable[ObjectQuery], settings: KubernetesSettings | None = None) -> None:
    """Drop the cached answers to these queries (a person asked for fresh data)."""
    settings = settings or current_settings()
    keys = [
        cache_key(cluster, query, settings.timeout)
        for query in queries
        for cluster in settings.clusters
        if not query.cluster or cluster.name == query.cluster
    ]
    cache.delete_many(keys)


def _cluster_result(cluster: Cluster, query: ObjectQuery) -> dict[str, Any]:
    return {
        "cluster": {"name": cluster.name, "dashboardUrl": cluster.dashboard_url},
        "query": {"labelSelector": query.label_selector, "namespace": query.namespace},
        "resources": [],
        "errors": [],
        "failure": "",
        "fetchedAt": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _finish(result: dict[str, Any], attempted: int) -> dict[str, Any]:
    """Name the cluster in its errors; when nothing answered, say so once."""
    name = result["cluster"]["name"]
    errors = result["errors"]
    if errors and len(errors) >= attempted and not result["resources"]:
        messages = {error["message"] for error in errors}
        first = errors[0]["message"]
        if len(messages) == 1:
            result["failure"] = f"cluster {name}: {first}"
        else:
            result["failure"] = f"cluster {name}: every request failed (first: {first})"
    for error in errors:
        what = f"{error['resourceType']}: " if error["resourceType"] else ""
        error["message"] = f"cluster {name}: {what}{error['message']}"
    order = {resource.type: i for i, resource in enumerate(RESOURCE_TYPES)}
    result["resources"].sort(key=lambda r: (order.get(r["type"], len(order)), r["type"]))
    return result


# One list call: the result it belongs to, the object type, its REST path, the call.
_Call = tuple[dict[str, Any], str, str, Callable[[], Any]]


def fetch(
    queries: Iterable[ObjectQuery], settings: KubernetesSettings | None = None
) -> dict[ObjectQuery, list[dict[str, Any]]]:
    """Return, for each query, one result per cluster it concerns (cluster order).

    Cached answers are used while fresh (`cacheSeconds`); the others are fetched together,
    every (cluster, object type) as its own request, and whatever has not answered when the
    deadline passes is reported as "no answer within N s".
    """
    settings = settings or current_settings()
    timeout = settings.timeout
    answers: dict[ObjectQuery, list[dict[str, Any]]] = {}
    pending: list[_Call] = []
    attempted: dict[int, int] = {}
    fresh: list[tuple[str, dict[str, Any]]] = []
    for query in dict.fromkeys(queries):
        if query.cluster:
            chosen = settings.cluster(query.cluster)
            if chosen is None:
                missing = Cluster(name=query.cluster)
                result = _cluster_result(missing, query)
                result["failure"] = (
                    f"cluster {query.cluster}: no cluster of that name is configured "
                    f"(configured: {', '.join(c.name for c in settings.clusters) or 'none'})"
                )
                answers[query] = [result]
                continue
            clusters: tuple[Cluster, ...] = (chosen,)
        else:
            clusters = settings.clusters
        answers[query] = []
        for cluster in clusters:
            key = cache_key(cluster, query, timeout)
            cached = cache.get(key) if settings.cache_seconds else None
            if cached is not None:
                answers[query].append(cached)
                continue
            result = _cluster_result(cluster, query)
            answers[query].append(result)
            fresh.append((key, result))
            try:
                api_client(cluster)  # a configuration problem fails fast, once
            except ClusterConfigError as exc:
                kind, status, message = describe_failure(exc, timeout)
                result["errors"].append(fetch_error(kind, message, status))
                attempted[id(result)] = 1
                continue
            for resource in RESOURCE_TYPES:
                pending.append(
                    (
                        result,
                        resource.type,
                        resource.resource_path(query.namespace),
                        lambda c=cluster, r=resource, q=query: _list_builtin(c, r, q, timeout),
                    )
                )
            for custom in cluster.custom_resources:
                path = (
                    f"/apis/{custom.group}/{custom.api_version}"
                    + (f"/namespaces/{query.namespace}" if query.namespace else "")
                    + f"/{custom.plural}"
                )
                pending.append(
                    (
                        result,
                        custom.type_name,
                        path,
                        lambda c=cluster, r=custom, q=query: _list_custom(c, r, q, timeout),
                    )
                )
            attempted[id(result)] = len(RESOURCE_TYPES) + len(cluster.custom_resources)
    _run(pending, timeout)
    for key, result in fresh:
        _finish(result, attempted.get(id(result), 1))
        if settings.cache_seconds:
            cache.set(key, result, settings.cache_seconds)
    return answers


def _run(pending: list[_Call], timeout: float) -> None:
    """Run every list call concurrently; record answers and failures on their results."""
    if not pending:
        return
    pool = _executor()
    futures = {pool.submit(call): (result, type_, path) for result, type_, path, call in pending}
    done, not_done = concurrent.futures.wait(futures, timeout=timeout + DEADLINE_GRACE_SECONDS)
    for future in not_done:
        future.cancel()  # not started yet: don't spend a thread on a page that moved on
    for future, (result, type_, path) in futures.items():
        if future in done and future.exception() is None:
            result["resources"].append({"type": type_, "resources": future.result()})
            continue
        exc = future.exception() if future in done else TimeoutError()
        kind, status, message = describe_failure(exc, timeout)  # type: ignore[arg-type]
        result["errors"].append(fetch_error(kind, message, status, type_, path))


# --- pod logs and health ----------------------------------------------------------------------


class ClusterCallError(Exception):
    """A call to a cluster failed; the message names the cluster and says why."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def read_pod_log(
    cluster: Cluster, namespace: str, pod: str, container: str, lines: int, timeout: float
) -> str:
    """Return the last `lines` lines of a pod container's log (at most LOG_LIMIT_BYTES).

    Raise ClusterCallError naming the cluster. The body is read raw: a log line that
    happens to be JSON must stay text.
    """
    from kubernetes import client

    try:
        api = client.CoreV1Api(api_client(cluster))
        answer = api.read_namespaced_pod_log(
            pod,
            namespace,
            container=container or None,
            tail_lines=lines,
            limit_bytes=LOG_LIMIT_BYTES,
            _request_timeout=(timeout, timeout),
            _preload_content=False,
        )
        return answer.data.decode("utf-8", "replace")
    except Exception as exc:
        _kind, status, message = describe_failure(exc, timeout)
        raise ClusterCallError(f"cluster {cluster.name}: {message}", status) from exc


def _version(cluster: Cluster, timeout: float) -> str:
    from kubernetes import client

    info = client.VersionApi(api_client(cluster)).get_code(_request_timeout=(timeout, timeout))
    return str(info.git_version)


def check_clusters(max_seconds: float, settings: KubernetesSettings | None = None) -> PluginHealth:
    """Ask every cluster for /version at once; ok when all answer in time."""
    settings = settings or current_settings()
    if not settings.clusters:
        return PluginHealth("ok", "no clusters configured")
    timeout = max(0.5, min(settings.timeout, max_seconds - DEADLINE_GRACE_SECONDS))
    started = time.monotonic()
    pool = _executor()
    futures = {pool.submit(_version, cluster, timeout): cluster for cluster in settings.clusters}
    concurrent.futures.wait(futures, timeout=timeout + DEADLINE_GRACE_SECONDS)
    answered, failed = [], []
    for future, cluster in futures.items():
        if future.done() and future.exception() is None:
            answered.append(f"{cluster.name} ({future.result()})")
            continue
        exc = future.exception() if future.done() else TimeoutError()
        _kind, _status, message = describe_failure(exc, timeout)  # type: ignore[arg-type]
        failed.append(f"cluster {cluster.name}: {message}")
    took = time.monotonic() - started
    if failed:
        return PluginHealth("degraded", "; ".join(failed))
    return PluginHealth("ok", f"{', '.join(answered)} answered in {took:.1f} s")
