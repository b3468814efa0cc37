"""Who may see and do what: pages need a signed-in person, the JSON API stays open, every
form needs its CSRF token, and guest sign-in only exists when the demo turns it on."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from catalog.models import Entity, EntityStar, Location
from portal.models import Preference

LOCATION_ID = "0f6d7c38-3a41-4d0a-9d55-7f1f2d6e9a10"

PAGES = [
    "/",
    "/settings",
    "/catalog",
    "/catalog?kind=group&scope=owned",
    "/catalog/owners?owner=team",
    "/api-docs",
    "/docs",
    "/create",
    "/search?q=checkout",
    "/catalog/default/component/checkout",
    "/catalog/default/component/checkout/dependencies",
    "/catalog/default/component/checkout/inspect",
    "/catalog/default/component/checkout/graph?depth=2",
    "/catalog/default/component/checkout/unregister",
    "/catalog-import",
    "/locations",
    f"/locations/{LOCATION_ID}",
]


def login_redirect_next(response) -> str:
    """Return the `next` of a redirect to the sign-in page (failing if it is not one)."""
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path == "/accounts/login/"
    return parse_qs(url.query)["next"][0]


@pytest.mark.parametrize("page", PAGES)
def test_it_sends_signed_out_people_to_the_sign_in_page(db, page):
    # given
    client = Client()

    # when
    response = client.get(page)

    # then
    assert login_redirect_next(response) == page


@pytest.mark.parametrize(
    "page",
    [
        "/catalog/default/component/checkout/star",
        "/catalog/default/component/checkout/refresh",
        "/catalog/default/component/checkout/unregister",
        "/catalog-import",
        f"/locations/{LOCATION_ID}/refresh",
        "/settings",
    ],
)
def test_it_sends_signed_out_posts_to_the_sign_in_page(db, page):
    # given
    client = Client()

    # when
    response = client.post(page, {"target": "/etc/passwd", "theme": "dark"})

    # then
    assert login_redirect_next(response) == page


def test_it_keeps_the_catalog_api_open_to_signed_out_readers(small_catalog):
    # given
    client = Client()

    # when
    response = client.get("/api/catalog/entities?filter=kind=component")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert b"checkout" in b"".join(response.streaming_content)


def test_it_keeps_health_checks_open(db):
    # when
    response = Client().get("/healthz")

    # then
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def csrf_client(alice, signed_in) -> Client:
    """alice, signed in, with a client that enforces CSRF checks like a browser's server."""
    return signed_in(alice, enforce_csrf_checks=True)


def systems_location() -> Location:
    return Location.objects.get(target__endswith="systems.yaml")


def test_it_refuses_posts_without_a_csrf_token(small_catalog, csrf_client, catalog_dir, subtests):
    location = systems_location()
    pages = [
        "/catalog/default/component/checkout/star",
        "/catalog/default/component/checkout/refresh",
        "/catalog/default/component/checkout/unregister",
        "/catalog-import",
        f"/locations/{location.pk}/refresh",
        "/settings",
        "/accounts/logout/",
    ]
    for page in pages:
        with subtests.test(msg=page):
            # given
            entities, runs = Entity.objects.count(), location.runs.count()
            data = {"target": str(catalog_dir / "org.yaml"), "action": "import", "theme": "dark"}

            # when
            response = csrf_client.post(page, data)

            # then
            assert response.status_code == 403
            assert not EntityStar.objects.exists()
            assert Entity.objects.count() == entities
            assert Location.objects.count() == 2
            assert location.runs.count() == runs
            assert not Preference.objects.exists()
            assert csrf_client.get("/settings").status_code == 200  # still signed in


def test_it_accepts_a_post_that_carries_the_csrf_token(small_catalog, alice, csrf_client):
    # given
    csrf_client.get("/catalog/default/component/checkout")
    token = csrf_client.cookies["csrftoken"].value

    # when
    response = csrf_client.post("/catalog/default/component/checkout/star", HTTP_X_CSRFTOKEN=token)

    # then
    assert response.status_code == 302
    assert EntityStar.objects.filter(user=alice, entity__ref="component:default/checkout").exists()


def test_it_has_no_guest_sign_in_when_the_demo_is_off(db, settings):
    # given
    settings.GREENROOM_GUEST_SIGNIN = False
    client = Client()

    # when
    response = client.post("/accounts/guest/")

    # then
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="guest").exists()
    assert "_auth_user_id" not in client.session


def test_it_signs_in_as_the_guest_when_the_demo_is_on(db, settings):
    # given
    settings.GREENROOM_GUEST_SIGNIN = True
    client = Client()

    # when
    response = client.post("/accounts/guest/", {"next": "/catalog?kind=api"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/catalog?kind=api"
    guest = get_user_model().objects.get(username="guest")
    assert client.session["_auth_user_id"] == str(guest.pk)
    assert client.get("/settings").status_code == 200


def test_it_only_signs_in_the_guest_by_post(db, settings):
    # given
    settings.GREENROOM_GUEST_SIGNIN = True

    # when
    response = Client().get("/accounts/guest/")

    # then
    assert response.status_code == 405
    assert not get_user_model().objects.filter(username="guest").exists()


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/catalog", "https:evil.example", "\\\\evil.example"],
)
def test_it_ignores_a_guest_sign_in_next_on_another_host(db, settings, target):
    # given
    settings.GREENROOM_GUEST_SIGNIN = True

    # when
    response = Client().post("/accounts/guest/", {"next": target})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/catalog"])
def test_it_ignores_a_sign_in_next_on_another_host(alice, target):
    # given
    client = Client()

    # when
    response = client.post("/accounts/login/", {"login": "alice", "password": "pw", "next": target})

    # then
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
    assert urlsplit(response["Location"]).netloc in ("", "testserver")


def test_it_follows_a_sign_in_next_on_this_site(alice):
    # when
    response = Client().post(
        "/accounts/login/", {"login": "alice", "password": "pw", "next": "/catalog?kind=api"}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/catalog?kind=api"
