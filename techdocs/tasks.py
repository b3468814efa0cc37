"""Celery tasks of TechDocs: thin adapters over scheduler.py and publisher.py."""

from __future__ import annotations

from celery import shared_task

from techdocs import publisher, scheduler


@shared_task
def build_site_task(build_id: int) -> None:
    """Run one pending docs build. Safe to run twice (the second finds it claimed)."""
    publisher.run_build(build_id)


@shared_task
def check_sites_task() -> None:
    """Check every documented entity and queue builds for changed sources (periodic)."""
    scheduler.check_sites()


@shared_task
def check_run_task(run_id: int) -> None:
    """Check the documented entities a finished catalog run wrote or removed."""
    scheduler.check_run(run_id)


@shared_task
def check_entity_task(entity_ref: str, by: str = "", force: bool = False) -> None:
    """Check one entity's docs now (someone asked through the page or the sync API)."""
    scheduler.check_sites([entity_ref], "manual", force=force, by=by)
