"""Render an API entity's `spec.definition` for the entity page's "Definition" tab.

Backstage's API docs plugin shows OpenAPI with Swagger UI, AsyncAPI and GraphQL with their own
browsers, and everything else as highlighted source. `definition_context()` prepares the same
for `catalog/partials/_definition.html`, server-side where we can so the page needs no CDN:

- openapi: the parsed document, handed to the vendored Swagger UI through `json_script`;
- asyncapi: servers, channels, operations and messages, with payload schemas as JSON;
- graphql: a schema browser built with graphql-core, type names linking to `#gql-<Name>`;
- grpc and anything else: the highlighted source only.

Every definition is untrusted input. Text reaches the template unescaped only through Pygments
(which escapes every token), `format_html` (which escapes every argument) or nh3 (which
sanitises rendered Markdown); nothing the author wrote is marked safe as-is.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import yaml
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    build_ast_schema,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_introspection_type,
    is_object_type,
    is_scalar_type,
    is_specified_scalar_type,
    is_union_type,
    parse,
    print_ast,
)
from graphql.validation.validate import validate_sdl
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import (
    GraphQLLexer,
    JsonLexer,
    ProtoBufLexer,
    TextLexer,
    XmlLexer,
    YamlLexer,
    get_lexer_by_name,
)
from pygments.util import ClassNotFound

from portal.markup import render_markdown

if TYPE_CHECKING:
    from graphql import GraphQLNamedType, GraphQLSchema

    from catalog.models import Entity

# Larger definitions are shown as plain text: highlighting and parsing megabytes per page view
# would make the entity page slow for everyone, and such documents are unreadable in a browser.
MAX_RICH_BYTES = 2 * 1024 * 1024
PLAIN_PREVIEW_CHARS = 200_000
# YAML aliases share objects, so a small document can stand for an exponentially large tree
# ("billion laughs"); converting to JSON expands it, so we stop after this many values.
MAX_JSON_NODES = 1_000_000
MAX_JSON_DEPTH = 200
# Highlighting costs about 2 s and 12 bytes of HTML per byte of YAML; larger sources are shown
# with line numbers but no colours so the page stays quick to build and to load.
MAX_HIGHLIGHT_BYTES = 512 * 1024
# Guessing a format from content only needs the head of the text.
GUESS_SAMPLE_CHARS = 10_000

LINE_ANCHOR_PREFIX = "def-line"
TOKEN_CLASS_PREFIX = "tok-"
# libyaml is about three times faster than the pure-Python parser on large definitions.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KNOWN_KINDS = ("openapi", "asyncapi", "graphql", "grpc")


class DefinitionTooComplex(ValueError):
    """The parsed definition is too deep or too large to convert to JSON."""


def definition_context(entity: Entity) -> dict[str, Any]:
    """Return the template context for an API entity's Definition tab.

    Keys (all always present):
    - `kind`: "openapi", "asyncapi", "graphql", "grpc" or "text", picking the renderer;
    - `spec_type`: `spec.type` as the author wrote it, for display;
    - `error`: why the rich view is unavailable (with the line, when known), or None;
    - `error_line`: that line number, matching the `#def-line-<n>` anchors in `source_html`;
    - `warnings`: problems that did not stop rendering;
    - `source_html`: the highlighted source (safe HTML), always shown;
    - `source_language`: the name of the lexer used;
    - `source_open`: show the source expanded, as it is all there is to see (gRPC, plain text,
      or a definition that could not be rendered);
    - `too_large` / `truncated`: the definition exceeded `MAX_RICH_BYTES` / was cut short;
    - `spec_json`: the parsed OpenAPI/Swagger document for Swagger UI, else None;
    - `asyncapi`: see `_asyncapi_view()`, else None;
    - `graphql`: see `_graphql_view()`, else None;
    - `pygments_css`: the highlighting style, see `pygments_css()`.
    """
    body = entity.body if isinstance(entity.body, dict) else {}
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    spec_type = spec.get("type") if isinstance(spec.get("type"), str) else ""
    kind = spec_type.strip().lower()
    if kind not in KNOWN_KINDS:
        kind = "text"
    raw = spec.get("definition")
    text = _definition_text(raw)

    context: dict[str, Any] = {
        "kind": kind,
        "spec_type": spec_type,
        "error": None,
        "error_line": None,
        "warnings": [],
        "source_html": SafeString(""),
        "source_language": "Text",
        "source_open": True,
        "too_large": False,
        "truncated": False,
        "spec_json": None,
        "asyncapi": None,
        "graphql": None,
        "pygments_css": pygments_css(),
    }
    if not text.strip():
        context["error"] = "This API has no definition."
        return context

    size = len(text.encode("utf-8"))
    if size > MAX_RICH_BYTES:
        context["too_large"] = True
        context["truncated"] = len(text) > PLAIN_PREVIEW_CHARS
        context["error"] = (
            f"The definition is {size / 1024 / 1024:.1f} MB, larger than the "
            f"{MAX_RICH_BYTES // 1024 // 1024} MB that can be rendered here; "
            + (
                f"showing the first {PLAIN_PREVIEW_CHARS:,} characters as plain text."
                if context["truncated"]
                else "showing it as plain text."
            )
        )
        context["source_html"] = format_html(
            '<pre class="highlight plain-definition"><code>{}</code></pre>',
            text[:PLAIN_PREVIEW_CHARS],
        )
        return context

    # A definition that was a mapping in the descriptor is already parsed; reuse it.
    parsed = raw if isinstance(raw, (dict, list)) else None
    if kind == "openapi":
        context.update(_openapi_view(text, parsed))
    elif kind == "asyncapi":
        context.update(_asyncapi_context(text, parsed))
    elif kind == "graphql":
        context.update(_graphql_context(text))

    lexer = _lexer_for(kind, spec_type, text)
    if size > MAX_HIGHLIGHT_BYTES:
        context["warnings"].append(
            f"The source is shown without highlighting: it is larger than "
            f"{MAX_HIGHLIGHT_BYTES // 1024} KB."
        )
    context["source_language"] = lexer.name
    context["source_html"] = highlight_source(text, lexer, context["error_line"])
    context["source_open"] = kind in ("grpc", "text") or bool(context["error"])
    return context


def pygments_css() -> SafeString:
    """Return the light-theme highlighting CSS, every rule scoped to `.highlight`.

    Pygments' own `get_style_defs()` also emits unscoped `pre` and `span.linenos` rules that
    would restyle the rest of the page, so we assemble the scoped parts ourselves.
    """
    return _pygments_css()


@lru_cache(maxsize=1)
def _pygments_css() -> SafeString:
    formatter = HtmlFormatter(style="default", classprefix=TOKEN_CLASS_PREFIX)
    rules = [
        *formatter.get_background_style_defs(".highlight"),
        # The page may use a dark theme; the light palette needs dark text to stay readable.
        ".highlight { color: #1f2328; padding: .5rem; border-radius: .375rem; }",
        ".highlight pre { margin: 0; line-height: 125%; white-space: pre; }",
        ".highlight .linenos { color: #6e7781; padding: 0 .75em 0 .25em; user-select: none; }",
        *formatter.get_token_style_defs(".highlight"),
    ]
    # Generated from Pygments' style tables, not from user data.
    return mark_safe("\n".join(rules))


def highlight_source(
    text: str, lexer: Lexer, hl_line: int | None = None, *, line_numbers: bool = True
) -> SafeString:
    """Return `text` highlighted as HTML, by default with inline line numbers and
    `#def-line-<n>` anchors.

    `hl_line` (1-based) is marked, for pointing at a parse error. Snippets shown next to the
    source (payload schemas) pass `line_numbers=False` so anchor ids stay unique on the page.
    Pygments escapes every token, so the result is safe to embed.
    """
    formatter = HtmlFormatter(
        linenos="inline" if line_numbers else False,
        cssclass="highlight",
        classprefix=TOKEN_CLASS_PREFIX,
        lineanchors=LINE_ANCHOR_PREFIX if line_numbers else "",
        hl_lines=[hl_line] if hl_line else [],
        wrapcode=True,
    )
    return mark_safe(highlight(text, lexer, formatter))


def _definition_text(raw: Any) -> str:
    """Return the definition as text: strings as-is, parsed mappings dumped back to YAML."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, (dict, list)):
        try:
            text = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
        except yaml.YAMLError:
            text = json.dumps(raw, indent=2, ensure_ascii=False, default=str)
    else:
        text = str(raw)
    # JSON allows lone surrogates, which cannot be encoded into the response; replace them.
    return text.encode("utf-8", "replace").decode("utf-8")


