"""What the tab shows of one cluster's objects: workloads with their rollout status and
replicas, pods with phase, readiness, restarts, age, images and resources, the other objects
in one table, and which image versions run where."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

WORKLOAD_TYPES = ("deployments", "statefulsets", "daemonsets", "cronjobs", "jobs")
KINDS = {
    "pods": "Pod",
    "services": "Service",
    "configmaps": "ConfigMap",
    "deployments": "Deployment",
    "replicasets": "ReplicaSet",
    "statefulsets": "StatefulSet",
    "daemonsets": "DaemonSet",
    "jobs": "Job",
    "cronjobs": "CronJob",
    "ingresses": "Ingress",
    "horizontalpodautoscalers": "HorizontalPodAutoscaler",
}
OK, PROGRESSING, FAILING = "ok", "progressing", "failing"


def when(value: str | None) -> datetime | None:
    """Return an API timestamp as a datetime (templates show ages with timesince)."""
    return parse_datetime(value) if value else None


def split_image(image: str) -> tuple[str, str]:
    """Return (repository, tag or digest) of an image reference; "latest" when untagged."""
    if "@" in image:
        repository, digest = image.split("@", 1)
        return repository, digest[:19]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = image.rsplit(":", 1)
        return repository, tag
    return image, "latest"


def _by_type(result: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {group["type"]: group["resources"] for group in result.get("resources") or []}


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _containers(template_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list((template_spec or {}).get("containers") or [])


def _images(containers: list[dict[str, Any]]) -> list[str]:
    return [c.get("image", "") for c in containers if c.get("image")]


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == type_:
            return condition
    return {}


def deployment_rollout(deployment: dict[str, Any]) -> tuple[str, str]:
    """Return (state, words) of a deployment's rollout, as `kubectl rollout status` says it."""
    meta, spec, status = (
        _meta(deployment),
        deployment.get("spec") or {},
        deployment.get("status") or {},
    )
    desired = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    progressing = _condition(deployment, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return FAILING, "rollout failed: progress deadline exceeded"
    if _condition(deployment, "ReplicaFailure").get("status") == "True":
        return FAILING, "cannot create pods: " + _condition(deployment, "ReplicaFailure").get(
            "message", "replica failure"
        )
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return PROGRESSING, "waiting for the new spec to be observed"
    if updated < desired:
        return PROGRESSING, f"rolling out: {updated} of {desired} new replicas updated"
    if total > updated:
        return PROGRESSING, f"rolling out: {total - updated} old replicas pending termination"
    if available < updated:
        return PROGRESSING, f"rolling out: {available} of {updated} updated replicas available"
    if _condition(deployment, "Available").get("status") == "False":
        return FAILING, "unavailable"
    return OK, "complete"


def workload_row(type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Return one workload's row: kind, name, namespace, ready/desired, rollout, images."""
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    state, words = OK, ""
    if type_ == "deployments":
        desired, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        state, words = deployment_rollout(obj)
    elif type_ == "statefulsets":
        desired, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
        current, update = status.get("currentRevision"), status.get("updateRevision")
        if current and update and current != update:
            state = PROGRESSING
            words = f"rolling out: {status.get('updatedReplicas', 0)} of {desired} updated"
        else:
            state, words = (OK, "complete") if ready >= desired else (PROGRESSING, "starting")
    elif type_ == "daemonsets":
        desired, ready = status.get("desiredNumberScheduled", 0), status.get("numberReady", 0)
        updated = status.get("updatedNumberScheduled", 0)
        if updated < desired:
            state, words = PROGRESSING, f"rolling out: {updated} of {desired} nodes updated"
        else:
            state, words = (OK, "complete") if ready >= desired else (PROGRESSING, "starting")
    elif type_ == "jobs":
        desired, ready = spec.get("completions", 1), status.get("succeeded", 0)
        if _condition(obj, "Failed").get("status") == "True":
            state = FAILING
            words = "failed: " + (_condition(obj, "Failed").get("message") or "")
        elif _condition(obj, "Complete").get("status") == "True":
            words = "complete"
        else:
            state, words = PROGRESSING, f"running ({status.get('active', 0)} active)"
    else:  # cronjobs
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        template = template.get("spec") or {}
        desired = ready = None
        last = status.get("lastScheduleTime")
        words = f"schedule {spec.get('schedule', '?')}" + (
            " (suspended)" if spec.get("suspend") else ""
        )
        if last:
            words += f"; last run {last}"
    return {
        "kind": KINDS[type_],
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "uid": meta.get("uid", ""),
        "desired": desired,
        "ready": ready,
        "state": state,
        "status": words,
        "images": _images(_containers(template)),
        "created": when(meta.get("creationTimestamp")),
    }


def _resources(container: dict[str, Any]) -> dict[str, str]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    return {
        "requests": ", ".join(f"{k} {v}" for k, v in sorted(requests.items())) or "none",
        "limits": ", ".join(f"{k} {v}" for k, v in sorted(limits.items())) or "none",
    }


def _state(status: dict[str, Any]) -> str:
    state = status.get("state") or {}
    if "running" in state:
        return "running"
    if "waiting" in state:
        return (state["waiting"] or {}).get("reason") or "waiting"
    if "terminated" in state:
        return (state["terminated"] or {}).get("reason") or "terminated"
    return "unknown"


def pod_row(pod: dict[str, Any], owners: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Return one pod's row; `owners` maps a ReplicaSet/Job uid to its own owner."""
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    containers = []
    for container in spec.get("containers") or []:
        seen = statuses.get(container.get("name"), {})
        image = seen.get("image") or container.get("image", "")
        repository, tag = split_image(image)
        containers.append(
            {
                "name": container.get("name", ""),
                "image": image,
                "repository": repository,
                "tag": tag,
                "ready": bool(seen.get("ready")),
                "state": _state(seen),
                "restarts": seen.get("restartCount", 0),
                **_resources(container),
            }
        )
    owner_kind, owner_name = "", ""
    for reference in meta.get("ownerReferences") or []:
        owner_kind, owner_name = reference.get("kind", ""), reference.get("name", "")
        # A pod's ReplicaSet belongs to a Deployment (a Job's to a CronJob): show that.
        owner_kind, owner_name = owners.get(reference.get("uid", ""), (owner_kind, owner_name))
        break
    ready = sum(1 for c in containers if c["ready"])
    return {
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "phase": status.get("phase", "Unknown"),
        "ready": ready,
        "total": len(containers),
        "restarts": sum(c["restarts"] for c in containers),
        "created": when(meta.get("creationTimestamp")),
        "node": spec.get("nodeName", ""),
        "owner_kind": owner_kind,
        "owner_name": owner_name,
        "containers": containers,
        "healthy": status.get("phase") in ("Running", "Succeeded")
        and (ready == len(containers) or status.get("phase") == "Succeeded"),
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _other_row(type_: str, obj: dict[str, Any]) -> dict[str, Any]:
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    details = ""
    if type_ == "services":
        ports = ", ".join(
            f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []
        )
        details = f"{spec.get('type', 'ClusterIP')} {spec.get('clusterIP', '')} {ports}".strip()
    elif type_ == "ingresses":
        hosts = [rule.get("host", "*") for rule in spec.get("rules") or []]
        details = "hosts " + ", ".join(hosts) if hosts else "default backend"
    elif type_ == "horizontalpodautoscalers":
        target = (spec.get("scaleTargetRef") or {}).get("name", "")
        current = status.get("currentReplicas", 0)
        details = (
            f"scales {target}: {_count(current, 'replica')} "
            f"(min {spec.get('minReplicas', 1)}, max {spec.get('maxReplicas', '?')})"
        )
    elif type_ == "configmaps":
        keys = sorted((obj.get("data") or {}).keys())
        details = f"{_count(len(keys), 'key')}: " + ", ".join(keys[:8])
        details += "…" if len(keys) > 8 else ""
    else:  # a custom resource
        phase = status.get("phase") or status.get("status") or ""
        details = f"{obj.get('kind', type_)}" + (
            f": {phase}" if isinstance(phase, str) and phase else ""
        )
    return {
        "kind": KINDS.get(type_, obj.get("kind") or type_),
        "name": meta.get("name", ""),
        "namespace": meta.get("namespace", ""),
        "details": details,
        "created": when(meta.get("creationTimestamp")),
    }


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """Return one cluster's result as the rows the templates show."""
    by_type = _by_type(result)
    owners: dict[str, tuple[str, str]] = {}
    for type_ in ("replicasets", "jobs"):
        for obj in by_type.get(type_, []):
            for reference in _meta(obj).get("ownerReferences") or []:
                owners[_meta(obj).get("uid", "")] = (
                    reference.get("kind", ""),
                    reference.get("name", ""),
                )
    workloads = [workload_row(t, obj) for t in WORKLOAD_TYPES for obj in by_type.get(t, [])]
    pods = [pod_row(obj, owners) for obj in by_type.get("pods", [])]
    pods.sort(key=lambda p: (p["healthy"], p["namespace"], p["name"]))
    for workload in workloads:
        mine = [
            p
            for p in pods
            if (p["owner_kind"], p["owner_name"], p["namespace"])
            == (workload["kind"], workload["name"], workload["namespace"])
        ]
        workload["pods_total"] = len(mine)
        workload["pods_ready"] = sum(1 for p in mine if p["healthy"])
    others = [
        _other_row(type_, obj)
        for type_, objects in by_type.items()
        if type_ not in (*WORKLOAD_TYPES, "pods", "replicasets")
        for obj in objects
    ]
    versions = Counter((c["repository"], c["tag"]) for pod in pods for c in pod["containers"])
    return {
        "cluster": result["cluster"],
        "workloads": workloads,
        "pods": pods,
        "others": others,
        "versions": [
            {"repository": repo, "tag": tag, "pods": count}
            for (repo, tag), count in sorted(versions.items())
        ],
        "errors": result.get("errors") or [],
        "failure": result.get("failure", ""),
        "fetched_at": when(result.get("fetchedAt")),
        "empty": not (workloads or pods or others),
    }


def versions_by_cluster(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return what version of each image runs where: one row per repository, with each
    cluster's tags (and pod counts)."""
    table: dict[str, dict[str, list[str]]] = {}
    for summary in summaries:
        for version in summary["versions"]:
            by_cluster = table.setdefault(version["repository"], {})
            by_cluster.setdefault(summary["cluster"]["name"], []).append(
                f"{version['tag']} ({_count(version['pods'], 'pod')})"
            )
    clusters = [s["cluster"]["name"] for s in summaries]
    return [
        {"repository": repo, "cells": [", ".join(tags.get(name, [])) or "—" for name in clusters]}
        for repo, tags in sorted(table.items())
    ]
