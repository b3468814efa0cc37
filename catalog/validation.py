"""Entity validation as Backstage does it, returning every problem with the field it is in.

The envelope and metadata rules are Backstage's KubernetesValidatorFunctions / field format
policy; the per-kind rules are its kind schemas (required spec fields and their types). The
validator is hand-written rather than JSON Schema because it sits on the ingestion hot path
(~10 µs an entity) and because each error must name its field in words a person reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from catalog.config import CatalogConfig
from catalog.refs import RefError, parse_ref

NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
DNS_LABEL_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DNS_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$")
KIND_RE = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")
API_VERSION_NAME_RE = re.compile(r"^[a-z0-9A-Z]+$")
TAG_RE = re.compile(r"^[a-z0-9:+#]+(?:-[a-z0-9:+#]+)*$")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _is_name(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 63 and NAME_RE.match(value) is not None


def _is_namespace(value: object) -> bool:
    return (
        isinstance(value, str) and 1 <= len(value) <= 63 and DNS_LABEL_RE.match(value) is not None
    )


def _is_prefixed_key(value: object) -> bool:
    """Return whether value is `[dns-subdomain/]name`, as label and annotation keys are."""
    if not isinstance(value, str):
        return False
    prefix, slash, name = value.rpartition("/")
    if slash and not (1 <= len(prefix) <= 253 and DNS_SUBDOMAIN_RE.match(prefix)):
        return False
    return _is_name(name)


def _is_api_version(value: object) -> bool:
    if not isinstance(value, str):
        return False
    group, slash, version = value.rpartition("/")
    if slash and not (1 <= len(group) <= 253 and DNS_SUBDOMAIN_RE.match(group)):
        return False
    return 1 <= len(version) <= 63 and API_VERSION_NAME_RE.match(version) is not None


def _is_url(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc or parsed.path)


def _string(field: str, value: Any, required: bool = False) -> Iterator[FieldError]:
    if value is None:
        if required:
            yield FieldError(field, "is required")
    elif not isinstance(value, str):
        yield FieldError(field, f"must be a string, not {_type_name(value)}")
    elif required and not value:
        yield FieldError(field, "must not be empty")


def _string_list(field: str, value: Any, required: bool = False) -> Iterator[FieldError]:
    if value is None:
        if required:
            yield FieldError(field, "is required")
    elif not isinstance(value, list):
        yield FieldError(field, f"must be a list of strings, not {_type_name(value)}")
    else:
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item:
                yield FieldError(f"{field}[{index}]", "must be a non-empty string")


def _type_name(value: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _validate_metadata(metadata: Any) -> Iterator[FieldError]:
    if not isinstance(metadata, dict):
        yield FieldError("metadata", "must be a mapping with at least a name")
        return
    name = metadata.get("name")
    if name is None:
        yield FieldError("metadata.name", "is required")
    elif not _is_name(name):
        yield FieldError(
            "metadata.name",
            f"{name!r} is not a valid name: 1-63 characters [a-zA-Z0-9], '-', '_' or '.', "
            "starting and ending with a letter or digit",
        )
    namespace = metadata.get("namespace")
    if namespace is not None and not _is_namespace(namespace):
        yield FieldError(
            "metadata.namespace",
            f"{namespace!r} is not a valid namespace: 1-63 characters [a-z0-9] and '-'",
        )
    yield from _string("metadata.title", metadata.get("title"))
    yield from _string("metadata.description", metadata.get("description"))
    for key in ("uid", "etag"):
        yield from _string(f"metadata.{key}", metadata.get(key))

    labels = metadata.get("labels")
    if labels is not None:
        if not isinstance(labels, dict):
            yield FieldError("metadata.labels", "must be a mapping of strings")
        else:
            for key, value in labels.items():
                if not _is_prefixed_key(key):
                    yield FieldError(f"metadata.labels.{key}", "is not a valid label key")
                if not isinstance(value, str) or (value and not _is_name(value)):
                    yield FieldError(
                        f"metadata.labels.{key}",
                        f"{value!r} is not a valid label value (up to 63 of [a-zA-Z0-9-_.])",
                    )

    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, dict):
            yield FieldError("metadata.annotations", "must be a mapping of strings")
        else:
            for key, value in annotations.items():
                if not _is_prefixed_key(key):
                    yield FieldError(
                        f"metadata.annotations.{key}",
                        "is not a valid annotation key ([dns-prefix/]name)",
                    )
                if not isinstance(value, str):
                    yield FieldError(
                        f"metadata.annotations.{key}", f"must be a string, not {_type_name(value)}"
                    )

    tags = metadata.get("tags")
    if tags is not None:
        if not isinstance(tags, list):
            yield FieldError("metadata.tags", "must be a list of strings")
        else:
            for index, tag in enumerate(tags):
                if not (isinstance(tag, str) and 1 <= len(tag) <= 63 and TAG_RE.match(tag)):
                    yield FieldError(
                        f"metadata.tags[{index}]",
                        f"{tag!r} is not a valid tag: up to 63 of [a-z0-9:+#] joined by '-'",
                    )

    links = metadata.get("links")
    if links is not None:
        if not isinstance(links, list):
            yield FieldError("metadata.links", "must be a list of {url, title?, icon?, type?}")
        else:
            for index, link in enumerate(links):
                where = f"metadata.links[{index}]"
                if not isinstance(link, dict):
                    yield FieldError(where, "must be a mapping with a url")
                    continue
                if not _is_url(link.get("url")):
                    yield FieldError(f"{where}.url", f"{link.get('url')!r} is not a valid URL")
                for key in ("title", "icon", "type"):
                    yield from _string(f"{where}.{key}", link.get(key))


# Per kind: spec field -> (required, checker). Checkers take (field path, value, required).
SpecRules = dict[str, tuple[bool, Callable[[str, Any, bool], Iterator[FieldError]]]]


def _mapping(field: str, value: Any, required: bool = False) -> Iterator[FieldError]:
    if value is None:
        if required:
            yield FieldError(field, "is required")
    elif not isinstance(value, dict):
        yield FieldError(field, f"must be a mapping, not {_type_name(value)}")


def _definition(field: str, value: Any, required: bool = False) -> Iterator[FieldError]:
    # Placeholders ($text …) are resolved before validation, so a string is what remains.
    yield from _string(field, value, required)


def _presence(field: str, value: Any, required: bool = False) -> Iterator[FieldError]:
    if value is not None and value not in ("required", "optional"):
        yield FieldError(field, f"{value!r} must be required or optional")


_S = _string
_L = _string_list
KIND_SPEC_RULES: dict[str, SpecRules] = {
    "component": {
        "type": (True, _S),
        "lifecycle": (True, _S),
        "owner": (True, _S),
        "system": (False, _S),
        "subcomponentOf": (False, _S),
        "providesApis": (False, _L),
        "consumesApis": (False, _L),
        "dependsOn": (False, _L),
        "dependencyOf": (False, _L),
    },
    "api": {
        "type": (True, _S),
        "lifecycle": (True, _S),
        "owner": (True, _S),
        "system": (False, _S),
        "definition": (True, _definition),
    },
    "resource": {
        "type": (True, _S),
        "owner": (True, _S),
        "system": (False, _S),
        "dependsOn": (False, _L),
        "dependencyOf": (False, _L),
    },
    "system": {"owner": (True, _S), "domain": (False, _S), "type": (False, _S)},
    "domain": {"owner": (True, _S), "subdomainOf": (False, _S), "type": (False, _S)},
    "group": {
        "type": (True, _S),
        "profile": (False, _mapping),
        "parent": (False, _S),
        "children": (True, _L),
        "members": (False, _L),
    },
    "user": {"profile": (False, _mapping), "memberOf": (True, _L)},
    "location": {
        "type": (False, _S),
        "target": (False, _S),
        "targets": (False, _L),
        "presence": (False, _presence),
    },
    "template": {
        "type": (True, _S),
        "owner": (False, _S),
        "parameters": (False, lambda f, v, r: iter(())),
        "steps": (
            True,
            lambda f, v, r: (
                iter(())
                if isinstance(v, list) or v is None
                else iter([FieldError(f, "must be a list of steps")])
            ),
        ),
        "output": (False, _mapping),
    },
}

# Spec fields holding references: (field, default kind or None, outgoing, incoming relation).
RELATION_FIELDS: dict[str, tuple[tuple[str, str | None, str, str], ...]] = {
    "component": (
        ("owner", "group", "ownedBy", "ownerOf"),
        ("subcomponentOf", "component", "partOf", "hasPart"),
        ("providesApis", "api", "providesApi", "apiProvidedBy"),
        ("consumesApis", "api", "consumesApi", "apiConsumedBy"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "system", "partOf", "hasPart"),
    ),
    "api": (
        ("owner", "group", "ownedBy", "ownerOf"),
        ("system", "system", "partOf", "hasPart"),
    ),
    "resource": (
        ("owner", "group", "ownedBy", "ownerOf"),
        ("dependsOn", None, "dependsOn", "dependencyOf"),
        ("dependencyOf", None, "dependencyOf", "dependsOn"),
        ("system", "system", "partOf", "hasPart"),
    ),
    "user": (("memberOf", "group", "memberOf", "hasMember"),),
    "group": (
        ("parent", "group", "childOf", "parentOf"),
        ("children", "group", "parentOf", "childOf"),
        ("members", "user", "hasMember", "memberOf"),
    ),
    "system": (
        ("owner", "group", "ownedBy", "ownerOf"),
        ("domain", "domain", "partOf", "hasPart"),
    ),
    "domain": (
        ("owner", "group", "ownedBy", "ownerOf"),
        ("subdomainOf", "domain", "partOf", "hasPart"),
    ),
    "template": (("owner", "group", "ownedBy", "ownerOf"),),
}


def validate_entity(
    entity: Any, config: CatalogConfig, location_kinds: frozenset[str] | None = None
) -> list[FieldError]:
    """Return every problem with an entity document; an empty list means it is valid."""
    if not isinstance(entity, dict):
        return [FieldError("", f"a document must be a mapping, not {_type_name(entity)}")]
    errors: list[FieldError] = []
    api_version = entity.get("apiVersion")
    kind = entity.get("kind")
    if api_version is None:
        errors.append(FieldError("apiVersion", "is required"))
    elif not _is_api_version(api_version):
        errors.append(FieldError("apiVersion", f"{api_version!r} is not a valid apiVersion"))
    if kind is None:
        errors.append(FieldError("kind", "is required"))
    elif not (isinstance(kind, str) and len(kind) <= 63 and KIND_RE.match(kind)):
        errors.append(FieldError("kind", f"{kind!r} is not a valid kind"))
    errors.extend(_validate_metadata(entity.get("metadata")))
    if errors:
        return errors

    lowered = kind.lower()
    known_versions = config.api_versions.get(lowered)
    if known_versions is None:
        return [FieldError("kind", f"unknown kind {kind!r}; add it to catalog.customKinds")]
    if api_version not in known_versions:
        return [
            FieldError(
                "apiVersion",
                f"{api_version!r} is not supported for kind {kind} "
                f"(expected {', '.join(sorted(known_versions))})",
            )
        ]
    if not config.kind_allowed(kind, location_kinds):
        return [FieldError("kind", f"kind {kind} is not allowed by catalog.rules")]

    spec = entity.get("spec")
    rules = KIND_SPEC_RULES.get(lowered)
    if spec is None and rules is None:
        return errors
    if not isinstance(spec, dict):
        return [FieldError("spec", f"must be a mapping, not {_type_name(spec)}")]
    for field, (required, check) in (rules or {}).items():
        errors.extend(check(f"spec.{field}", spec.get(field), required))
    no_target = spec.get("target") is None and spec.get("targets") is None
    if lowered == "location" and not errors and no_target:
        errors.append(FieldError("spec", "a Location needs spec.target or spec.targets"))
    if not errors:
        namespace = entity["metadata"].get("namespace") or "default"
        for field, default_kind, _, _ in RELATION_FIELDS.get(lowered, ()):
            value = spec.get(field)
            items = value if isinstance(value, list) else [] if value is None else [value]
            for index, item in enumerate(items):
                try:
                    ref = parse_ref(item, default_kind, namespace)
                    if max(len(ref.kind), len(ref.namespace), len(ref.name)) > 63:
                        raise RefError(
                            f'entity reference "{item[:80]}" is too long (kind, namespace and '
                            "name are at most 63 characters each)"
                        )
                except RefError as exc:
                    where = f"spec.{field}[{index}]" if isinstance(value, list) else f"spec.{field}"
                    errors.append(FieldError(where, str(exc)))
    return errors


def relations_of(entity: dict[str, Any], self_ref: str) -> list[tuple[str, str, str]]:
    """Return the (source_ref, type, target_ref) edges a valid entity declares, both ways."""
    lowered = entity["kind"].lower()
    fields = RELATION_FIELDS.get(lowered)
    if not fields:
        return []
    spec = entity.get("spec") or {}
    namespace = (entity["metadata"].get("namespace") or "default").lower()
    edges: list[tuple[str, str, str]] = []
    for field, default_kind, outgoing, incoming in fields:
        value = spec.get(field)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            # Stored lower-cased: refs compare case-insensitively everywhere they are matched.
            target = parse_ref(item, default_kind, namespace).key
            edges.append((self_ref, outgoing, target))
            edges.append((target, incoming, self_ref))
    return edges
