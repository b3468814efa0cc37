"""The Definition tab of API entities: catalog.definitions and its partial template."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import pytest
from django.template.loader import render_to_string

from catalog.definitions import MAX_RICH_BYTES, definition_context, pygments_css
from catalog.models import Entity

XSS = "<script>alert('xss')</script>"

OPENAPI_YAML = textwrap.dedent(
    f"""\
    openapi: 3.0.3
    info:
      title: Petstore
      version: 1.0.0
      description: "{XSS}"
    paths:
      /pets:
        get:
          summary: List pets
          responses:
            200:
              description: A list of pets
    """
)

SWAGGER_JSON = json.dumps(
    {
        "swagger": "2.0",
        "info": {"title": "Legacy", "version": "2"},
        "paths": {"/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
    },
    indent=2,
)

ASYNCAPI_2 = textwrap.dedent(
    f"""\
    asyncapi: 2.6.0
    info:
      title: Streetlights
      version: 1.0.0
      description: |
        Turn **lights** on and off. {XSS}
        [click me](javascript:alert(1)) and <a href="https://example.com" onclick="evil()">docs</a>
    servers:
      production:
        url: mqtt://broker.example.com
        protocol: mqtt
    channels:
      light/measured:
        description: Lights report their lumens.
        subscribe:
          operationId: onLightMeasured
          summary: Receive lumens
          message:
            $ref: '#/components/messages/LightMeasured'
      light/turn-on:
        publish:
          operationId: turnOn
          message:
            name: TurnOn
            payload:
              type: object
              properties:
                id: {{type: integer}}
    components:
      messages:
        LightMeasured:
          contentType: application/json
          payload:
            $ref: '#/components/schemas/Lumens'
      schemas:
        Lumens:
          type: object
          properties:
            lumens: {{type: integer, minimum: 0}}
    """
)

ASYNCAPI_3 = textwrap.dedent(
    """\
    asyncapi: 3.0.0
    info: {title: Orders, version: '3'}
    channels:
      orderCreated:
        address: orders.created
        messages:
          OrderCreated:
            payload: {type: object, properties: {orderId: {type: string}}}
      unused:
        address: orders.unused
        messages:
          Ping: {payload: {type: string}}
    operations:
      publishOrder:
        action: send
        channel: {$ref: '#/channels/orderCreated'}
        messages: [{$ref: '#/channels/orderCreated/messages/OrderCreated'}]
    """
)

GRAPHQL_SDL = textwrap.dedent(
    f'''\
    type Query {{
      "Find a user. {XSS}"
      user(id: ID!, role: Role = ADMIN): User
      users(filter: UserFilter): [User!]!
    }}

    type Mutation {{
      rename(id: ID!, name: String!): User
    }}

    """A person who can sign in."""
    type User {{
      id: ID!
      name: String
      role: Role!
    }}

    enum Role {{
      ADMIN
      MEMBER
    }}

    input UserFilter {{
      role: Role
      nameContains: String = ""
    }}
    '''
)

PROTO = textwrap.dedent(
    f"""\
    syntax = "proto3";
    // {XSS}
    package greenroom.v1;

    service Greeter {{
      rpc SayHello (HelloRequest) returns (HelloReply);
    }}

    message HelloRequest {{
      string name = 1;
    }}
    """
)


def api_entity(spec_type: str, definition: Any) -> Entity:
    """Return an unsaved API entity whose spec has this type and definition."""
    return Entity(
        kind="api",
        namespace="default",
        name="example",
        body={
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "example"},
            "spec": {
                "type": spec_type,
                "lifecycle": "production",
                "owner": "team-a",
                "definition": definition,
            },
        },
    )


def render(context: dict[str, Any]) -> str:
    return render_to_string("catalog/partials/_definition.html", context)


def text_of(html: str) -> str:
    """Return the text of an HTML fragment, tags removed, for asserting on what people read."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- OpenAPI -------------------------------------------------------------------------------


