"""Entity references: `[kind:][namespace/]name`, parsed with Backstage's defaulting rules."""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_NAMESPACE = "default"


class RefError(ValueError):
    """A string that is not a valid entity reference in its context."""


class EntityRef(NamedTuple):
    kind: str  # lower-cased
    namespace: str  # lower-cased
    name: str  # case as written

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """Return the case-insensitive lookup key (Entity.ref)."""
        return f"{self.kind}:{self.namespace}/{self.name.lower()}"


def parse_ref(
    value: object, default_kind: str | None = None, default_namespace: str = DEFAULT_NAMESPACE
) -> EntityRef:
    """Parse a reference string, filling in the context's default kind and namespace.

    Raises RefError when the kind is missing with no default (Backstage requires e.g.
    `component:x` in dependsOn) or a part is empty.
    """
    if not isinstance(value, str):
        raise RefError(f"entity reference must be a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise RefError("entity reference is empty")
    kind: str | None
    rest: str
    if ":" in text:
        kind, rest = text.split(":", 1)
    else:
        kind, rest = default_kind, text
    if "/" in rest:
        namespace, name = rest.split("/", 1)
    else:
        namespace, name = default_namespace, rest
    if not kind:
        raise RefError(f'entity reference "{value}" has no kind (write e.g. "component:{rest}")')
    if not namespace:
        raise RefError(f'entity reference "{value}" has an empty namespace')
    if not name or "/" in name or ":" in name:
        raise RefError(f'entity reference "{value}" has an invalid name')
    return EntityRef(kind.lower(), namespace.lower(), name)


def ref_key(kind: str, namespace: str, name: str) -> str:
    """Return the lookup key of an entity from its parts."""
    return f"{kind.lower()}:{namespace.lower()}/{name.lower()}"
