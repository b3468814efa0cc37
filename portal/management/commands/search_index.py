"""`manage.py search_index rebuild` re-indexes everything (entities, templates, docs pages,
plugins' collators); `manage.py search_index status` prints how many documents each type has."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.search import index, sources


class Command(BaseCommand):
    help = "Rebuild the search index, or show how many documents each type has."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("rebuild", "status"))
        parser.add_argument(
            "--collators-only", action="store_true", help="rebuild: only run plugins' collators"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            counts = index.counts()
            for type_ in sorted(set(counts) | set(sources.collator_types())):
                self.stdout.write(f"{type_}: {counts.get(type_, 0)}")
            self.stdout.write(f"total: {sum(counts.values())}")
            return
        started = time.monotonic()
        results = (
            sources.refresh_collators() if options["collators_only"] else sources.rebuild_all()
        )
        failed = []
        for type_, changes in sorted(results.items()):
            if isinstance(changes, str):
                failed.append(type_)
                self.stdout.write(f"{type_}: {changes}")
            else:
                self.stdout.write(
                    f"{type_}: {changes.written} written, {changes.unchanged} unchanged, "
                    f"{changes.deleted} deleted"
                )
        self.stdout.write(f"done in {time.monotonic() - started:.1f} s")
        if failed:
            raise CommandError(f"some collators failed: {', '.join(failed)}")
