"""The index and its query, on whichever database the suite runs (SQLite FTS5 or PostgreSQL)."""

from __future__ import annotations

import pytest

from portal.models import SearchEntry
from portal.search import index, query
from portal.search.index import IndexDocument

pytestmark = pytest.mark.django_db


def doc(key: str, title: str, text: str = "", **fields: str) -> IndexDocument:
    return IndexDocument(key=key, title=title, text=text, location=f"/x/{key}", fields=fields)


def titles(answer: dict) -> list[str]:
    return [result["document"]["title"] for result in answer["results"]]


def test_it_finds_documents_by_title_and_text():
    # given
    index.upsert_documents(
        "software-catalog",
        [doc("a", "checkout", "Takes the money"), doc("b", "billing", "Sends invoices")],
    )

    # when
    by_title = query.search("checkout")
    by_text = query.search("invoices")

    # then
    assert titles(by_title) == ["checkout"]
    assert titles(by_text) == ["billing"]


def test_it_ranks_a_title_match_above_a_text_match():
    # given
    index.upsert_documents(
        "software-catalog",
        [
            doc("a", "alpha", "payments payments payments are handled here"),
            doc("b", "payments", "the service"),
        ],
    )

    # when
    answer = query.search("payments")

    # then
    assert titles(answer) == ["payments", "alpha"]
    assert [r["rank"] for r in answer["results"]] == [1, 2]


def test_it_matches_word_prefixes():
    # given
    index.upsert_documents(
        "software-catalog", [doc("a", "order-service"), doc("b", "billing", "recorder")]
    )

    # when
    answer = query.search("ord")

    # then
    assert titles(answer) == ["order-service"]
    assert titles(query.search("order serv")) == ["order-service"]


def test_it_needs_every_word():
    # given
    index.upsert_documents(
        "software-catalog", [doc("a", "cart", "shopping cart"), doc("b", "checkout", "cart")]
    )

    # then
    assert titles(query.search("cart shopping")) == ["cart"]


def test_it_highlights_matches_and_escapes_everything_else():
    # given
    index.upsert_documents(
        "software-catalog",
        [doc("a", "probe <script>alert(1)</script>", 'probe text <img src=x onerror="x()">')],
    )

    # when
    result = query.search("probe")["results"][0]

    # then
    highlight = result["highlight"]
    assert highlight["preTag"] == "<mark>" and highlight["postTag"] == "</mark>"
    assert highlight["fields"]["title"] == (
        "<mark>probe</mark> &lt;script&gt;alert(1)&lt;/script&gt;"
    )
    # (SQLite's snippet keeps the tag, escaped; PostgreSQL's ts_headline drops tags)
    unmarked = highlight["fields"]["text"].replace("<mark>", "").replace("</mark>", "")
    assert "<" not in unmarked and ">" not in unmarked
    assert highlight["fields"]["text"].startswith("<mark>probe</mark>")
    # the document itself is served as it was indexed (JSON, not markup)
    assert result["document"]["title"] == "probe <script>alert(1)</script>"


def test_it_filters_by_type_and_fields():
    # given
    index.upsert_documents(
        "software-catalog",
        [
            doc("component:default/a", "shop a", kind="Component", lifecycle="production"),
            doc("api:default/b", "shop b", kind="API", owner="group:default/team-a"),
        ],
    )
    index.upsert_documents("template", [doc("template:default/c", "shop c", kind="Template")])
    index.upsert_documents("dummy-note", [doc("n1", "shop note", entity="component:x")])

    # then
    assert titles(query.search("shop", types=["template"])) == ["shop c"]
    assert titles(query.search("shop", types=["template", "dummy-note"])) == ["shop c", "shop note"]
    assert titles(query.search("shop", filters={"kind": "component"})) == ["shop a"]
    assert titles(query.search("shop", filters={"kind": ["api", "template"]})) == [
        "shop b",
        "shop c",
    ]
    assert titles(query.search("shop", filters={"lifecycle": "Production"})) == ["shop a"]
    assert titles(query.search("shop", filters={"owner": "team-a"})) == ["shop b"]
    assert titles(query.search("shop", filters={"entity": "component:x"})) == ["shop note"]


def test_it_lists_by_title_without_a_term():
    # given
    index.upsert_documents("template", [doc("b", "beta"), doc("a", "alpha")])

    # when
    answer = query.search("", types=["template"])

    # then
    assert titles(answer) == ["alpha", "beta"]
    assert answer["numberOfResults"] == 2


