"""The tabs and the plugin's pages, through Django's test client, signed in: the tab is a
shell that calls no cluster; its fragment shows problems first, then each cluster; a group
sees the workloads of everything it owns; pod logs come from configured clusters only."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client

from plugins.kubernetes.tests.support import component, descriptor
from tests import kubefake
from tests.kubefake import add_app, app_labels, dead_url

TAB = "/catalog/default/component/checkout/kubernetes"
FRAGMENT = "/plugins/kubernetes/entities/default/component/checkout/objects"
GROUP_TAB = "/catalog/default/group/team-a/kubernetes-workloads"
GROUP_FRAGMENT = "/plugins/kubernetes/groups/default/team-a/workloads"
HTMX = {"HTTP_HX_REQUEST": "true"}
SELECTOR = "backstage.io/kubernetes-label-selector"


@pytest.fixture
def catalog(ingest_catalog) -> None:
    ingest_catalog(
        descriptor("Group", "team-a", {"type": "team", "children": []}),
        descriptor("Group", "team-b", {"type": "team", "children": []}),
        component(
            "checkout",
            **{
                "backstage.io/kubernetes-id": "checkout",
                "backstage.io/kubernetes-namespace": "shop",
            },
        ),
        component("search", **{"backstage.io/kubernetes-id": "search"}),
        component("billing", **{SELECTOR: "app.kubernetes.io/name=billing"}),
        component("legacy"),
        component("invoices", owner="team-b", **{"backstage.io/kubernetes-id": "invoices"}),
    )


def page(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return response.content.decode()


def test_the_tab_shows_only_for_entities_that_opt_in(catalog, as_alice, configure):
    configure()
    nav = re.compile(r'<nav aria-label="Entity tabs">.*?</nav>', re.S)

    checkout = nav.search(page(as_alice, "/catalog/default/component/checkout")).group()
    billing = nav.search(page(as_alice, "/catalog/default/component/billing")).group()
    legacy = nav.search(page(as_alice, "/catalog/default/component/legacy")).group()
    group = nav.search(page(as_alice, "/catalog/default/group/team-a")).group()

    assert ">Kubernetes</a>" in checkout
    assert ">Kubernetes</a>" in billing  # the label selector alone is enough
    assert "Kubernetes" not in legacy
    assert ">Kubernetes workloads</a>" in group
    assert as_alice.get("/catalog/default/component/legacy/kubernetes").status_code == 404


def test_the_tab_renders_at_once_without_calling_a_cluster(catalog, as_alice, configure, prod):
    # given a cluster so slow that a call would show
    configure(prod, refreshSeconds=15)
    prod.delay = 3
    started = time.monotonic()

    # when
    html = page(as_alice, TAB)

    # then
    assert time.monotonic() - started < 1.5
    assert prod.hits() == 0
    assert f'hx-get="{FRAGMENT}"' in html
    assert 'hx-trigger="load, every 15s"' in html
    assert 'id="k8s-status" role="status" aria-live="polite"' in html
    assert "backstage.io/kubernetes-id=checkout in namespace shop" in html


def test_the_fragment_shows_problems_first_then_each_cluster(catalog, as_alice, configure, prod):
    # given prod runs checkout with one crashing pod; qa does not answer
    with dead_url() as url:
        configure(prod, {"name": "qa", "url": url, "dashboardUrl": "https://qa.example/ui"})
        add_app(prod, "checkout", "shop", image="ghcr.io/northwind/checkout:2.4.1")
        prod.add(
            kubefake.crash_loop_pod("checkout-7d9c6b5f4-zz1", "shop", labels=app_labels("checkout"))
        )

        # when
        html = page(as_alice, FRAGMENT, **HTMX)

    # then problems come first: the crash loop and the cluster that failed
    problems = html.index("data-k8s-problems")
    assert problems < html.index('data-k8s-cluster="prod"') < html.index('data-k8s-cluster="qa"')
    assert 'data-k8s-problem="crash-loop-back-off"' in html
    assert "container checkout keeps crashing: restarted 14 times" in html
    assert re.search(r"cluster qa: cannot connect to 127\.0\.0\.1:\d+ \(connection refused\)", html)
    # prod's workloads and pods: rollout, replicas, images and tags, resources, logs
    assert 'data-k8s-workload="checkout"' in html and "2/2" in html and "complete" in html
    assert "ghcr.io/northwind/checkout" in html and ">2.4.1</span>" in html
    assert "requests cpu 250m, memory 256Mi / limits memory 512Mi" in html
    assert (
        "/plugins/kubernetes/clusters/prod/namespaces/shop/pods/checkout-7d9c6b5f4-x2k9p/logs?container=checkout"
        in html
    )
    assert 'href="https://qa.example/ui"' in html
    # the status line is swapped out of band, for screen readers
    assert '<span id="k8s-status" hx-swap-oob="innerHTML">' in html
    assert "base.html" not in html and "<html" not in html


def test_the_fragment_escapes_what_clusters_say(catalog, as_alice, configure, prod):
    # given a container whose waiting message carries markup
    configure(prod)
    pod = kubefake.not_ready_pod("checkout-evil", "shop", labels=app_labels("checkout"))
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "<script>alert(1)</script>"
    )
    prod.add(pod)

    # when
    html = page(as_alice, FRAGMENT, **HTMX)

    # then
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_without_htmx_the_fragment_is_a_whole_page(catalog, as_alice, configure, prod):
    configure(prod)
    add_app(prod, "checkout", "shop")

    html = page(as_alice, FRAGMENT)

    assert "<html" in html and "Kubernetes: component:default/checkout" in html
    assert 'data-k8s-cluster="prod"' in html


def test_refresh_now_skips_the_cache(catalog, as_alice, configure, prod):
    # given a cached answer
    configure(prod, cacheSeconds=60)
    page(as_alice, FRAGMENT, **HTMX)
    asked = prod.hits()

    # when
    page(as_alice, FRAGMENT, **HTMX)
    page(as_alice, FRAGMENT + "?fresh=1", **HTMX)

    # then only the fresh request reached the cluster
    assert prod.hits() == 2 * asked


def test_people_must_be_signed_in(catalog, configure, prod):
    configure(prod)
    response = Client().get(FRAGMENT)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert prod.hits() == 0


def test_the_group_view_shows_what_the_group_owns_with_a_few_queries(
    catalog, as_alice, configure, prod, django_assert_max_num_queries
):
    # given team-a's checkout (crashing), search and billing run on prod; team-b's invoices too
    configure(prod)
    add_app(prod, "checkout", "shop")
    prod.add(
        kubefake.crash_loop_pod("checkout-7d9c6b5f4-zz1", "shop", labels=app_labels("checkout"))
    )
    add_app(prod, "search", "search")
    add_app(prod, "billing", "billing", labels={"app.kubernetes.io/name": "billing"})
    add_app(prod, "invoices", "billing")

    # when: the group, its owned entities and their count are the plugin's queries; the
    # session, the person and the theme are every page's
    with django_assert_max_num_queries(9):
        html = page(as_alice, GROUP_FRAGMENT, **HTMX)

    # then errors first, naming the entity
    assert html.index("data-k8s-problems") < html.index("data-k8s-group-workloads")
    assert 'href="/catalog/default/component/checkout/kubernetes">checkout</a>' in html
    rows = re.findall(r'data-k8s-entity="([^"]+)" data-k8s-workload="([^"]+)"', html)
    assert sorted(set(rows)) == [
        ("billing", "billing"),
        ("checkout", "checkout"),
        ("search", "search"),
    ]
    assert "invoices" not in html and "legacy" not in html
    # checkout and search share one query per object type; billing has its own
    selectors = {r.query["labelSelector"][0] for r in prod.requests}
    assert selectors == {
        "backstage.io/kubernetes-id in (search)",
        "backstage.io/kubernetes-id in (checkout)",
        "app.kubernetes.io/name=billing",
    }


def test_the_group_tab_renders_without_calling_a_cluster(catalog, as_alice, configure, prod):
    configure(prod)
    html = page(as_alice, GROUP_TAB)
    assert f'hx-get="{GROUP_FRAGMENT}"' in html
    assert prod.hits() == 0


def test_pod_logs_show_the_last_lines(catalog, as_alice, configure, prod):
    # given
    configure(prod, logLines=2)
    prod.add(kubefake.pod("web-1", "shop", labels=app_labels("checkout")))
    prod.set_log("shop", "web-1", "starting\n<b>ready</b>\nGET /health 200\n")

    # when
    html = page(
        as_alice,
        "/plugins/kubernetes/clusters/prod/namespaces/shop/pods/web-1/logs?container=web",
        **HTMX,
    )

    # then
    assert "&lt;b&gt;ready&lt;/b&gt;\nGET /health 200\n" in html and "starting" not in html
    assert "cluster prod, namespace shop, last 2 lines" in html


def test_pod_logs_of_a_failing_call_say_why(catalog, as_alice, configure, prod):
    configure(prod)
    html = page(
        as_alice, "/plugins/kubernetes/clusters/prod/namespaces/shop/pods/ghost/logs", **HTMX
    )
    assert "cluster prod: not found (404 Not Found): pods &quot;ghost&quot; not found" in html


def test_pod_logs_come_only_from_configured_clusters(catalog, as_alice, configure, prod):
    configure(prod)
    for url in [
        "/plugins/kubernetes/clusters/elsewhere/namespaces/shop/pods/web-1/logs",
        "/plugins/kubernetes/clusters/http:%2F%2F127.0.0.1:1/namespaces/shop/pods/web-1/logs",
        "/plugins/kubernetes/clusters/prod/namespaces/..%2Fsecrets/pods/web-1/logs",
    ]:
        assert as_alice.get(url).status_code == 404, url
    assert prod.hits() == 0
