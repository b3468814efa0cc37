"""Celery tasks of the catalog: thin adapters over catalog.ingest. Payloads are run IDs."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from catalog import ingest

# Database hiccups (a restarted server, a lock timeout) are worth retrying; bad input never
# reaches here as an exception: it is recorded on the run.
_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "max_retries": 5,
}


@shared_task(**_RETRY)
def start_run_task(run_id: int) -> None:
    """Claim a pending ingestion run and send its lanes. Safe to run twice."""
    ingest.start_run(run_id)


@shared_task(**_RETRY)
def process_lane_task(run_id: int) -> None:
    """Process one batch of a run's sources; re-sends itself until the run is done."""
    ingest.process_lane(run_id)


@shared_task
def warm_catalog_pages_task() -> None:
    """Compute the catalog page's counts and filter options for the current version."""
    from catalog import browse

    browse.warm_catalog_pages()


@shared_task
def schedule_refreshes_task() -> None:
    """Queue periodic refreshes of due locations (every few seconds, from beat)."""
    ingest.schedule_due_refreshes()


@shared_task(**_RETRY)
def index_run_for_search_task(run_id: int) -> None:
    """Index the entities a finished run wrote. Safe to run twice (unchanged is skipped)."""
    from catalog import search_documents

    search_documents.index_run(run_id)
