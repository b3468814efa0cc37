"""Property tests: a malformed catalog file is reported, never breaks a run, never costs an entity.

Every example rewrites one file, bad.yaml, of a glob location that also holds good.yaml, then
refreshes the location and checks the same three things:

1. the run records a clear error naming bad.yaml (and its document, line and field where
   they are known);
2. nothing escapes: the run finishes as "succeeded", with no "internal error" (the safety net
   that catches exceptions escaping a batch);
3. every entity ingested before is untouched: good.yaml's entities and "victim", which
   bad.yaml held before it was broken, keep their uid, etag and body and are not orphaned.

The location is built once per test (hypothesis runs its examples inside one test function,
so the fixtures are shared); each example first makes sure those entities exist, putting
bad.yaml's valid content back when an earlier example removed them, and snapshots them.
Inputs that crash the YAML parser itself are refreshed in a separate process, the way a
worker runs, so that a segfault fails one test instead of the whole test run.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.choices import RunStatus
from catalog.models import Entity, IngestionRun, Location
from tests.conftest import component, subprocess_database_url

ROOT = Path(__file__).resolve().parents[2]

GROUP_TEAM_A = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
"""
GOOD = "---\n".join(
    [component("alpha"), component("beta", dependsOn=["component:alpha"]), GROUP_TEAM_A]
)
GOOD_REFS = {"component:default/alpha", "component:default/beta", "group:default/team-a"}
VICTIM = component("victim")
VICTIM_REF = "component:default/victim"
VICTIM_OWNER_LINE = 8  # `  owner: team-a` in VICTIM

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FEW = settings(FUZZ, max_examples=12)


# --------------------------------------------------------------------------------------------
# The location under test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kept:
    """What must not change about an entity that bad input cannot have touched."""

    uid: str
    etag: str
    body: dict[str, Any]
    generation: int
    orphan: bool
    location_id: Any
    source_id: int | None


def snapshot() -> dict[str, Kept]:
    return {
        e.ref: Kept(str(e.uid), e.etag, e.body, e.generation, e.orphan, e.location_id, e.source_id)
        for e in Entity.objects.all()
    }


def as_bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


@dataclass
class Catalog:
    """A glob location over good.yaml (never edited) and bad.yaml (broken by each example)."""

    location: Location
    folder: Path
    refresh: Callable[[Location], IngestionRun]
    baseline: bytes = VICTIM.encode()
    baseline_refs: set[str] = field(default_factory=lambda: {VICTIM_REF})

    @property
    def good(self) -> Path:
        return self.folder / "good.yaml"

    @property
    def bad(self) -> Path:
        return self.folder / "bad.yaml"

    @property
    def good_key(self) -> str:
        return f"file:{self.good}"

    @property
    def bad_key(self) -> str:
        return f"file:{self.bad}"

    def reset(
        self,
        upcoming: str | bytes | None = None,
        *,
        baseline: str | None = None,
        refs: set[str] | None = None,
        fresh: bool = False,
    ) -> dict[str, Kept]:
        """Make sure good.yaml's and bad.yaml's entities are in the catalog and return a
        snapshot of them (and of the location's own entity): what no example may touch.

        bad.yaml's valid content is written back and ingested only when an example removed
        one of them, when bad.yaml already holds the upcoming content (an unchanged file is
        skipped, not parsed) or when fresh is asked for. Otherwise the next example breaks
        the file again from where the last one left it, which is the same situation: an
        entity whose file is broken, maybe with the errors of the previous breakage attached.
        """
        # An exception that escaped a previous example leaves its run "running" (and that
        # example failing); close it so that this example is judged on its own.
        IngestionRun.objects.active().filter(location=self.location).update(
            status=RunStatus.FAILED, active_lanes=0
        )
        if baseline is not None:
            self.baseline = baseline.encode()
            self.baseline_refs = refs or {VICTIM_REF}
        watched = GOOD_REFS | self.baseline_refs
        present = Entity.objects.filter(ref__in=watched, orphan=False).count()
        again = upcoming is not None and self.bad.read_bytes() == as_bytes(upcoming)
        if fresh or again or present != len(watched):
            self.bad.write_bytes(self.baseline)
            run = self.refresh(self.location)
            assert run.status == RunStatus.SUCCEEDED, (run.failure, run.errors)
            assert run.error_count == 0, run.errors
        before = {
            ref: kept
            for ref, kept in snapshot().items()
            if ref in watched or ref.startswith("location:default/generated-")
        }
        assert len(before) == len(watched) + 1, sorted(before)
        return before

    def ingest(self, content: str | bytes) -> IngestionRun:
        """Write bad.yaml (text as UTF-8, bytes as they are) and refresh the location."""
        self.bad.write_bytes(as_bytes(content))
        return self.refresh(self.location)

    def errors_of_bad(self, run: IngestionRun) -> list[dict[str, Any]]:
        return [e for e in run.errors if e["location"] == self.bad_key and e["level"] == "error"]