def _lexer_for(kind: str, spec_type: str, text: str) -> Lexer:
    """Return a lexer for the source: by API kind, then by spec.type, then by content.

    Pygments' `guess_lexer` alone is unreliable (it calls short Python "Tera Term macro"), so
    content guesses are limited to formats API definitions are written in, else plain text.
    """
    options = {"stripnl": False, "ensurenl": True}  # keep line numbers matching parse errors
    if len(text.encode("utf-8")) > MAX_HIGHLIGHT_BYTES:
        return TextLexer(**options)
    if kind == "grpc":
        return ProtoBufLexer(**options)
    if kind == "graphql":
        return GraphQLLexer(**options)
    if kind in ("openapi", "asyncapi"):
        return JsonLexer(**options) if _looks_like_json(text) else YamlLexer(**options)
    if re.fullmatch(r"[a-z0-9+#-]{1,40}", spec_type.lower()):
        try:
            return get_lexer_by_name(spec_type.lower(), **options)
        except ClassNotFound:
            pass
    sample = text[:GUESS_SAMPLE_CHARS]
    if _looks_like_json(sample):
        return JsonLexer(**options)
    if sample.lstrip().startswith("<"):
        return XmlLexer(**options)
    if re.search(r"^\s*(syntax\s*=\s*\"proto|message\s+\w+\s*\{|service\s+\w+\s*\{)", sample, re.M):
        return ProtoBufLexer(**options)
    if re.search(r"^\s*(type|schema|enum|input|interface)\s+\w*\s*\{", sample, re.M):
        return GraphQLLexer(**options)
    if re.match(r"\s*(---|%YAML|[\w\"'.$-]+\s*:(\s|$))", sample):
        return YamlLexer(**options)
    return TextLexer(**options)


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def _load_document(text: str, parsed: Any) -> tuple[Any, str | None, int | None]:
    """Return (document, error, error_line) for YAML or JSON text.

    JSON is tried first when the text looks like JSON, since a few JSON documents (tabs,
    `\\/` escapes) are not valid YAML 1.1. Errors name the line and column.
    """
    if parsed is not None:
        return parsed, None, None
    json_error: json.JSONDecodeError | None = None
    if _looks_like_json(text):
        try:
            return json.loads(text), None, None
        except json.JSONDecodeError as exc:
            json_error = exc
        except RecursionError:
            return None, "The definition is nested too deeply to read.", None
    try:
        return yaml.load(text, Loader=SafeLoader), None, None  # safe: plain data only
    except yaml.MarkedYAMLError as exc:
        if json_error is not None:
            return (
                None,
                f"The definition is not valid JSON: {json_error.msg} "
                f"(line {json_error.lineno}, column {json_error.colno}).",
                json_error.lineno,
            )
        return None, *_yaml_error(exc)
    except yaml.YAMLError as exc:
        return None, f"The definition is not valid YAML: {exc}", None
    except RecursionError:
        return None, "The definition is nested too deeply to read.", None


