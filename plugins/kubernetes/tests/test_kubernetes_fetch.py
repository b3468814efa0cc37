"""Reading clusters through the official client against the fake API server: every object
type, selectors, namespaces, refusals, slow and dead clusters, isolation, caching, custom
resources, and each way of authenticating."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from plugins.kubernetes.clusters import current_settings
from plugins.kubernetes.fetch import ClusterCallError, fetch, read_pod_log
from plugins.kubernetes.selection import ObjectQuery
from plugins.kubernetes.tests.support import cluster_entry
from tests import kubefake
from tests.kubefake import (
    add_app,
    app_labels,
    dead_url,
    kube_cluster,
    write_kubeconfig,
)

CHECKOUT = ObjectQuery("backstage.io/kubernetes-id=checkout")
ALL_TYPES = [
    "pods",
    "services",
    "configmaps",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "ingresses",
    "horizontalpodautoscalers",
]


def by_type(result: dict) -> dict[str, list[dict]]:
    return {group["type"]: group["resources"] for group in result["resources"]}


def names(objects: list[dict]) -> list[str]:
    return sorted(obj["metadata"]["name"] for obj in objects)


def fill_every_type(cluster, app_id: str = "checkout", namespace: str = "shop") -> None:
    labels = app_labels(app_id)
    add_app(cluster, app_id, namespace)
    cluster.add(
        kubefake.stateful_set(f"{app_id}-db", namespace, labels=labels),
        kubefake.daemon_set(f"{app_id}-agent", namespace, labels=labels),
        kubefake.job(f"{app_id}-migrate", namespace, labels=labels),
        kubefake.cron_job(f"{app_id}-report", namespace, labels=labels),
        kubefake.ingress(app_id, namespace, labels=labels),
    )


def test_it_reads_every_object_type_through_the_client(prod, configure):
    # given
    configure(prod)
    fill_every_type(prod)
    fill_every_type(prod, "billing")  # another entity's objects, which must not show

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then every type was listed, once each, and only checkout's objects came back
    assert result["failure"] == "" and result["errors"] == []
    found = by_type(result)
    assert list(found) == ALL_TYPES
    assert names(found["deployments"]) == ["checkout"]
    assert len(found["pods"]) == 2 and len(found["replicasets"]) == 1
    assert names(found["statefulsets"]) == ["checkout-db"]
    assert names(found["daemonsets"]) == ["checkout-agent"]
    assert names(found["jobs"]) == ["checkout-migrate"]
    assert names(found["cronjobs"]) == ["checkout-report"]
    assert names(found["ingresses"]) == ["checkout"]
    assert names(found["horizontalpodautoscalers"]) == ["checkout"]
    assert names(found["configmaps"]) == ["checkout-config"]
    # the typed client objects came back as the API's JSON (camelCase, times as text)
    pod = found["pods"][0]
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert isinstance(pod["metadata"]["creationTimestamp"], str)
    assert found["horizontalpodautoscalers"][0]["spec"]["maxReplicas"] == 6
    assert {path for path in (r.path for r in prod.requests)} >= {
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/apis/autoscaling/v2/horizontalpodautoscalers",
        "/apis/networking.k8s.io/v1/ingresses",
        "/apis/batch/v1/cronjobs",
    }
    assert all(r.authorization == "Bearer prod-token" for r in prod.requests)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app.kubernetes.io/name=checkout", ["checkout"]),
        ("app.kubernetes.io/name==checkout", ["checkout"]),
        ("app.kubernetes.io/name!=checkout", ["billing", "search"]),
        ("backstage.io/kubernetes-id in (checkout,search)", ["checkout", "search"]),
        ("backstage.io/kubernetes-id notin (checkout, search)", ["billing"]),
        ("tier", ["search"]),
        ("!tier", ["billing", "checkout"]),
        ("tier=backend,backstage.io/kubernetes-id in (search,billing)", ["search"]),
    ],
)
def test_it_passes_label_selectors_the_server_applies(prod, configure, selector, expected):
    # given
    configure(prod)
    add_app(prod, "checkout")
    add_app(prod, "billing")
    add_app(prod, "search", labels=app_labels("search", tier="backend"))
    query = ObjectQuery(selector)

    # when
    [result] = fetch([query])[query]

    # then
    assert names(by_type(result)["deployments"]) == expected
    assert prod.requests[0].query["labelSelector"] == [selector]


def test_it_lists_one_namespace_when_asked(prod, configure):
    # given
    configure(prod)
    add_app(prod, "checkout", "shop")
    add_app(prod, "checkout", "shop-canary", image="ghcr.io/northwind/app:1.1.0")
    query = ObjectQuery("backstage.io/kubernetes-id=checkout", namespace="shop-canary")

    # when
    [result] = fetch([query])[query]

    # then
    deployments = by_type(result)["deployments"]
    assert [d["metadata"]["namespace"] for d in deployments] == ["shop-canary"]
    assert any(r.path == "/api/v1/namespaces/shop-canary/pods" for r in prod.requests)


def test_a_refused_token_is_reported_once_naming_the_cluster(prod, configure):
    # given
    configure(cluster_entry(prod, serviceAccountToken="stale"))
    add_app(prod, "checkout")

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert result["resources"] == []
    assert result["failure"] == "cluster prod: credentials refused (401 Unauthorized)"
    assert {e["statusCode"] for e in result["errors"]} == {401}
    assert {e["errorType"] for e in result["errors"]} == {"UNAUTHORIZED_ERROR"}


def test_a_forbidden_object_type_is_reported_while_the_others_show(prod, configure):
    # given
    configure(prod)
    add_app(prod, "checkout", "shop")
    prod.forbid("configmaps")

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert result["failure"] == ""
    [error] = result["errors"]
    assert error["statusCode"] == 403 and error["resourceType"] == "configmaps"
    assert error["resourcePath"] == "/api/v1/configmaps"
    assert error["message"] == (
        "cluster prod: configmaps: not allowed (403 Forbidden): configmaps is forbidden: "
        'User "system:serviceaccount:backstage:reader" cannot list resource "configmaps" in '
        'API group "" at the cluster scope'
    )
    assert len(by_type(result)["pods"]) == 2


def test_a_custom_resource_is_listed_and_a_missing_one_is_a_404(prod, configure):
    # given an Argo Rollout (installed) and a Flux Kustomization (not installed)
    configure(
        prod,
        customResources=[
            {"group": "argoproj.io", "apiVersion": "v1alpha1", "plural": "rollouts"},
            {
                "group": "kustomize.toolkit.fluxcd.io",
                "apiVersion": "v1",
                "plural": "kustomizations",
            },
        ],
    )
    prod.add(
        kubefake.custom_object(
            "argoproj.io/v1alpha1",
            "Rollout",
            "checkout",
            "shop",
            labels=app_labels("checkout"),
            status_={"phase": "Healthy"},
        ),
        plural="rollouts",
    )
    query = ObjectQuery("backstage.io/kubernetes-id=checkout", namespace="shop")

    # when
    [result] = fetch([query])[query]

    # then
    assert names(by_type(result)["rollouts.argoproj.io"]) == ["checkout"]
    [error] = result["errors"]
    assert error["statusCode"] == 404
    assert error["resourcePath"] == (
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/shop/kustomizations"
    )
    assert "the server could not find the requested resource" in error["message"]


def test_a_selector_the_server_refuses_is_a_bad_request(prod, configure):
    # given
    configure(prod)
    query = ObjectQuery("app in (a,")

    # when
    [result] = fetch([query])[query]

    # then
    assert result["failure"].startswith("cluster prod: request refused (400 Bad Request)")


def test_a_dead_cluster_fails_fast_and_the_healthy_one_still_answers(prod, configure):
    # given
    with dead_url() as url:
        configure({"name": "dead", "url": url, "serviceAccountToken": "x"}, prod)
        add_app(prod, "checkout")
        started = time.monotonic()

        # when
        dead, healthy = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert time.monotonic() - started < 2
    assert dead["failure"].startswith("cluster dead: cannot connect to 127.0.0.1:")
    assert dead["failure"].endswith("(connection refused)")
    assert healthy["failure"] == "" and len(by_type(healthy)["pods"]) == 2


def test_a_slow_cluster_costs_at_most_the_timeout_and_says_so(prod, staging, configure):
    # given staging answers after 5 s, the timeout is 1 s
    configure(prod, staging, timeoutSeconds=1)
    add_app(prod, "checkout")
    add_app(staging, "checkout")
    staging.delay = 5
    started = time.monotonic()

    # when
    healthy, slow = fetch([CHECKOUT])[CHECKOUT]

    # then the page waited about the timeout, not the delay (nor once per object type)
    elapsed = time.monotonic() - started
    assert elapsed < 1 + 1.0, elapsed
    assert slow["failure"] == "cluster staging: no answer within 1 s"
    assert healthy["failure"] == "" and len(by_type(healthy)["pods"]) == 2


def test_answers_are_cached_for_cache_seconds(prod, configure):
    # given
    configure(prod, cacheSeconds=60)
    add_app(prod, "checkout")
    fetch([CHECKOUT])
    asked = prod.hits()

    # when
    [again] = fetch([CHECKOUT])[CHECKOUT]

    # then the second call did not reach the cluster
    assert asked == len(ALL_TYPES)
    assert prod.hits() == asked
    assert len(by_type(again)["pods"]) == 2


def test_no_cache_when_cache_seconds_is_zero(prod, configure):
    # given
    configure(prod, cacheSeconds=0)
    fetch([CHECKOUT])

    # when
    fetch([CHECKOUT])

    # then
    assert prod.hits() == 2 * len(ALL_TYPES)


def test_a_cluster_annotation_limits_the_query_to_that_cluster(prod, staging, configure):
    # given
    configure(prod, staging)
    query = ObjectQuery("backstage.io/kubernetes-id=checkout", cluster="staging")

    # when
    results = fetch([query])[query]

    # then
    assert [r["cluster"]["name"] for r in results] == ["staging"]
    assert prod.hits() == 0 and staging.hits() == len(ALL_TYPES)


def test_an_unknown_cluster_annotation_is_an_error_naming_the_configured_ones(prod, configure):
    # given
    configure(prod)
    query = ObjectQuery("backstage.io/kubernetes-id=checkout", cluster="qa")

    # when
    [result] = fetch([query])[query]

    # then
    assert result["failure"] == (
        "cluster qa: no cluster of that name is configured (configured: prod)"
    )
    assert prod.hits() == 0


def test_kubeconfig_auth_uses_the_named_context(prod, staging, configure, tmp_path: Path):
    # given a kubeconfig whose current context is prod, and a cluster entry naming staging
    kubeconfig = write_kubeconfig(tmp_path / "config", [prod, staging], current="prod")
    configure(
        {"name": "via-kubeconfig", "authProvider": "kubeconfig", "context": "staging"},
        kubeconfig=str(kubeconfig),
    )
    add_app(staging, "checkout")

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert result["failure"] == "", result
    assert len(by_type(result)["pods"]) == 2
    assert prod.hits() == 0
    assert {r.authorization for r in staging.requests} == {"Bearer staging-token"}


def test_a_missing_kubeconfig_is_a_configuration_error(configure, tmp_path: Path):
    # given
    configure({"name": "lost", "authProvider": "kubeconfig", "kubeconfig": str(tmp_path / "nope")})

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert result["failure"] == (
        f"cluster lost: cannot be configured: kubeconfig file {tmp_path / 'nope'} does not exist"
    )


def test_in_cluster_auth_reads_the_mounted_service_account(configure, monkeypatch, tmp_path):
    # given the pod's mounted token and CA, and the service host and port, for a TLS cluster
    with kube_cluster("inside", token="mounted-token", tls=True) as inside:
        add_app(inside, "checkout")
        token_file = tmp_path / "token"
        token_file.write_text("mounted-token")
        monkeypatch.setattr("plugins.kubernetes.clusters.IN_CLUSTER_TOKEN_FILE", str(token_file))
        monkeypatch.setattr("plugins.kubernetes.clusters.IN_CLUSTER_CA_FILE", inside.ca_file)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", inside.base_url.rsplit(":", 1)[1])
        configure({"name": "inside", "authProvider": "inCluster"})

        # when
        [result] = fetch([CHECKOUT])[CHECKOUT]

    # then the client spoke TLS, trusted the mounted CA and sent the mounted token (the
    # in-cluster loader writes the scheme lower-case, which API servers accept)
    assert result["failure"] == "", result
    assert len(by_type(result)["pods"]) == 2
    assert {r.authorization for r in inside.requests} == {"bearer mounted-token"}


def test_in_cluster_auth_outside_a_cluster_says_what_is_missing(configure, monkeypatch):
    # given
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    configure({"name": "inside", "authProvider": "inCluster"})

    # when
    [result] = fetch([CHECKOUT])[CHECKOUT]

    # then
    assert result["failure"] == (
        "cluster inside: cannot be configured: inCluster configuration: "
        "Service host/port is not set."
    )


def test_tls_clusters_need_their_ca_or_skip_tls_verify(configure):
    with kube_cluster("secure", token="t", tls=True) as secure:
        add_app(secure, "checkout")
        # given no CA: the certificate is refused
        configure(cluster_entry(secure))
        [refused] = fetch([CHECKOUT])[CHECKOUT]
        # given caData (base64 PEM, as in a kubeconfig)
        configure(cluster_entry(secure, caData=secure.ca_data))
        [with_ca_data] = fetch([CHECKOUT])[CHECKOUT]
        # given caFile
        configure(cluster_entry(secure, caFile=secure.ca_file))
        [with_ca_file] = fetch([CHECKOUT])[CHECKOUT]
        # given skipTLSVerify
        configure(cluster_entry(secure, skipTLSVerify=True))
        [skipped] = fetch([CHECKOUT])[CHECKOUT]

    assert refused["failure"].startswith(
        "cluster secure: TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED]"
    )
    for result in (with_ca_data, with_ca_file, skipped):
        assert result["failure"] == "" and len(by_type(result)["pods"]) == 2


def test_pod_logs_are_the_last_lines_of_the_container(prod, configure):
    # given
    configure(prod)
    made = add_app(prod, "checkout", "shop")
    pod = made["Pod"][0]["metadata"]["name"]
    # a line that is JSON must stay text (the client would parse a JSON body)
    prod.set_log("shop", pod, "".join(f"line {i}\n" for i in range(1, 11)) + '{"level": "info"}\n')
    cluster = current_settings().cluster("prod")

    # when
    text = read_pod_log(cluster, "shop", pod, "checkout", 3, timeout=2)

    # then
    assert text == 'line 9\nline 10\n{"level": "info"}\n'
    assert prod.requests[-1].query["tailLines"] == ["3"]


def test_pod_logs_of_an_unknown_pod_say_so(prod, configure):
    # given
    configure(prod)
    cluster = current_settings().cluster("prod")

    # when
    with pytest.raises(ClusterCallError) as caught:
        read_pod_log(cluster, "shop", "ghost", "", 10, timeout=2)

    # then
    assert caught.value.status == 404
    assert str(caught.value) == 'cluster prod: not found (404 Not Found): pods "ghost" not found'
