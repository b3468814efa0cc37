"""Search benchmark: query latency over 100,000 entities and 20,000 docs pages; not a test.

    .venv/bin/python bench/search.py                       # build the index, then measure
    .venv/bin/python bench/search.py --skip-build          # measure the index already there
    .venv/bin/python bench/search.py --entities 10000 --pages 2000 --queries 300

The requirement it checks: a search answers in under 50 ms (p95) on PostgreSQL with 100,000
entities and 20,000 docs pages in the index.

It uses its own PostgreSQL database, `greenroom_bench_search` on 127.0.0.1 (created when
missing, migrated; nothing else is dropped or touched), and with a build:

1. empties the search index there, then indexes --entities synthetic entities through the
   catalog's own entity → document code (`catalog.search_documents.entity_document`) and
   --pages docs pages (300-1,500 words each), all through `portal.search.index`'s
   `upsert_documents`, in batches of 1,000, and prints the throughput (documents/s) of each;
   templates (1% of entities) go in as type "template";
2. runs VACUUM ANALYZE, as autovacuum would soon after.

Then it times `portal.search.query.search()` (the service function every view calls; its
two SQL statements and the Python around them, no HTTP) for --queries terms of each kind:
a common word, a rare word, a 3-4 letter prefix, two words, a word filtered by type
(software-catalog or techdocs), a word filtered by kind=component, and a page 3 request;
after --warmup unmeasured ones. It prints p50/p95/p99 per kind and for the whole mix, and
the same for GET /api/search/query through Django's test client (the API view: parsing,
DRF, JSON rendering) over the mix. Text comes from a Zipf-distributed vocabulary, so common
words match a large share of the documents, as "service" does in a real catalog.
Results are written to bench/out/search-<entities>-<pages>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DATABASE = "greenroom_bench_search"
TARGET_MS = 50.0

SYLLABLES = [
    "ka", "lo", "ri", "te", "ma", "zu", "ne", "po", "sa", "vi", "do", "ge", "hu", "ji",
    "be", "ra", "mi", "to", "fe", "ly", "qua", "st", "or", "an", "el", "in",
]  # fmt: skip
DOMAIN_WORDS = [
    "service", "payments", "orders", "checkout", "billing", "inventory", "search", "auth",
    "gateway", "events", "catalog", "shipping", "pricing", "users", "accounts", "ledger",
    "reports", "notifications", "storage", "analytics", "frontend", "backend", "worker",
    "queue", "cache", "database", "kafka", "postgres", "python", "java", "golang", "react",
    "deploy", "runbook", "incident", "alerting", "metrics", "latency", "migration", "schema",
]  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200, help="timed queries per kind")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--api-queries", type=int, default=300)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args()


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Return made-up words (plus real domain words first, the most frequent)."""
    words = list(DOMAIN_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class Zipf:
    """Draw words with Zipf-like frequencies (rank r has weight 1/r)."""

    def __init__(self, words: list[str], rng: random.Random) -> None:
        self.words = words
        self.rng = rng
        self.weights = [1.0 / (rank + 1) for rank in range(len(words))]

    def sample(self, n: int) -> list[str]:
        return self.rng.choices(self.words, weights=self.weights, k=n)


def ensure_database() -> None:
    import psycopg2

    db = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    db.autocommit = True
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        db.close()


def setup_django() -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("GREENROOM_DATA_DIR", str(OUT / "data-search"))
    os.environ["CELERY_BROKER_URL"] = ""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def entity_body(i: int, rng: random.Random, zipf: Zipf) -> tuple[str, str, str, dict[str, Any]]:
    kind = "template" if i % 100 == 0 else rng.choice(["component"] * 6 + ["api", "resource"])
    name = "-".join(zipf.sample(2)) + f"-{i}"
    body: dict[str, Any] = {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind.title() if kind != "api" else "API",
        "metadata": {
            "name": name,
            "description": " ".join(zipf.sample(rng.randint(5, 25))).capitalize() + ".",
            "tags": zipf.sample(rng.randint(0, 4)),
        },
        "spec": {
            "type": rng.choice(["service", "website", "library", "openapi", "database"]),
            "lifecycle": rng.choice(["production", "experimental", "deprecated"]),
            "owner": f"team-{rng.randrange(1000)}",
        },
    }
    if rng.random() < 0.3:
        body["metadata"]["title"] = " ".join(zipf.sample(3)).title()
    return f"{kind}:default/{name}", kind, "default", body


def build(args: argparse.Namespace, rng: random.Random, zipf: Zipf) -> dict[str, Any]:
    from django.db import connection

    from catalog.search_documents import document_type, entity_document
    from portal.models import SearchEntry
    from portal.search.index import IndexDocument, upsert_documents

    SearchEntry.objects.all().delete()
    figures: dict[str, Any] = {}

    started = time.perf_counter()
    batches: dict[str, list[IndexDocument]] = {"software-catalog": [], "template": []}
    for i in range(args.entities):
        ref, kind, namespace, body = entity_body(i, rng, zipf)
        document = entity_document(ref, kind, namespace, body)
        batch = batches[document_type(kind)]
        batch.append(document)
        if len(batch) >= 1000:
            upsert_documents(document_type(kind), batch)
            batch.clear()
    for type_, batch in batches.items():
        upsert_documents(type_, batch)
    seconds = time.perf_counter() - started
    rate = round(args.entities / seconds)
    figures["entities"] = {"seconds": round(seconds, 1), "docs_per_s": rate}
    print(f"indexed {args.entities} entities in {seconds:.1f} s ({args.entities / seconds:.0f}/s)")

    started = time.perf_counter()
    pages: list[IndexDocument] = []
    for i in range(args.pages):
        site = f"default/component/site-{i // 20}"
        words = zipf.sample(rng.randint(300, 1500))
        text = " ".join(
            " ".join(words[start : start + 12]).capitalize() + "."
            for start in range(0, len(words), 12)
        )
        pages.append(
            IndexDocument(
                key=f"{site}/page-{i % 20}/",
                title=" ".join(zipf.sample(rng.randint(2, 5))).title(),
                text=text,
                location=f"/docs/{site}/page-{i % 20}/",
                fields={"kind": "component", "namespace": "default", "name": f"site-{i // 20}"},
            )
        )
        if len(pages) >= 1000:
            upsert_documents("techdocs", pages)
            pages = []
    upsert_documents("techdocs", pages)
    seconds = time.perf_counter() - started
    figures["pages"] = {"seconds": round(seconds, 1), "docs_per_s": round(args.pages / seconds)}
    print(f"indexed {args.pages} docs pages in {seconds:.1f} s ({args.pages / seconds:.0f}/s)")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE portal_searchentry")
    return figures


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def query_mix(words: list[str], rng: random.Random, n: int) -> dict[str, list[dict[str, Any]]]:
    common, rare = words[:200], words[2000:20000]

    def prefix(word: str) -> str:
        return word[: rng.randint(3, 4)]

    return {
        "common-word": [{"term": rng.choice(common)} for _ in range(n)],
        "rare-word": [{"term": rng.choice(rare)} for _ in range(n)],
        "prefix": [{"term": prefix(rng.choice(common + rare[:500]))} for _ in range(n)],
        "two-words": [
            {"term": f"{rng.choice(common)} {rng.choice(words[:3000])}"} for _ in range(n)
        ],
        "type-filter": [
            {
                "term": rng.choice(common + rare[:500]),
                "types": [rng.choice(["software-catalog", "techdocs"])],
            }
            for _ in range(n)
        ],
        "kind-filter": [
            {"term": rng.choice(common + rare[:500]), "filters": {"kind": "component"}}
            for _ in range(n)
        ],
        "page-3": [
            {"term": rng.choice(common), "page_cursor": "Mg==", "page_limit": 25} for _ in range(n)
        ],
    }


def measure(args: argparse.Namespace, rng: random.Random, words: list[str]) -> dict[str, Any]:
    from django.test import Client

    from portal.search import query

    mix = query_mix(words, rng, args.queries)
    everything = [q for queries in mix.values() for q in queries]
    for request in rng.sample(everything, min(args.warmup, len(everything))):
        query.search(**request)
    figures: dict[str, Any] = {}
    all_samples: list[float] = []
    for name, queries in mix.items():
        samples = []
        for request in queries:
            started = time.perf_counter()
            query.search(**request)
            samples.append((time.perf_counter() - started) * 1000)
        all_samples += samples
        figures[name] = percentiles(samples)
    figures["all"] = percentiles(all_samples)

    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    samples = []
    for request in rng.sample(everything, min(args.api_queries, len(everything))):
        params: dict[str, Any] = {"term": request["term"]}
        for i, type_ in enumerate(request.get("types", [])):
            params[f"types[{i}]"] = type_
        for key, value in request.get("filters", {}).items():
            params[f"filters[{key}]"] = value
        if request.get("page_cursor"):
            params["pageCursor"] = request["page_cursor"]
        started = time.perf_counter()
        response = client.get("/api/search/query", params)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    figures["api-view"] = percentiles(samples)
    return figures


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    words = vocabulary(rng)
    zipf = Zipf(words, rng)
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_database()
    setup_django()
    from portal.search.index import counts

    results: dict[str, Any] = {"entities": args.entities, "pages": args.pages}
    if not args.skip_build:
        results["build"] = build(args, rng, zipf)
    results["index"] = counts()
    print(f"index: {results['index']}")
    results["queries"] = measure(args, rng, words)
    print(f"{'query kind':<14} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}  (ms)")
    for name, figures in results["queries"].items():
        flag = "" if figures["p95"] <= TARGET_MS else "  over target"
        print(
            f"{name:<14} {figures['n']:>5} {figures['p50']:>8} {figures['p95']:>8} "
            f"{figures['p99']:>8} {figures['max']:>8}{flag}"
        )
    path = OUT / f"search-{args.entities}-{args.pages}.json"
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