def test_it_pages_with_cursors():
    # given
    index.upsert_documents(
        "software-catalog", [doc(f"k{i:02d}", f"widget {i:02d}") for i in range(7)]
    )

    # when
    first = query.search("widget", page_limit=3)
    second = query.search("widget", page_limit=3, page_cursor=first["nextPageCursor"])
    third = query.search("widget", page_limit=3, page_cursor=second["nextPageCursor"])
    back = query.search("widget", page_limit=3, page_cursor=second["previousPageCursor"])

    # then
    assert first["numberOfResults"] == 7
    assert first["previousPageCursor"] is None
    assert titles(first) + titles(second) + titles(third) == [f"widget {i:02d}" for i in range(7)]
    assert [r["rank"] for r in third["results"]] == [7]
    assert third["nextPageCursor"] is None
    assert titles(back) == titles(first)


def test_it_refuses_a_cursor_it_did_not_make():
    with pytest.raises(query.InvalidQuery):
        query.search("x", page_cursor="not-base64!")
    with pytest.raises(query.InvalidQuery):
        query.search("x", page_cursor="LTE=")  # "-1"


HOSTILE = [
    '"',
    '""',
    "*",
    "**",
    ":",
    "a:b",
    "&|!()",
    "foo & bar | !baz",
    "(((",
    "'",
    "o'reilly",
    "NEAR(a b)",
    "a AND OR NOT b",
    "title:foo",
    "^foo",
    "-foo",
    "foo-",
    "\\",
    "%_",
    "; DROP TABLE portal_searchentry; --",
    "x" * 5000,
    " ".join(["word"] * 500),
    "日本語 検索",
    "café crème",
    "emoji 🚀 launch",
    "\u200b\u200b",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("term", HOSTILE)
def test_no_term_makes_it_fail(term):
    # given
    index.upsert_documents(
        "software-catalog",
        [doc("a", "o'reilly café", "日本語 検索 launch 🚀 word foo bar"), doc("b", "title")],
    )

    # when
    answer = query.search(term)

    # then
    assert answer["numberOfResults"] == len(answer["results"])


def test_it_finds_unicode_words():
    # given
    index.upsert_documents("software-catalog", [doc("a", "Café Zürich", "naïve résumé")])

    # then
    assert titles(query.search("café")) == ["Café Zürich"]
    assert titles(query.search("zür")) == ["Café Zürich"]


def test_it_skips_unchanged_documents_and_replaces_a_type():
    # given
    first = index.upsert_documents("dummy-note", [doc("a", "one"), doc("b", "two")])
    stamp = SearchEntry.objects.get(key="a").updated_at

    # when
    again = index.upsert_documents("dummy-note", [doc("a", "one"), doc("b", "two!")])
    restamped = SearchEntry.objects.get(key="a").updated_at
    replaced = index.replace_type("dummy-note", [doc("b", "two!"), doc("c", "three")])

    # then
    assert (first.written, again.written, again.unchanged) == (2, 1, 1)
    assert restamped == stamp
    assert (replaced.written, replaced.unchanged, replaced.deleted) == (1, 1, 1)
    assert titles(query.search("", types=["dummy-note"])) == ["three", "two!"]
    assert titles(query.search("one")) == []
    assert index.counts() == {"dummy-note": 2}


def test_updates_and_deletes_reach_the_full_text_index():
    # given
    index.upsert_documents("software-catalog", [doc("a", "oldname", "old words")])

    # when
    index.upsert_documents("software-catalog", [doc("a", "newname", "fresh words")])

    # then
    assert titles(query.search("oldname")) == []
    assert titles(query.search("fresh")) == ["newname"]

    # when
    index.delete_documents("software-catalog", ["a"])

    # then
    assert titles(query.search("fresh")) == []
    assert query.search("words")["numberOfResults"] == 0


def test_it_keeps_text_bounded_and_drops_nul_characters():
    # given
    index.upsert_documents("techdocs", [doc("p", "big\x00page", "y " * 100_000)])

    # then
    entry = SearchEntry.objects.get(key="p")
    assert entry.title == "bigpage"
    assert len(entry.text) == index.MAX_TEXT
    assert query.search("bigpage")["results"][0]["document"]["text"] == ("y " * 500)
