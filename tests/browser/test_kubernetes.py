"""The Kubernetes plugin in a browser: an entity's tab with healthy, failing and unreachable
clusters, pod logs, a group's workloads, and the data refreshing in place.

The session's server reads two fake API servers (prod, staging) and a dead cluster
(tests/kubefake.py, started by conftest's kube_clusters); each test sets the fakes' objects.
The demo catalog's services carry backstage.io/kubernetes-id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests import kubefake
from tests.browser.conftest import screenshot
from tests.kubefake import add_app, app_labels

ORDER_SERVICE = "/catalog/default/component/order-service/kubernetes"
PAYMENT_SERVICE = "/catalog/default/component/payment-service/kubernetes"
TEAM_CHECKOUT = "/catalog/default/group/team-checkout/kubernetes-workloads"


@pytest.fixture
def kube(kube_clusters: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The session's fake clusters, emptied for this test."""
    for name in ("prod", "staging"):
        kube_clusters[name].clear()
        kube_clusters[name].delay = 0
    yield kube_clusters
    for name in ("prod", "staging"):
        kube_clusters[name].clear()


def cluster(page: Page, name: str):
    return page.locator(f'[data-k8s-cluster="{name}"]')


def test_it_shows_each_cluster_and_the_unreachable_ones_error(signed_in: Page, kube):
    # given order-service runs 3.2.0 on prod and a 3.3.0 canary on staging; dead is down
    page = signed_in
    add_app(kube["prod"], "order-service", "orders", image="ghcr.io/northwind/order-service:3.2.0")
    add_app(
        kube["staging"],
        "order-service",
        "orders",
        replicas=1,
        image="ghcr.io/northwind/order-service:3.3.0",
    )

    # when
    page.goto("/catalog/default/component/order-service")
    page.get_by_role("navigation", name="Entity tabs").get_by_role(
        "link", name="Kubernetes"
    ).click()

    # then the dead cluster's error shows, first and in its own section
    expect(page).to_have_url(re.compile(r"/order-service/kubernetes$"))
    problems = page.get_by_role("region", name=re.compile(r"^Problems"))
    expect(problems).to_contain_text(
        re.compile(r"cluster dead: cannot connect to 127\.0\.0\.1:\d+ \(connection refused\)")
    )
    expect(cluster(page, "dead").get_by_role("alert")).to_contain_text(
        "cluster dead: cannot connect"
    )
    # while prod's and staging's workloads and pods show
    prod = cluster(page, "prod")
    workloads = prod.get_by_role("table", name="Workloads")
    expect(workloads.locator("tbody tr")).to_have_count(1)
    expect(workloads.locator("tbody tr")).to_contain_text("Deployment")
    expect(workloads.locator("tbody tr")).to_contain_text("2/2")
    expect(workloads.locator("tbody tr")).to_contain_text("complete")
    pods = prod.get_by_role("table", name="Pods")
    expect(pods.locator("tbody tr")).to_have_count(2)
    expect(pods.locator("tbody tr").first).to_contain_text("Running")
    expect(pods.locator("tbody tr").first).to_contain_text("requests cpu 250m, memory 256Mi")
    expect(
        cluster(page, "staging").get_by_role("table", name="Pods").locator("tbody tr")
    ).to_have_count(1)
    # and which version runs where
    versions = page.get_by_role("region", name="Versions running")
    row = versions.locator("tbody tr", has_text="ghcr.io/northwind/order-service")
    expect(row.get_by_role("cell")).to_have_text(["3.2.0 (2 pods)", "3.3.0 (1 pod)", "—"])
    expect(prod.get_by_role("link", name=re.compile("Open the dashboard"))).to_have_attribute(
        "href", "https://dashboard.prod.northwind.example/"
    )
    screenshot(page, "kubernetes-tab")


def test_it_shows_a_failing_workloads_errors_first(signed_in: Page, kube):
    # given payment-service's new pod crash-loops and its autoscaler is at its maximum
    page = signed_in
    prod = kube["prod"]
    add_app(prod, "payment-service", "payments")
    labels = app_labels("payment-service")
    prod.add(
        kubefake.crash_loop_pod("payment-service-5f6d8-k2j4x", "payments", labels=labels),
        kubefake.hpa("payment-service", "payments", labels=labels, max_replicas=2, current=2),
    )

    # when
    page.goto(PAYMENT_SERVICE)

    # then the problems come first: the crash loop (an error), then the autoscaler (a warning)
    problems = page.get_by_role("region", name=re.compile(r"^Problems"))
    rows = problems.get_by_role("table").locator("tbody tr")
    expect(rows.filter(has_text="keeps crashing")).to_have_count(1)
    expect(rows.first).to_contain_text("error")
    expect(rows.first).to_contain_text("payment-service-5f6d8-k2j4x")
    expect(rows.first).to_contain_text("container payment keeps crashing: restarted 14 times")
    expect(rows.filter(has_text="runs at its maximum of 2 replicas")).to_contain_text("warning")
    problems_top = problems.bounding_box()["y"]
    assert problems_top < cluster(page, "prod").bounding_box()["y"]
    # and the crashing pod is marked in prod's pods
    crashing = cluster(page, "prod").locator('[data-k8s-pod="payment-service-5f6d8-k2j4x"]')
    expect(crashing).to_contain_text("CrashLoopBackOff")
    screenshot(page, "kubernetes-tab-problems")


