"""`manage.py techdocs publish|build|check|status`: TechDocs from the command line.

techdocs publish --entity component:default/x --directory site/   # a site built by CI
techdocs build --entity component:default/x [--force]             # build here, now
techdocs check                                                    # the scheduler's pass
techdocs status [--entity REF]                                    # last builds
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import Entity
from catalog.refs import RefError, parse_ref
from portal import background
from techdocs import builder, publisher, scheduler
from techdocs.models import DocsSite


def _entity(ref: str) -> Entity:
    try:
        parsed = parse_ref(ref, "component")
    except RefError as exc:
        raise CommandError(f"--entity {ref!r}: {exc}") from None
    entity = Entity.objects.filter(ref=str(parsed).lower()).first()
    if entity is None:
        raise CommandError(f"{parsed} is not in the catalog")
    return entity


class Command(BaseCommand):
    help = "Publish, build and check TechDocs sites."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
        publish = commands.add_parser("publish", help="publish a site built elsewhere")
        publish.add_argument("--entity", required=True, help="e.g. component:default/x")
        publish.add_argument("--directory", required=True, help="the built site (index.html)")
        build = commands.add_parser("build", help="build one entity's docs now")
        build.add_argument("--entity", required=True)
        build.add_argument("--force", action="store_true", help="even if nothing changed")
        commands.add_parser("check", help="check every documented entity, build changed ones")
        status = commands.add_parser("status", help="show the last builds")
        status.add_argument("--entity", default="")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        getattr(self, f"_{command}")(**options)

    def _publish(self, entity: str, directory: str, **_: Any) -> None:
        found = _entity(entity)
        try:
            build = publisher.publish_directory(found, Path(directory), by="manage.py")
        except builder.BuildError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{found.display_ref}: published ({build.log.count(chr(10))} steps)")

    def _build(self, entity: str, force: bool, **_: Any) -> None:
        found = _entity(entity)
        with background.inline_tasks():  # wait for the build: it runs here
            scheduler.check_sites([found.ref], "manual", force=force, by="manage.py")
        site = DocsSite.objects.filter(entity_ref=found.ref).select_related("last_build").first()
        build = site.last_build if site else None
        if build is None:
            self.stdout.write(f"{found.display_ref}: nothing to build")
            return
        self.stdout.write(build.log)
        if build.status != "succeeded":
            raise CommandError(f"{found.display_ref}: build failed: {build.error}")
        self.stdout.write(f"{found.display_ref}: {build.status}")

    def _check(self, **_: Any) -> None:
        result = scheduler.check_sites()
        self.stdout.write(
            f"checked {result.checked}: {result.unchanged} unchanged, {len(result.queued)} "
            f"builds queued, {result.failed} failed to prepare, {result.removed} removed"
        )

    def _status(self, entity: str = "", **_: Any) -> None:
        sites = DocsSite.objects.select_related("last_build")
        if entity:
            sites = sites.filter(entity_ref=_entity(entity).ref)
        for site in sites:
            build = site.last_build
            state = f"{build.status} {build.finished_at:%Y-%m-%d %H:%M}" if build else "never built"
            error = f" — {build.error}" if build and build.error else ""
            self.stdout.write(f"{site.entity_ref}: {state}{error}")
