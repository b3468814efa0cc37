"""A docs build through a real Celery worker process on the real Redis broker."""

from __future__ import annotations

import time

import pytest

from techdocs.models import DocsSite
from techdocs.storage import get_storage
from tests.catalog.test_celery_worker import wait_for, worker, worker_environment  # noqa: F401

pytestmark = pytest.mark.celery_worker


@pytest.fixture
def worker_env(monkeypatch, settings):
    # The worker publishes where this test reads.
    monkeypatch.setenv("GREENROOM_TECHDOCS_DIR", str(settings.GREENROOM_TECHDOCS_DIR))


def test_a_worker_builds_the_docs_a_catalog_run_queued(worker_env, worker, documented):  # noqa: F811
    # when: registration goes to the worker, whose run queues the docs check and the build
    run = documented()
    wait_for(run)

    # then
    deadline = time.monotonic() + 90
    while True:
        site = (
            DocsSite.objects.select_related("last_build")
            .filter(entity_ref="component:default/payments")
            .first()
        )
        if site and site.last_build and site.last_build.finished:
            break
        assert time.monotonic() < deadline, "the worker built nothing"
        time.sleep(0.3)
    assert site.last_build.status == "succeeded", site.last_build.log
    assert get_storage().has_site(site.triplet)
