"""The catalog section of greenroom.yaml: defaults, and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from catalog.config import parse_config

HERE = Path("/srv/greenroom/greenroom.yaml")


def test_defaults_allow_every_builtin_kind_and_delete_orphans():
    config = parse_config({}, HERE)
    assert "template" in config.allowed_kinds and "group" in config.allowed_kinds
    assert config.orphan_strategy == "delete"
    assert config.refresh_interval_seconds == 120


def test_relative_paths_are_relative_to_the_config_file():
    config = parse_config(
        {
            "catalog": {
                "locations": [{"type": "file", "target": "cat/all.yaml"}],
                "reading": {"allow": [{"path": "docs"}, {"host": "Git.Example.com"}]},
            }
        },
        HERE,
    )
    assert config.locations[0].target == "/srv/greenroom/cat/all.yaml"
    assert Path("/srv/greenroom/docs") in config.allowed_paths
    assert config.host_allowed("git.example.com")


def test_wildcard_hosts_match_subdomains_only():
    config = parse_config({"catalog": {"reading": {"allow": [{"host": "*.example.com"}]}}}, HERE)
    assert config.host_allowed("raw.example.com")
    assert not config.host_allowed("example.com.evil.net")


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ({"orphanStrategy": "forget"}, "catalog.orphanStrategy: 'forget' is not one of"),
        ({"refreshIntervalSeconds": -1}, "catalog.refreshIntervalSeconds"),
        ({"rules": [{"allow": "Component"}]}, "catalog.rules[0].allow"),
        ({"locations": [{"type": "git", "target": "x"}]}, "catalog.locations[0].type"),
        ({"locations": [{"type": "url"}]}, "catalog.locations[0].target"),
        ({"reading": {"allow": ["example.com"]}}, "catalog.reading.allow[0]"),
        ({"customKinds": [{"kind": "X"}]}, "catalog.customKinds[0]"),
    ],
)
def test_bad_settings_name_the_file_and_the_setting(catalog, message):
    with pytest.raises(ImproperlyConfigured) as raised:
        parse_config({"catalog": catalog}, HERE)
    assert str(raised.value).startswith(f"{HERE}: ")
    assert message in str(raised.value)


def test_a_static_file_location_may_read_its_own_folder():
    config = parse_config(
        {
            "catalog": {
                "locations": [
                    {"type": "file", "target": "cat/all.yaml"},
                    {"type": "file", "target": "repos/**/catalog-info.yaml"},
                ]
            }
        },
        HERE,
    )
    assert config.path_allowed(Path("/srv/greenroom/cat/teams/a.yaml"))
    assert config.path_allowed(Path("/srv/greenroom/repos/x/catalog-info.yaml"))
    assert not config.path_allowed(Path("/srv/greenroom/other.yaml"))