def test_it_shows_a_pods_recent_logs(signed_in: Page, kube):
    # given
    page = signed_in
    made = add_app(kube["prod"], "order-service", "orders")
    pod = made["Pod"][0]["metadata"]["name"]
    kube["prod"].set_log("orders", pod, "".join(f"order {i} placed\n" for i in range(400)))
    page.goto(ORDER_SERVICE)

    # when
    cluster(page, "prod").get_by_role("link", name=f"Logs of {pod}, container order").click()

    # then the last lines (200 by default) show below, without leaving the page
    logs = page.get_by_role("region", name=re.compile(f"Logs of pod {pod}"))
    expect(logs).to_contain_text("order 399 placed")
    expect(logs).not_to_contain_text("order 199 placed")
    expect(logs).to_contain_text("cluster prod, namespace orders, last 200 lines")
    expect(page).to_have_url(re.compile(r"/order-service/kubernetes$"))


def test_it_shows_the_workloads_of_what_a_group_owns(signed_in: Page, kube):
    # given three of team-checkout's services run on prod; cart-service has a crashing pod
    page = signed_in
    prod = kube["prod"]
    made = {
        service: add_app(prod, service, "checkout")
        for service in ("order-service", "payment-service", "cart-service")
    }
    cart_rs = made["cart-service"]["ReplicaSet"]
    prod.add(kubefake.crash_loop_pod("cart-service-7d9c-zz1", "checkout", owner=cart_rs))

    # when
    page.goto("/catalog/default/group/team-checkout")
    page.get_by_role("navigation", name="Entity tabs").get_by_role(
        "link", name="Kubernetes workloads"
    ).click()

    # then errors first, naming the entity, then each entity's workloads per cluster
    problems = page.get_by_role("region", name=re.compile(r"^Problems"))
    crash = problems.get_by_role("row", name=re.compile("cart-service-7d9c-zz1"))
    expect(crash).to_contain_text("keeps crashing")
    table = page.get_by_role("table", name="Workloads of each entity the group owns, per cluster")
    for service in ("order-service", "payment-service", "cart-service"):
        expect(table.locator(f'tr[data-k8s-workload="{service}"]')).to_have_count(1)
    expect(table.locator('tr[data-k8s-workload="cart-service"]')).to_contain_text("2/3")
    screenshot(page, "kubernetes-group")

    # when
    crash.get_by_role("link", name="cart-service").click()

    # then the entity's own Kubernetes tab opens
    expect(page).to_have_url(re.compile(r"/component/cart-service/kubernetes$"))
    expect(
        cluster(page, "prod").get_by_role("table", name="Pods").locator("tbody tr")
    ).to_have_count(3)


def test_it_refreshes_the_data_in_place(signed_in: Page, kube):
    # given the tab shows two pods
    page = signed_in
    prod = kube["prod"]
    made = add_app(prod, "order-service", "orders", image="ghcr.io/northwind/order-service:3.2.0")
    page.goto(ORDER_SERVICE)
    pods = cluster(page, "prod").get_by_role("table", name="Pods").locator("tbody tr")
    expect(pods).to_have_count(2)
    page.evaluate("window.notReloaded = true")

    # when the cluster rolls out 3.3.0 and scales up
    prod.add(
        kubefake.pod(
            "order-service-8b7c6d5e4-n3w01",
            "orders",
            owner=made["ReplicaSet"],
            image="ghcr.io/northwind/order-service:3.3.0",
        )
    )

    # then the page shows it on its next refresh (every 2 s here), without reloading
    expect(pods).to_have_count(3, timeout=10_000)
    versions = page.get_by_role("region", name="Versions running")
    expect(versions).to_contain_text("3.3.0 (1 pod)")
    expect(page.locator("#k8s-status")).to_contain_text("Updated at")
    assert page.evaluate("window.notReloaded") is True

    # when the cluster stops answering, the next refresh says so and keeps the others
    prod.delay = 5
    expect(cluster(page, "prod").get_by_role("alert")).to_have_text(
        "cluster prod: no answer within 2 s", timeout=15_000
    )
    prod.delay = 0
    assert page.evaluate("window.notReloaded") is True
