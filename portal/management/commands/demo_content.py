"""`manage.py demo_content`: the demo's onboarding links (only where an admin set none)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from portal.models import OnboardingLink

DEMO_LINKS = [
    ("Find your team's services", "/catalog?scope=owned", "Everything your groups own."),
    ("Browse the APIs", "/api-docs", "Every API with its definition, owner and consumers."),
    ("Register a component", "/catalog-import", "Add your repository's catalog-info.yaml."),
    ("Read the docs", "/docs", "Documentation that lives beside the code."),
]


class Command(BaseCommand):
    help = "Add the demo's onboarding links to the home page if there are none."

    def handle(self, *args: object, **options: object) -> None:
        if OnboardingLink.objects.exists():
            return
        OnboardingLink.objects.bulk_create(
            OnboardingLink(title=title, url=url, description=text, position=position)
            for position, (title, url, text) in enumerate(DEMO_LINKS)
        )
        self.stdout.write(f"added {len(DEMO_LINKS)} onboarding links")
