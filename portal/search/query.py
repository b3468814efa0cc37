"""The search index's read API: one query function answering in Backstage's result shape.

    search("checkout serv", types=["software-catalog"], filters={"kind": "component"})
    -> {"results": [{"type", "document": {...}, "highlight": {...}, "rank"}],
        "nextPageCursor", "previousPageCursor", "numberOfResults"}

PostgreSQL answers with its full-text search (the generated `search_vector`, GIN index,
`ts_rank` with title weighted above text, `ts_headline` snippets); SQLite with FTS5 (bm25
with the same weighting, `snippet`/`highlight`). Both match every word of the term, each as
a prefix ("serv" finds "service"), and both take the term apart into plain words first, so
no query syntax from the person ever reaches either engine (`"`, `*`, `:`, `&|!()`, NEAR…
are separators, not operators), and the words are parameters, never SQL.

Highlights are HTML: the text is escaped and only our own marks are markup. The engines
wrap matches in sentinels made of a random per-process token (a document cannot contain
them by chance or on purpose), the result is escaped, then the sentinels become
<mark>…</mark>.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from portal.models import SearchEntry

PRE_TAG = "<mark>"
POST_TAG = "</mark>"
DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 100
MAX_OFFSET = 10_000
MAX_TERM_LENGTH = 200
MAX_WORDS = 8
DOCUMENT_TEXT_LIMIT = 1000  # what a result carries of a long page's text
FILTER_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")
COLUMN_FILTERS = ("kind", "lifecycle", "owner", "namespace")
_WORD = re.compile(r"[^\W_]+")

_token = uuid.uuid4().hex
_START = f"gr{_token}s"
_STOP = f"gr{_token}e"


class InvalidQuery(ValueError):
    """A query the caller got wrong (a cursor we did not make, a bad filter key)."""


@dataclass(frozen=True)
class _Hit:
    id: int
    type: str
    title: str
    text: str
    location: str
    fields: dict[str, Any]
    title_marked: str
    text_marked: str


def words(term: str) -> list[str]:
    """Return the words of a search term: letters and digits only, at most MAX_WORDS."""
    return _WORD.findall(term[:MAX_TERM_LENGTH])[:MAX_WORDS]


def encode_cursor(page: int) -> str:
    """Return Backstage's page cursor: the page number, base64-encoded."""
    return base64.b64encode(str(page).encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    """Return the page number of a cursor (0 for none); InvalidQuery if it is not ours."""
    if not cursor:
        return 0
    try:
        page = int(base64.b64decode(cursor.encode(), validate=True).decode())
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidQuery("pageCursor is not a cursor this API returned") from exc
    if page < 0:
        raise InvalidQuery("pageCursor is not a cursor this API returned")
    return page


def mark(marked: str) -> str:
    """Return engine output with sentinels as HTML: escaped text, <mark> around matches."""
    return html.escape(marked).replace(_START, PRE_TAG).replace(_STOP, POST_TAG)


def normalize_owner(value: str) -> str:
    """Return an owner filter as the full lower-cased ref the index stores."""
    value = value.strip().lower()
    if ":" not in value:
        value = f"group:{value}"
    kind, rest = value.split(":", 1)
    if "/" not in rest:
        rest = f"default/{rest}"
    return f"{kind}:{rest}"


def _filter_sql(
    types: Sequence[str], filters: Mapping[str, str | Sequence[str]]
) -> tuple[list[str], list[Any]]:
    """Return WHERE conditions (on alias e) and their parameters for types and filters."""
    conditions: list[str] = []
    params: list[Any] = []
    wanted_types = [t for t in dict.fromkeys(types) if t]
    if wanted_types:
        conditions.append(f"e.type IN ({', '.join(['%s'] * len(wanted_types))})")
        params.extend(wanted_types)
    for key, raw in filters.items():
        values = [raw] if isinstance(raw, str) else list(raw)
        values = [str(v) for v in values if v is not None and str(v) != ""]
        if not values:
            continue
        if not FILTER_KEY.match(key):
            raise InvalidQuery(f"filters[{key}] is not a field name")
        if key in COLUMN_FILTERS:
            values = [normalize_owner(v) if key == "owner" else v.lower() for v in values]
            expression = f"e.{key}"
        elif connection.vendor == "postgresql":
            expression = "(e.fields ->> %s)"
            params.append(key)
        else:
            expression = "json_extract(e.fields, %s)"
            params.append(f'$."{key}"')
        conditions.append(f"{expression} IN ({', '.join(['%s'] * len(values))})")
        params.extend(values)
    return conditions, params


def search(
    term: str = "",
    *,
    types: Sequence[str] = (),
    filters: Mapping[str, str | Sequence[str]] | None = None,
    page_cursor: str | None = None,
    page_limit: int = DEFAULT_PAGE_LIMIT,
) -> dict[str, Any]:
    """Return one page of results for a term, in Backstage's search API shape.

    Every word of the term must match (as a word prefix) the title or text; `types`
    narrows to document types, `filters` to field values (a list means any of them).
    Results are ordered by relevance (title matches first), then title. An empty term lists
    the documents the types and filters select, by title. `rank` is the 1-based position
    in the whole result list, as Backstage's PostgreSQL engine numbers it.
    """
    page = decode_cursor(page_cursor)
    page_limit = max(1, min(int(page_limit or DEFAULT_PAGE_LIMIT), MAX_PAGE_LIMIT))
    offset = page * page_limit
    if offset > MAX_OFFSET:
        raise InvalidQuery(f"results past the first {MAX_OFFSET} are not served")
    conditions, params = _filter_sql(types, filters or {})
    found = words(term)
    if found:
        run = _postgresql if connection.vendor == "postgresql" else _sqlite
        hits, total = run(found, conditions, params, page_limit, offset)
    elif term.strip():
        hits, total = [], 0  # only separators and symbols: nothing can match
    else:
        hits, total = _listing(conditions, params, page_limit, offset)
    results = [
        {
            "type": hit.type,
            "document": {
                **hit.fields,
                "title": hit.title,
                "text": hit.text[:DOCUMENT_TEXT_LIMIT],
                "location": hit.location,
            },
            "highlight": {
                "preTag": PRE_TAG,
                "postTag": POST_TAG,
                "fields": {"title": mark(hit.title_marked), "text": mark(hit.text_marked)},
            },
            "rank": offset + position + 1,
        }
        for position, hit in enumerate(hits)
    ]
    return {
        "results": results,
        "nextPageCursor": encode_cursor(page + 1) if offset + len(hits) < total else None,
        "previousPageCursor": encode_cursor(page - 1) if page > 0 else None,
        "numberOfResults": total,
    }


def _where(conditions: list[str]) -> str:
    return "".join(f" AND {condition}" for condition in conditions)


def _postgresql(
    found: list[str], conditions: list[str], params: list[Any], limit: int, offset: int
) -> tuple[list[_Hit], int]:
    # Each word quoted as a lexeme with a prefix mark; words are letters and digits only,
    # so the string is always valid tsquery syntax. Stop words drop out of the query.
    tsquery = " & ".join(f"'{word}':*" for word in found)
    table = SearchEntry._meta.db_table
    with connection.cursor() as cursor:
        # Rank every match (the GIN index finds them), keep the page; count in the same pass.
        cursor.execute(
            f"SELECT e.id, count(*) OVER () FROM {table} e, "
            "to_tsquery('english', %s) query "
            f"WHERE e.search_vector @@ query{_where(conditions)} "
            "ORDER BY ts_rank(e.search_vector, query) DESC, e.title, e.id LIMIT %s OFFSET %s",
            [tsquery, *params, limit, offset],
        )
        rows = cursor.fetchall()
        if not rows:
            return [], _count_past_end(cursor, tsquery, conditions, params) if offset else 0
        total = rows[0][1]
        ids = [row[0] for row in rows]
        options = f"StartSel={_START}, StopSel={_STOP}"
        # Headlines re-parse the text: only for the page's rows.
        cursor.execute(
            "SELECT e.id, e.type, e.title, e.text, e.location, e.fields, "
            "ts_headline('english', e.title, query, %s), "
            "ts_headline('english', e.text, query, %s) "
            f"FROM {table} e, to_tsquery('english', %s) query WHERE e.id = ANY(%s)",
            [
                f"{options}, HighlightAll=true",
                f"{options}, MaxWords=35, MinWords=15, ShortWord=3",
                tsquery,
                ids,
            ],
        )
        by_id = {row[0]: row for row in cursor.fetchall()}
    return [_hit(by_id[i]) for i in ids if i in by_id], total


def _count_past_end(cursor: Any, tsquery: str, conditions: list[str], params: list[Any]) -> int:
    table = SearchEntry._meta.db_table
    cursor.execute(
        f"SELECT count(*) FROM {table} e, to_tsquery('english', %s) query "
        f"WHERE e.search_vector @@ query{_where(conditions)}",
        [tsquery, *params],
    )
    return cursor.fetchone()[0]


def _sqlite(
    found: list[str], conditions: list[str], params: list[Any], limit: int, offset: int
) -> tuple[list[_Hit], int]:
    # Each word a quoted FTS5 string with a prefix star: `"serv"* "check"*` (all must match).
    match = " ".join('"' + word.replace('"', '""') + '"*' for word in found)
    table = SearchEntry._meta.db_table
    fts = f"{table}_fts"
    with connection.cursor() as cursor:
        # bm25 (title weighted 10, text 1; lower is better) cannot sit beside a window
        # function: score in a sub-select, count and order outside.
        cursor.execute(
            "SELECT id, count(*) OVER () FROM ("
            f"SELECT e.id AS id, e.title AS title, bm25({fts}, 10.0, 1.0) AS score "
            f"FROM {fts} JOIN {table} e ON e.id = {fts}.rowid "
            f"WHERE {fts} MATCH %s{_where(conditions)}) "
            "ORDER BY score, title, id LIMIT %s OFFSET %s",
            [match, *params, limit, offset],
        )
        rows = cursor.fetchall()
        if not rows:
            if not offset:
                return [], 0
            cursor.execute(
                f"SELECT count(*) FROM {fts} JOIN {table} e ON e.id = {fts}.rowid "
                f"WHERE {fts} MATCH %s{_where(conditions)}",
                [match, *params],
            )
            return [], cursor.fetchone()[0]
        total = rows[0][1]
        ids = [row[0] for row in rows]
        cursor.execute(
            f"SELECT e.id, e.type, e.title, e.text, e.location, e.fields, "
            f"highlight({fts}, 0, %s, %s), snippet({fts}, 1, %s, %s, '…', 30) "
            f"FROM {fts} JOIN {table} e ON e.id = {fts}.rowid "
            f"WHERE {fts} MATCH %s AND {fts}.rowid IN ({', '.join(['%s'] * len(ids))})",
            [_START, _STOP, _START, _STOP, match, *ids],
        )
        by_id = {row[0]: row for row in cursor.fetchall()}
    return [_hit(by_id[i]) for i in ids if i in by_id], total


def _listing(
    conditions: list[str], params: list[Any], limit: int, offset: int
) -> tuple[list[_Hit], int]:
    table = SearchEntry._meta.db_table
    where = " AND ".join(conditions) or "1=1"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.type, e.title, e.text, e.location, e.fields, e.title, "
            f"substr(e.text, 1, 300) FROM {table} e WHERE {where} "
            "ORDER BY e.title, e.id LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = cursor.fetchall()
        cursor.execute(f"SELECT count(*) FROM {table} e WHERE {where}", params)
        total = cursor.fetchone()[0]
    return [_hit(row) for row in rows], total


def _hit(row: Sequence[Any]) -> _Hit:
    fields = row[5]
    if isinstance(fields, str):  # SQLite returns JSON as text
        fields = json.loads(fields)
    return _Hit(
        id=row[0],
        type=row[1],
        title=row[2],
        text=row[3],
        location=row[4],
        fields=fields or {},
        title_marked=row[6] or "",
        text_marked=row[7] or "",
    )