def _yaml_error(exc: yaml.MarkedYAMLError) -> tuple[str, int | None]:
    """Return a one-line description of a YAML error and its 1-based line."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if exc.context:
        problem = f"{problem} ({exc.context})"
    if mark is None:
        return f"The definition is not valid YAML: {problem}.", None
    line = mark.line + 1
    return (
        f"The definition is not valid YAML: {problem} at line {line}, column {mark.column + 1}.",
        line,
    )


def _jsonable(value: Any) -> Any:
    """Return a copy of a parsed YAML/JSON document that `json.dumps` accepts and browsers parse.

    YAML produces dates, non-string keys, sets, bytes and NaN; JSON has none of them. Raises
    `DefinitionTooComplex` for documents too deep or too large (e.g. alias bombs).
    """
    budget = [MAX_JSON_NODES]

    def convert(node: Any, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise DefinitionTooComplex("the definition expands to too many values")
        if depth > MAX_JSON_DEPTH:
            raise DefinitionTooComplex("the definition is nested too deeply")
        if isinstance(node, dict):
            return {_json_key(k): convert(v, depth + 1) for k, v in node.items()}
        if isinstance(node, (list, tuple, set, frozenset)):
            return [convert(v, depth + 1) for v in node]
        if isinstance(node, bool) or node is None or isinstance(node, (int, str)):
            return node
        if isinstance(node, float):
            return node if math.isfinite(node) else str(node)
        if isinstance(node, (datetime.date, datetime.datetime)):
            return node.isoformat()
        if isinstance(node, bytes):
            return node.decode("utf-8", "replace")
        return str(node)

    return convert(value, 0)


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    return str(key)


# --- OpenAPI -------------------------------------------------------------------------------


def _load_mapping(text: str, parsed: Any, what: str) -> tuple[Any, dict[str, Any] | None]:
    """Return (the document as JSON-able data, None), or (None, the error context)."""
    document, error, line = _load_document(text, parsed)
    if error:
        return None, {"error": error, "error_line": line}
    if not isinstance(document, dict):
        return None, {
            "error": f"The definition is not an {what} document: expected a mapping at the top."
        }
    try:
        return _jsonable(document), None
    except DefinitionTooComplex as exc:
        return None, {"error": f"The definition cannot be rendered: {exc}."}


def _openapi_view(text: str, parsed: Any) -> dict[str, Any]:
    """Return `spec_json` (or `error`, `error_line`) for an OpenAPI 3 or Swagger 2 document."""
    spec_json, failure = _load_mapping(text, parsed, "OpenAPI")
    if failure:
        return failure
    warnings = []
    if "openapi" not in spec_json and "swagger" not in spec_json:
        warnings.append("The definition has no `openapi` or `swagger` version field.")
    return {"spec_json": spec_json, "warnings": warnings}


# --- AsyncAPI ------------------------------------------------------------------------------


def _asyncapi_context(text: str, parsed: Any) -> dict[str, Any]:
    """Return `asyncapi` (or `error`, `error_line`) for an AsyncAPI 2.x or 3.x document."""
    document, failure = _load_mapping(text, parsed, "AsyncAPI")
    if failure:
        return failure
    warnings = []
    if "asyncapi" not in document:
        warnings.append("The definition has no `asyncapi` version field.")
    return {"asyncapi": _asyncapi_view(document), "warnings": warnings}


def _asyncapi_view(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the AsyncAPI overview the template renders.

    `{"version", "title", "info_version", "description_html", "servers": [{"name", "url",
    "protocol", "description_html"}], "channels": [{"name", "address", "description_html",
    "operations": [{"action", "operation_id", "summary", "description_html", "messages"}],
    "messages": [...]}]}`; each message is `{"name", "title", "summary", "content_type",
    "description_html", "payload_html"}`. Channel-level `messages` are only listed when no
    operation covers the channel (AsyncAPI 3 channels without operations).
    """
    version = _text(doc.get("asyncapi"))
    info = _mapping(doc.get("info"))
    servers = []
    for name, server in _mapping(doc.get("servers")).items():
        server = _mapping(_resolve(server, doc))
        url = _text(server.get("url")) or (
            _text(server.get("host")) + _text(server.get("pathname"))
        )
        protocol = _text(server.get("protocol"))
        if server.get("protocolVersion"):
            protocol = f"{protocol} {_text(server.get('protocolVersion'))}"
        servers.append(
            {
                "name": name,
                "url": url,
                "protocol": protocol,
                "description_html": _markdown(server.get("description")),
            }
        )
    if version.startswith("2") or "operations" not in doc:
        channels = _asyncapi2_channels(doc)
    else:
        channels = _asyncapi3_channels(doc)
    return {
        "version": version,
        "title": _text(info.get("title")),
        "info_version": _text(info.get("version")),
        "description_html": _markdown(info.get("description")),
        "servers": servers,
        "channels": channels,
    }