def test_it_parses_openapi_3_yaml_into_spec_json() -> None:
    # given
    entity = api_entity("openapi", OPENAPI_YAML)

    # when
    context = definition_context(entity)

    # then
    assert context["kind"] == "openapi"
    assert context["error"] is None
    assert context["spec_json"]["openapi"] == "3.0.3"
    assert context["spec_json"]["info"]["title"] == "Petstore"
    # YAML's integer response code becomes the string key JSON and Swagger UI expect
    assert "200" in context["spec_json"]["paths"]["/pets"]["get"]["responses"]
    assert context["source_language"] == "YAML"


def test_it_parses_swagger_2_json_into_spec_json() -> None:
    # given
    entity = api_entity("openapi", SWAGGER_JSON)

    # when
    context = definition_context(entity)

    # then
    assert context["error"] is None
    assert context["spec_json"]["swagger"] == "2.0"
    assert context["spec_json"]["paths"]["/things"]["get"]["responses"]["200"] == {
        "description": "ok"
    }
    assert context["source_language"] == "JSON"


def test_it_accepts_a_definition_that_is_already_a_mapping() -> None:
    # given
    entity = api_entity("openapi", {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}})

    # when
    context = definition_context(entity)

    # then
    assert context["spec_json"]["info"]["title"] == "T"
    assert "openapi" in text_of(context["source_html"])


def test_it_reports_the_line_of_broken_openapi_yaml() -> None:
    # given
    broken = "openapi: 3.0.0\ninfo:\n  title: Broken\n  version: [1.0\npaths: {}\n"
    entity = api_entity("openapi", broken)

    # when
    context = definition_context(entity)

    # then
    assert context["spec_json"] is None
    assert "line 5" in context["error"]
    assert context["error_line"] == 5
    # the source is still shown, open, with the offending line marked
    assert context["source_open"] is True
    assert 'id="def-line-5"' in context["source_html"]
    assert 'class="hll"' in context["source_html"]


def test_it_reports_the_line_of_broken_openapi_json() -> None:
    # given
    entity = api_entity("openapi", '{\n  "openapi": "3.0.0",\n  "info": {,}\n}\n')

    # when
    context = definition_context(entity)

    # then
    assert context["spec_json"] is None
    assert "line 3" in context["error"]


def test_it_makes_yaml_only_values_safe_for_json() -> None:
    # given
    definition = "openapi: 3.0.0\ninfo:\n  title: T\n  version: 2024-01-31\nx-nan: .nan\n"
    entity = api_entity("openapi", definition)

    # when
    context = definition_context(entity)

    # then
    assert context["spec_json"]["info"]["version"] == "2024-01-31"
    json.dumps(context["spec_json"], allow_nan=False)  # what the browser's JSON.parse accepts


def test_it_refuses_yaml_alias_bombs() -> None:
    # given
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for previous, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    entity = api_entity("openapi", "\n".join(lines) + "\n")

    # when
    context = definition_context(entity)

    # then
    assert context["spec_json"] is None
    assert "too many values" in context["error"]


# --- AsyncAPI ------------------------------------------------------------------------------


def test_it_lists_asyncapi_2_channels_operations_and_messages() -> None:
    # given
    entity = api_entity("asyncapi", ASYNCAPI_2)

    # when
    context = definition_context(entity)

    # then
    view = context["asyncapi"]
    assert context["error"] is None
    assert (view["title"], view["info_version"], view["version"]) == (
        "Streetlights",
        "1.0.0",
        "2.6.0",
    )
    assert view["servers"][0]["url"] == "mqtt://broker.example.com"
    assert [c["name"] for c in view["channels"]] == ["light/measured", "light/turn-on"]
    measured = view["channels"][0]["operations"][0]
    assert (measured["action"], measured["operation_id"]) == ("subscribe", "onLightMeasured")
    message = measured["messages"][0]
    assert message["name"] == "LightMeasured"  # named after its components key
    assert message["content_type"] == "application/json"
    assert "lumens" in text_of(message["payload_html"])  # the $ref'd schema is inlined
    turn_on = view["channels"][1]["operations"][0]
    assert turn_on["action"] == "publish"
    assert turn_on["messages"][0]["name"] == "TurnOn"


