"""Ingestion from file locations: entities, relations, skips, errors, orphans and conflicts."""

from __future__ import annotations

import json

import pytest
import yaml

from catalog import ingest, queries
from catalog.choices import RunStatus
from catalog.models import Entity, EntityConflict, Location, Relation, Source
from tests.conftest import component, entity

ORG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, parent: org, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: org}
spec: {type: organization, children: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [team-a]}
"""


def relations(ref: str) -> set[tuple[str, str]]:
    return set(Relation.objects.filter(source_ref=ref).values_list("type", "target_ref"))


def test_it_ingests_entities_with_relations_in_both_directions(register, write_file):
    # given
    write_file("org.yaml", ORG)
    write_file(
        "svc.yaml",
        component("svc", system="shop", providesApis=["orders"], dependsOn=["resource:db"])
        + "---\n"
        + "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\n"
        "spec: {type: database, owner: team-a}\n",
    )
    location_file = write_file(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: everything}
        spec:
          targets: [./org.yaml, ./svc.yaml]
        """,
    )

    # when
    run = register(location_file)

    # then
    assert run.status == RunStatus.SUCCEEDED
    assert (run.added, run.error_count) == (6, 0)  # Location, 2 groups, user, svc, db
    svc = entity("component:default/svc")
    assert svc.body["metadata"]["uid"] == str(svc.uid)
    annotations = svc.body["metadata"]["annotations"]
    assert (
        annotations["backstage.io/managed-by-location"] == f"file:{location_file.parent}/svc.yaml"
    )
    assert annotations["backstage.io/managed-by-origin-location"] == f"file:{location_file}"
    assert relations("component:default/svc") == {
        ("ownedBy", "group:default/team-a"),
        ("partOf", "system:default/shop"),
        ("providesApi", "api:default/orders"),
        ("dependsOn", "resource:default/db"),
    }
    assert ("ownerOf", "component:default/svc") in relations("group:default/team-a")
    assert ("dependencyOf", "component:default/svc") in relations("resource:default/db")
    assert ("hasMember", "user:default/alice") in relations("group:default/team-a")
    assert ("parentOf", "group:default/team-a") in relations("group:default/org")
    # the registered location stands in the catalog as Backstage's generated Location entity
    assert Entity.objects.filter(kind="location", name__startswith="generated-").count() == 1


def test_it_answers_ownership_through_subgroups_and_dependents(register, write_file):
    # given
    write_file("org.yaml", ORG)
    write_file("a.yaml", component("a", owner="team-a", dependsOn=["component:b"]))
    write_file("b.yaml", component("b", owner="org", dependsOn=["component:c"]))
    write_file("c.yaml", component("c", owner="group:default/nobody"))

    # when
    register(write_file("x.yaml", "").parent / "*.yaml")

    # then
    assert queries.owned_by("org") == ["component:default/a", "component:default/b"]
    assert queries.owned_by("org", include_subgroups=False) == ["component:default/b"]
    assert queries.dependents_of("component:c") == ["component:default/a", "component:default/b"]
    assert queries.dependents_of("component:c", transitive=False) == ["component:default/b"]


def test_it_skips_unchanged_files_without_parsing_them(register, refresh, write_file):
    # given
    write_file("a.yaml", component("a"))
    write_file("b.yaml", component("b"))
    first = register(write_file("a.yaml", component("a")).parent / "*.yaml")
    before = entity("component:default/a")

    # when
    second = refresh(first.location)

    # then
    assert (second.added, second.updated, second.unchanged) == (0, 0, 2)
    assert second.sources_skipped == 2
    after = entity("component:default/a")
    assert (after.etag, after.generation, after.updated_at) == (
        before.etag,
        before.generation,
        before.updated_at,
    )


