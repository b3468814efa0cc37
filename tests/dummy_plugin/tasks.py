from __future__ import annotations

from celery import shared_task


@shared_task(name="tests.dummy_plugin.tasks.record_tick")
def record_tick(text: str = "tick") -> int:
    """Write a note (a plugin's Celery task, also on a periodic schedule)."""
    from tests.dummy_plugin.models import DummyNote

    return DummyNote.objects.create(entity_ref="component:default/ticker", text=text).pk
