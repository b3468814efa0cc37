"""`manage.py api_token NAME` creates a service token and prints it as its last line;
`--list` shows tokens (never the token itself), `--revoke NAME` revokes one."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from portal.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke API service tokens (sent as 'Authorization: Bearer <token>')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="name of the token to create")
        parser.add_argument("--list", action="store_true", help="list tokens")
        parser.add_argument("--revoke", metavar="NAME", help="revoke the token with this name")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            self._list()
        elif options["revoke"]:
            self._revoke(options["revoke"])
        elif options["name"]:
            self._create(options["name"].strip())
        else:
            raise CommandError("give a NAME to create a token, or --list, or --revoke NAME")

    def _create(self, name: str) -> None:
        if not name or len(name) > 100:
            raise CommandError("the name must be 1 to 100 characters")
        existing = ApiToken.objects.filter(name=name).first()
        if existing is not None:
            if existing.revoked_at is None:
                raise CommandError(f"a token named {name!r} exists; revoke it first")
            existing.delete()
        _, token = ApiToken.issue(name, created_by="manage.py api_token")
        self.stdout.write(
            f"Created token {name!r}. It is shown once; send it as 'Authorization: Bearer …'."
        )
        self.stdout.write(token)

    def _list(self) -> None:
        for token in ApiToken.objects.all():
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.name}\t{token.hint}…\t{state}\tcreated {token.created_at:%Y-%m-%d}"
                f"\tlast used {used}"
            )

    def _revoke(self, name: str) -> None:
        updated = ApiToken.objects.filter(name=name, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise CommandError(f"no active token named {name!r}")
        self.stdout.write(f"Revoked token {name!r}.")