def test_it_updates_a_changed_entity_keeping_its_uid(register, refresh, write_file):
    # given
    path = write_file("a.yaml", component("a", owner="team-a"))
    run = register(path)
    before = entity("component:default/a")

    # when
    write_file("a.yaml", component("a", owner="team-b"))
    second = refresh(run.location)

    # then
    after = entity("component:default/a")
    assert second.updated == 1
    assert after.uid == before.uid
    assert after.etag != before.etag
    assert after.generation == before.generation + 1
    assert relations("component:default/a") == {("ownedBy", "group:default/team-b")}
    assert not Relation.objects.filter(
        target_ref="component:default/a", source_ref__contains="team-a"
    )


def test_an_invalid_document_keeps_the_last_valid_version_and_says_why(
    register, refresh, write_file
):
    # given
    path = write_file("a.yaml", component("a") + "---\n" + component("b"))
    run = register(path)
    valid = entity("component:default/a")

    # when
    broken = (
        component("a").replace("  lifecycle: production\n", "")
        + "---\n"
        + component("b", owner="team-z")
    )
    write_file("a.yaml", broken)
    second = refresh(run.location)

    # then
    kept = entity("component:default/a")
    assert kept.body == valid.body
    assert kept.errors[0]["type"] == "backstage.io/catalog-processing"
    assert "spec.lifecycle: is required" in kept.errors[0]["message"]
    assert "document 1" in kept.errors[0]["message"]
    (error,) = [e for e in second.errors if e["level"] == "error"]
    assert error["location"] == f"file:{path}"
    assert (error["document"], error["field"]) == (1, "spec.lifecycle")
    assert error["line"] == 5  # the `spec:` line, where lifecycle belongs
    # the other document of the same file is ingested normally
    assert relations("component:default/b") == {("ownedBy", "group:default/team-z")}
    assert second.status == RunStatus.SUCCEEDED

    # when the document is fixed
    write_file("a.yaml", component("a") + "---\n" + component("b"))
    refresh(run.location)

    # then its error is gone
    assert entity("component:default/a").errors == []


def test_a_yaml_syntax_error_keeps_every_entity_of_the_file(register, refresh, write_file):
    # given
    path = write_file("a.yaml", component("a") + "---\n" + component("b"))
    run = register(path)

    # when
    write_file("a.yaml", component("a") + "---\n" + "metadata: [unclosed\n")
    second = refresh(run.location)

    # then
    assert (
        Entity.objects.filter(ref__in=["component:default/a", "component:default/b"]).count() == 2
    )
    (error,) = second.errors
    assert error["document"] == 2
    assert "YAML error" in error["message"] and error["line"] >= 10
    assert second.orphaned == 0


def test_an_entity_its_file_no_longer_defines_is_deleted_as_an_orphan(
    register, refresh, write_file
):
    # given
    path = write_file("a.yaml", component("a") + "---\n" + component("b"))
    run = register(path)

    # when
    write_file("a.yaml", component("a"))
    second = refresh(run.location)

    # then
    assert (second.orphaned, second.removed) == (1, 1)
    assert not Entity.objects.filter(ref="component:default/b").exists()
    assert not Relation.objects.filter(source_ref="component:default/b").exists()
    assert not Relation.objects.filter(target_ref="component:default/b").exists()


def test_with_keep_strategy_orphans_are_marked_and_explained(
    configure, register, refresh, write_file
):
    # given
    configure(orphanStrategy="keep")
    write_file("a.yaml", component("a"))
    path_b = write_file("b.yaml", component("b"))
    run = register(path_b.parent / "*.yaml")

    # when
    path_b.unlink()
    second = refresh(run.location)

    # then
    orphan = entity("component:default/b")
    assert (second.orphaned, second.removed) == (1, 0)
    assert orphan.orphan is True
    assert orphan.body["metadata"]["annotations"]["backstage.io/orphan"] == "true"
    assert f"{path_b} is no longer part of location" in orphan.orphan_reason

    # when it comes back
    write_file("b.yaml", component("b"))
    refresh(run.location)

    # then it is adopted again with its uid
    back = entity("component:default/b")
    assert (back.orphan, back.uid) == (False, orphan.uid)
    assert "backstage.io/orphan" not in back.body["metadata"]["annotations"]


