"""The catalog section of greenroom.yaml, Greenroom's equivalent of Backstage's app-config.yaml.

    catalog:
      rules:                      # kinds any location may produce (Backstage's catalog.rules)
        - allow: [Component, API, Resource, System, Domain, Group, User, Location, Template]
      customKinds:                # kinds/apiVersions beyond the built-ins
        - kind: Pipeline
          apiVersions: [acme.io/v1]
      locations:                  # static locations, read at start-up and refreshed
        - type: file
          target: ../demo/catalog/catalog.yaml   # relative to this file
          rules: [{allow: [Group, User]}]        # optional, adds to the global rules
      refreshIntervalSeconds: 120
      orphanStrategy: delete      # or keep
      maxFileBytes: 2097152
      maxDocumentsPerFile: 20000
      reading:
        allow:                    # what $text/$json/$yaml and url/file locations may read
          - host: raw.example.com
          - path: /srv/catalogs   # relative paths are relative to this file

Bad values raise ImproperlyConfigured naming the file and the setting.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from catalog.choices import LocationType, OrphanStrategy

BUILTIN_KINDS: dict[str, tuple[str, ...]] = {
    "Component": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "API": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "Resource": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "System": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "Domain": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "Group": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "User": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "Location": ("backstage.io/v1alpha1", "backstage.io/v1beta1"),
    "Template": ("scaffolder.backstage.io/v1beta3",),
}


@dataclass(frozen=True)
class StaticLocation:
    type: str
    target: str
    allowed_kinds: tuple[str, ...] | None = None


@dataclass(frozen=True)
class CatalogConfig:
    """The catalog's settings, validated."""

    allowed_kinds: frozenset[str]  # lower-cased
    api_versions: dict[str, frozenset[str]]  # lower-cased kind -> apiVersions
    locations: tuple[StaticLocation, ...] = ()
    refresh_interval_seconds: int = 120
    orphan_strategy: str = OrphanStrategy.DELETE
    max_file_bytes: int = 2 * 1024 * 1024
    max_documents_per_file: int = 20_000
    read_timeout_seconds: float = 10.0
    allowed_hosts: tuple[str, ...] = ()
    allowed_paths: tuple[Path, ...] = ()
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def fingerprint(self) -> str:
        """Return a hash of what changes how a file is interpreted (part of the skip check)."""
        material = json.dumps(
            [
                sorted(self.allowed_kinds),
                {k: sorted(v) for k, v in sorted(self.api_versions.items())},
                self.max_file_bytes,
                self.max_documents_per_file,
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]

    def kind_allowed(self, kind: str, location_kinds: frozenset[str] | None = None) -> bool:
        lowered = kind.lower()
        return lowered in self.allowed_kinds or bool(location_kinds and lowered in location_kinds)

    def host_allowed(self, host: str) -> bool:
        """Return whether a URL host (with optional :port) may be read."""
        host = host.lower()
        for allowed in self.allowed_hosts:
            if allowed.startswith("*.") and host.endswith(allowed[1:]):
                return True
            if host == allowed:
                return True
        return False

    def path_allowed(self, path: Path) -> bool:
        """Return whether a resolved file path lies inside an allowed folder."""
        return any(path == root or root in path.parents for root in self.allowed_paths)


def _fail(path: Path, setting: str, problem: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{path}: catalog.{setting}: {problem}")


def _kinds(path: Path, setting: str, rules: Any) -> set[str]:
    if not isinstance(rules, list):
        raise _fail(path, setting, "must be a list of {allow: [Kind, ...]}")
    kinds: set[str] = set()
    for index, rule in enumerate(rules):
        allow = rule.get("allow") if isinstance(rule, dict) else None
        if not isinstance(allow, list) or not all(isinstance(k, str) for k in allow):
            raise _fail(path, f"{setting}[{index}].allow", "must be a list of kind names")
        kinds.update(k.lower() for k in allow)
    return kinds


def parse_config(raw: dict[str, Any], path: Path) -> CatalogConfig:
    """Validate the `catalog` section of a config mapping and return a CatalogConfig."""
    catalog = raw.get("catalog") or {}
    if not isinstance(catalog, dict):
        raise _fail(path, "", "must be a mapping")
    base_dir = path.parent

    api_versions: dict[str, set[str]] = {k.lower(): set(v) for k, v in BUILTIN_KINDS.items()}
    for index, custom in enumerate(catalog.get("customKinds") or []):
        name = custom.get("kind") if isinstance(custom, dict) else None
        versions = custom.get("apiVersions") if isinstance(custom, dict) else None
        if not isinstance(name, str) or not isinstance(versions, list) or not versions:
            raise _fail(path, f"customKinds[{index}]", "needs kind and a list of apiVersions")
        api_versions.setdefault(name.lower(), set()).update(str(v) for v in versions)

    rules = catalog.get("rules")
    allowed = (
        _kinds(path, "rules", rules) if rules is not None else {k.lower() for k in BUILTIN_KINDS}
    )

    locations = []
    for index, entry in enumerate(catalog.get("locations") or []):
        if not isinstance(entry, dict) or entry.get("type") not in LocationType.values:
            raise _fail(path, f"locations[{index}].type", "must be file or url")
        target = entry.get("target")
        if not isinstance(target, str) or not target.strip():
            raise _fail(path, f"locations[{index}].target", "must be a non-empty string")
        if entry["type"] == LocationType.FILE:
            target = (
                str((base_dir / target).resolve()) if not Path(target).is_absolute() else target
            )
        location_kinds = (
            tuple(sorted(_kinds(path, f"locations[{index}].rules", entry["rules"])))
            if "rules" in entry
            else None
        )
        locations.append(StaticLocation(entry["type"], target, location_kinds))

    strategy = catalog.get("orphanStrategy", OrphanStrategy.DELETE)
    if strategy not in OrphanStrategy.values:
        raise _fail(path, "orphanStrategy", f"{strategy!r} is not one of delete, keep")

    def positive_int(name: str, default: int) -> int:
        value = catalog.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise _fail(path, name, f"{value!r} is not a positive whole number")
        return value

    reading = catalog.get("reading") or {}
    hosts: list[str] = []
    paths: list[Path] = []
    for index, entry in enumerate(reading.get("allow") or []):
        if isinstance(entry, dict) and isinstance(entry.get("host"), str):
            hosts.append(entry["host"].lower())
        elif isinstance(entry, dict) and isinstance(entry.get("path"), str):
            paths.append((base_dir / entry["path"]).resolve())
        else:
            raise _fail(path, f"reading.allow[{index}]", "must be {host: NAME} or {path: DIR}")
    # Static file locations may always be read, with the folders they sit in.
    for location in locations:
        if location.type == LocationType.FILE:
            paths.append(location_folder(location.target))

    return CatalogConfig(
        allowed_kinds=frozenset(allowed),
        api_versions={k: frozenset(v) for k, v in api_versions.items()},
        locations=tuple(locations),
        refresh_interval_seconds=positive_int("refreshIntervalSeconds", 120),
        orphan_strategy=strategy,
        max_file_bytes=positive_int("maxFileBytes", 2 * 1024 * 1024),
        max_documents_per_file=positive_int("maxDocumentsPerFile", 20_000),
        read_timeout_seconds=float(positive_int("readTimeoutSeconds", 10)),
        allowed_hosts=tuple(hosts),
        allowed_paths=tuple(paths),
        base_dir=base_dir,
    )


def is_glob(target: str) -> bool:
    """Return whether a file target has wildcards."""
    return any(ch in target for ch in "*?[")


def glob_root(target: str) -> str:
    """Return the folder part of a glob before its first wildcard."""
    fixed = []
    for part in target.split("/"):
        if is_glob(part):
            break
        fixed.append(part)
    return "/".join(fixed) or "/"


def location_folder(target: str) -> Path:
    """Return the folder a file location reads below: its glob's root, or the file's folder."""
    return Path(glob_root(target) if is_glob(target) else os.path.dirname(target)).resolve()


@cache
def _load(path: str) -> CatalogConfig:
    config_path = Path(path)
    if not config_path.exists():
        return parse_config({}, config_path)
    try:
        raw = yaml.load(config_path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"{config_path}: cannot be read as YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"{config_path}: must be a mapping at the top level")
    return parse_config(raw, config_path)


def get_config() -> CatalogConfig:
    """Return the catalog config from settings.GREENROOM_CONFIG (parsed once per path)."""
    return _load(str(settings.GREENROOM_CONFIG))


def clear_config_cache() -> None:
    """Forget the parsed config (tests that switch config files call this)."""
    _load.cache_clear()
