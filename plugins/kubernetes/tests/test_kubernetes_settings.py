"""Settings: the schema stops start-up naming the bad setting, each cluster gets its own
client configuration (never the global one), and health() checks every cluster."""

from __future__ import annotations

import base64

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from kubernetes import client

from plugins.kubernetes import KubernetesConfig
from plugins.kubernetes.clusters import (
    Cluster,
    ClusterConfigError,
    build_configuration,
    current_settings,
)
from plugins.kubernetes.tests.support import cluster_entry
from portal.plugins import load_plugins, plugin_config_class, validate_plugin_settings
from tests.kubefake import dead_url

PLUGIN = "plugins.kubernetes"


def plugin() -> KubernetesConfig:
    return apps.get_app_config("kubernetes")  # type: ignore[return-value]


def test_the_package_exports_its_config():
    assert plugin_config_class(PLUGIN) is KubernetesConfig
    assert (KubernetesConfig.label, KubernetesConfig.base_url) == ("kubernetes", "kubernetes")


def test_defaults_need_no_settings():
    # when
    merged = validate_plugin_settings(KubernetesConfig, None)

    # then
    assert merged["clusters"] == [] and merged["cacheSeconds"] == 10
    assert merged["timeoutSeconds"] == 5 and merged["logLines"] == 200


def test_backstage_style_clusters_are_accepted():
    given = {
        "clusters": [
            {
                "name": "prod-eu",
                "url": "https://k8s.prod.example:6443",
                "authProvider": "serviceAccount",
                "serviceAccountToken": "eyJhbGciOi",
                "caData": "LS0tLS1CRUdJTi",
                "dashboardUrl": "https://dashboard.prod.example",
                "customResources": [
                    {"group": "argoproj.io", "apiVersion": "v1alpha1", "plural": "rollouts"}
                ],
            },
            {"name": "local", "authProvider": "kubeconfig", "context": "kind-local"},
            {"name": "self", "authProvider": "inCluster"},
        ],
        "customResources": [
            {"group": "keda.sh", "apiVersion": "v1alpha1", "plural": "scaledobjects"}
        ],
        "timeoutSeconds": 3,
    }

    # when
    merged = validate_plugin_settings(KubernetesConfig, given)

    # then
    assert merged["clusters"][0]["name"] == "prod-eu"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"clusters": [{"name": "prod"}]},
            "setting 'clusters[0]' is invalid: 'url' is a required property",
        ),
        (
            {"clusters": [{"name": "prod", "url": "https://k", "authProvider": "google"}]},
            "setting 'clusters[0].authProvider' is invalid: 'google' is not one of",
        ),
        (
            {"clusters": [{"name": "prod", "url": "file:///etc/passwd"}]},
            "setting 'clusters[0].url' is invalid: 'file:///etc/passwd' does not match",
        ),
        (
            {"clusters": [{"name": "prod", "url": "https://k", "token": "x"}]},
            "setting 'clusters[0]' is invalid: Additional properties are not allowed ('token'",
        ),
        (
            {"clusters": [{"name": "prod", "url": "https://k", "skipTLSVerify": "yes"}]},
            "setting 'clusters[0].skipTLSVerify' is invalid: 'yes' is not of type 'boolean'",
        ),
        ({"timeoutSeconds": 0}, "setting 'timeoutSeconds' is invalid: 0 is less than or equal"),
        (
            {"customResources": [{"group": "argoproj.io", "plural": "rollouts"}]},
            "setting 'customResources[0]' is invalid: 'apiVersion' is a required property",
        ),
        ({"clusters": {"name": "prod"}}, "setting 'clusters' is invalid"),
        (
            {
                "clusters": [
                    {"name": "prod", "url": "https://a.example"},
                    {"name": "prod", "url": "https://b.example"},
                ]
            },
            "setting 'clusters[1].name' is invalid: 'prod' names two clusters",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_naming_it(given, message):
    # when
    with pytest.raises(ImproperlyConfigured) as caught:
        load_plugins([PLUGIN], {PLUGIN: given})

    # then
    assert f"Plugin '{PLUGIN}': {message}" in str(caught.value)


def test_two_clusters_of_one_name_are_refused_when_read(configure):
    # given
    configure(
        {"name": "prod", "url": "https://a.example"}, {"name": "prod", "url": "https://b.example"}
    )

    # when
    with pytest.raises(ImproperlyConfigured) as caught:
        current_settings()

    # then
    assert "setting 'clusters[1].name' is invalid: 'prod' names two clusters" in str(caught.value)


def test_each_cluster_gets_its_own_configuration():
    # given
    default_before = client.Configuration.get_default_copy()
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    one = Cluster(
        name="one",
        url="https://one.example:6443",
        service_account_token="tok-1",
        ca_data=base64.b64encode(pem.encode()).decode(),
    )
    two = Cluster(name="two", url="https://two.example", skip_tls_verify=True)

    # when
    first, second = build_configuration(one), build_configuration(two)

    # then
    assert first is not second
    assert first.host == "https://one.example:6443"
    assert first.auth_settings()["BearerToken"]["value"] == "Bearer tok-1"
    assert first.ca_cert_data == pem and first.verify_ssl is True
    assert second.verify_ssl is False and second.auth_settings() == {}
    assert first.retries is False  # a page's deadline has no room for retries
    # and the client's global default is untouched
    assert client.Configuration.get_default_copy().host == default_before.host


def test_ca_data_that_is_not_a_certificate_is_a_configuration_error():
    with pytest.raises(ClusterConfigError, match="caData is neither a PEM certificate"):
        build_configuration(Cluster(name="x", url="https://x", ca_data="not base64!"))


def test_the_clusters_public_view_has_no_secrets(configure, prod):
    # given
    configure(cluster_entry(prod, caData="c2VjcmV0"))

    # when
    public = current_settings().cluster("prod").public()

    # then
    assert "prod-token" not in repr(public) and "c2VjcmV0" not in repr(public)
    assert "prod-token" not in repr(current_settings().cluster("prod"))


def test_health_is_ok_without_clusters(configure):
    configure()
    health = plugin().health()
    assert (health.status, health.message) == ("ok", "no clusters configured")


def test_health_is_ok_when_every_cluster_answers(prod, staging, configure):
    # given
    configure(prod, staging)

    # when
    health = plugin().health()

    # then
    assert health.status == "ok"
    assert health.message.startswith("prod (v1.31.2), staging (v1.31.2) answered in")
    assert prod.hits("/version") == 1 and staging.hits("/version") == 1


def test_health_is_degraded_naming_the_clusters_that_fail(prod, staging, configure):
    # given a dead cluster, a cluster refusing the token, and a healthy one
    with dead_url() as url:
        configure(
            {"name": "dead", "url": url},
            cluster_entry(staging, serviceAccountToken="stale"),
            prod,
        )

        # when
        health = plugin().health()

    # then
    assert health.status == "degraded"
    assert health.message.startswith("cluster dead: cannot connect to 127.0.0.1:")
    assert "; cluster staging: credentials refused (401 Unauthorized)" in health.message
    assert "prod" not in health.message


def test_health_of_a_slow_cluster_stays_within_its_time(prod, configure):
    import time

    # given
    configure(prod, timeoutSeconds=1)
    prod.delay = 4
    started = time.monotonic()

    # when
    health = plugin().health()

    # then
    assert time.monotonic() - started < 2.5
    assert health.status == "degraded"
    assert health.message == "cluster prod: no answer within 1 s"