def _asyncapi2_channels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Return channels keyed by name, each with its publish/subscribe operations."""
    channels = []
    for name, channel in _mapping(doc.get("channels")).items():
        channel = _mapping(_resolve(channel, doc))
        operations = []
        for action in ("publish", "subscribe"):
            if action not in channel:
                continue
            op = _mapping(_resolve(channel[action], doc))
            message = _resolve(op.get("message"), doc)
            messages = _mapping(message).get("oneOf") if isinstance(message, dict) else None
            items = messages if isinstance(messages, list) else [op.get("message")]
            operations.append(_operation(action, _text(op.get("operationId")), op, items, doc))
        channels.append(
            {
                "name": name,
                "address": name,
                "description_html": _markdown(channel.get("description")),
                "operations": operations,
                "messages": [],
            }
        )
    return channels


def _asyncapi3_channels(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Return channels keyed by id, each with the operations that reference it."""
    channels: dict[str, dict[str, Any]] = {}
    raw_channels = _mapping(doc.get("channels"))
    for key, channel in raw_channels.items():
        channel = _mapping(_resolve(channel, doc))
        address = channel.get("address")
        channels[key] = {
            "name": _text(channel.get("title")) or key,
            "address": _text(address) if address is not None else key,
            "description_html": _markdown(channel.get("description")),
            "operations": [],
            "messages": [
                _message(message, doc, fallback_name=message_key)
                for message_key, message in _mapping(channel.get("messages")).items()
            ],
        }
    for op_id, op in _mapping(doc.get("operations")).items():
        op = _mapping(_resolve(op, doc))
        channel_ref = _mapping(op.get("channel")).get("$ref")
        key = _ref_key(channel_ref, "channels") if isinstance(channel_ref, str) else None
        if key is None or key not in channels:
            key = key or "(no channel)"
            channels.setdefault(
                key,
                {
                    "name": key,
                    "address": "",
                    "description_html": SafeString(""),
                    "operations": [],
                    "messages": [],
                },
            )
        if isinstance(op.get("messages"), list):
            items = op["messages"]
        else:  # an operation without `messages` carries every message of its channel
            channel = _mapping(_resolve(raw_channels.get(key), doc))
            items = list(_mapping(channel.get("messages")).values())
        channels[key]["operations"].append(
            _operation(_text(op.get("action")), op_id, op, items, doc)
        )
    for channel in channels.values():
        if channel["operations"]:
            channel["messages"] = []
    return list(channels.values())


