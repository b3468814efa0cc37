"""Turn the bytes of a catalog file into documents, safely and with line numbers.

Uses libyaml (CSafeLoader) for speed, with Backstage's YAML 1.2 reading of scalars (`yes`,
`on` and dates stay strings), duplicate keys rejected, and the constructed data walked once
to enforce JSON types and a size bound: an alias bomb ("billion laughs") is cheap to build as
shared references but would explode when stored, so the walk counts the expanded size.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

# Without aliases a document cannot hold more values than its file has characters; with
# them it could hold billions. The walk after parsing stops at whichever bound is larger.
MIN_VALUE_BUDGET = 100_000
MAX_DEPTH = 64


class DescriptorError(ValueError):
    """A document that cannot become an entity; line is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.field = field


_YAML11_TAGS = {
    "tag:yaml.org,2002:merge",  # `<<` is a plain key in YAML 1.2, and a merge-key bomb otherwise
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_INT_12 = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_12 = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


class _Loader(yaml.CSafeLoader):
    """CSafeLoader reading scalars by the YAML 1.2 core schema, as Backstage's parser does
    (`yes`, `on`, `010`, `1:30` and dates are not booleans, octals, sexagesimals or
    timestamps), and refusing duplicate keys."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_TAGS]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = self.construct_scalar(node)
        if value.startswith("0o"):
            return int(value[2:], 8)
        if value.startswith("0x"):
            return int(value[2:], 16)
        try:
            return int(value, 10)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"{value!r} is not an integer", node.start_mark
            ) from None

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = self.construct_scalar(node).lower()
        if value.endswith(".inf"):
            return float("-inf") if value.startswith("-") else float("inf")
        if value == ".nan":
            return float("nan")
        try:
            return float(value)
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"{value!r} is not a number", node.start_mark
            ) from None

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's constructors raise KeyError, ValueError … for values such as
        # `!!bool maybe`; give them the position of the node that failed.
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot read {node.value!r} as {node.tag}: {exc}"[:300],
                node.start_mark,
            ) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain strings", key_node.start_mark
                )
            key = str(self.construct_object(key_node, deep=deep))
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT_12, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+.0123456789"))
_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


@dataclass
class Document:
    """One YAML document of a file: its data, or why it could not be read."""

    index: int  # 1-based position in the file
    line: int  # 1-based line where it starts
    data: Any = None
    node: yaml.Node | None = None
    error: DescriptorError | None = None

    def line_of(self, field: str) -> int:
        """Return the line of a dotted field path (`spec.owner`, `metadata.tags[2]`)."""
        node = self.node
        best = self.line
        for part in _split_field(field):
            # The key's line: for a missing field, the line of the mapping it belongs in.
            line = None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                pair = next((p for p in node.value if getattr(p[0], "value", None) == part), None)
                node, line = (pair[1], pair[0].start_mark.line + 1) if pair else (None, None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None
                line = node.start_mark.line + 1 if node is not None else None
            else:
                node = None
            if node is None:
                break
            best = line or best
        return best


def _split_field(field: str) -> Iterator[str | int]:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        yield int(part[1:-1]) if part.startswith("[") else part


def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DescriptorError(
            f"the file is not valid UTF-8 (bad byte at line {line})", line=line
        ) from None


def parse_documents(text: str, max_documents: int) -> list[Document]:
    """Parse every YAML document in text.

    Documents before a syntax error are kept; the broken document carries the error and
    nothing after it is read (libyaml cannot resynchronise), which the caller treats as a
    partial file so that no entity of it is lost. Empty documents count in the numbering, as
    a person counting `---` lines would.
    """
    too_deep = _nesting_error(text)
    if too_deep is not None:
        index, error = too_deep
        return [Document(index, error.line or 1, error=error)]
    loader = _Loader(text)
    documents: list[Document] = []
    index = 0
    try:
        while True:
            index += 1
            document = Document(index, 1)
            try:
                if not loader.check_node():
                    break
                if index > max_documents:
                    documents.append(
                        Document(
                            index,
                            1,
                            error=DescriptorError(
                                f"more than {max_documents} documents in one file "
                                "(catalog.maxDocumentsPerFile)"
                            ),
                        )
                    )
                    break
                node = loader.get_node()
                document.node = node
                document.line = node.start_mark.line + 1 if node is not None else 1
                data = loader.construct_document(node) if node is not None else None
                document.data = _checked(data, document, max(MIN_VALUE_BUDGET, len(text)))
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = mark.line + 1 if mark else None
                problem = exc.problem or exc.context or "invalid YAML"
                message = f"YAML error: {problem}" + (f" (line {line})" if line else "")
                documents.append(
                    Document(index, line or 1, error=DescriptorError(message, line=line))
                )
                if isinstance(exc, yaml.constructor.ConstructorError):
                    # The document was read in full; the next ones can still be parsed.
                    _reset_constructor(loader)
                    continue
                break
            except yaml.YAMLError as exc:
                documents.append(Document(index, 1, error=DescriptorError(f"YAML error: {exc}")))
                break
            except DescriptorError as exc:
                document.error = exc
                document.data = None
                documents.append(document)
                continue
            except RecursionError:
                _reset_constructor(loader)
                document.error = DescriptorError(
                    f"the document nests deeper than {MAX_DEPTH} levels", line=document.line
                )
                documents.append(document)
                continue
            except Exception as exc:  # PyYAML's constructors raise plain errors for bad tags
                _reset_constructor(loader)
                document.error = DescriptorError(
                    f"a value cannot be read ({exc.__class__.__name__}: {str(exc)[:200]})",
                    line=document.line,
                )
                documents.append(document)
                continue
            if document.data is not None:
                documents.append(document)
    finally:
        loader.dispose()
    return documents


def _reset_constructor(loader: _Loader) -> None:
    """Forget a half-built document so the next one starts clean."""
    loader.constructed_objects = {}
    loader.recursive_objects = {}
    loader.state_generators = []


def _nesting_error(text: str) -> tuple[int, DescriptorError] | None:
    """Refuse documents nested deeper than MAX_DEPTH before libyaml composes them.

    libyaml's composer recurses in C: a 50 kB line of `[[[[…` overflows the stack and kills
    the process, where no Python exception can catch it. Ordinary descriptors have few
    brackets and little indentation, so the exact scan (parser events, no composition) runs
    only when a fast count says the file could be that deep.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH and " " * MAX_DEPTH not in text:
        return None
    stack: list[list[Any]] = []  # [is_mapping, expecting_key, key or index, own path part]
    document = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                stack.pop()
                continue
            if isinstance(event, (yaml.DocumentStartEvent, yaml.DocumentEndEvent)):
                document += isinstance(event, yaml.DocumentStartEvent)
                stack.clear()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            part = ""
            if stack:
                top = stack[-1]
                if top[0] and top[1]:  # a mapping key
                    top[1] = False
                    top[2] = getattr(event, "value", "?")
                    if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                        continue
                elif top[0]:
                    top[1] = True
                    part = str(top[2])
                else:
                    part = f"[{top[2]}]"
                    top[2] += 1
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                is_mapping = isinstance(event, yaml.MappingStartEvent)
                stack.append([is_mapping, True, None if is_mapping else 0, part])
                if len(stack) > MAX_DEPTH:
                    line = event.start_mark.line + 1
                    field = ""
                    for entry in stack[1:]:
                        field += (
                            entry[3] if entry[3].startswith("[") or not field else "." + entry[3]
                        )
                    return document, DescriptorError(
                        f"{field}: the document nests deeper than {MAX_DEPTH} levels",
                        line=line,
                        field=field,
                    )
    except yaml.YAMLError:
        return None  # a syntax error: parse_documents reports it with its line
    return None


def _checked(data: Any, document: Document, limit: int) -> Any:
    """Return data if it is JSON-shaped and bounded, else raise DescriptorError."""
    budget = [limit]

    def walk(value: Any, depth: int, path: str) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise DescriptorError(
                f"the document expands to more than {limit} values "
                "(an alias bomb or a runaway document)",
                line=document.line,
            )
        if depth > MAX_DEPTH:
            raise DescriptorError(
                f"the document nests deeper than {MAX_DEPTH} levels (or refers to itself)",
                line=document.line_of(path),
                field=path,
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise DescriptorError(
                        f"{path or 'document'}: a key contains a NUL character",
                        line=document.line_of(path),
                        field=path,
                    )
                walk(item, depth + 1, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for position, item in enumerate(value):
                walk(item, depth + 1, f"{path}[{position}]")
        elif isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise DescriptorError(
                    f"{path}: {value} cannot be stored as JSON",
                    line=document.line_of(path),
                    field=path,
                )
        elif isinstance(value, str):
            if "\x00" in value:
                raise DescriptorError(
                    f"{path or 'document'}: text contains a NUL character, which cannot be stored",
                    line=document.line_of(path),
                    field=path,
                )
        elif not isinstance(value, (int, bool)) and value is not None:
            raise DescriptorError(
                f"{path or 'document'}: values of type {type(value).__name__} are not allowed",
                line=document.line_of(path),
                field=path,
            )

    walk(data, 0, "")
    return data