def test_an_entity_moved_to_another_file_of_the_location_keeps_its_uid(
    register, refresh, write_file
):
    # given
    write_file("a.yaml", component("moving"))
    write_file("b.yaml", component("other"))
    run = register(write_file("c.yaml", component("c")).parent / "*.yaml")
    before = entity("component:default/moving")

    # when
    write_file("a.yaml", component("stay"))
    write_file("b.yaml", component("other") + "---\n" + component("moving"))
    second = refresh(run.location)

    # then
    after = entity("component:default/moving")
    assert after.uid == before.uid
    assert after.source.target.endswith("b.yaml")
    assert second.error_count == 0


def test_the_first_location_keeps_a_contested_entity_until_it_goes(
    register, write_file, catalog_dir
):
    # given
    first = register(write_file("one/a.yaml", component("shared", owner="team-one")))

    # when
    second = register(write_file("two/a.yaml", component("shared", owner="team-two")))

    # then
    assert entity("component:default/shared").location_id == first.location_id
    (error,) = second.errors
    assert "already provided by another location" in error["message"]
    assert EntityConflict.objects.filter(ref="component:default/shared").count() == 1

    # when the first location is unregistered
    ingest.unregister_location(first.location)

    # then the contender takes over
    shared = entity("component:default/shared")
    assert shared.location_id == second.location_id
    assert relations("component:default/shared") == {("ownedBy", "group:default/team-two")}


def test_a_file_defining_an_entity_twice_keeps_the_first(register, write_file):
    # given / when
    run = register(write_file("a.yaml", component("x", owner="first") + "---\n" + component("X")))

    # then
    assert relations("component:default/x") == {("ownedBy", "group:default/first")}
    (error,) = [e for e in run.errors if e["level"] == "error"]
    assert "defined twice" in error["message"] and error["document"] == 2


def test_unregistering_removes_what_only_that_location_produced(register, write_file):
    # given
    run = register(write_file("a.yaml", component("a") + "---\n" + component("b")))
    other = register(write_file("b.yaml", component("c")))

    # when
    removed = ingest.unregister_location(run.location)

    # then
    assert removed == 3  # a, b and the location's own Location entity
    assert not Location.objects.filter(pk=run.location_id).exists()
    assert list(Entity.objects.filter(kind="component").values_list("name", flat=True)) == ["c"]
    assert Source.objects.filter(location=other.location).count() == 1


def test_refreshing_one_entity_rereads_only_its_file(register, write_file):
    # given
    write_file("a.yaml", component("a", owner="old"))
    write_file("b.yaml", component("b"))
    run = register(write_file("c.yaml", component("c")).parent / "*.yaml")

    # when
    write_file("a.yaml", component("a", owner="new"))
    scoped = ingest.refresh_entity(entity("component:default/a"))
    scoped.refresh_from_db()

    # then
    assert scoped.source is not None and scoped.sources_done == 1
    assert relations("component:default/a") == {("ownedBy", "group:default/new")}
    assert Entity.objects.filter(kind="component").count() == 3
    assert run.location.runs.count() == 2


def test_a_refresh_asked_while_a_run_reads_runs_again_afterwards(register, write_file):
    # given: an entity refresh that is already running (it may have read the file already)
    path = write_file("a.yaml", component("a", owner="old"))
    register(path)
    running = ingest.refresh_entity(entity("component:default/a"))
    running.refresh_from_db()
    running.status, running.finished_at = RunStatus.RUNNING, None
    running.save(update_fields=["status", "finished_at"])

    # when: the file changes and another refresh is asked for
    write_file("a.yaml", component("a", owner="new"))
    joined = ingest.refresh_entity(entity("component:default/a"))

    # then: it joins the running run, which goes again when it finishes
    assert joined.pk == running.pk
    running.refresh_from_db()
    assert running.rerun_requested
    ingest._finish(running, RunStatus.SUCCEEDED)
    assert entity("component:default/a").body["spec"]["owner"] == "new"


