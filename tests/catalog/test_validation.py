"""Entity validation, rule by rule, as Backstage validates."""

from __future__ import annotations

import copy

import pytest

from catalog.config import parse_config
from catalog.validation import validate_entity

CONFIG = parse_config({}, __import__("pathlib").Path("/nonexistent/greenroom.yaml"))
VALID = {
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {
        "name": "my-service_2.x",
        "namespace": "payments",
        "title": "My service",
        "labels": {"acme.io/tier": "gold", "empty": ""},
        "annotations": {"backstage.io/techdocs-ref": "dir:."},
        "tags": ["python", "c++", "team:payments"],
        "links": [{"url": "https://example.com", "title": "Home", "icon": "dashboard"}],
    },
    "spec": {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:payments/team-a",
        "dependsOn": ["resource:db"],
        "providesApis": ["orders"],
    },
}


def errors_for(path: str, value: object) -> list[str]:
    entity = copy.deepcopy(VALID)
    target = entity
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return [str(e) for e in validate_entity(entity, CONFIG)]


def test_a_valid_entity_has_no_errors():
    assert validate_entity(VALID, CONFIG) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("metadata.name", "-starts-with-dash", "metadata.name: '-starts-with-dash' is not a valid"),
        ("metadata.name", "x" * 64, "is not a valid name"),
        ("metadata.name", ["a"], "is not a valid name"),
        ("metadata.name", ..., "metadata.name: is required"),
        ("metadata.namespace", "Payments", "is not a valid namespace"),
        ("metadata.tags", ["Python"], "metadata.tags[0]: 'Python' is not a valid tag"),
        ("metadata.tags", "python", "metadata.tags: must be a list"),
        ("metadata.labels", {"bad key!": "x"}, "is not a valid label key"),
        ("metadata.labels", {"k": "bad value!"}, "is not a valid label value"),
        (
            "metadata.annotations",
            {"k": 1},
            "metadata.annotations.k: must be a string, not a number",
        ),
        ("metadata.annotations", {"a/b/c": "x"}, "is not a valid annotation key"),
        ("metadata.links", [{"title": "no url"}], "metadata.links[0].url"),
        ("metadata.links", [{"url": "not a url"}], "is not a valid URL"),
        ("metadata.title", 5, "metadata.title: must be a string"),
        ("spec.type", ..., "spec.type: is required"),
        ("spec.owner", {"name": "x"}, "spec.owner: must be a string, not a mapping"),
        ("spec.dependsOn", ["db"], 'spec.dependsOn[0]: entity reference "db" has no kind'),
        ("spec.providesApis", "orders", "spec.providesApis: must be a list of strings"),
        ("spec", "x", "spec: must be a mapping"),
        ("apiVersion", "backstage.io/v2", "is not supported for kind Component"),
        ("apiVersion", "not a version", "is not a valid apiVersion"),
        ("kind", "Widget", "unknown kind 'Widget'"),
        ("kind", "9lives", "is not a valid kind"),
    ],
)
def test_it_names_the_field_and_the_rule(path, value, expected):
    found = errors_for(path, value)
    assert any(expected in error for error in found), found


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        (
            "API",
            {"type": "openapi", "lifecycle": "x", "owner": "a"},
            "spec.definition: is required",
        ),
        ("Group", {"type": "team"}, "spec.children: is required"),
        ("User", {}, "spec.memberOf: is required"),
        ("System", {}, "spec.owner: is required"),
        ("Domain", {}, "spec.owner: is required"),
        ("Resource", {"owner": "a"}, "spec.type: is required"),
        ("Location", {}, "a Location needs spec.target or spec.targets"),
        ("Location", {"target": "x", "presence": "maybe"}, "must be required or optional"),
    ],
)
def test_each_kind_requires_its_spec_fields(kind, spec, expected):
    entity = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": spec,
    }
    found = [str(e) for e in validate_entity(entity, CONFIG)]
    assert any(expected in error for error in found), found


def test_templates_use_the_scaffolder_api_version():
    template = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {"name": "t"},
        "spec": {"type": "service", "steps": []},
    }
    assert validate_entity(template, CONFIG) == []
    template["apiVersion"] = "backstage.io/v1alpha1"
    assert validate_entity(template, CONFIG) != []


def test_v1beta1_is_accepted_for_builtin_kinds():
    entity = copy.deepcopy(VALID)
    entity["apiVersion"] = "backstage.io/v1beta1"
    assert validate_entity(entity, CONFIG) == []


def test_non_mapping_documents_are_refused():
    assert [str(e) for e in validate_entity(["a"], CONFIG)] == [
        "a document must be a mapping, not a list"
    ]
