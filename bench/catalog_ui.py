"""Catalog web UI benchmark: server time of the catalog's pages; not a test.

    .venv/bin/python bench/catalog_ui.py --entities 100000
    .venv/bin/python bench/catalog_ui.py --skip-build --skip-load --scenarios catalog,text

The requirement it checks: the catalog page (`GET /catalog`, with filters, server-side
pagination and sorting) answers in under 200 ms of server time per page at 100,000 entities.

It makes sure the PostgreSQL benchmark database (`greenroom_bench`) holds the synthetic catalog
of --entities entities (bench/synthetic_catalog.py, loaded as catalog_api.py loads it: two
Celery workers on Redis db 11, then VACUUM ANALYZE), rebuilding it when it is missing or holds
another catalog (never with --skip-build), and applies this code's migrations to it. It signs
in a bench account matched to a catalog User entity that is a member of a group (so "Owned by
me" has rows), stars a few entities, and times each scenario's page with that session:

  in-process  django.test.Client in this process: server time without any network
  http        `.venv/bin/gunicorn portal.wsgi --workers 2` (DEBUG off, guest sign-in off),
              one request at a time over loopback with the session cookie: the full HTML
              page as a browser receives it (static files are not fetched)
  wrk         --wrk-connections connections for --wrk-seconds on the same URL, with the cookie
              (throughput; latencies there include queueing behind other connections)

"warm" is --requests sequential requests after --warmup unmeasured ones. "cold" is the first
request after the catalog version changes (what follows every ingestion run): the version is
moved by touching the benchmark location's updated_at, so every per-version cache (counts,
facets, the person's identity) misses in every gunicorn worker at once (the cache is Django's
per-process local memory unless CACHES says otherwise); --cold-requests samples.

For each scenario the SQL of one cold and one warm in-process request is captured; for a
scenario whose p95 exceeds the 200 ms target, its slowest statements are run again under
EXPLAIN (ANALYZE, BUFFERS) (in a transaction rolled back) and the plans printed. Everything goes
to bench/out/catalog-ui-<N>.json; gunicorn's log to bench/out/gunicorn-ui.log.

Scenarios: catalog (components by name), kind-group, kind-user, type-lifecycle, owner (the group
owning most components), tag (the most used tag that does not tag every component), text (q=),
order-owner-desc, deep-page (the page reached by following "Next" --deep-pages times from
/catalog), scope-owned, scope-starred, api-docs, entity-page (the component with most relation
rows), group-page (the root group: its page aggregates its sub-groups' ownership),
owner-typeahead (/catalog/owners?owner=<prefix>), home.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import catalog_api  # noqa: E402  (needs ROOT on the path)
from bench.catalog_api import (  # noqa: E402
    OUT,
    catalog_files,
    check_database_free,
    git_state,
    load_catalog,
    run_wrk,
)
from bench.catalog_ingest import prepare_environment  # noqa: E402

TARGET_MS = 200.0
SCENARIOS = (
    "catalog",
    "kind-group",
    "kind-user",
    "type-lifecycle",
    "owner",
    "tag",
    "text",
    "order-owner-desc",
    "deep-page",
    "scope-owned",
    "scope-starred",
    "api-docs",
    "entity-page",
    "group-page",
    "owner-typeahead",
    "home",
)
BENCH_STARS = 8
TEXT_TERM = "service-42"
TYPEAHEAD_PREFIX = "team-4"
# Statements this slow (in the captured requests) are explained for a scenario over target.
EXPLAIN_MIN_MS = 10.0
EXPLAIN_MAX_STATEMENTS = 3
NEXT_LINK = re.compile(r'rel="next" href="([^"]*)"')
TOTAL = re.compile(r'id="results-heading">[^<(]*\((\d+)\)')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="never (re)build the database: exit unless it already holds the catalog",
    )
    parser.add_argument(
        "--skip-load", action="store_true", help="leave out the wrk throughput runs"
    )
    parser.add_argument("--requests", type=int, default=200, help="warm requests per scenario")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first")
    parser.add_argument("--cold-requests", type=int, default=20, help="cold samples per scenario")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--deep-pages", type=int, default=50, help="'Next' links followed")
    parser.add_argument("--wrk-connections", type=int, default=4)
    parser.add_argument("--wrk-seconds", type=float, default=20)
    parser.add_argument("--wrk-timeout", type=float, default=10)
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Celery workers for the build")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    chosen = [s for s in args.scenarios.split(",") if s]
    unknown = sorted(set(chosen) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    args.scenarios = [s for s in SCENARIOS if s in chosen]
    return args


def _ingest_args(args: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(
        database="postgres", mode="celery", workers=args.workers, broker=args.broker
    )


# --- the database ----------------------------------------------------------------------------


def loaded_entities(target: str) -> int | None:
    """Return how many catalog entities greenroom_bench holds from `target`, or None when the
    database, its tables or that location are missing (read before Django is set up)."""
    import psycopg2

    try:
        db = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="greenroom_bench")
    except psycopg2.OperationalError:
        return None
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT to_regclass('catalog_entity'), to_regclass('catalog_location')")
            if None in cursor.fetchone():
                return None
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM catalog_location WHERE target = %s)", [target]
            )
            if not cursor.fetchone()[0]:
                return None
            cursor.execute(
                "SELECT (SELECT count(*) FROM catalog_entity WHERE kind <> 'location'), "
                "(SELECT count(*) FROM catalog_ingestionrun WHERE status IN ('pending', 'running'))"
            )
            entities, unfinished = cursor.fetchone()
            return None if unfinished else int(entities)
    finally:
        db.close()


def migrate() -> list[str]:
    """Apply this code's migrations; return the names applied."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", verbosity=0)
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def prepare_database(args: argparse.Namespace, results: dict[str, Any]) -> tuple[str, int]:
    """Make greenroom_bench hold the catalog of --entities; set up Django on it."""
    folder, counts = catalog_files(args.entities)
    target = str(folder / "**" / "*.yaml")
    expected = sum(v for k, v in counts.items() if k != "files")
    found = loaded_entities(target)
    rebuild = found != expected
    if rebuild and args.skip_build:
        sys.exit(
            f"greenroom_bench holds {found if found is not None else 'no'} entities of "
            f"{target}, not {expected}; run without --skip-build"
        )
    check_database_free()
    prepare_environment(_ingest_args(args), recreate=rebuild)
    import django

    django.setup()
    applied = migrate()
    if applied:
        ours = [name for name in applied if name.split(".")[0] in ("portal", "catalog")]
        print(f"applied {len(applied)} migrations ({', '.join(ours)} of this project)", flush=True)
    results["migrations_applied"] = applied
    if rebuild:
        print(
            f"building: greenroom_bench held {found or 0} entities of this catalog, "
            f"{expected} wanted",
            flush=True,
        )
        results["build"] = load_catalog(_ingest_args(args), target)
    else:
        print(f"reusing greenroom_bench: {found} catalog entities of {target}", flush=True)
    return target, expected


