"""Sign-in with GitHub (django-allauth) against a fake GitHub serving GitHub's API shapes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import entity
from tests.httpserver import FakeHost, fake_host

ORG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-octo}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: octo.cat}
spec: {profile: {email: octo@example.com}, memberOf: [team-octo]}
"""


@pytest.fixture
def github(db, settings, monkeypatch) -> Iterator[FakeHost]:
    """A fake github.com + api.github.com, and allauth's GitHub app pointed at it."""
    with fake_host() as host:
        settings.SOCIALACCOUNT_PROVIDERS = {
            "github": {
                "SCOPE": ["read:user", "user:email"],
                "APPS": [{"client_id": "client-123", "secret": "s3cret", "key": ""}],
            }
        }
        # What GITHUB_URL (GitHub Enterprise) sets, done here because the port is random.
        monkeypatch.setattr(GitHubOAuth2Adapter, "authorize_url", f"{host.base_url}/authorize")
        monkeypatch.setattr(GitHubOAuth2Adapter, "access_token_url", f"{host.base_url}/token")
        monkeypatch.setattr(GitHubOAuth2Adapter, "profile_url", f"{host.base_url}/api/user")
        monkeypatch.setattr(GitHubOAuth2Adapter, "emails_url", f"{host.base_url}/api/emails")
        yield host


def _serve_github_user(host: FakeHost, login: str) -> None:
    token = {"access_token": "gho_fake", "token_type": "bearer", "scope": "read:user"}
    host.serve("/token", json.dumps(token), headers={"Content-Type": "application/json"})
    user = {"id": 583231, "login": login, "name": "Octo Cat", "email": "octo@example.com"}
    host.serve("/api/user", json.dumps(user), headers={"Content-Type": "application/json"})
    emails = [{"email": "octo@example.com", "primary": True, "verified": True}]
    host.serve("/api/emails", json.dumps(emails), headers={"Content-Type": "application/json"})


def _start_login(client: Client) -> dict[str, list[str]]:
    response = client.post("/accounts/github/login/")
    assert response.status_code == 302, response.content
    return parse_qs(urlsplit(response["Location"]).query)


def test_it_signs_in_with_github_and_resolves_the_catalog_user(
    github, configure, write_file, register
):
    # given: the org in the catalog, and GitHub knowing octo.cat
    register(write_file("org.yaml", ORG))
    _serve_github_user(github, "octo.cat")
    client = Client()

    # when: the person goes to GitHub and comes back with a code
    sent = _start_login(client)
    assert sent["client_id"] == ["client-123"]
    back = client.get(
        "/accounts/github/login/callback/", {"code": "c0de", "state": sent["state"][0]}
    )

    # then: signed in, as the catalog's user:default/octo.cat in team-octo
    assert back.status_code == 302 and back["Location"] == "/"
    assert github.posted["/token"] and b"c0de" in github.posted["/token"][0]
    assert get_user_model().objects.filter(username="octo.cat").exists()
    page = client.get("/settings").content.decode()
    assert "user:default/octo.cat" in page and "group:default/team-octo" in page
    assert entity("user:default/octo.cat")


def test_it_refuses_a_callback_whose_state_is_not_its_own(github):
    # given: a login started, and a forged state
    _serve_github_user(github, "octo.cat")
    client = Client()
    _start_login(client)

    # when
    back = client.get("/accounts/github/login/callback/", {"code": "c0de", "state": "forged"})

    # then: a sign-in failure page, nobody signed in, GitHub never asked for a token
    assert back.status_code == 401
    assert b"Login Failure" in back.content
    assert "_auth_user_id" not in client.session
    assert "/token" not in github.hits


def test_it_shows_a_failure_when_github_does_not_answer(github):
    # given: GitHub's token endpoint failing
    github.serve("/token", "upstream trouble", status=502)
    client = Client()
    sent = _start_login(client)

    # when
    back = client.get(
        "/accounts/github/login/callback/", {"code": "c0de", "state": sent["state"][0]}
    )

    # then: a clear failure page, not a server error, and nobody signed in
    assert back.status_code == 401
    assert b"Login Failure" in back.content
    assert "_auth_user_id" not in client.session


def test_it_offers_github_on_the_sign_in_page_only_when_configured(settings, github):
    # given/when: GitHub configured
    configured = Client().get("/accounts/login/").content.decode()
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {}}
    plain = Client().get("/accounts/login/").content.decode()

    # then
    assert "Sign in with GitHub" in configured
    assert "Sign in with GitHub" not in plain