def _operation(
    action: str, operation_id: str, op: dict[str, Any], messages: list[Any], doc: dict[str, Any]
) -> dict[str, Any]:
    return {
        "action": action,
        "operation_id": operation_id,
        "summary": _text(op.get("summary")),
        "description_html": _markdown(op.get("description")),
        "messages": [_message(m, doc) for m in messages if m is not None],
    }


def _message(message: Any, doc: dict[str, Any], fallback_name: str = "") -> dict[str, Any]:
    """Return one message's name, texts and its payload schema as highlighted JSON."""
    ref = message.get("$ref") if isinstance(message, dict) else None
    resolved = _mapping(_resolve(message, doc))
    ref_name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""
    name = (
        _text(resolved.get("name"))
        or _text(resolved.get("messageId"))
        or _unescape_pointer(ref_name)
        or fallback_name
        or _text(resolved.get("title"))
        or "message"
    )
    payload = resolved.get("payload")
    payload_html = SafeString("")
    if payload is not None:
        schema = _deref(payload, doc)
        payload_html = highlight_source(
            json.dumps(schema, indent=2, ensure_ascii=False),
            JsonLexer(stripnl=False),
            line_numbers=False,
        )
    return {
        "name": name,
        "title": _text(resolved.get("title")),
        "summary": _text(resolved.get("summary")),
        "content_type": _text(resolved.get("contentType")),
        "description_html": _markdown(resolved.get("description")),
        "payload_html": payload_html,
    }