def test_placeholders_are_resolved_relative_to_their_file(register, write_file):
    # given
    write_file("api/openapi.yaml", "openapi: 3.0.0\ninfo: {title: Orders, version: '1'}\n")
    write_file("api/extra.json", '{"team": "payments"}')
    write_file("api/labels.yaml", "tier: gold\n")
    path = write_file(
        "api/catalog-info.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: API
        metadata:
          name: orders
          annotations:
            acme.io/extra: {$text: ./extra.json}
          labels: {$yaml: ./labels.yaml}
        spec:
          type: openapi
          lifecycle: production
          owner: team-a
          definition: {$text: ./openapi.yaml}
          extra: {$json: ./extra.json}
        """,
    )

    # when
    run = register(path)

    # then
    assert run.error_count == 0
    body = entity("api:default/orders").body
    assert body["spec"]["definition"].startswith("openapi: 3.0.0")
    assert body["spec"]["extra"] == {"team": "payments"}
    assert body["metadata"]["labels"] == {"tier": "gold"}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("../../../../etc/hostname", "not allowed"),
        ("/etc/hostname", "not allowed"),
        ("https://evil.example.com/x", "not on the reading allowlist"),
        ("./missing.txt", "file not found"),
    ],
)
def test_placeholders_cannot_read_outside_the_allowlist(register, write_file, reference, message):
    # given
    path = write_file("a.yaml", component("a", notes={"$text": reference}))

    # when
    run = register(path)

    # then
    assert not Entity.objects.filter(ref="component:default/a").exists()
    (error,) = run.errors
    assert error["field"] == "spec.notes"
    assert message in error["message"]


def test_a_symlink_cannot_lead_a_location_outside_the_allowlist(register, catalog_dir, tmp_path):
    # given
    outside = tmp_path / "secret.yaml"
    outside.write_text(component("secret"))
    (catalog_dir / "link.yaml").symlink_to(outside)

    # when
    run = register(catalog_dir / "*.yaml")

    # then
    assert not Entity.objects.filter(ref="component:default/secret").exists()
    assert run.sources_total == 0


def test_a_missing_file_keeps_what_it_defined_and_reports_it(register, refresh, write_file):
    # given
    path = write_file("a.yaml", component("a"))
    run = register(path)

    # when
    path.unlink()
    second = refresh(run.location)

    # then
    assert Entity.objects.filter(ref="component:default/a").exists()
    assert "file not found" in second.errors[0]["message"]


def test_a_disallowed_kind_is_refused_with_the_rule_named(configure, register, write_file):
    # given
    configure(rules=[{"allow": ["Component", "Location"]}])

    # when
    run = register(write_file("org.yaml", ORG))

    # then
    assert not Entity.objects.filter(kind="group").exists()
    assert run.error_count == 3
    assert "not allowed by catalog.rules" in run.errors[0]["message"]


def test_custom_kinds_are_accepted_when_configured(configure, register, write_file):
    # given
    configure(
        customKinds=[{"kind": "Pipeline", "apiVersions": ["acme.io/v1"]}],
        rules=[{"allow": ["Pipeline"]}],
    )
    doc = "apiVersion: acme.io/v1\nkind: Pipeline\nmetadata: {name: nightly}\nspec: {cron: x}\n"

    # when
    run = register(write_file("p.yaml", doc))

    # then
    assert run.error_count == 0
    assert entity("pipeline:default/nightly").body["spec"] == {"cron": "x"}


def test_a_location_that_cannot_be_read_fails_its_run(register, catalog_dir):
    # when
    run = register(catalog_dir / "nothing-here.yaml")

    # then
    assert run.status == RunStatus.FAILED
    assert "file not found" in run.errors[0]["message"]


def test_registering_the_same_target_twice_is_refused(register, write_file):
    # given
    path = write_file("a.yaml", component("a"))
    register(path)

    # when / then
    with pytest.raises(ingest.LocationExists):
        ingest.register_location("file", str(path))


@pytest.mark.parametrize(
    ("type_", "target", "message"),
    [
        ("file", "relative/path.yaml", "absolute"),
        ("file", "/etc/passwd", "not allowed"),
        ("file", "/**/*.yaml", "not allowed"),
        ("file", "/tmp/../etc/*.conf", "not allowed"),
        ("url", "https://not-allowed.example.com/c.yaml", "allowlist"),
        ("url", "file:///etc/passwd", "only http and https"),
        ("ftp", "x", "not supported"),
    ],
)
def test_registration_targets_are_checked(transactional_db, configure, type_, target, message):
    with pytest.raises(ingest.InvalidTarget, match=message):
        ingest.register_location(type_, target)


def test_an_optional_target_that_is_missing_is_not_an_error(register, write_file):
    # given
    path = write_file(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: maybe}
        spec:
          presence: optional
          targets: [./not-yet.yaml, ./there.yaml]
        """,
    )
    write_file("there.yaml", component("there"))

    # when
    run = register(path)

    # then
    assert run.error_count == 0 and run.status == RunStatus.SUCCEEDED
    assert Entity.objects.filter(ref="component:default/there").exists()


