"""URL locations and URL placeholders, read over real loopback HTTP."""

from __future__ import annotations

import pytest

from catalog.choices import RunStatus
from catalog.models import Entity
from tests.conftest import component, entity
from tests.httpserver import fake_host


@pytest.fixture
def host(configure):
    with fake_host() as server:
        configure(reading={"allow": [{"host": server.base_url.split("//")[1]}]})
        yield server


def test_it_ingests_a_url_location_and_its_relative_targets(register, host):
    # given
    host.serve(
        "/repo/svc.yaml",
        component("svc")
        + "---\n"
        + """
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: svc-api}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./api.yaml}}
""",
    )
    host.serve("/repo/api.yaml", "openapi: 3.0.0\n")
    root = host.serve(
        "/repo/catalog.yaml",
        """
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec: {targets: [./svc.yaml]}
""",
    )

    # when
    run = register(root, type_="url")

    # then
    assert run.status == RunStatus.SUCCEEDED and run.error_count == 0
    assert entity("api:default/svc-api").body["spec"]["definition"] == "openapi: 3.0.0\n"
    annotations = entity("component:default/svc").body["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"url:{host.base_url}/repo/svc.yaml"


def test_a_server_error_keeps_the_entities_and_is_reported(register, refresh, host):
    # given
    url = host.serve("/c.yaml", component("svc"))
    run = register(url, type_="url")

    # when
    host.serve("/c.yaml", "oops", status=503)
    second = refresh(run.location)

    # then
    assert Entity.objects.filter(ref="component:default/svc").exists()
    assert "HTTP 503" in second.errors[0]["message"]
    assert second.status == RunStatus.FAILED  # the location's only file could not be read


def test_a_redirect_to_a_host_off_the_allowlist_is_not_followed(register, host):
    # given
    url = host.serve("/c.yaml", status=302, headers={"Location": "http://169.254.169.254/x"})

    # when
    run = register(url, type_="url")

    # then
    assert "not on the reading allowlist" in run.errors[0]["message"]


def test_a_slow_host_times_out_with_a_clear_error(configure, register, host):
    # given
    configure(readTimeoutSeconds=1, reading={"allow": [{"host": host.base_url.split("//")[1]}]})
    url = host.serve("/slow.yaml", component("svc"), delay=3)

    # when
    run = register(url, type_="url")

    # then
    assert "timed out" in run.errors[0]["message"]


def test_an_oversized_response_is_refused(configure, register, host):
    # given
    configure(maxFileBytes=1000, reading={"allow": [{"host": host.base_url.split("//")[1]}]})
    url = host.serve("/big.yaml", "# " + "x" * 5000 + "\n" + component("svc"))

    # when
    run = register(url, type_="url")

    # then
    assert "over the limit of 1000 bytes" in run.errors[0]["message"]
    assert not Entity.objects.filter(kind="component").exists()
