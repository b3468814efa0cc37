"""Error detection on what the real client read from the fake cluster: each kind of problem
names the object and container, repeats what Kubernetes said, and says since when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from plugins.kubernetes.detection import detect
from plugins.kubernetes.fetch import fetch
from plugins.kubernetes.selection import ObjectQuery
from tests import kubefake
from tests.kubefake import add_app, app_labels

QUERY = ObjectQuery("backstage.io/kubernetes-id=checkout", namespace="shop")
LABELS = app_labels("checkout")


def problems_in(cluster) -> list[dict]:
    [result] = fetch([QUERY])[QUERY]
    assert result["failure"] == "", result["failure"]
    return detect(result)


@pytest.fixture
def cluster(prod, configure):
    configure(prod)
    return prod


def test_a_healthy_app_has_no_problems(cluster):
    # given
    add_app(cluster, "checkout", "shop")
    cluster.add(kubefake.job("checkout-migrate", "shop", labels=LABELS))

    # when / then
    assert problems_in(cluster) == []


def test_it_finds_a_crash_loop(cluster):
    # given
    cluster.add(kubefake.crash_loop_pod("checkout-7d9c-x2k9p", "shop", labels=LABELS))

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "crash-loop-back-off" and problem["severity"] == "error"
    assert (problem["cluster"], problem["kind"], problem["namespace"], problem["name"]) == (
        "prod",
        "Pod",
        "shop",
        "checkout-7d9c-x2k9p",
    )
    assert problem["container"] == "checkout"
    assert problem["message"] == (
        "container checkout keeps crashing: restarted 14 times, last exit code 1 (Error). "
        "back-off 5m0s restarting failed container=checkout pod=checkout-7d9c-x2k9p_shop"
    )
    # since the last crash
    last = cluster.get("Pod", "checkout-7d9c-x2k9p", "shop")["status"]["containerStatuses"][0]
    assert problem["since"].startswith(last["lastState"]["terminated"]["finishedAt"][:19])


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull"])
def test_it_finds_an_image_that_cannot_be_pulled(cluster, reason):
    # given
    pod = kubefake.image_pull_pod("checkout-7d9c-q8w4z", "shop", labels=LABELS)
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] = reason
    cluster.add(pod)

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "image-pull-back-off" and problem["reason"] == reason
    assert problem["message"] == (
        "container checkout cannot pull its image ghcr.io/northwind/app:9.9.9-typo: "
        'Back-off pulling image "ghcr.io/northwind/app:9.9.9-typo"'
    )
    assert problem["since"]


def test_it_finds_a_container_killed_for_memory(cluster):
    # given a running pod whose container was OOM-killed half an hour ago
    cluster.add(
        kubefake.oom_killed_pod(
            "checkout-7d9c-m3n7b", "shop", labels=LABELS, limits={"memory": "256Mi"}
        )
    )

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "oom-killed" and problem["container"] == "checkout"
    assert problem["message"] == (
        "container checkout was killed for running out of memory (limit 256Mi); exit code 137"
    )
    assert problem["since"].startswith(kubefake.timestamp(timedelta(minutes=30))[:15])


def test_it_finds_containers_that_are_not_ready(cluster):
    # given a container that cannot start: its config map is missing
    cluster.add(kubefake.not_ready_pod("checkout-7d9c-t5r1c", "shop", labels=LABELS))

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "containers-not-ready"
    assert problem["message"] == (
        "container checkout is not ready (CreateContainerConfigError): "
        'configmap "checkout-config" not found'
    )


def test_it_finds_a_pod_no_node_can_take(cluster):
    # given
    cluster.add(kubefake.unschedulable_pod("checkout-7d9c-h6j2v", "shop", labels=LABELS))

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "unschedulable" and problem["container"] == ""
    assert problem["message"].startswith("0/3 nodes are available: 3 Insufficient memory.")
    assert problem["since"].startswith(kubefake.timestamp(timedelta(minutes=12))[:15])


def test_it_finds_failing_deployment_conditions(cluster):
    # given a deployment past its progress deadline, unavailable, failing to make pods
    failing = kubefake.deployment(
        "checkout",
        "shop",
        labels=LABELS,
        replicas=3,
        ready=1,
        conditions=[
            kubefake.condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            ),
            kubefake.condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                'ReplicaSet "checkout-5f6d8" has timed out progressing.',
            ),
            kubefake.condition(
                "ReplicaFailure",
                "True",
                "FailedCreate",
                'pods "checkout-5f6d8-" is forbidden: exceeded quota: compute',
            ),
        ],
    )
    cluster.add(failing)

    # when
    problems = problems_in(cluster)

    # then
    assert sorted(p["type"] for p in problems) == [
        "deployment-available",
        "deployment-progressing",
        "deployment-replicafailure",
    ]
    by_type = {p["type"]: p for p in problems}
    assert by_type["deployment-progressing"]["message"] == (
        "Progressing is False (ProgressDeadlineExceeded): "
        'ReplicaSet "checkout-5f6d8" has timed out progressing.'
    )
    assert all(p["kind"] == "Deployment" and p["name"] == "checkout" for p in problems)


def test_it_warns_about_an_autoscaler_at_its_maximum(cluster):
    # given
    cluster.add(
        kubefake.hpa(
            "checkout", "shop", labels=LABELS, min_replicas=2, max_replicas=5, current=5, cpu=96
        )
    )

    # when
    [problem] = problems_in(cluster)

    # then
    assert problem["type"] == "hpa-max-current-replicas" and problem["severity"] == "warning"
    assert problem["message"] == (
        "autoscaler for checkout runs at its maximum of 5 replicas; cpu at 96% of requests; "
        "it cannot scale further"
    )


def test_errors_come_before_warnings(cluster):
    # given
    cluster.add(
        kubefake.hpa("checkout", "shop", labels=LABELS, max_replicas=3, current=3),
        kubefake.crash_loop_pod("checkout-7d9c-x2k9p", "shop", labels=LABELS),
    )

    # when
    problems = problems_in(cluster)

    # then
    assert [p["severity"] for p in problems] == ["error", "warning"]
