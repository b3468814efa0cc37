"""Helpers of the Kubernetes plugin's tests: cluster entries and catalog descriptors."""

from __future__ import annotations

from typing import Any

from tests.kubefake import FakeCluster


def cluster_entry(cluster: FakeCluster, **extra: Any) -> dict[str, Any]:
    """Return a service-account cluster entry for a fake cluster."""
    return {
        "name": cluster.name,
        "url": cluster.base_url,
        "authProvider": "serviceAccount",
        "serviceAccountToken": cluster.token or "",
        **extra,
    }


def descriptor(kind: str, name: str, spec: dict | None = None, **metadata: Any) -> dict:
    """Return one catalog descriptor."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **metadata},
        "spec": spec or {},
    }


def component(name: str, owner: str = "team-a", **annotations: str) -> dict:
    """Return a service Component with the given annotations."""
    return descriptor(
        "Component",
        name,
        {"type": "service", "lifecycle": "production", "owner": owner},
        annotations=annotations,
    )
