"""`python manage.py catalog …`: validate, register, refresh, export, status and more."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from catalog import ingest, lifecycle
from catalog.choices import LocationType
from catalog.config import is_glob
from catalog.models import Entity, IngestionRun, Location
from catalog.refs import RefError, parse_ref
from catalog.serialization import iter_backstage_entities
from portal import background


class Command(BaseCommand):
    help = "Work with the software catalog (see `catalog SUBCOMMAND --help`)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)

        validate = sub.add_parser("validate", help="Check descriptor files; exit 1 on errors.")
        validate.add_argument("paths", nargs="+")

        register = sub.add_parser("register", help="Register a location (file path or URL).")
        register.add_argument("target")
        register.add_argument("--type", choices=LocationType.values)
        register.add_argument("--wait", action="store_true", help="Block until ingested.")
        register.add_argument("--timeout", type=float, default=600.0)

        refresh = sub.add_parser("refresh", help="Refresh every location, or some.")
        refresh.add_argument("targets", nargs="*", help="Location ids or targets (default: all).")
        refresh.add_argument("--wait", action="store_true")
        refresh.add_argument("--timeout", type=float, default=600.0)

        unregister = sub.add_parser("unregister", help="Remove a location and its entities.")
        unregister.add_argument("target", help="Location id or target.")

        sub.add_parser("export", help="Print every entity as JSON, one per line.")
        sub.add_parser("status", help="Print each location's last ingestion run.")

        explain = sub.add_parser("explain", help="Say where an entity comes from and why.")
        explain.add_argument("ref", help="kind:namespace/name")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    # -- subcommands ---------------------------------------------------------------------------

    def do_validate(self, options: dict[str, Any]) -> None:
        failures = 0
        for raw_path in options["paths"]:
            path = Path(raw_path).resolve()
            problems = lifecycle.validate_file(path)
            if not problems:
                self.stdout.write(f"{raw_path}: OK")
                continue
            for problem in problems:
                if problem.get("level") == "warning":
                    continue
                failures += 1
                self.stdout.write(lifecycle.describe_error(problem, raw_path))
        if failures:
            raise CommandError(f"{failures} error(s)", returncode=1)

    def do_register(self, options: dict[str, Any]) -> None:
        target = options["target"]
        type_ = options["type"] or (LocationType.URL if "://" in target else LocationType.FILE)
        if type_ == LocationType.FILE:
            # A glob is made absolute, not resolved: resolving would treat `*` as a name.
            target = str(Path(target).absolute() if is_glob(target) else Path(target).resolve())
        try:
            if options["wait"] and background.mode() == "embedded":
                with background.inline_tasks():
                    location, run = ingest.register_location(type_, target, by="cli")
            else:
                location, run = ingest.register_location(type_, target, by="cli")
        except ingest.LocationExists as exc:
            raise CommandError(f"{exc}; use `catalog refresh {exc.location.id}`") from None
        except ingest.InvalidTarget as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"registered {location.key} as {location.id}")
        if options["wait"]:
            self._wait_and_report([run], options["timeout"])

    def do_refresh(self, options: dict[str, Any]) -> None:
        locations = self._locations(options["targets"])
        if not options["targets"]:
            ingest.sync_static_locations()
            locations = list(Location.objects.all())
        if options["wait"] and background.mode() == "embedded":
            with background.inline_tasks():
                runs = [ingest.refresh_location(loc, by="cli") for loc in locations]
        else:
            runs = [ingest.refresh_location(loc, by="cli") for loc in locations]
        self.stdout.write(f"refreshing {len(runs)} location(s)")
        if options["wait"]:
            self._wait_and_report(runs, options["timeout"])

    def do_unregister(self, options: dict[str, Any]) -> None:
        (location,) = self._locations([options["target"]])
        removed = ingest.unregister_location(location)
        self.stdout.write(f"unregistered {location.key}; removed {removed} entities")

    def do_export(self, options: dict[str, Any]) -> None:
        out = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
        try:
            for document in iter_backstage_entities(Entity.objects.order_by("id")):
                out.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
        except BrokenPipeError:  # `catalog export | head` is fine
            sys.stderr.close()

    def do_status(self, options: dict[str, Any]) -> None:
        for location in Location.objects.order_by("created_at"):
            run = location.latest_run()
            self.stdout.write(f"{location.key}  [{location.origin}, id {location.id}]")
            if run is None:
                self.stdout.write("  never ingested")
                continue
            self.stdout.write("  " + lifecycle.describe_run(run))
            for error in run.errors[:10]:
                self.stdout.write("    " + lifecycle.describe_error(error))
            if len(run.errors) > 10:
                self.stdout.write(f"    … and {len(run.errors) - 10} more")

    def do_explain(self, options: dict[str, Any]) -> None:
        try:
            ref = parse_ref(options["ref"], "component")
        except RefError as exc:
            raise CommandError(str(exc)) from None
        for line in lifecycle.explain(ref.key):
            self.stdout.write(line)

    # -- helpers -------------------------------------------------------------------------------

    def _locations(self, keys: list[str]) -> list[Location]:
        found = []
        for key in keys:
            location = (
                Location.objects.filter(target=key).first()
                or Location.objects.filter(target=str(Path(key).resolve())).first()
            )
            if location is None:
                try:
                    location = Location.objects.filter(pk=key).first()
                except Exception:  # not a UUID
                    location = None
            if location is None:
                raise CommandError(f"no location {key!r}; see `catalog status`")
            found.append(location)
        return found

    def _wait_and_report(self, runs: list[IngestionRun], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = {run.pk for run in runs}
        while pending and time.monotonic() < deadline:
            finished = set(
                IngestionRun.objects.filter(pk__in=pending, finished_at__isnull=False).values_list(
                    "pk", flat=True
                )
            )
            pending -= finished
            if pending:
                time.sleep(0.2)
        errors = 0
        for run in IngestionRun.objects.filter(pk__in=[r.pk for r in runs]).select_related(
            "location"
        ):
            self.stdout.write(f"{run.location.key}: {lifecycle.describe_run(run)}")
            for error in run.errors:
                self.stdout.write("  " + lifecycle.describe_error(error))
            errors += run.error_count
        if pending:
            raise CommandError(
                f"{len(pending)} run(s) still not finished after {timeout:.0f}s "
                f"(is a worker running?) at {timezone.now():%H:%M:%S}"
            )
        if errors:
            raise CommandError(f"{errors} error(s) while ingesting", returncode=1)