@pytest.fixture
def catalog(register, refresh, write_file, catalog_dir: Path) -> Catalog:
    """Register `<catalog_dir>/*.yaml` holding good.yaml and a valid bad.yaml (victim)."""
    write_file("good.yaml", GOOD)
    write_file("bad.yaml", VICTIM)
    run = register(f"{catalog_dir}/*.yaml")
    assert run.status == RunStatus.SUCCEEDED, (run.failure, run.errors)
    assert run.errors == []
    assert Entity.objects.filter(ref__in=GOOD_REFS | {VICTIM_REF}).count() == 4
    return Catalog(run.location, catalog_dir, refresh)


def assert_finished(run: IngestionRun, catalog: Catalog) -> None:
    """The run ended normally and every record it holds is well-formed and about bad input."""
    assert run.status == RunStatus.SUCCEEDED, (run.status, run.failure, run.errors)
    assert run.finished_at is not None
    for item in run.errors:
        assert {"level", "location", "message"} <= item.keys(), item
        assert item["level"] in ("error", "warning"), item
        assert isinstance(item["message"], str) and item["message"], item
        assert not item["message"].startswith("internal error"), item
        assert item["location"] != catalog.good_key, item
    errors = [e for e in run.errors if e["level"] == "error"]
    assert run.error_count == len(errors), run.errors


def assert_untouched(before: dict[str, Kept], *, except_refs: set[str] = frozenset()) -> None:
    """Every entity of the snapshot is still there, byte for byte, and not orphaned."""
    after = snapshot()
    for ref, kept in before.items():
        if ref in except_refs:
            continue
        assert ref in after, f"{ref} was removed"
        assert after[ref] == kept, f"{ref} changed"
        assert not kept.orphan


def assert_error_names_bad_file(run: IngestionRun, catalog: Catalog) -> list[dict[str, Any]]:
    errors = catalog.errors_of_bad(run)
    assert errors, f"no error names {catalog.bad}: {run.errors}"
    return errors


# --------------------------------------------------------------------------------------------
# Oracles: what libyaml itself says about a text, independently of the engine
# --------------------------------------------------------------------------------------------


def yaml_syntax_error_line(text: str) -> int | None:
    """Return the line of the first syntax error libyaml finds composing text, else None."""
    try:
        for _node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
            pass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        return mark.line + 1 if mark else None
    except yaml.YAMLError:
        return None
    return None


def is_empty_yaml(raw: bytes) -> bool:
    """Return whether raw is UTF-8 YAML holding no document but empty (null) ones."""
    try:
        text = raw.decode("utf-8-sig")
        return all(doc is None for doc in yaml.load_all(text, Loader=yaml.CSafeLoader))
    except Exception:
        return False


def dump(doc: Any) -> str:
    """Dump a document with collections of scalars in flow style, on their key's line."""
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=10_000)


def victim_doc() -> dict[str, Any]:
    return yaml.safe_load(VICTIM)


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)
WORDS = st.text(alphabet=string.ascii_letters + string.digits + " -_.", max_size=12)
KEYS = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)
NUMBERS = st.one_of(
    st.integers(-(10**9), 10**9), st.floats(allow_nan=False, allow_infinity=False, width=32)
)
NOT_A_STRING = st.one_of(
    NUMBERS,
    st.booleans(),
    st.lists(WORDS, max_size=3),
    st.dictionaries(KEYS, WORDS, max_size=2),
)
NOT_A_MAPPING = st.one_of(NUMBERS, st.booleans(), WORDS, st.lists(WORDS, max_size=3))
NOT_A_LIST = st.one_of(NUMBERS, st.booleans(), WORDS, st.dictionaries(KEYS, WORDS, max_size=2))

