"""The JSON API at /api/kubernetes/: shapes, the read rule, logs for signed-in callers only,
Backstage's error envelope, and no way to point the server at a URL of the caller's."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from plugins.kubernetes.tests.support import cluster_entry, component
from tests import kubefake
from tests.kubefake import add_app, app_labels, dead_url

LOGS = "/api/kubernetes/clusters/prod/namespaces/shop/pods/web-1/logs"


@pytest.fixture
def checkout(ingest_catalog) -> None:
    ingest_catalog(
        component("checkout", **{"backstage.io/kubernetes-id": "checkout"}),
        component("legacy"),
    )


@pytest.fixture
def signed_in(alice) -> APIClient:
    client = APIClient()
    client.force_login(alice)
    return client


def test_clusters_are_listed_without_credentials(configure, prod, transactional_db):
    # given
    configure(cluster_entry(prod, dashboardUrl="https://dash.example", caData="c2VjcmV0"))

    # when
    response = APIClient().get("/api/kubernetes/clusters")

    # then
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item == {
        "name": "prod",
        "url": prod.base_url,
        "authProvider": "serviceAccount",
        "dashboardUrl": "https://dash.example",
        "skipTLSVerify": False,
        "customResources": [],
    }
    assert "prod-token" not in response.content.decode()
    assert prod.hits() == 0


def test_an_entitys_objects_per_cluster_and_its_problems(checkout, configure, prod):
    # given
    with dead_url() as url:
        configure(prod, {"name": "dead", "url": url})
        add_app(prod, "checkout", "shop")
        prod.add(kubefake.crash_loop_pod("checkout-zz1", "shop", labels=app_labels("checkout")))

        # when
        response = APIClient().get("/api/kubernetes/entities/default/component/checkout")

    # then Backstage's per-cluster items, with the detected problems and failures
    assert response.status_code == 200
    body = response.json()
    assert body["entityRef"] == "component:default/checkout"
    healthy, dead = body["items"]
    assert healthy["cluster"] == {"name": "prod", "dashboardUrl": ""}
    types = {group["type"]: group["resources"] for group in healthy["resources"]}
    assert len(types["pods"]) == 3 and types["deployments"][0]["metadata"]["name"] == "checkout"
    assert healthy["errors"] == []
    assert dead["resources"] == [] and dead["failure"].startswith("cluster dead: cannot connect")
    assert dead["errors"][0]["errorType"] == "FETCH_ERROR"
    [problem] = body["detectedErrors"]
    assert (problem["type"], problem["name"], problem["cluster"]) == (
        "crash-loop-back-off",
        "checkout-zz1",
        "prod",
    )
    assert body["failures"] == [dead["failure"]]


def test_an_entity_without_annotations_has_no_objects(checkout, configure, prod):
    configure(prod)
    response = APIClient().get("/api/kubernetes/entities/default/component/legacy")
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert "neither backstage.io/kubernetes-id" in response.json()["message"]
    assert prod.hits() == 0


def test_an_unknown_entity_is_a_404_envelope(configure, transactional_db):
    configure()
    response = APIClient().get("/api/kubernetes/entities/default/component/nope")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"name": "NotFoundError", "message": "No entity named component:default/nope"},
        "request": {"method": "GET", "url": "/api/kubernetes/entities/default/component/nope"},
        "response": {"statusCode": 404},
    }


def test_reads_follow_the_portal_rule(checkout, configure, settings):
    configure()
    settings.API_READS_REQUIRE_AUTH = True
    assert APIClient().get("/api/kubernetes/clusters").status_code in (401, 403)


def test_logs_need_a_signed_in_caller(configure, prod, transactional_db):
    # given
    configure(prod)
    prod.add(kubefake.pod("web-1", "shop"))

    # when
    response = APIClient().get(LOGS)

    # then
    assert response.status_code in (401, 403)
    assert response.json()["error"]["name"] in ("AuthenticationError", "NotAllowedError")
    assert prod.hits() == 0


def test_logs_for_a_signed_in_caller(configure, prod, signed_in):
    # given
    configure(prod)
    prod.add(kubefake.pod("web-1", "shop"))
    prod.set_log("shop", "web-1", "".join(f"{i}\n" for i in range(500)))

    # when
    response = signed_in.get(LOGS, {"container": "web", "lines": 3})

    # then
    assert response.status_code == 200
    assert response.json() == {
        "cluster": "prod",
        "namespace": "shop",
        "pod": "web-1",
        "container": "web",
        "lines": 3,
        "text": "497\n498\n499\n",
    }


def test_logs_with_a_service_token(configure, prod, settings, transactional_db):
    settings.API_TOKENS = {"tests": "k8s-test-token-0123456789abcdef"}
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION="Bearer k8s-test-token-0123456789abcdef")
    configure(prod)
    prod.add(kubefake.pod("web-1", "shop"))
    prod.set_log("shop", "web-1", "hello\n")
    assert writer.get(LOGS).json()["text"] == "hello\n"


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        (
            "/api/kubernetes/clusters/nowhere/namespaces/shop/pods/web-1/logs",
            404,
            "No cluster named 'nowhere' is configured",
        ),
        (
            "/api/kubernetes/clusters/http:%2F%2F127.0.0.1:9/namespaces/shop/pods/web-1/logs",
            404,
            "no API route at /api/kubernetes/clusters/http://127.0.0.1:9/",
        ),
        (
            "/api/kubernetes/clusters/prod/namespaces/..%2F..%2Fsecrets/pods/web-1/logs",
            404,
            "no API route at /api/kubernetes/clusters/prod/namespaces/../../secrets/",
        ),
        (f"{LOGS}?container=a%2Fb", 400, "'a/b' is not a container name"),
        (
            "/api/kubernetes/clusters/prod/namespaces/Shop_1/pods/web-1/logs",
            400,
            "'Shop_1' is not a namespace name",
        ),
        (f"{LOGS}?lines=0", 400, "lines must be between 1 and 10000"),
        (
            "/api/kubernetes/clusters/prod/namespaces/shop/pods/ghost/logs",
            404,
            'cluster prod: not found (404 Not Found): pods "ghost" not found',
        ),
    ],
)
def test_logs_errors_use_the_envelope_and_never_leave_configured_clusters(
    configure, prod, signed_in, url, status, message
):
    # given
    configure(prod)

    # when
    response = signed_in.get(url)

    # then
    assert response.status_code == status
    assert response.json()["error"]["message"].startswith(message)
    assert response.json()["response"] == {"statusCode": status}
    assert all(r.path.startswith("/api/v1/namespaces/shop/pods/") for r in prod.requests)


def test_logs_from_a_cluster_that_refuses_are_a_bad_gateway(configure, prod, signed_in):
    configure(cluster_entry(prod, serviceAccountToken="stale"))
    response = signed_in.get(LOGS)
    assert response.status_code == 502
    assert response.json()["error"]["message"] == (
        "cluster prod: credentials refused (401 Unauthorized)"
    )