def test_a_required_target_that_is_missing_is_reported_on_its_file(register, write_file):
    # given
    path = write_file(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: strict}
        spec: {targets: [./not-yet.yaml]}
        """,
    )

    # when
    run = register(path)

    # then
    (error,) = [e for e in run.errors if e["level"] == "error"]
    assert error["location"].endswith("not-yet.yaml") and "file not found" in error["message"]


def test_a_file_cannot_overwrite_what_another_file_wrote_in_the_same_run(
    transactional_db, configure, write_file
):
    # given: two files of one location defining one new entity, as two parallel lanes write
    location = Location.objects.create(type="file", target=str(write_file("a.yaml", "")))
    first, second = (
        Source.objects.create(location=location, type="file", target=target)
        for target in ("/first.yaml", "/second.yaml")
    )

    def row(source: Source, owner: str, run_id: int):
        body = yaml.safe_load(component("x", owner=owner))
        return ingest._entity_row(
            "component:default/x",
            body,
            owner,
            None,
            location_id=location.pk,
            source_id=source.pk,
            run_id=run_id,
            now=ingest.timezone.now(),
        )

    # when
    won = ingest._upsert_entities([row(first, "team-first", run_id=7)])
    lost = ingest._upsert_entities([row(second, "team-second", run_id=7)])

    # then: the first stands, and the second learns it lost
    assert list(won) == ["component:default/x"] and lost == {}
    stored = entity("component:default/x")
    assert stored.source_id == first.pk and stored.body["spec"]["owner"] == "team-first"

    # and a later run may move it to the other file
    assert ingest._upsert_entities([row(second, "team-second", run_id=8)])
    assert entity("component:default/x").source_id == second.pk


def test_relation_targets_with_odd_characters_are_stored_exactly(register, write_file):
    # given: references are free text after the kind and namespace
    odd = 'team,"quoted"\tand\\slashed\nline'

    descriptor = yaml.safe_load(component("a"))
    descriptor["spec"]["owner"] = odd

    # when: written as JSON, which is YAML too and quotes every character
    run = register(write_file("a.yaml", json.dumps(descriptor)))

    # then
    assert run.error_count == 0
    assert relations("component:default/a") == {("ownedBy", f"group:default/{odd.lower()}")}
    assert Relation.objects.filter(source_ref=f"group:default/{odd.lower()}").exists()


def test_a_relative_glob_is_refused_as_relative(transactional_db, configure):
    with pytest.raises(ingest.InvalidTarget, match="absolute"):
        ingest.register_location("file", "catalog/*.yaml")