# Field path -> values that are never valid there. Paths ending in [0] replace the whole list.
WRONG_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "apiVersion": st.one_of(
        NOT_A_STRING, st.sampled_from(["v1", "backstage.io/v9", "Backstage.IO/v1alpha1", "a b"])
    ),
    "kind": NOT_A_STRING,
    "metadata": NOT_A_MAPPING,
    "metadata.name": NOT_A_STRING,
    "metadata.namespace": NOT_A_STRING,
    "metadata.title": NOT_A_STRING,
    "metadata.description": NOT_A_STRING,
    "metadata.labels": NOT_A_MAPPING,
    "metadata.annotations": NOT_A_MAPPING,
    "metadata.annotations.note": st.one_of(
        NUMBERS, st.booleans(), st.none(), st.lists(WORDS, max_size=2)
    ),
    "metadata.tags": NOT_A_LIST,
    "metadata.tags[0]": st.one_of(
        NOT_A_STRING, st.sampled_from(["Upper", "two words", "", "a--b"])
    ),
    "metadata.links": NOT_A_LIST,
    "metadata.links[0]": st.one_of(NUMBERS, WORDS, st.lists(WORDS, max_size=2)),
    "spec": NOT_A_MAPPING,
    "spec.type": NOT_A_STRING,
    "spec.lifecycle": NOT_A_STRING,
    "spec.owner": NOT_A_STRING,
    "spec.system": NOT_A_STRING,
    "spec.dependsOn": NOT_A_LIST,
    "spec.dependsOn[0]": st.one_of(
        NUMBERS, st.booleans(), st.just(""), st.lists(WORDS, max_size=2)
    ),
}
# Paths whose breakage hides which entity the document is, so nothing can be attached to it.
IDENTITY_PATHS = {"kind", "metadata", "metadata.name", "metadata.namespace"}


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path (`spec.owner`, `metadata.tags[0]`) in doc, creating parents."""
    *parents, leaf = path.split(".")
    node = doc
    for part in parents:
        node = node.setdefault(part, {})
    if leaf.endswith("[0]"):
        node[leaf[:-3]] = [value]
    else:
        node[leaf] = value


@dataclass(frozen=True)
class WrongType:
    path: str
    value: Any
    text: str  # the whole victim document, with the wrong value at path


def wrong_type(path: str, value: Any) -> WrongType:
    doc = victim_doc()
    set_path(doc, path, value)
    return WrongType(path, value, dump(doc))


@st.composite
def wrong_types(draw: st.DrawFn) -> WrongType:
    path = draw(st.sampled_from(sorted(WRONG_TYPES)))
    return wrong_type(path, draw(WRONG_TYPES[path]))


def _break_line(line: str, how: str, junk: str) -> list[str]:
    body = line.rstrip("\n")
    key, _, value = body.partition(":")
    indent = body[: len(body) - len(body.lstrip(" "))]
    if how == "open_bracket":
        return [f"{key}: [{value.strip()}\n"]
    if how == "open_brace":
        return [f"{key}: {{{value.strip()}\n"]
    if how == "open_quote":
        return [f'{key}: "{value.strip()}\n']
    if how == "close_bracket":
        return [f"{key}: ]{value.strip()}\n"]
    if how == "tab":
        return ["\t" + body.lstrip(" ") + "\n"] if indent else ["\t" + body + "\n"]
    if how == "indent":
        return [" " + body + "\n"]
    if how == "dedent":
        return [body[1:] + "\n"] if indent else [body + "\n"]
    return [junk + "\n", line]  # "junk": a line of random punctuation before this one


@st.composite
def yaml_syntax_errors(draw: st.DrawFn) -> str:
    """Victim's descriptor with one to three lines broken so that libyaml cannot read it."""
    lines = VICTIM.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(
            st.sampled_from(
                [
                    "open_bracket",
                    "open_brace",
                    "open_quote",
                    "close_bracket",
                    "tab",
                    "indent",
                    "dedent",
                    "junk",
                ]
            )
        )
        junk = draw(
            st.text(alphabet=":{}[]\"'@`%&*!|>-?,#\t abc", min_size=1, max_size=10).filter(
                lambda text: not text.startswith("---")
            )
        )
        lines[at : at + 1] = _break_line(lines[at], how, junk)
    return "".join(lines)


SYNTAX_ERRORS = yaml_syntax_errors().filter(lambda text: yaml_syntax_error_line(text) is not None)