def _resolve(node: Any, doc: dict[str, Any], hops: int = 10) -> Any:
    """Return what a local `$ref` (`#/...`) points at, following up to `hops` refs."""
    while hops and isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = _pointer(doc, node["$ref"])
        if target is None:
            return node
        node = target
        hops -= 1
    return node


def _deref(node: Any, doc: dict[str, Any], budget: int = 5_000) -> Any:
    """Return `node` with local `$ref`s inlined, keeping a `$ref` that would recurse.

    Bounded by `budget` values so shared schemas cannot blow up the page.
    """
    remaining = [budget]

    def walk(value: Any, seen: tuple[str, ...]) -> Any:
        remaining[0] -= 1
        if remaining[0] < 0:
            return "…"
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                target = _pointer(doc, ref)
                if target is not None:
                    return walk(target, (*seen, ref))
            return {k: walk(v, seen) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, seen) for v in value]
        return value

    return walk(node, ())


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    """Return the value at a local JSON pointer (`#/a/b`), or None if there is none."""
    if not ref.startswith("#/"):
        return None
    node: Any = doc
    for part in ref[2:].split("/"):
        part = _unescape_pointer(part)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _ref_key(ref: str, section: str) -> str | None:
    """Return `<key>` of a `#/<section>/<key>` ref, or None."""
    prefix = f"#/{section}/"
    if not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
        return None
    return _unescape_pointer(ref[len(prefix) :])


