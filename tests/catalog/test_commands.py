"""`manage.py catalog …` as a person uses it: output, exit codes, errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Entity, Location
from tests.conftest import component


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("catalog", *args, stdout=out)
    return out.getvalue()


def test_validate_passes_good_files(configure, write_file):
    path = write_file("a.yaml", component("a"))
    assert run_command("validate", str(path)) == f"{path}: OK\n"


def test_validate_prints_every_error_with_file_document_line_and_field(configure, write_file):
    # given
    path = write_file(
        "a.yaml",
        component("a").replace("  lifecycle: production\n", "") + "---\n" + "kind: [oops\n",
    )
    out = io.StringIO()

    # when
    with pytest.raises(CommandError) as raised:
        call_command("catalog", "validate", str(path), stdout=out)

    # then
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{path}, document 1, line 5: spec.lifecycle: is required"
    assert lines[1].startswith(f"{path}, document 2, line ")
    assert "YAML error" in lines[1]
    assert raised.value.returncode == 1


def test_validate_reports_a_missing_file(configure, tmp_path):
    with pytest.raises(CommandError):
        call_command("catalog", "validate", str(tmp_path / "nope.yaml"), stdout=io.StringIO())


def test_register_wait_ingests_and_prints_counts(transactional_db, configure, write_file):
    # given
    path = write_file("a.yaml", component("a") + "---\n" + component("b"))

    # when
    out = run_command("register", str(path), "--wait")

    # then
    assert f"registered file:{path}" in out
    assert "2 added" in out and "0 errors" in out
    assert Entity.objects.filter(kind="component").count() == 2


def test_register_wait_fails_with_the_errors_listed(transactional_db, configure, write_file):
    # given
    path = write_file("a.yaml", component("a", owner=["not", "a", "string"]))
    out = io.StringIO()

    # when
    with pytest.raises(CommandError, match="1 error"):
        call_command("catalog", "register", str(path), "--wait", stdout=out)

    # then
    assert "spec.owner: must be a string, not a list" in out.getvalue()


def test_register_refuses_a_target_outside_the_allowlist(transactional_db, configure):
    with pytest.raises(CommandError, match="not allowed"):
        call_command("catalog", "register", "/etc/hostname", stdout=io.StringIO())


def test_register_twice_names_the_existing_location(transactional_db, configure, write_file):
    path = write_file("a.yaml", component("a"))
    run_command("register", str(path), "--wait")
    with pytest.raises(CommandError, match="already registered"):
        call_command("catalog", "register", str(path), stdout=io.StringIO())


def test_refresh_status_explain_export_and_unregister(transactional_db, configure, write_file):
    # given
    path = write_file(
        "a.yaml", component("a", dependsOn=["component:b"]) + "---\n" + component("b")
    )
    run_command("register", str(path), "--wait")

    # when / then: refresh
    out = run_command("refresh", str(path), "--wait")
    assert "2 unchanged" in out

    # status
    status = run_command("status")
    assert f"file:{path}" in status and "succeeded" in status

    # explain
    explained = run_command("explain", "component:default/a")
    assert f"file: file:{path}" in explained
    assert "relations" in explained

    # export: Backstage's API shape with relations
    exported = [json.loads(line) for line in run_command("export").splitlines()]
    a = next(e for e in exported if e["metadata"]["name"] == "a")
    assert {"type": "dependsOn", "targetRef": "component:default/b"} in a["relations"]
    assert a["metadata"]["uid"] and a["metadata"]["etag"]

    # unregister
    assert "removed 3 entities" in run_command("unregister", str(path))
    assert not Location.objects.exists()


def test_explain_says_why_an_entity_is_missing(transactional_db, configure, write_file):
    first = write_file("one/a.yaml", component("shared"))
    second = write_file("two/a.yaml", component("shared"))
    run_command("register", str(first), "--wait")
    with pytest.raises(CommandError):
        run_command("register", str(second), "--wait")
    explained = run_command("explain", "component:shared")
    assert "conflict" in explained and "already provided by another location" in explained


def test_unknown_location_is_a_clear_error(transactional_db, configure):
    with pytest.raises(CommandError, match="no location"):
        call_command("catalog", "refresh", "/nowhere.yaml", stdout=io.StringIO())