@st.composite
def duplicate_keys(draw: st.DrawFn) -> tuple[str, int]:
    """Victim's descriptor with one line repeated right after itself; return (text, line)."""
    lines = VICTIM.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    key, _, value = lines[at].rstrip("\n").partition(":")
    if value.strip() and draw(st.booleans()):
        value = " " + json.dumps(draw(WORDS))
    lines.insert(at + 1, f"{key}:{value}\n")
    return "".join(lines), at + 2


def alias_bomb(levels: int, fan: int, container: str, indent: str = "") -> str:
    """Return lines `a0: &a0 [lol]`, `a1: &a1 [*a0, *a0, …]`, … expanding to fan**levels."""
    lines = [f'{indent}a0: &a0 ["lol"]']
    for level in range(1, levels):
        if container == "seq":
            items = ", ".join([f"*a{level - 1}"] * fan)
            lines.append(f"{indent}a{level}: &a{level} [{items}]")
        else:
            items = ", ".join(f"k{n}: *a{level - 1}" for n in range(fan))
            lines.append(f"{indent}a{level}: &a{level} {{{items}}}")
    return "\n".join(lines) + "\n"


def merge_key_bomb(levels: int, fan: int) -> str:
    """Return a mapping whose `<<` merge keys nest aliases: each level merges fan copies."""
    node = "&a0 {k: v}"
    for level in range(1, levels):
        node = f"&a{level} {{<<: [{node}" + f", *a{level - 1}" * (fan - 1) + "]}"
    return "top: " + node + "\n"


def nested(depth: int, style: str) -> str:
    """Return `deep:` under victim's spec, holding a value nested depth levels deep."""
    if style == "flow_seq":
        return "  deep: " + "[" * depth + "x" + "]" * depth + "\n"
    if style == "flow_map":
        return "  deep: " + "{a: " * depth + "x" + "}" * depth + "\n"
    if style == "block_seq":
        return "  deep:\n  " + "- " * depth + "x\n"
    # block_map: one space more per level keeps the file small
    return (
        "  deep:\n"
        + "".join(" " * (3 + level) + "a:\n" for level in range(depth - 1))
        + (" " * (3 + depth) + "a: x\n")
    )


EXPLICIT_TAGS = [
    "!!int",
    "!!float",
    "!!bool",
    "!!timestamp",
    "!!null",
    "!!binary",
    "!!set",
    "!!omap",
    "!!pairs",
    "!!seq",
    "!!map",
    "!!python/tuple",
    "!!python/object:os.system",
    "!local",
    "!<tag:example.com,2024:thing>",
]


