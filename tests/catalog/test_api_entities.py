"""Backstage catalog API: entity and location lookups, shapes, status codes, errors."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User

from catalog import ingest
from catalog.models import Entity, Location, Relation
from tests.conftest import component, entity

API = "/api/catalog"


@pytest.fixture
def catalog(register, write_file):
    """A Location file listing two component files: a -> b."""
    write_file("a.yaml", component("Svc-A", dependsOn=["component:b"]))
    write_file("b.yaml", component("b"))
    root = write_file(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: all}
        spec: {targets: [./a.yaml, ./b.yaml]}
        """,
    )
    return register(root)


def assert_backstage_error(response, status: int, name: str, url: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["name"] == name and body["error"]["message"]
    assert body["request"] == {"method": response.request["REQUEST_METHOD"], "url": url}
    assert body["response"] == {"statusCode": status}


def test_by_name_returns_the_entity_with_relations(api, catalog):
    # when (names compare case-insensitively, as in Backstage)
    response = api.get(f"{API}/entities/by-name/component/default/svc-a")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["name"] == "Svc-A"
    assert body["metadata"]["uid"] == str(entity("component:default/svc-a").uid)
    assert {"type": "dependsOn", "targetRef": "component:default/b"} in body["relations"]
    assert body["kind"] == "Component" and body["spec"]["owner"] == "team-a"


def test_by_name_404_is_backstage_shaped(api, catalog):
    response = api.get(f"{API}/entities/by-name/component/default/nope")
    assert_backstage_error(
        response, 404, "NotFoundError", "/entities/by-name/component/default/nope"
    )
    assert "No entity named 'nope'" in response.json()["error"]["message"]


def test_by_uid_finds_and_misses(api, catalog):
    uid = entity("component:default/b").uid
    assert api.get(f"{API}/entities/by-uid/{uid}").json()["metadata"]["name"] == "b"
    missing = uuid.uuid4()
    assert_backstage_error(
        api.get(f"{API}/entities/by-uid/{missing}"),
        404,
        "NotFoundError",
        f"/entities/by-uid/{missing}",
    )
    assert_backstage_error(
        api.get(f"{API}/entities/by-uid/not-a-uuid"),
        404,
        "NotFoundError",
        "/entities/by-uid/not-a-uuid",
    )


def test_delete_by_uid_needs_a_signed_in_user(api, catalog):
    uid = entity("component:default/b").uid
    response = api.delete(f"{API}/entities/by-uid/{uid}")
    assert_backstage_error(response, 401, "AuthenticationError", f"/entities/by-uid/{uid}")
    assert Entity.objects.filter(uid=uid).exists()


def test_delete_by_uid_removes_it_until_its_file_brings_it_back(api, catalog):
    # given
    api.force_login(User.objects.create_user("alice"))
    old = entity("component:default/b")

    # when
    response = api.delete(f"{API}/entities/by-uid/{old.uid}")

    # then: gone now, with the relations it declared (svc-a's "dependsOn b" is svc-a's)
    assert response.status_code == 204
    assert not Entity.objects.filter(ref="component:default/b").exists()
    assert not Relation.objects.filter(source_ref="component:default/b", type="ownedBy").exists()
    assert Relation.objects.filter(source_ref="component:default/svc-a", type="dependsOn").exists()

    # and back after a refresh, as in Backstage (the file still defines it)
    ingest.refresh_location(catalog.location)
    back = entity("component:default/b")
    assert back.uid != old.uid

    # deleting what does not exist is still 204
    assert api.delete(f"{API}/entities/by-uid/{uuid.uuid4()}").status_code == 204


def test_by_refs_keeps_input_order_with_nulls_and_projects_fields(api, catalog):
    # when
    response = api.post(
        f"{API}/entities/by-refs",
        {
            "entityRefs": [
                "component:default/b",
                "component:default/nope",
                "not a ref",
                "component:svc-a",
            ],
            "fields": ["kind", "metadata.name"],
        },
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {"kind": "Component", "metadata": {"name": "b"}},
            None,
            None,
            {"kind": "Component", "metadata": {"name": "Svc-A"}},
        ]
    }


@pytest.mark.parametrize(
    "body",
    [
        {"entityRefs": "component:default/b"},
        {"entityRefs": [1]},
        ["x"],
        {"entityRefs": [], "fields": "kind"},
    ],
)
def test_by_refs_bad_input_is_a_400(api, catalog, body):
    response = api.post(f"{API}/entities/by-refs", body, format="json")
    assert_backstage_error(response, 400, "InputError", "/entities/by-refs")


def test_by_refs_refuses_malformed_json(api, catalog):
    response = api.post(f"{API}/entities/by-refs", "{not json", content_type="application/json")
    assert_backstage_error(response, 400, "InputError", "/entities/by-refs")


def test_ancestry_walks_up_to_the_registered_location(api, catalog):
    # when
    response = api.get(f"{API}/entities/by-name/component/default/b/ancestry")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["rootEntityRef"] == "component:default/b"
    chain = [(i["entity"]["metadata"]["name"], i["parentEntityRefs"]) for i in body["items"]]
    generated = chain[2][0]
    assert chain == [
        ("b", ["location:default/all"]),
        ("all", [f"location:default/{generated}"]),
        (generated, []),
    ]
    assert generated.startswith("generated-")


def test_locations_are_listed_found_and_found_by_entity(api, catalog):
    location = Location.objects.get()
    expected = {
        "id": str(location.id),
        "type": "file",
        "target": location.target,
        "entityRef": f"location:default/{location.entity_name}",
    }

    assert api.get(f"{API}/locations").json() == [{"data": expected}]
    assert api.get(f"{API}/locations/{location.id}").json() == expected
    assert api.get(f"{API}/locations/by-entity/component/default/b").json() == expected
    missing = uuid.uuid4()
    assert_backstage_error(
        api.get(f"{API}/locations/{missing}"), 404, "NotFoundError", f"/locations/{missing}"
    )
