"""After a run changes the catalog, the catalog page's counts and options are computed in the
background, so the first person to open the page does not wait for them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from catalog import browse, ingest
from portal import background
from tests.conftest import component


def _page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/catalog").status_code == 200
    return len(captured)


def test_a_warmed_catalog_page_skips_its_counts_and_options(configure, write_file, register):
    # given: a catalog, and a person
    register(write_file("c.yaml", component("one") + "---\n" + component("two", type="library")))
    client = Client()
    client.force_login(get_user_model().objects.create_user("warm"))
    cold = _page_queries(client)
    cache.clear()

    # when
    warmed_kinds = browse.warm_catalog_pages()

    # then: the page reads its counts and options from the cache
    assert warmed_kinds >= 2  # component and location
    assert _page_queries(client) < cold - 3


@pytest.mark.parametrize(
    ("mode", "cache_url", "warms"),
    [
        ("embedded", "", True),  # the web process's own cache
        ("celery", "redis://127.0.0.1:6379/10", True),  # a cache the web shares
        ("celery", "", False),  # a worker's private memory: nobody would read it
        ("inline", "", False),  # tests and `--wait` commands
    ],
)
def test_a_run_that_changed_the_catalog_asks_for_warming_where_it_helps(
    settings, monkeypatch, mode, cache_url, warms
):
    # given
    sent = []
    settings.GREENROOM_CACHE_URL = cache_url
    monkeypatch.setattr(background, "mode", lambda: mode)
    monkeypatch.setattr(background, "dispatch", lambda task, *args, **kw: sent.append(task.name))

    # when
    ingest._warm_catalog_pages()

    # then
    assert sent == (["catalog.tasks.warm_catalog_pages_task"] if warms else [])


def test_warming_can_be_turned_off(settings, monkeypatch):
    settings.GREENROOM_WARM_CATALOG_PAGES = False
    sent = []
    monkeypatch.setattr(background, "mode", lambda: "embedded")
    monkeypatch.setattr(background, "dispatch", lambda task, *args, **kw: sent.append(task))

    ingest._warm_catalog_pages()

    assert sent == []
