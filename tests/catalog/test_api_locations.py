"""Backstage catalog API writes: locations (dry run, conflicts, move, delete, by-query),
refresh, validate-entity and analyze-location."""

from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient

from catalog.choices import LocationOrigin
from catalog.models import Entity, Location
from tests.conftest import component, entity

API = "/api/catalog"


@pytest.fixture
def catalog_file(configure, write_file):
    return write_file("catalog-info.yaml", component("svc") + "---\n" + component("lib"))


def test_add_location_registers_and_ingests(writer, catalog_file):
    # when
    response = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})

    # then: Backstage's 201 shape; the inline worker has ingested it
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["location"]["type"] == "file"
    assert body["location"]["target"] == str(catalog_file)
    assert body["entities"] == []
    location = Location.objects.get(pk=body["location"]["id"])
    assert location.created_by == "token:tests"
    assert body["location"]["entityRef"] == f"location:default/{location.entity_name}"
    listed = writer.get(f"{API}/locations").json()
    assert listed == [{"data": body["location"]}]
    assert entity(body["location"]["entityRef"]).body["spec"]["target"] == str(catalog_file)
    assert entity("component:default/svc").location == location


def test_add_location_twice_is_a_409_unless_refresh(writer, catalog_file):
    first = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    again = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    assert again.status_code == 409
    assert again.json()["error"]["name"] == "ConflictError"
    assert "already exists" in again.json()["error"]["message"]

    refreshed = writer.post(
        f"{API}/locations?onConflict=refresh", {"type": "file", "target": str(catalog_file)}
    )
    assert refreshed.status_code == 201
    assert refreshed.json()["location"]["id"] == first.json()["location"]["id"]


def test_dry_run_reads_but_registers_nothing(writer, catalog_file):
    # when
    response = writer.post(
        f"{API}/locations?dryRun=true", {"type": "file", "target": str(catalog_file)}
    )

    # then: the Location entity and the file's entities, nothing stored
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["exists"] is False
    assert body["location"]["id"] == f"file:{catalog_file}"  # as Backstage names it
    kinds_names = [(e["kind"], e["metadata"]["name"]) for e in body["entities"]]
    assert kinds_names[1:] == [("Component", "svc"), ("Component", "lib")]
    assert kinds_names[0][0] == "Location"
    annotations = body["entities"][1]["metadata"]["annotations"]
    assert annotations["backstage.io/managed-by-location"] == f"file:{catalog_file}"
    assert not Location.objects.exists() and not Entity.objects.exists()


def test_dry_run_follows_nested_locations_and_reports_exists(writer, write_file, catalog_file):
    root = write_file(
        "root.yaml",
        yaml.safe_dump(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Location",
                "metadata": {"name": "root"},
                "spec": {"targets": ["./catalog-info.yaml"]},
            }
        ),
    )
    writer.post(f"{API}/locations", {"type": "file", "target": str(root)})
    response = writer.post(f"{API}/locations?dryRun=true", {"type": "file", "target": str(root)})
    body = response.json()
    assert body["exists"] is True
    assert {e["metadata"]["name"] for e in body["entities"]} >= {"root", "svc", "lib"}


def test_dry_run_with_broken_file_is_a_400_naming_file_and_line(writer, configure, write_file):
    broken = write_file("broken.yaml", component("ok") + "---\nkind: [unclosed\n")
    response = writer.post(f"{API}/locations?dryRun=true", {"type": "file", "target": str(broken)})
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert str(broken) in message and "line" in message