def test_it_removes_scripts_and_javascript_links_from_asyncapi_descriptions() -> None:
    # given
    entity = api_entity("asyncapi", ASYNCAPI_2)

    # when
    description = str(definition_context(entity)["asyncapi"]["description_html"])

    # then
    assert "<strong>lights</strong>" in description  # Markdown is rendered
    assert "<script" not in description
    assert "javascript:" not in description
    assert "onclick" not in description
    assert 'href="https://example.com"' in description


def test_it_groups_asyncapi_3_operations_under_their_channels() -> None:
    # given
    entity = api_entity("asyncapi", ASYNCAPI_3)

    # when
    channels = definition_context(entity)["asyncapi"]["channels"]

    # then
    created, unused = channels
    assert created["address"] == "orders.created"
    operation = created["operations"][0]
    assert (operation["action"], operation["operation_id"]) == ("send", "publishOrder")
    assert operation["messages"][0]["name"] == "OrderCreated"
    assert "orderId" in text_of(operation["messages"][0]["payload_html"])
    # a channel no operation uses still shows its messages
    assert unused["operations"] == []
    assert unused["messages"][0]["name"] == "Ping"


# --- GraphQL -------------------------------------------------------------------------------


def test_it_lists_graphql_root_types_before_the_other_types() -> None:
    # given
    entity = api_entity("graphql", GRAPHQL_SDL)

    # when
    sections = definition_context(entity)["graphql"]["sections"]

    # then
    assert [(s["title"], [t["name"] for t in s["types"]]) for s in sections] == [
        ("Root types", ["Query", "Mutation"]),
        ("Objects", ["User"]),
        ("Inputs", ["UserFilter"]),
        ("Enums", ["Role"]),
    ]
    role = sections[3]["types"][0]
    assert [v["name"] for v in role["values"]] == ["ADMIN", "MEMBER"]
    assert sections[1]["types"][0]["description"] == "A person who can sign in."


def test_it_links_graphql_types_to_their_in_page_anchors() -> None:
    # given
    entity = api_entity("graphql", GRAPHQL_SDL)

    # when
    query = definition_context(entity)["graphql"]["sections"][0]["types"][0]

    # then
    assert query["anchor"] == "gql-Query"
    user, users = query["fields"]
    assert user["type_html"] == '<a href="#gql-User">User</a>'
    assert users["type_html"] == '[<a href="#gql-User">User</a>!]!'
    assert [(a["name"], a["type_html"], a["default"]) for a in user["args"]] == [
        ("id", "<span>ID</span>!", ""),  # built-in scalars have no section to link to
        ("role", '<a href="#gql-Role">Role</a>', "ADMIN"),
    ]


def test_it_reports_the_line_of_broken_graphql_sdl() -> None:
    # given
    entity = api_entity("graphql", "type Query {\n  user: User\n\n  broken(: Int\n}\n")

    # when
    context = definition_context(entity)

    # then
    assert context["graphql"] is None
    assert context["error_line"] == 4
    assert "line 4" in context["error"]
    assert "Syntax Error" in context["error"]


def test_it_reports_the_line_of_an_unknown_graphql_type() -> None:
    # given
    entity = api_entity("graphql", "type Query {\n  user: Missing\n}\n")

    # when
    context = definition_context(entity)

    # then
    assert context["graphql"] is None
    assert "Unknown type 'Missing'" in context["error"]
    assert context["error_line"] == 2


def test_it_tolerates_undeclared_graphql_directives_with_a_warning() -> None:
    # given
    entity = api_entity(
        "graphql", 'type Query {\n  me: User\n}\ntype User @key(fields: "id") {\n  id: ID!\n}\n'
    )

    # when
    context = definition_context(entity)

    # then
    assert context["error"] is None
    assert [t["name"] for t in context["graphql"]["sections"][1]["types"]] == ["User"]
    assert "Unknown directive '@key'" in context["warnings"][0]


