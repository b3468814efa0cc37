"""Problems in what a cluster returned, as Backstage's kubernetes-common error detection
finds them: crash loops, images that cannot be pulled, containers killed for memory,
containers not ready, pods no node can take, failing deployments, autoscalers at their
maximum. Each names the object (and container), says what Kubernetes said, and since when.
"""

from __future__ import annotations

from typing import Any

ERROR, WARNING = "error", "warning"
IMAGE_PULL_REASONS = ("ImagePullBackOff", "ErrImagePull", "InvalidImageName")


def _problem(
    cluster: str,
    kind: str,
    obj: dict[str, Any],
    *,
    type_: str,
    message: str,
    since: str | None,
    severity: str = ERROR,
    container: str = "",
    reason: str = "",
) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {
        "cluster": cluster,
        "kind": kind,
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "container": container,
        "type": type_,
        "severity": severity,
        "reason": reason,
        "message": message,
        "since": since or "",
    }


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type_:
            return condition
    return {}


def pod_problems(cluster: str, pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Return what is wrong with one pod (nothing for a pod that finished its work)."""
    status = pod.get("status") or {}
    phase = status.get("phase", "")
    if phase == "Succeeded":
        return []
    found = []
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        found.append(
            _problem(
                cluster,
                "Pod",
                pod,
                type_="unschedulable",
                message=scheduled.get("message") or "no node can run this pod",
                since=scheduled.get("lastTransitionTime"),
                reason="Unschedulable",
            )
        )
    ready_since = _condition(pod, "Ready").get("lastTransitionTime") or status.get("startTime")
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for container in statuses:
        found += _container_problems(cluster, pod, container, ready_since)
    return found


def _container_problems(
    cluster: str, pod: dict[str, Any], container: dict[str, Any], ready_since: str | None
) -> list[dict[str, Any]]:
    name = container.get("name", "")
    state = container.get("state") or {}
    waiting = state.get("waiting") or {}
    terminated = state.get("terminated") or {}
    last = (container.get("lastState") or {}).get("terminated") or {}
    reason = waiting.get("reason", "")
    said = waiting.get("message") or ""
    found = []
    if reason == "CrashLoopBackOff":
        restarts = container.get("restartCount", 0)
        exit_code = last.get("exitCode")
        detail = f", last exit code {exit_code} ({last.get('reason', 'terminated')})"
        message = f"container {name} keeps crashing: restarted {restarts} times"
        message += (detail if exit_code is not None else "") + (f". {said}" if said else "")
        found.append(
            _problem(
                cluster,
                "Pod",
                pod,
                type_="crash-loop-back-off",
                message=message,
                since=last.get("finishedAt") or ready_since,
                container=name,
                reason=reason,
            )
        )
    elif reason in IMAGE_PULL_REASONS:
        image = container.get("image", "")
        found.append(
            _problem(
                cluster,
                "Pod",
                pod,
                type_="image-pull-back-off",
                message=f"container {name} cannot pull its image {image}: {said or reason}",
                since=ready_since,
                container=name,
                reason=reason,
            )
        )
    killed = terminated if terminated.get("reason") == "OOMKilled" else last
    if killed.get("reason") == "OOMKilled":
        limit = _limit(pod, name) or "no memory limit set"
        found.append(
            _problem(
                cluster,
                "Pod",
                pod,
                type_="oom-killed",
                message=f"container {name} was killed for running out of memory ({limit}); "
                f"exit code {killed.get('exitCode', 137)}",
                since=killed.get("finishedAt"),
                container=name,
                reason="OOMKilled",
            )
        )
    if found or container.get("ready", False) or (pod.get("status") or {}).get("phase") == "Failed":
        return found
    if terminated.get("reason") == "Completed":
        return found  # an init container that did its job
    what = reason or terminated.get("reason") or "not ready"
    text = said or terminated.get("message") or ""
    found.append(
        _problem(
            cluster,
            "Pod",
            pod,
            type_="containers-not-ready",
            message=f"container {name} is not ready ({what})" + (f": {text}" if text else ""),
            since=ready_since,
            container=name,
            reason=what,
        )
    )
    return found


def _limit(pod: dict[str, Any], container: str) -> str:
    for spec in (pod.get("spec") or {}).get("containers") or []:
        if spec.get("name") == container:
            limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
            return f"limit {limit}" if limit else ""
    return ""


def deployment_problems(cluster: str, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a deployment's failing conditions (Progressing False, ReplicaFailure,
    Available False)."""
    found = []
    for condition in (deployment.get("status") or {}).get("conditions") or []:
        type_, state = condition.get("type"), condition.get("status")
        failing = (
            (type_ == "Progressing" and state == "False")
            or (type_ == "ReplicaFailure" and state == "True")
            or (type_ == "Available" and state == "False")
        )
        if failing:
            reason = condition.get("reason", "")
            said = condition.get("message") or ""
            found.append(
                _problem(
                    cluster,
                    "Deployment",
                    deployment,
                    type_=f"deployment-{type_.lower()}",
                    message=f"{type_} is {state} ({reason})" + (f": {said}" if said else ""),
                    since=condition.get("lastTransitionTime") or condition.get("lastUpdateTime"),
                    reason=reason,
                )
            )
    return found


def hpa_problems(cluster: str, hpa: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a warning when an autoscaler runs at its maximum replicas (it cannot add more)."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    maximum, current = spec.get("maxReplicas"), status.get("currentReplicas")
    if maximum is None or current is None or current < maximum:
        return []
    usage = ""
    for metric in status.get("currentMetrics") or []:
        resource = metric.get("resource") or {}
        utilization = (resource.get("current") or {}).get("averageUtilization")
        if utilization is not None:
            usage = f"; {resource.get('name', 'usage')} at {utilization}% of requests"
            break
    target = (spec.get("scaleTargetRef") or {}).get("name", "")
    message = f"autoscaler for {target} runs at its maximum of {maximum} replicas{usage}; "
    message += "it cannot scale further"
    return [
        _problem(
            cluster,
            "HorizontalPodAutoscaler",
            hpa,
            type_="hpa-max-current-replicas",
            message=message,
            since=status.get("lastScaleTime"),
            severity=WARNING,
            reason="MaxReplicas",
        )
    ]


def detect(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the problems in one cluster's result, errors before warnings, oldest first."""
    cluster = result["cluster"]["name"]
    found: list[dict[str, Any]] = []
    for group in result.get("resources") or []:
        for obj in group["resources"]:
            if group["type"] == "pods":
                found += pod_problems(cluster, obj)
            elif group["type"] == "deployments":
                found += deployment_problems(cluster, obj)
            elif group["type"] == "horizontalpodautoscalers":
                found += hpa_problems(cluster, obj)
    return sorted(found, key=lambda p: (p["severity"] != ERROR, p["since"] or "~", p["name"]))