@pytest.mark.parametrize(
    ("body", "query", "message"),
    [
        ({"type": "file", "target": "/etc/passwd"}, "", "not allowed"),
        ({"type": "file", "target": "relative.yaml"}, "", "absolute"),
        ({"type": "ftp", "target": "ftp://x/y"}, "", "not supported"),
        ({"type": "url", "target": "https://evil.example.com/x.yaml"}, "", "allowlist"),
        ({"type": "file", "target": ""}, "", "non-empty target"),
        ({"type": "file", "target": "/x", "extra": 1}, "", "unknown field"),
        ({"type": "file", "target": "/x"}, "?dryRun=maybe", "true or false"),
        ({"type": "file", "target": "/x"}, "?onConflict=merge", "reject or refresh"),
    ],
)
def test_add_location_bad_input_is_a_400(writer, configure, body, query, message):
    response = writer.post(f"{API}/locations{query}", body, format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["error"]["message"]
    assert not Location.objects.exists()


def test_writes_need_a_token_or_a_session(api, catalog_file, django_user_model):
    # given: no credentials
    response = api.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    assert response.status_code == 401
    assert response.json()["error"]["name"] == "AuthenticationError"

    # when: a signed-in session (CSRF enforced by DRF's session authentication)
    user = django_user_model.objects.create_user("ada", password="pw")
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(user)
    refused = session.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
    session = APIClient()
    session.force_login(user)
    accepted = session.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    assert accepted.status_code == 201
    assert Location.objects.get().created_by == "ada"


def test_delete_location_removes_its_entities(writer, catalog_file):
    created = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    location_id = created.json()["location"]["id"]

    response = writer.delete(f"{API}/locations/{location_id}")

    assert response.status_code == 204
    assert not Entity.objects.filter(kind="component").exists()
    assert writer.get(f"{API}/locations/{location_id}").status_code == 404
    assert writer.delete(f"{API}/locations/{location_id}").status_code == 404


def test_config_locations_cannot_be_changed_through_the_api(writer, configure, catalog_file):
    location = Location.objects.create(
        type="file", target=str(catalog_file), origin=LocationOrigin.CONFIG
    )
    response = writer.delete(f"{API}/locations/{location.id}")
    assert response.status_code == 403
    assert "config file" in response.json()["error"]["message"]
    assert Location.objects.filter(pk=location.pk).exists()


def test_put_location_moves_it_to_a_new_target(writer, write_file, catalog_file):
    # given: a location, and a second file elsewhere
    other = write_file("other.yaml", component("moved"))
    created = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    location_id = created.json()["location"]["id"]

    # when
    response = writer.put(
        f"{API}/locations/{location_id}", {"type": "file", "target": str(other)}, format="json"
    )

    # then: same id, new target, old entities gone by the orphan strategy, new one in
    assert response.status_code == 200, response.content
    moved = Location.objects.get(pk=location_id)
    assert response.json() == {
        "id": location_id,
        "type": "file",
        "target": str(other),
        "entityRef": f"location:default/{moved.entity_name}",
    }
    refs = set(Entity.objects.values_list("ref", flat=True))
    assert "component:default/moved" in refs
    assert "component:default/svc" not in refs
    assert len([r for r in refs if r.startswith("location:")]) == 1


def test_put_location_onto_another_locations_target_is_a_409(writer, write_file, catalog_file):
    other = write_file("other.yaml", component("other"))
    first = writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    writer.post(f"{API}/locations", {"type": "file", "target": str(other)})
    response = writer.put(
        f"{API}/locations/{first.json()['location']['id']}",
        {"type": "file", "target": str(other)},
        format="json",
    )
    assert response.status_code == 409


def test_locations_by_query_pages_and_filters(writer, write_file, configure):
    for i in range(5):
        path = write_file(f"c{i}.yaml", component(f"c{i}"))
        writer.post(f"{API}/locations", {"type": "file", "target": str(path)})

    response = writer.post(f"{API}/locations/by-query", {"limit": 2}, format="json")
    body = response.json()
    assert response.status_code == 200 and body["totalItems"] == 5
    seen = [item["target"] for item in body["items"]]
    while cursor := body["pageInfo"].get("nextCursor"):
        body = writer.post(f"{API}/locations/by-query", {"cursor": cursor}, format="json").json()
        seen += [item["target"] for item in body["items"]]
    assert len(seen) == len(set(seen)) == 5

    filtered = writer.post(
        f"{API}/locations/by-query",
        {"query": {"target": {"$hasPrefix": str(path.parent / "c1").lower()}}},
        format="json",
    ).json()
    assert [item["target"] for item in filtered["items"]] == [str(path.parent / "c1.yaml")]


def test_refresh_rereads_the_entity_file(writer, catalog_file):
    writer.post(f"{API}/locations", {"type": "file", "target": str(catalog_file)})
    catalog_file.write_text(component("svc", owner="team-z"), encoding="utf-8")

    response = writer.post(f"{API}/refresh", {"entityRef": "component:default/svc"}, format="json")

    assert response.status_code == 200
    assert entity("component:default/svc").body["spec"]["owner"] == "team-z"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"entityRef": "component:default/missing"}, 404),
        ({"entityRef": 5}, 400),
        ({}, 400),
    ],
)
def test_refresh_bad_input(writer, configure, body, status):
    response = writer.post(f"{API}/refresh", body, format="json")
    assert response.status_code == status


