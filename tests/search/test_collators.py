"""Plugins' collators: the dummy plugin's notes reach the index through the periodic task."""

from __future__ import annotations

import pytest
from django.conf import settings

from portal import tasks
from portal.registry import SearchCollator, registry
from portal.search import query, sources
from tests.dummy_plugin.models import DummyNote

pytestmark = pytest.mark.django_db


def test_the_collator_task_indexes_a_plugins_documents():
    # given
    note = DummyNote.objects.create(entity_ref="component:default/checkout", text="Rotate keys")

    # when
    tasks.refresh_search_collators_task()

    # then
    answer = query.search("rotate", types=["dummy-note"])
    assert answer["numberOfResults"] == 1
    result = answer["results"][0]
    assert result["type"] == "dummy-note"
    assert result["document"]["title"] == "Note on component:default/checkout"
    assert result["document"]["location"] == f"/plugins/dummy/#note-{note.pk}"
    assert result["document"]["entity"] == "component:default/checkout"
    assert (
        query.search("rotate", filters={"entity": "component:default/checkout"})["numberOfResults"]
        == 1
    )


def test_a_later_pass_replaces_the_documents():
    # given
    first = DummyNote.objects.create(entity_ref="component:default/a", text="alpha")
    DummyNote.objects.create(entity_ref="component:default/b", text="beta")
    tasks.refresh_search_collators_task()

    # when
    first.delete()
    tasks.refresh_search_collators_task()

    # then
    assert query.search("alpha")["numberOfResults"] == 0
    assert query.search("beta")["numberOfResults"] == 1


def test_a_failing_collator_keeps_its_documents(monkeypatch):
    # given
    DummyNote.objects.create(entity_ref="component:default/a", text="alpha")
    tasks.refresh_search_collators_task()
    collator = next(c for c in registry.search_collators if c.type == "dummy-note")

    def broken() -> list:
        raise RuntimeError("the notes service is down")

    monkeypatch.setattr(
        registry, "search_collators", [SearchCollator(collator.type, broken, collator.plugin)]
    )

    # when
    results = sources.refresh_collators()

    # then
    assert results["dummy-note"] == "failed: the notes service is down"
    assert query.search("alpha")["numberOfResults"] == 1


def test_the_collators_run_on_a_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["search-refresh-collators"]
    assert entry["task"] == "portal.tasks.refresh_search_collators_task"