# --- the person and the URLs -------------------------------------------------------------------


def _one(sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()


def choose_subjects() -> dict[str, Any]:
    """Pick the catalog entities the scenarios are about (deterministically)."""
    from catalog import queries
    from catalog.models import Entity, Relation

    subjects: dict[str, Any] = {}
    # The user whose group owns the most entities directly: "Owned by me" has rows.
    row = _one(
        "SELECT m.source_ref, m.target_ref, COUNT(*) FROM catalog_relation m "
        "JOIN catalog_relation o ON o.source_ref = m.target_ref AND o.type = 'ownerOf' "
        "WHERE m.type = 'memberOf' AND m.source_ref LIKE 'user:%%' "
        "GROUP BY m.source_ref, m.target_ref ORDER BY 3 DESC, 1 LIMIT 1"
    )
    if row is None:
        subjects["user"] = None
    else:
        entity = Entity.objects.get(ref=row[0])
        subjects["user"] = {
            "ref": row[0],
            "name": entity.body["metadata"]["name"],
            "email": ((entity.body.get("spec") or {}).get("profile") or {}).get("email", ""),
            "group": row[1],
            "group_owns": row[2],
        }
    row = _one(
        "SELECT target_ref, COUNT(*) FROM catalog_relation WHERE type = 'ownedBy' "
        "AND source_ref LIKE 'component:%%' GROUP BY target_ref ORDER BY 2 DESC, 1 LIMIT 1"
    )
    subjects["owner"] = {"ref": row[0], "components": row[1]} if row else None
    # The most used component tag that does not tag every component (a filter that filters).
    components = Entity.objects.filter(kind="component").count()
    tag_rows = []
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, COUNT(*) FROM catalog_entity, jsonb_array_elements_text(tags) t "
            "WHERE kind = 'component' GROUP BY t ORDER BY 2 DESC, 1 LIMIT 10"
        )
        tag_rows = cursor.fetchall()
    partial = [(t, n) for t, n in tag_rows if n < components]
    tag, tagged = (partial or tag_rows or [("synthetic", 0)])[0]
    subjects["tag"] = {"value": tag, "components": tagged, "of": components}
    row = _one(
        "SELECT source_ref, COUNT(*) FROM catalog_relation WHERE source_ref LIKE 'component:%%' "
        "GROUP BY source_ref ORDER BY 2 DESC, 1 LIMIT 1"
    )
    component = (
        Entity.objects.get(ref=row[0]) if row else Entity.objects.filter(kind="component").first()
    )
    subjects["component"] = {
        "ref": component.ref,
        "name": component.body["metadata"]["name"],
        "relation_rows": row[1] if row else None,
    }
    # The root group (no parent) whose sub-groups together own the most.
    roots = list(
        Entity.objects.filter(kind="group")
        .exclude(ref__in=Relation.objects.filter(type="childOf").values("source_ref"))
        .order_by("ref")
        .values_list("ref", flat=True)[:20]
    )
    best = None
    for ref in roots:
        owned = len(queries.owned_by(ref))
        if best is None or owned > best[1]:
            best = (ref, owned)
    if best is not None:
        group = Entity.objects.get(ref=best[0])
        subjects["group"] = {
            "ref": best[0],
            "name": group.body["metadata"]["name"],
            "owned_with_subgroups": best[1],
            "subgroups": len(queries.group_and_descendants(best[0])) - 1,
        }
    else:
        subjects["group"] = None
    return subjects