def test_refresh_needs_authentication(api, configure):
    response = api.post(f"{API}/refresh", {"entityRef": "component:x"}, format="json")
    assert response.status_code == 401


def test_validate_entity(api, configure):
    valid = yaml.safe_load(component("fine"))
    file_location = api.post(
        f"{API}/validate-entity", {"location": "file:/x.yaml", "entity": valid}, format="json"
    )
    assert file_location.status_code == 400  # Backstage validates for url: locations only
    assert file_location.json()["errors"][0]["name"] == "TypeError"
    ok = api.post(
        f"{API}/validate-entity", {"location": "url:https://x/y", "entity": valid}, format="json"
    )
    assert ok.status_code == 200

    invalid = {**valid, "metadata": {"name": "bad name!"}}
    bad = api.post(
        f"{API}/validate-entity", {"location": "url:https://x/y", "entity": invalid}, format="json"
    )
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors and all(e["name"] == "InputError" for e in errors)
    assert any("metadata.name" in e["message"] for e in errors)

    no_location = api.post(f"{API}/validate-entity", {"entity": valid}, format="json")
    assert no_location.status_code == 400
    assert "location" in no_location.json()["errors"][0]["message"]


def test_analyze_location_finds_existing_descriptor(writer, catalog_file):
    response = writer.post(
        f"{API}/analyze-location",
        {"location": {"type": "file", "target": str(catalog_file.parent)}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["generateEntities"] == []
    files = body["existingEntityFiles"]
    assert [f["entity"]["metadata"]["name"] for f in files] == ["svc", "lib"]
    assert files[0]["isRegistered"] is False
    assert files[0]["location"] == {"type": "file", "target": str(catalog_file)}


def test_analyze_location_suggests_an_entity_for_a_bare_folder(writer, configure, catalog_dir):
    folder = catalog_dir / "payments-service"
    folder.mkdir()
    response = writer.post(
        f"{API}/analyze-location",
        {"location": {"type": "file", "target": str(folder)}},
        format="json",
    )
    body = response.json()
    assert body["existingEntityFiles"] == []
    (suggestion,) = body["generateEntities"]
    assert suggestion["entity"]["metadata"]["name"] == "payments-service"
    assert {"field": "spec.owner", "state": "needsUserInput"}.items() <= suggestion["fields"][
        0
    ].items()


def test_analyze_location_refuses_targets_outside_the_allowlist(writer, configure):
    response = writer.post(
        f"{API}/analyze-location", {"location": {"type": "file", "target": "/etc"}}, format="json"
    )
    assert response.status_code == 400
    assert "not allowed" in response.json()["error"]["message"]


def test_wrong_content_type_and_oversized_bodies_are_400(writer, configure, settings):
    wrong = writer.post(
        f"{API}/entities/by-refs", "entityRefs=x", content_type="application/x-www-form-urlencoded"
    )
    assert wrong.status_code == 400 and "JSON" in wrong.json()["error"]["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    huge = writer.post(
        f"{API}/entities/by-refs", {"entityRefs": ["component:x"] * 500}, format="json"
    )
    assert huge.status_code == 400 and "limit" in huge.json()["error"]["message"]
    garbage = writer.post(f"{API}/entities/by-refs", "{not json", content_type="application/json")
    assert garbage.status_code == 400


def test_unknown_api_paths_are_a_json_404(api):
    response = api.get("/api/catalog/nope")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["name"] == "NotFoundError"


def test_unexpected_errors_are_a_json_500(api, configure, monkeypatch):
    from catalog import listing

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(listing, "facets", explode)
    client = APIClient(raise_request_exception=False)
    response = client.get(f"{API}/entity-facets?facet=kind")
    assert response.status_code == 500
    assert response.json()["error"] == {"name": "Error", "message": "internal error (RuntimeError)"}