@st.composite
def extra_docs(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Documents mixing valid components, nulls and at least one non-mapping document."""
    not_mapping = st.one_of(
        st.lists(st.one_of(WORDS, NUMBERS, st.booleans()), max_size=3),
        WORDS,
        NUMBERS,
        st.booleans(),
    )
    names = iter(draw(st.lists(NAMES, min_size=5, max_size=5, unique=True)))
    docs = draw(
        st.lists(
            st.one_of(
                not_mapping.map(lambda value: ("not-a-mapping", value)),
                st.sampled_from(["null\n", "", "~\n", "# only a comment\n"]).map(
                    lambda text: ("null", text)
                ),
                st.just(("valid", None)),
            ),
            min_size=1,
            max_size=5,
        ).filter(lambda docs: any(kind == "not-a-mapping" for kind, _ in docs))
    )
    return [
        (kind, component(f"extra-{next(names)}") if kind == "valid" else value)
        for kind, value in docs
    ]


# --------------------------------------------------------------------------------------------
# YAML syntax errors
# --------------------------------------------------------------------------------------------


@FUZZ
@given(text=SYNTAX_ERRORS)
@example(text=VICTIM.replace("owner: team-a", "owner: [team-a"))
@example(text=VICTIM.replace("  name: victim", "\tname: victim"))
@example(text=VICTIM.replace("  lifecycle", "   lifecycle"))
@example(text=VICTIM + "]\n")
def test_it_reports_a_yaml_syntax_error_with_its_line_and_keeps_every_entity(catalog, text):
    # given
    before = catalog.reset(text)
    line = yaml_syntax_error_line(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any(e["message"].startswith("YAML error") and e.get("line") == line for e in errors), (
        line,
        errors,
    )
    assert_untouched(before)


@FEW
@given(data=st.data())
def test_it_keeps_the_entities_after_a_syntax_error_it_cannot_read_past(catalog, data):
    # given
    first, third = component("first"), component("third")
    refs = {"component:default/first", VICTIM_REF, "component:default/third"}
    broken = data.draw(SYNTAX_ERRORS)
    text = first + "---\n" + broken + "---\n" + third
    before = catalog.reset(text, baseline="---\n".join([first, VICTIM, third]), refs=refs)
    line = yaml_syntax_error_line(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    # libyaml may end document 2 early and fail while looking for document 3
    assert any(e.get("document", 0) >= 2 and e.get("line") == line for e in errors), (line, errors)
    assert_untouched(before)  # first unchanged, victim and third kept although unread


# --------------------------------------------------------------------------------------------
# Alias bombs and size limits
# --------------------------------------------------------------------------------------------


@FEW
@given(
    levels=st.integers(9, 10),
    fan=st.integers(9, 12),
    container=st.sampled_from(["seq", "map"]),
    inside_victim=st.booleans(),
)
def test_it_rejects_an_alias_bomb_quickly_as_too_large_to_expand(
    catalog, levels, fan, container, inside_victim
):
    # given
    if inside_victim:
        text = VICTIM + "  lol:\n" + alias_bomb(levels, fan, container, indent="    ")
    else:
        text = alias_bomb(levels, fan, container)
    before = catalog.reset(text)

    # when
    started = time.monotonic()
    run = catalog.ingest(text)
    elapsed = time.monotonic() - started

    # then
    assert elapsed < 5, f"the bomb took {elapsed:.1f}s"
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any("expand" in e["message"] or "alias" in e["message"] for e in errors), errors
    assert_untouched(before)


def test_it_rejects_a_merge_key_alias_bomb_quickly(catalog):
    # given: 485 bytes whose `<<` merges multiply by 12 per level: 12**7 key/value pairs
    text = merge_key_bomb(levels=8, fan=12)
    before = catalog.reset(text)

    # when
    started = time.monotonic()
    run = catalog.ingest(text)
    elapsed = time.monotonic() - started

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert_untouched(before)
    about_expanding = any("expand" in e["message"] or "alias" in e["message"] for e in errors)
    assert (elapsed < 1, about_expanding) == (True, True), (f"{elapsed:.1f}s", errors)


@FEW
@given(over=st.integers(1, 6000), valid=st.booleans())
@example(over=1, valid=True)
def test_it_refuses_a_file_over_max_file_bytes_and_keeps_its_entities(
    catalog, configure, over, valid
):
    # given: even a valid file is refused once it is over the limit
    limit = 4096
    configure(maxFileBytes=limit)
    head = component("victim", description="changed") if valid else "{{{{ not yaml\n"
    text = head + "#" * (limit + over - len(head) - 1) + "\n"
    assert len(text.encode()) == limit + over
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any(
        f"over the limit of {limit}" in e["message"] and "maxFileBytes" in e["message"]
        for e in errors
    ), errors
    assert_untouched(before)


# --------------------------------------------------------------------------------------------
# Documents that are not entities
# --------------------------------------------------------------------------------------------


@FUZZ
@given(docs=extra_docs())
def test_it_reports_each_document_that_is_not_a_mapping_and_ingests_the_rest(catalog, docs):
    # given
    text, starts, valid = "", [], []
    for kind, value in docs:
        text += "---\n"
        start = text.count("\n") + 1
        if kind == "not-a-mapping":
            text += dump(value)
            starts.append(start)
        elif kind == "null":
            text += value
        else:
            text += value
            valid.append(yaml.safe_load(value))
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert sorted(e.get("line") for e in errors) == starts, (text, errors)
    assert all("must be a mapping" in e["message"] for e in errors), errors
    for doc in valid:
        ingested = Entity.objects.get(ref=f"component:default/{doc['metadata']['name']}")
        assert ingested.body["spec"] == doc["spec"]
        assert ingested.source.target == str(catalog.bad)
    assert_untouched(before)


def test_it_numbers_documents_by_their_position_in_the_file_counting_empty_ones(catalog):
    # given: the third document of the file is the broken one; the first two are empty
    text = "---\n---\n# nothing here\n---\n- not\n- a mapping\n"
    catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert [(e.get("document"), e.get("line")) for e in errors] == [(3, 5)], errors


@FUZZ
@given(case=duplicate_keys())
@example(case=(VICTIM.replace("name: victim", "{name: victim, name: victim}"), 4))
def test_it_rejects_a_duplicate_key_naming_the_line_of_the_second(catalog, case):
    # given
    text, line = case
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any("duplicate key" in e["message"] and e.get("line") == line for e in errors), (
        text,
        errors,
    )
    assert_untouched(before)


@FUZZ
@given(case=wrong_types())
@example(case=wrong_type("spec.owner", {"name": "x"}))
@example(case=wrong_type("metadata.name", ["victim"]))
@example(case=wrong_type("metadata.annotations.note", 42))
@example(case=wrong_type("metadata.tags", "a,b"))
def test_it_names_the_field_of_a_wrong_type_and_keeps_the_last_valid_entity(catalog, case):
    # given
    before = catalog.reset(case.text)
    leaf = [part for part in case.path.split(".") if part][-1].removesuffix("[0]")

    # when
    run = catalog.ingest(case.text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert len(errors) == 1, errors
    (error,) = errors
    assert error["field"] == case.path, (case, error)
    assert case.path in error["message"], error
    assert error["document"] == 1
    lines = case.text.splitlines()
    # the line of the value: the key's own, or the next one for a list item in block style
    near = lines[error["line"] - 2 : error["line"]] if case.path.endswith("]") else []
    assert any(f"{leaf}:" in line for line in [lines[error["line"] - 1], *near]), (
        case.text,
        error,
    )
    assert_untouched(before)
    if case.path not in IDENTITY_PATHS:
        victim = Entity.objects.get(ref=VICTIM_REF)
        assert [item["error"]["field"] for item in victim.errors] == [case.path], victim.errors


@FUZZ
@given(data=st.data())
def test_it_ingests_the_documents_around_an_invalid_one(catalog, data):
    # given
    first, third = data.draw(st.lists(NAMES, min_size=2, max_size=2, unique=True))
    case = data.draw(wrong_types())
    text = "---\n".join([component(f"one-{first}"), case.text, component(f"three-{third}")])
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert [(e["document"], e["field"]) for e in errors] == [(2, case.path)], errors
    for name in (f"one-{first}", f"three-{third}"):
        ingested = Entity.objects.get(ref=f"component:default/{name}")
        assert (ingested.orphan, ingested.errors) == (False, [])
    assert_untouched(before)


# --------------------------------------------------------------------------------------------
# Bytes and characters
# --------------------------------------------------------------------------------------------

BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80", b"\xf8\x88"]


@FUZZ
@given(
    at=st.integers(0, len(VICTIM.encode())),
    bad=st.sampled_from(BAD_UTF8),
)
def test_it_reports_invalid_utf8_with_its_line_and_keeps_the_files_entities(catalog, at, bad):
    # given
    raw = VICTIM.encode()
    content = raw[:at] + bad + raw[at:]
    line = raw.count(b"\n", 0, at) + 1
    before = catalog.reset(content)

    # when
    run = catalog.ingest(content)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any("UTF-8" in e["message"] and f"line {line}" in e["message"] for e in errors), (
        line,
        errors,
    )
    assert_untouched(before)


def test_it_puts_the_line_of_a_bad_utf8_byte_in_the_error_record(catalog):
    # given
    content = VICTIM.encode().replace(b"lifecycle", b"lifecycle\xff")
    catalog.reset(content)

    # when
    run = catalog.ingest(content)

    # then
    assert_finished(run, catalog)
    (error,) = assert_error_names_bad_file(run, catalog)
    assert "line 7" in error["message"]
    assert error.get("line") == 7, error


@FUZZ
@given(raw=st.binary(max_size=600))
@example(raw=b"")
@example(raw=b"\x00")
@example(raw=b"\xef\xbb\xbf")
@example(raw=b"\xfe\xff\x00a")
@example(raw=b"- a\n- b\n")
@example(raw=b"{")
@example(raw=b"~\n---\n42\n")
def test_it_survives_random_bytes(catalog, raw):
    # given
    before = catalog.reset(raw)

    # when
    run = catalog.ingest(raw)

    # then
    assert_finished(run, catalog)
    if is_empty_yaml(raw):  # an emptied file no longer defines victim
        assert catalog.errors_of_bad(run) == []
        assert_untouched(before, except_refs={VICTIM_REF})
        assert not Entity.objects.filter(ref=VICTIM_REF).exists()
    else:
        assert_error_names_bad_file(run, catalog)
        assert_untouched(before)


@FUZZ
@given(text=st.text(max_size=600))
@example(text="\u0085")
@example(text="\u2028a: b")
@example(text="a: b\n\ufeffc: d\n")
@example(text="\x00")
@example(text="\t")
@example(text="'")
@example(text="? ")
@example(text="*a")
@example(text="&a [*a]")
@example(text="!!python/name:os.system")
def test_it_survives_random_text(catalog, text):
    # given
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    if is_empty_yaml(text.encode()):
        assert catalog.errors_of_bad(run) == []
        assert_untouched(before, except_refs={VICTIM_REF})
    else:
        assert_error_names_bad_file(run, catalog)
        assert_untouched(before)


# --------------------------------------------------------------------------------------------
# What the YAML loader itself may choke on
# --------------------------------------------------------------------------------------------


@FUZZ
@given(
    tag=st.sampled_from(EXPLICIT_TAGS),
    value=st.text(alphabet=string.ascii_letters + string.digits + " -_.:=+", max_size=12),
)
@example(tag="!!int", value="abc")
@example(tag="!!float", value="abc")
@example(tag="!!bool", value="maybe")
@example(tag="!!timestamp", value="abc")
@example(tag="!!timestamp", value="2001-13-45")
def test_it_reports_an_explicitly_tagged_value_it_cannot_use_on_its_line(catalog, tag, value):
    # given: victim's owner written as `owner: !!int "abc"`; no tag makes it a valid owner
    text = VICTIM.replace("owner: team-a", f"owner: {tag} {json.dumps(value)}")
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert [(e.get("document"), e.get("line")) for e in errors] == [(1, VICTIM_OWNER_LINE)], (
        text,
        errors,
    )
    assert_untouched(before)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("9" * 5000, id="int-over-python-digit-limit"),
        pytest.param("!!int 12abc", id="tagged-int"),
        pytest.param("!!bool maybe", id="tagged-bool"),
        pytest.param("!!timestamp 2001-13-45", id="tagged-timestamp"),
        pytest.param("{a: " * 1200 + "x" + "}" * 1200, id="flow-mappings-1200-deep"),
    ],
)
def test_it_reports_a_value_the_yaml_loader_cannot_build_as_an_error_of_its_file(catalog, value):
    # given
    text = VICTIM.replace("owner: team-a", f"owner: {value}")
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert [(e.get("document"), e.get("line")) for e in errors] == [(1, VICTIM_OWNER_LINE)], errors
    assert_untouched(before)


@FEW
@given(
    depth=st.integers(65, 2000),
    style=st.sampled_from(["flow_seq", "flow_map", "block_seq", "block_map"]),
)
@example(depth=65, style="flow_map")
@example(depth=1000, style="block_map")
def test_it_rejects_a_document_nested_too_deep(catalog, depth, style):
    # given
    text = VICTIM + nested(depth if style != "block_map" else min(depth, 1000), style)
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any("nests deeper" in e["message"] for e in errors), errors
    assert all(e.get("field", "").startswith("spec.deep") for e in errors), errors
    assert_untouched(before)


def refresh_in_a_worker_process(location: Location) -> subprocess.CompletedProcess[str]:
    """Refresh a location the way a worker does, in its own process, so that a crash of the
    YAML parser (a segfault) fails this test instead of killing the test run."""
    code = (
        "import django; django.setup()\n"
        "from catalog import ingest\n"
        "from catalog.models import Location\n"
        f"ingest.refresh_location(Location.objects.get(pk={str(location.pk)!r}))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": subprocess_database_url(),
        "DB_CONN_MAX_AGE": "0",
        "GREENROOM_CONFIG": str(django_settings.GREENROOM_CONFIG),
        "GREENROOM_TASKS_INLINE": "true",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("depth", [100_000])
def test_it_survives_nesting_deep_enough_to_overflow_the_parser_stack(catalog, depth):
    # given: 200 kB of brackets, well under maxFileBytes
    before = catalog.reset()
    catalog.bad.write_text(VICTIM + nested(depth, "flow_seq"), encoding="utf-8")

    # when
    worker = refresh_in_a_worker_process(catalog.location)

    # then
    assert worker.returncode == 0, f"the worker died ({worker.returncode}): {worker.stderr[-2000:]}"
    run = catalog.location.latest_run()
    assert_finished(run, catalog)
    errors = assert_error_names_bad_file(run, catalog)
    assert any("nests deeper" in e["message"] for e in errors), errors
    assert_untouched(before)


# --------------------------------------------------------------------------------------------
# Valid but awkward: dangling references, cycles, extreme values
# --------------------------------------------------------------------------------------------


@FEW
@given(
    missing=st.from_regex(r"ghost-[a-z0-9]{1,12}", fullmatch=True),
    field_=st.sampled_from(["owner", "system", "dependsOn"]),
)
def test_it_warns_about_a_reference_to_a_missing_entity_and_ingests_the_entity(
    catalog, missing, field_
):
    # given: lonely is not in the catalog yet
    before = catalog.reset(fresh=True)
    if field_ == "owner":
        lonely, target = component("lonely", owner=missing), f"group:default/{missing}"
    elif field_ == "system":
        lonely, target = component("lonely", system=missing), f"system:default/{missing}"
    else:
        lonely = component("lonely", dependsOn=[f"resource:{missing}"])
        target = f"resource:default/{missing}"

    # when
    run = catalog.ingest(VICTIM + "---\n" + lonely)

    # then
    assert_finished(run, catalog)
    assert run.error_count == 0, run.errors
    warnings = [e for e in run.errors if e["level"] == "warning"]
    assert any(target in w["message"] for w in warnings), warnings
    assert Entity.objects.get(ref="component:default/lonely").errors == []
    assert_untouched(before)


def location_doc(name: str, *targets: str) -> str:
    return dump(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Location",
            "metadata": {"name": name},
            "spec": {"targets": list(targets)},
        }
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("targets", "children"),
    [
        pytest.param(["./bad.yaml"], {}, id="points-at-itself"),
        pytest.param(
            ["./nested/ping.yaml"],
            {"ping": ["./pong.yaml"], "pong": ["./ping.yaml"]},
            id="two-files-point-at-each-other",
        ),
        pytest.param(
            ["./nested/ping.yaml"], {"ping": ["../bad.yaml"]}, id="child-points-back-at-parent"
        ),
    ],
)
def test_it_warns_about_a_location_cycle_and_reads_each_file_once(
    catalog, write_file, targets, children
):
    # given
    before = catalog.reset()
    for name, child_targets in children.items():
        write_file(
            f"nested/{name}.yaml",
            location_doc(f"loop-{name}", *child_targets) + "---\n" + component(f"in-{name}"),
        )

    # when
    run = catalog.ingest(VICTIM + "---\n" + location_doc("loop", *targets))

    # then
    assert_finished(run, catalog)
    assert run.error_count == 0, run.errors
    warnings = [e for e in run.errors if e["level"] == "warning"]
    assert any("already read in this run" in w["message"] for w in warnings), warnings
    for name in children:
        assert Entity.objects.filter(ref=f"component:default/in-{name}").exists()
    assert_untouched(before)


EXTREME_STRINGS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),
    st.just("\x00"),
)


@FUZZ
@given(
    description=EXTREME_STRINGS,
    owner=st.one_of(
        NAMES,
        st.text(alphabet=string.ascii_lowercase, min_size=200, max_size=400),
        st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and not set(s) & set(":/")),
    ),
    extra_key=st.text(min_size=1, max_size=20).filter(
        lambda key: key not in ("type", "lifecycle", "owner")
    ),
)
@example(description="nul \x00 inside", owner="team-a", extra_key="k")
@example(description="", owner="g" * 300, extra_key="k")
def test_it_stores_or_rejects_extreme_but_well_formed_values_without_failing_the_batch(
    catalog, description, owner, extra_key
):
    # given: a well-formed component with odd strings next to victim
    odd = yaml.safe_load(component("odd"))
    odd["metadata"]["description"] = description
    odd["spec"]["owner"] = owner
    odd["spec"][extra_key] = description
    text = VICTIM + "---\n" + yaml.safe_dump(odd, sort_keys=False)
    before = catalog.reset(text)

    # when
    run = catalog.ingest(text)

    # then
    assert_finished(run, catalog)
    errors = catalog.errors_of_bad(run)
    if errors:  # refused with an error naming the document and field
        assert all(e.get("document") == 2 and e.get("field") for e in errors), errors
    else:  # or ingested exactly as written
        stored = Entity.objects.get(ref="component:default/odd")
        assert stored.errors == []
        assert stored.body["metadata"]["description"] == description
        assert stored.body["spec"]["owner"] == owner
        assert stored.body["spec"][extra_key] == description
    assert_untouched(before)