def bench_account(subjects: dict[str, Any], seed: int) -> Any:
    """Create (or reuse) the bench account, matched to the chosen User entity, with stars."""
    import random

    from django.contrib.auth import get_user_model

    from catalog.models import Entity, EntityStar

    person = subjects.get("user")
    username = person["name"] if person else "bench-ui"
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": person["email"] if person else ""}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    rng = random.Random(seed)
    ids = list(Entity.objects.filter(kind="component").order_by("ref").values_list("id", flat=True))
    chosen = set(rng.sample(ids, min(BENCH_STARS, len(ids))))
    component = Entity.objects.filter(ref=subjects["component"]["ref"]).values_list("id", flat=True)
    chosen.update(component)
    for entity_id in chosen:
        EntityStar.objects.get_or_create(user=user, entity_id=entity_id)
    subjects["stars"] = EntityStar.objects.filter(user=user).count()
    subjects["account"] = username
    return user


@dataclass
class Scenario:
    name: str
    url: str
    note: str = ""
    result: dict[str, Any] = field(default_factory=dict)


def build_scenarios(subjects: dict[str, Any], deep_url: str | None) -> list[Scenario]:
    from urllib.parse import quote, urlencode

    def catalog(**query: str) -> str:
        return "/catalog" + (f"?{urlencode(query)}" if query else "")

    owner = subjects["owner"]["ref"] if subjects.get("owner") else "group:default/team-0"
    tag = subjects["tag"]["value"]
    component = subjects["component"]["name"]
    group = subjects["group"]["name"] if subjects.get("group") else "team-0"
    scenarios = [
        Scenario("catalog", catalog(), "first page, components by name"),
        Scenario("kind-group", catalog(kind="group")),
        Scenario("kind-user", catalog(kind="user")),
        Scenario("type-lifecycle", catalog(type="service", lifecycle="production")),
        Scenario("owner", catalog(owner=owner), f"{subjects['owner']['components']} components"),
        Scenario(
            "tag",
            catalog(tag=tag),
            f"{subjects['tag']['components']} of {subjects['tag']['of']} components",
        ),
        Scenario("text", catalog(q=TEXT_TERM)),
        Scenario("order-owner-desc", catalog(order="owner", dir="desc")),
        Scenario("deep-page", deep_url or catalog(), "page reached by following Next"),
        Scenario("scope-owned", catalog(scope="owned")),
        Scenario("scope-starred", catalog(scope="starred"), f"{subjects.get('stars')} stars"),
        Scenario("api-docs", "/api-docs"),
        Scenario(
            "entity-page",
            f"/catalog/default/component/{quote(component)}",
            f"{subjects['component']['relation_rows']} relation rows",
        ),
        Scenario(
            "group-page",
            f"/catalog/default/group/{quote(group)}",
            f"{(subjects.get('group') or {}).get('subgroups')} sub-groups",
        ),
        Scenario("owner-typeahead", f"/catalog/owners?owner={quote(TYPEAHEAD_PREFIX)}"),
        Scenario("home", "/"),
    ]
    return scenarios


