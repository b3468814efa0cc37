"""The index follows the catalog: registration, edits, removals, deletes, and quiet runs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from catalog import ingest
from catalog.models import Entity, Location
from portal.models import SearchEntry
from portal.search import query
from tests.conftest import component

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = """
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: new-service
  title: Create a service
  description: Scaffolds a Python microservice
spec:
  type: service
  owner: team-a
  steps: []
  parameters: []
"""


def found(term: str, **kwargs: object) -> list[str]:
    return [r["document"]["location"] for r in query.search(term, **kwargs)["results"]]


def described(name: str, description: str) -> str:
    return component(name).replace(f"name: {name}", f"name: {name}\n  description: {description}")


def test_a_registered_entity_becomes_searchable(write_file, register):
    # given
    path = write_file(
        "catalog-info.yaml",
        "---\n".join(
            [described("checkout", "Takes the money"), TEMPLATE, described("cart", "Holds items")]
        ),
    )

    # when
    register(path)

    # then
    assert found("money") == ["/catalog/default/component/checkout"]
    assert found("items") == ["/catalog/default/component/cart"]
    document = query.search("checkout")["results"][0]
    assert document["type"] == "software-catalog"
    assert document["document"]["kind"] == "Component"
    assert document["document"]["owner"] == "group:default/team-a"
    assert document["document"]["lifecycle"] == "production"
    assert found("scaffolds", types=["template"]) == ["/catalog/default/template/new-service"]
    assert found("create serv") == ["/catalog/default/template/new-service"]
    assert query.search("create")["results"][0]["type"] == "template"
    assert not SearchEntry.objects.filter(kind="location").exists()


def test_an_edited_entity_is_reindexed_and_a_removed_one_goes(write_file, register, refresh):
    # given
    path = write_file("catalog-info.yaml", component("checkout") + "---\n" + component("cart"))
    run = register(path)
    assert found("checkout") == ["/catalog/default/component/checkout"]

    # when
    path.write_text(
        component("checkout").replace("name: checkout", "name: checkout\n  title: Payments Hub")
    )
    refresh(run.location)

    # then
    assert found("hub") == ["/catalog/default/component/checkout"]
    assert query.search("checkout")["results"][0]["document"]["title"] == "Payments Hub"
    assert found("cart") == []
    assert not SearchEntry.objects.filter(key="component:default/cart").exists()


def test_a_run_that_changed_nothing_writes_nothing(write_file, register, refresh, monkeypatch):
    # given
    path = write_file("catalog-info.yaml", component("checkout"))
    run = register(path)
    calls = []
    monkeypatch.setattr(
        "catalog.search_documents.index_run", lambda run_id: calls.append(run_id) or {}
    )

    # when
    quiet = refresh(run.location)

    # then
    assert quiet.added == quiet.updated == 0
    assert calls == []


def test_deleting_an_entity_or_unregistering_removes_documents(write_file, register):
    # given
    path = write_file("catalog-info.yaml", component("checkout") + "---\n" + component("cart"))
    register(path)

    # when
    ingest.delete_entity(Entity.objects.get(ref="component:default/cart"))

    # then
    assert found("cart") == []
    assert found("checkout") == ["/catalog/default/component/checkout"]

    # when
    ingest.unregister_location(Location.objects.get(target=str(path)))

    # then
    assert SearchEntry.objects.count() == 0


def test_the_api_delete_removes_the_document(write_file, register, writer):
    # given
    path = write_file("catalog-info.yaml", component("checkout"))
    register(path)
    uid = Entity.objects.get(ref="component:default/checkout").uid

    # when
    response = writer.delete(f"/api/catalog/entities/by-uid/{uid}")

    # then
    assert response.status_code == 204
    assert found("checkout") == []


def test_rebuild_restores_a_lost_index_and_drops_stale_documents(write_file, register, capsys):
    # given
    path = write_file("catalog-info.yaml", component("checkout"))
    register(path)
    SearchEntry.objects.all().delete()
    SearchEntry.objects.create(
        type="software-catalog",
        key="component:default/ghost",
        title="ghost",
        location="/",
        content_hash="x",
    )

    # when
    call_command("search_index", "rebuild")
    call_command("search_index", "status")

    # then
    assert found("checkout") == ["/catalog/default/component/checkout"]
    assert found("ghost") == []
    output = capsys.readouterr().out
    assert "software-catalog: 1 written, 0 unchanged, 1 deleted" in output
    assert "software-catalog: 1\n" in output
    assert "dummy-note: 0" in output