def _unescape_pointer(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def _markdown(text: Any) -> SafeString:
    # No images: viewing a definition must not make the browser fetch from an address the
    # definition's author chose.
    return render_markdown(text, images=False)


# --- GraphQL -------------------------------------------------------------------------------

GRAPHQL_GROUPS = (
    ("object", "Objects"),
    ("interface", "Interfaces"),
    ("input", "Inputs"),
    ("enum", "Enums"),
    ("union", "Unions"),
    ("scalar", "Scalars"),
)


def _graphql_context(text: str) -> dict[str, Any]:
    """Return `graphql` (or `error`, `error_line`) for a GraphQL SDL schema.

    Validation problems that still let graphql-core build the schema (e.g. directives such as
    Apollo Federation's `@key` that the SDL does not declare) become `warnings`.
    """
    try:
        document = parse(text)
    except GraphQLError as exc:
        return _graphql_error(exc, "The schema is not valid GraphQL")
    except RecursionError:
        return {"error": "The schema is nested too deeply to read."}
    problems = validate_sdl(document)
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except (GraphQLError, TypeError, ValueError) as exc:
        if problems:
            return _graphql_error(problems[0], "The schema is not valid GraphQL")
        return {"error": f"The schema is not valid GraphQL: {exc}"}
    warnings = [_graphql_message(problem) for problem in problems]
    return {"graphql": _graphql_view(schema), "warnings": warnings}


def _graphql_error(exc: Any, prefix: str) -> dict[str, Any]:
    locations = getattr(exc, "locations", None) or []
    return {
        "error": f"{prefix}: {_graphql_message(exc)}",
        "error_line": locations[0].line if locations else None,
    }


def _graphql_message(exc: Any) -> str:
    locations = getattr(exc, "locations", None) or []
    message = getattr(exc, "message", None) or str(exc)
    if locations:
        return f"{message} (line {locations[0].line}, column {locations[0].column})"
    return message


def _graphql_view(schema: GraphQLSchema) -> dict[str, Any]:
    """Return the schema browser: `{"sections": [{"title", "slug", "types": [...]}]}`.

    The first section holds the root operation types (Query, Mutation, Subscription), then one
    section per kind. Each type is `{"name", "anchor", "kind", "kind_label", "description",
    "interfaces", "fields", "input_fields", "values", "members", "specified_by_url"}`; fields
    carry `type_html`, links to `#gql-<Name>` built with `format_html`.
    """
    listed = {
        name: named
        for name, named in schema.type_map.items()
        if not is_introspection_type(named) and not is_specified_scalar_type(named)
    }
    roots = [
        (label, root)
        for label, root in (
            ("Query", schema.query_type),
            ("Mutation", schema.mutation_type),
            ("Subscription", schema.subscription_type),
        )
        if root is not None
    ]
    root_names = {root.name for _, root in roots}

    def kind_of(named: GraphQLNamedType) -> str:
        if is_object_type(named):
            return "object"
        if is_interface_type(named):
            return "interface"
        if is_input_object_type(named):
            return "input"
        if is_enum_type(named):
            return "enum"
        if is_union_type(named):
            return "union"
        if is_scalar_type(named):
            return "scalar"
        return "other"

    def describe(named: GraphQLNamedType, kind_label: str) -> dict[str, Any]:
        return _graphql_type(named, kind_of(named), kind_label, listed)

    sections = []
    if roots:
        sections.append(
            {
                "title": "Root types",
                "slug": "roots",
                "types": [describe(root, f"{label} root") for label, root in roots],
            }
        )
    for kind, title in GRAPHQL_GROUPS:
        types = [
            describe(named, kind)
            for name, named in sorted(listed.items())
            if name not in root_names and kind_of(named) == kind
        ]
        if types:
            sections.append({"title": title, "slug": kind, "types": types})
    return {"sections": sections, "type_count": len(listed)}


def _graphql_type(named: Any, kind: str, kind_label: str, listed: dict[str, Any]) -> dict[str, Any]:
    """Return one type of the schema browser (see `_graphql_view`)."""
    fields = []
    if kind in ("object", "interface"):
        for field_name, field in named.fields.items():
            fields.append(
                {
                    "name": field_name,
                    "type_html": _type_html(field.type, listed),
                    "description": field.description or "",
                    "deprecation_reason": field.deprecation_reason,
                    "args": [
                        {
                            "name": arg_name,
                            "type_html": _type_html(arg.type, listed),
                            "default": _default_value(arg),
                            "description": arg.description or "",
                        }
                        for arg_name, arg in field.args.items()
                    ],
                }
            )
    input_fields = []
    if kind == "input":
        for field_name, field in named.fields.items():
            input_fields.append(
                {
                    "name": field_name,
                    "type_html": _type_html(field.type, listed),
                    "default": _default_value(field),
                    "description": field.description or "",
                    "deprecation_reason": field.deprecation_reason,
                }
            )
    values = []
    if kind == "enum":
        values = [
            {
                "name": value_name,
                "description": value.description or "",
                "deprecation_reason": value.deprecation_reason,
            }
            for value_name, value in named.values.items()
        ]
    members = [_named_html(t.name, listed) for t in named.types] if kind == "union" else []
    interfaces = (
        [_named_html(i.name, listed) for i in named.interfaces]
        if kind in ("object", "interface")
        else []
    )
    return {
        "name": named.name,
        "anchor": f"gql-{named.name}",
        "kind": kind,
        "kind_label": kind_label,
        "description": named.description or "",
        "interfaces": interfaces,
        "fields": fields,
        "input_fields": input_fields,
        "values": values,
        "members": members,
        "specified_by_url": getattr(named, "specified_by_url", None) or "",
    }


def _type_html(type_: Any, listed: dict[str, Any]) -> SafeString:
    """Return a field type such as `[User!]!` as HTML, named types linking to their anchor."""
    if isinstance(type_, GraphQLNonNull):
        return format_html("{}!", _type_html(type_.of_type, listed))
    if isinstance(type_, GraphQLList):
        return format_html("[{}]", _type_html(type_.of_type, listed))
    return _named_html(type_.name, listed)


def _named_html(name: str, listed: dict[str, Any]) -> SafeString:
    if name in listed:
        return format_html('<a href="#gql-{}">{}</a>', name, name)
    return format_html("<span>{}</span>", name)


def _default_value(arg: Any) -> str:
    """Return an argument's default as GraphQL source, or "" when it has none."""
    node = getattr(getattr(arg, "ast_node", None), "default_value", None)
    if node is None:
        return ""
    try:
        return print_ast(node)
    except Exception:  # a display nicety; never fail the page for it
        return ""
