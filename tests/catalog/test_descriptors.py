"""YAML parsing: Backstage's YAML 1.2 reading, limits, and errors with line numbers."""

from __future__ import annotations

import pytest

from catalog.descriptors import DescriptorError, decode, parse_documents


def parse(text: str, max_documents: int = 100):
    return parse_documents(text, max_documents)


def test_it_reads_scalars_as_yaml_1_2_like_backstage():
    text = "a: yes\nb: on\nc: 2024-01-01\nd: true\ne: 010\nf: 1.5\ng: 1:30\nh: 0x1f\ni: 1_000\n"
    (doc,) = parse(text)
    assert doc.data == {
        "a": "yes",
        "b": "on",
        "c": "2024-01-01",
        "d": True,
        "e": 10,
        "f": 1.5,
        "g": "1:30",
        "h": 31,
        "i": "1_000",
    }


def test_it_rejects_duplicate_keys_with_their_line():
    (doc,) = parse("metadata:\n  name: a\n  name: b\n")
    assert doc.error is not None
    assert "duplicate key 'name'" in doc.error.message
    assert doc.error.line == 3


def test_a_duplicate_key_does_not_stop_the_next_documents():
    docs = parse("a: 1\na: 2\n---\nb: 1\n")
    assert docs[0].error is not None and docs[1].data == {"b": 1}


def test_it_stops_an_alias_bomb_before_it_expands():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    (doc,) = parse("\n".join(lines) + "\n")
    assert doc.error is not None
    assert "alias bomb" in doc.error.message


def test_it_stops_self_referencing_documents():
    (doc,) = parse("a: &x [*x]\n")
    assert doc.error is not None and "refers to itself" in doc.error.message


def test_a_syntax_error_keeps_the_documents_before_it_and_names_the_line():
    docs = parse("a: 1\n---\nb: [unclosed\nc: 2\n---\nd: 1\n")
    assert docs[0].data == {"a": 1}
    assert docs[1].error is not None and docs[1].index == 2
    assert docs[1].error.line == 4
    assert len(docs) == 2


def test_it_refuses_values_json_cannot_hold():
    (doc,) = parse("a: !!binary aGVsbG8=\n")
    assert doc.error is not None and "bytes" in doc.error.message
    (doc,) = parse("a: .nan\n")
    assert doc.error is not None and "JSON" in doc.error.message


def test_it_limits_documents_per_file():
    docs = parse("a: 1\n---\na: 2\n---\na: 3\n", max_documents=2)
    assert [d.data for d in docs[:2]] == [{"a": 1}, {"a": 2}]
    assert "more than 2 documents" in docs[2].error.message


def test_it_refuses_complex_keys():
    (doc,) = parse("? [a, b]\n: 1\n")
    assert doc.error is not None and "plain strings" in doc.error.message


def test_it_locates_fields_by_path():
    (doc,) = parse("metadata:\n  name: a\n  tags:\n    - x\n    - y\nspec: {}\n")
    assert doc.line_of("metadata.tags[1]") == 5
    assert doc.line_of("spec") == 6
    assert doc.line_of("spec.owner") == 6  # missing fields point at their parent's key


def test_bad_utf8_names_its_line():
    with pytest.raises(DescriptorError, match="not valid UTF-8 \\(bad byte at line 2\\)"):
        decode(b"a: 1\nb: \xff\xfe\n")
    assert decode("\ufeffa: 1".encode()) == "a: 1"