# --- gRPC and other types -----------------------------------------------------------------


def test_it_highlights_grpc_proto_and_escapes_markup_in_it() -> None:
    # given
    entity = api_entity("grpc", PROTO)

    # when
    context = definition_context(entity)

    # then
    html = str(context["source_html"])
    assert context["kind"] == "grpc"
    assert context["source_language"] == "Protocol Buffer"
    assert '<span class="tok-kd">service</span>' in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_it_shows_unknown_types_as_plain_text_when_the_format_is_unclear() -> None:
    # given
    entity = api_entity("trpc", "hello <b>world</b>\n")

    # when
    context = definition_context(entity)

    # then
    assert context["kind"] == "text"
    assert context["source_language"] == "Text only"
    assert "<b>" not in context["source_html"]
    assert context["source_open"] is True


def test_it_shows_oversized_definitions_as_truncated_plain_text() -> None:
    # given
    huge = "openapi: 3.0.0\n" + "x-filler: " + "a" * MAX_RICH_BYTES + "\n" + XSS
    entity = api_entity("openapi", huge)

    # when
    context = definition_context(entity)

    # then
    assert context["too_large"] is True
    assert context["truncated"] is True
    assert "2 MB" in context["error"]
    assert context["spec_json"] is None
    assert len(context["source_html"]) < 300_000
    assert "tok-" not in context["source_html"]


def test_it_reports_an_api_without_a_definition() -> None:
    # given
    entity = api_entity("openapi", None)

    # when
    context = definition_context(entity)

    # then
    assert context["error"] == "This API has no definition."
    assert "This API has no definition." in render(context)


def test_it_scopes_the_highlighting_css_to_highlight_blocks() -> None:
    # when
    css = pygments_css()

    # then
    rules = [line for line in css.splitlines() if line.strip()]
    assert rules
    assert all(rule.startswith(".highlight") for rule in rules)
    assert ".highlight .tok-k" in css


# --- The partial template -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec_type", "definition", "expected"),
    [
        ("openapi", OPENAPI_YAML, 'id="swagger-ui"'),
        ("openapi", "openapi: 3.0.0\ninfo: [\n", "Go to line"),
        ("asyncapi", ASYNCAPI_2, "light/measured"),
        ("asyncapi", ASYNCAPI_3, "orders.created"),
        ("graphql", GRAPHQL_SDL, 'id="gql-User"'),
        ("graphql", "type Query {", "Syntax Error"),
        ("grpc", PROTO, "HelloRequest"),
        ("trpc", f"router: {XSS}", "Raw definition"),
    ],
)
def test_it_renders_each_kind_without_unescaped_user_scripts(
    spec_type: str, definition: str, expected: str
) -> None:
    # given
    context = definition_context(api_entity(spec_type, definition))

    # when
    html = render(context)

    # then
    assert expected in html
    assert "<script>alert" not in html
    assert 'href="javascript:' not in html  # the raw source may show it, as text
    assert "Raw definition" in html


def test_it_embeds_the_openapi_spec_for_the_local_swagger_ui() -> None:
    # given
    context = definition_context(api_entity("openapi", OPENAPI_YAML))

    # when
    html = render(context)

    # then
    assert '<script id="api-definition" type="application/json">' in html
    embedded = html.split('<script id="api-definition" type="application/json">', 1)[1]
    embedded = embedded.split("</script>", 1)[0]
    assert json.loads(embedded)["info"]["description"] == XSS  # escaped as \u003C in the page
    assert "swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "swagger-ui-dist/swagger-ui.css" in html
    assert "catalog/swagger-init.js" in html
    assert "//cdn" not in html and "unpkg" not in html


def test_it_links_graphql_types_in_the_rendered_browser() -> None:
    # given
    context = definition_context(api_entity("graphql", GRAPHQL_SDL))

    # when
    html = render(context)

    # then
    assert '<a href="#gql-User">User</a>' in html
    assert html.index('id="gql-Query"') < html.index('id="gql-User"')
    assert "Find a user. &lt;script&gt;" in html