def walk_next(client: Any, pages: int) -> dict[str, Any]:
    """Follow the catalog table's Next link from /catalog; return the last page's URL."""
    url = "/catalog"
    seen_urls = []
    for _ in range(pages):
        response = client.get(url, HTTP_HOST="127.0.0.1")
        if response.status_code != 200:
            return {
                "url": None,
                "pages": len(seen_urls),
                "failure": f"{url} -> {response.status_code}",
            }
        match = NEXT_LINK.search(response.content.decode())
        if match is None:
            break
        url = "/catalog" + html.unescape(match.group(1))
        seen_urls.append(url)
    return {"url": url, "pages": len(seen_urls), "failure": None}


# --- timing ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 1),
        "p95_ms": round(percentile(values, 95), 1),
        "p99_ms": round(percentile(values, 99), 1),
        "max_ms": round(max(values), 1),
        "mean_ms": round(sum(values) / len(values), 1),
    }


class Failed(RuntimeError):
    pass


def bump_version(target: str) -> None:
    """Change the catalog version (as the end of an ingestion run does): every per-version
    cache entry, in every process, is then stale."""
    from django.utils import timezone

    from catalog.models import Location

    Location.objects.filter(target=target).update(updated_at=timezone.now())


def measure(
    get: Callable[[str], tuple[float, int, bytes]],
    url: str,
    target: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Time `url` cold (after a version change, one request each) then warm."""
    cold: list[float] = []
    for _ in range(args.cold_requests):
        bump_version(target)
        ms, status, _ = get(url)
        if status != 200:
            raise Failed(f"GET {url} -> {status}")
        cold.append(ms)
    warm: list[float] = []
    size = 0
    for i in range(args.warmup + args.requests):
        ms, status, body = get(url)
        if status != 200:
            raise Failed(f"GET {url} -> {status}")
        if i >= args.warmup:
            warm.append(ms)
        size = len(body)
    return {"cold": summary(cold), "warm": summary(warm), "bytes": size}


def in_process_get(client: Any) -> Callable[[str], tuple[float, int, bytes]]:
    def get(url: str) -> tuple[float, int, bytes]:
        began = time.perf_counter()
        response = client.get(url, HTTP_HOST="127.0.0.1")
        content = response.content
        return (time.perf_counter() - began) * 1000, response.status_code, content

    return get


def http_get(base: str, cookie: str) -> Callable[[str], tuple[float, int, bytes]]:
    session = requests.Session()
    # A fixed header: the session key never changes, and no cookie-jar rules for IP hosts.
    session.headers.update({"Accept": "text/html", "Cookie": f"sessionid={cookie}"})

    def get(url: str) -> tuple[float, int, bytes]:
        began = time.perf_counter()
        response = session.get(base + url, timeout=120, allow_redirects=False)
        content = response.content
        return (time.perf_counter() - began) * 1000, response.status_code, content

    return get


# --- SQL --------------------------------------------------------------------------------------


def capture_sql(client: Any, url: str, target: str, cold: bool) -> dict[str, Any]:
    """Run one request under query capture; return its statements, slowest first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if cold:
        bump_version(target)
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        client.get(url, HTTP_HOST="127.0.0.1")
        total = (time.perf_counter() - began) * 1000
    statements = []
    for i, query in enumerate(captured.captured_queries):
        previous = captured.captured_queries[i - 1]["sql"] if i else ""
        statements.append(
            {
                "ms": round(float(query["time"]) * 1000, 2),
                "sql": query["sql"],
                # A statement run after SET LOCAL is explained with the same setting.
                "setting": previous if previous.upper().startswith("SET LOCAL") else None,
            }
        )
    return {
        "request_ms": round(total, 1),
        "queries": len(statements),
        "sql_ms": round(sum(s["ms"] for s in statements), 1),
        "slowest": sorted(statements, key=lambda s: -s["ms"])[:EXPLAIN_MAX_STATEMENTS],
    }


def explain(statement: dict[str, Any]) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) a captured read statement, in a transaction rolled back."""
    from django.db import connection, transaction

    sql = statement["sql"].strip()
    if not re.match(r"(?is)^\s*(select|with)\b", sql):
        return "(not a read statement; not explained)"
    with transaction.atomic():
        with connection.cursor() as cursor:
            if statement.get("setting"):
                cursor.execute(statement["setting"])
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


# --- gunicorn -----------------------------------------------------------------------------------


def gunicorn(args: argparse.Namespace):
    """Serve the portal with gunicorn (catalog_api's harness), as a person without guest
    sign-in would see it."""
    return catalog_api.gunicorn(
        args,
        extra_env={"GREENROOM_GUEST_SIGNIN": "false", "GREENROOM_IDENTITY_MATCH": "username"},
        log_name="gunicorn-ui.log",
        extra_options=("--timeout", "120"),
    )


def wrk_with_cookie(base: str, scenario: Scenario, cookie: str, args: argparse.Namespace) -> dict:
    """Run catalog_api's wrk driver on the scenario's URL, as the signed-in person."""
    original = catalog_api.LUA_TEMPLATE
    accept = 'wrk.headers["Accept"] = "application/json"'
    assert accept in original, "catalog_api.LUA_TEMPLATE changed; update catalog_ui.py"
    catalog_api.LUA_TEMPLATE = original.replace(
        accept,
        f'wrk.headers["Accept"] = "text/html"\nwrk.headers["Cookie"] = '
        f"{json.dumps('sessionid=' + cookie)}",
    )
    try:
        result = run_wrk(
            base,
            f"ui {scenario.name}",
            [scenario.url],
            args.wrk_connections,
            args.wrk_seconds,
            args.wrk_timeout,
        )
    finally:
        catalog_api.LUA_TEMPLATE = original
    keep = ("requests_per_second", "p50_ms", "p95_ms", "p99_ms", "errors", "non2xx", "statuses")
    return {k: result[k] for k in keep} | {"max_ms": round(result["latency_us"]["max"] / 1000, 1)}


# --- report -------------------------------------------------------------------------------------


def over_target(scenario: Scenario) -> list[str]:
    """Return which measurements of a scenario have a p95 over the target."""
    found = []
    for where in ("in_process", "http"):
        for state in ("cold", "warm"):
            p95 = scenario.result.get(where, {}).get(state, {}).get("p95_ms")
            if p95 is not None and p95 > TARGET_MS:
                found.append(f"{where} {state}")
    return found


def _c(value: Any, width: int = 7) -> str:
    return f"{value:>{width}.1f}" if isinstance(value, int | float) else f"{'-':>{width}}"


def print_table(scenarios: list[Scenario]) -> None:
    for where, title in (("in_process", "in-process (no network)"), ("http", "http (gunicorn)")):
        header = (
            f"{'scenario':<17} {'cold p50':>8} {'p95':>7} {'p99':>7} {'max':>7} "
            f"{'warm p50':>8} {'p95':>7} {'p99':>7} {'max':>7}"
        )
        if where == "in_process":
            header += f" {'queries c/w':>11} {'sql ms c/w':>11}"
        else:
            header += f" {'wrk r/s':>8} {'wrk p95':>7}"
        header += f" {'load':>5}"
        print(f"\n{title}, ms; cold = first request after a catalog version change")
        print(header + "\n" + "-" * len(header))
        for s in scenarios:
            r = s.result.get(where) or {}
            cold, warm = r.get("cold", {}), r.get("warm", {})
            line = (
                f"{s.name:<17} {_c(cold.get('p50_ms'), 8)} {_c(cold.get('p95_ms'))} "
                f"{_c(cold.get('p99_ms'))} {_c(cold.get('max_ms'))} {_c(warm.get('p50_ms'), 8)} "
                f"{_c(warm.get('p95_ms'))} {_c(warm.get('p99_ms'))} {_c(warm.get('max_ms'))}"
            )
            if where == "in_process":
                sql = s.result.get("sql", {})
                queries = "/".join(
                    str(sql.get(k, {}).get("queries", "-")) for k in ("cold", "warm")
                )
                sql_ms = "/".join(
                    f"{sql.get(k, {}).get('sql_ms', 0):.0f}" for k in ("cold", "warm")
                )
                line += f" {queries:>11} {sql_ms:>11}"
            else:
                wrk = s.result.get("wrk") or {}
                line += f" {_c(wrk.get('requests_per_second'), 8)} {_c(wrk.get('p95_ms'))}"
            line += f" {_c(r.get('load_average'), 5)}"
            flags = [f for f in over_target(s) if f.startswith(where)]
            if s.result.get("failure"):
                line += f"  FAILED {s.result['failure']}"
            elif flags:
                line += "  OVER " + ",".join(f.split()[1] for f in flags)
            print(line)


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    OUT.mkdir(parents=True, exist_ok=True)
    # This process serves the in-process requests: the same settings as the gunicorn workers.
    os.environ.update(
        {
            "DEBUG": "false",
            "GREENROOM_GUEST_SIGNIN": "false",
            "GREENROOM_IDENTITY_MATCH": "username",
        }
    )
    results: dict[str, Any] = {
        "entities": args.entities,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": git_state(),
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "target_p95_ms": TARGET_MS,
        "options": {k: v for k, v in vars(args).items() if k != "broker"},
    }
    print(f"== catalog UI, {args.entities} entities on PostgreSQL (greenroom_bench)", flush=True)
    target, _ = prepare_database(args, results)

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from catalog.models import Entity

    results["entities_in_database"] = Entity.objects.count()
    results["cache_backend"] = settings.CACHES["default"]["BACKEND"]
    subjects = choose_subjects()
    user = bench_account(subjects, args.seed)
    results["subjects"] = subjects
    print(f"subjects: {json.dumps(subjects)}", flush=True)
    print(f"cache: {results['cache_backend']} (per process)", flush=True)
    if os.getloadavg()[0] > 0.5:
        print(f"note: load average {os.getloadavg()[0]:.2f} before measuring; figures are noisy")

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies["sessionid"].value
    walk = walk_next(client, args.deep_pages) if "deep-page" in args.scenarios else None
    results["deep_page_walk"] = walk
    scenarios = [
        s for s in build_scenarios(subjects, walk and walk["url"]) if s.name in args.scenarios
    ]
    get_here = in_process_get(client)

    print("\n-- in-process (django.test.Client)", flush=True)
    for s in scenarios:
        s.result["url"] = s.url
        s.result["note"] = s.note
        try:
            _, status, body = get_here(s.url)
            if status != 200:
                raise Failed(f"GET {s.url} -> {status}")
            total = TOTAL.search(body.decode())
            s.result["rows_total"] = int(total.group(1)) if total else None
            s.result["sql"] = {
                "cold": capture_sql(client, s.url, target, cold=True),
                "warm": capture_sql(client, s.url, target, cold=False),
            }
            s.result["in_process"] = measure(get_here, s.url, target, args)
            s.result["in_process"]["load_average"] = round(os.getloadavg()[0], 2)
        except Failed as exc:
            s.result["failure"] = str(exc)
        r = s.result.get("in_process", {})
        print(
            f"{s.name:<17} cold p95 {r.get('cold', {}).get('p95_ms')} ms, warm p50 "
            f"{r.get('warm', {}).get('p50_ms')} p95 {r.get('warm', {}).get('p95_ms')} ms"
            f"{'  FAILED ' + s.result['failure'] if s.result.get('failure') else ''}  {s.url}",
            flush=True,
        )
    connection.close()

    print("\n-- http (gunicorn)", flush=True)
    with gunicorn(args) as base:
        get_http = http_get(base, cookie)
        for s in scenarios:
            if s.result.get("failure"):
                continue
            try:
                s.result["http"] = measure(get_http, s.url, target, args)
                s.result["http"]["load_average"] = round(os.getloadavg()[0], 2)
            except Failed as exc:
                s.result["failure"] = f"http: {exc}"
                continue
            if not args.skip_load:
                try:
                    s.result["wrk"] = wrk_with_cookie(base, s, cookie, args)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    s.result["wrk"] = {"failure": str(exc)}
            r, w = s.result["http"], s.result.get("wrk") or {}
            print(
                f"{s.name:<17} cold p95 {r['cold'].get('p95_ms')} ms, warm p50 "
                f"{r['warm'].get('p50_ms')} p95 {r['warm'].get('p95_ms')} ms"
                + (f", wrk {w.get('requests_per_second')} req/s" if w else ""),
                flush=True,
            )
    connection.close()

    # The slow statements of the scenarios over target, explained.
    # Many pages share statements (the facets of one kind): each is explained once.
    flagged = []
    first_seen: dict[str, str] = {}
    for s in scenarios:
        over = over_target(s)
        if not over or "sql" not in s.result:
            continue
        flagged.append(s.name)
        explained = []
        for state in ("cold", "warm"):
            for statement in s.result["sql"][state]["slowest"]:
                if statement["ms"] < EXPLAIN_MIN_MS:
                    continue
                if statement["sql"] in first_seen:
                    if first_seen[statement["sql"]] != s.name:
                        explained.append(
                            {**statement, "state": state, "same_as": first_seen[statement["sql"]]}
                        )
                    continue
                first_seen[statement["sql"]] = s.name
                explained.append({**statement, "state": state, "plan": explain(statement)})
        s.result["over_target"] = over
        s.result["explained"] = explained

    print_table(scenarios)
    print(f"\ntarget: p95 < {TARGET_MS:g} ms per page")
    if flagged:
        print(f"OVER TARGET: {', '.join(flagged)}")
        for s in scenarios:
            for e in s.result.get("explained", []):
                where = f"{s.name} ({e['state']}): {e['ms']} ms in the captured request"
                if "same_as" in e:
                    print(f"\n== {where}: the statement explained under {e['same_as']}")
                    continue
                print(f"\n== {where}")
                print(e["sql"][:3000])
                print(e["plan"])
    else:
        print("every scenario within target")
    results["over_target"] = flagged
    results["load_average_after"] = os.getloadavg()
    results["scenarios"] = {s.name: s.result for s in scenarios}
    out = OUT / f"catalog-ui-{args.entities}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted (gunicorn, if started, was stopped)")
