"""Service tokens (`manage.py api_token`, settings), read protection, and the OpenAPI
description with the browsable API."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from rest_framework.test import APIClient

from portal.models import ApiToken

API = "/api/catalog"


def make_token(name: str) -> str:
    out = io.StringIO()
    call_command("api_token", name, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh_status(client: APIClient) -> int:
    # a write whose only failure with valid credentials is the missing entity (404)
    return client.post(f"{API}/refresh", {"entityRef": "component:default/nope"}).status_code


def test_api_token_prints_the_token_last_and_stores_only_its_hash(db):
    token = make_token("ci")
    record = ApiToken.objects.get(name="ci")
    assert token.startswith("grt_") and len(token) > 40
    assert token not in (record.token_hash, record.hint)
    assert refresh_status(client_with(token)) == 404
    assert ApiToken.objects.get(name="ci").last_used_at is not None


def test_tokens_are_listed_without_secrets_and_can_be_revoked(db):
    token = make_token("deploys")
    listing = io.StringIO()
    call_command("api_token", "--list", stdout=listing)
    assert "deploys" in listing.getvalue() and "active" in listing.getvalue()
    assert token not in listing.getvalue()

    call_command("api_token", "--revoke", "deploys", stdout=io.StringIO())

    response = client_with(token).post(f"{API}/refresh", {"entityRef": "component:x"})
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    with pytest.raises(CommandError, match="no active token"):
        call_command("api_token", "--revoke", "deploys")


def test_a_name_cannot_be_reused_while_active(db):
    make_token("twice")
    with pytest.raises(CommandError, match="revoke it first"):
        call_command("api_token", "twice")


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Bearer", "Bearer a b", "Bearer grt_" + "x" * 43]
)
def test_bad_bearer_headers_are_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(f"{API}/refresh", {"entityRef": "component:x"})
    assert response.status_code == 401
    assert response.json()["error"]["name"] == "AuthenticationError"


def test_tokens_from_settings(db):
    secret = "s" * 32
    with override_settings(API_TOKENS={"pipeline": secret}):
        assert refresh_status(client_with(secret)) == 404
        assert refresh_status(client_with("t" * 32)) == 401


def test_reads_are_open_by_default_and_protected_by_configuration(db):
    assert APIClient().get(f"{API}/entities?limit=1").status_code == 200
    with override_settings(API_READS_REQUIRE_AUTH=True):
        anonymous = APIClient().get(f"{API}/entities?limit=1")
        assert anonymous.status_code == 401
        by_query = APIClient().post(f"{API}/entities/by-refs", {"entityRefs": []})
        assert by_query.status_code == 401
        assert client_with(make_token("reader")).get(f"{API}/entities?limit=1").status_code == 200


def test_openapi_description_lists_the_catalog_routes(db):
    response = APIClient().get("/api/openapi")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for route in (
        "/api/catalog/entities",
        "/api/catalog/entities/by-query",
        "/api/catalog/entities/by-refs",
        "/api/catalog/entity-facets",
        "/api/catalog/locations",
        "/api/catalog/locations/{location_id}",
        "/api/catalog/refresh",
        "/api/catalog/validate-entity",
        "/api/catalog/analyze-location",
    ):
        assert route in paths, route
    params = {p["name"] for p in paths["/api/catalog/entities/by-query"]["get"]["parameters"]}
    assert {"filter", "cursor", "orderField", "fullTextFilterTerm", "totalItems"} <= params


def test_browsable_api_renders_for_a_browser(db):
    response = APIClient().get(f"{API}/entities?limit=1", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"<html" in response.content.lower() and b"Entity List" in response.content
