"""Celery tasks of the search index: thin adapters over portal.search. Payloads are IDs."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from portal.search import sources

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(**_RETRY)
def refresh_search_collators_task() -> None:
    """Run every plugin's search collator and replace its documents (periodic, from beat)."""
    sources.refresh_collators()
