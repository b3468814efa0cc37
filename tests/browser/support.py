"""Helpers the browser tests share: descriptor files, ingestion, the catalog table, URLs."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import yaml
from playwright.sync_api import Locator, Page, expect

from catalog import ingest
from catalog.models import IngestionRun, Location


def descriptor(kind: str, name: str, spec: dict[str, Any] | None = None, **metadata: Any) -> dict:
    """Return one catalog descriptor (backstage.io/v1alpha1) as a mapping."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, **metadata},
        "spec": spec or {},
    }


def write_descriptors(folder: Path, *documents: dict, file_name: str = "catalog-info.yaml") -> Path:
    """Write the descriptors as one multi-document YAML file and return its path."""
    path = folder / file_name
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return path


def register_file(path: Path) -> Location:
    """Register a file location here, in the test process, and ingest it (tasks run inline)."""
    location, run = ingest.register_location("file", str(path), by="browser-tests")
    run.refresh_from_db()
    assert run.status == "succeeded", (run.status, run.errors, run.failure)
    return location


def wait_for_ingestion(timeout: float = 30) -> None:
    """Wait until the portal has no ingestion run pending or running (so none outlives the
    test and writes into the next one's database)."""
    deadline = time.monotonic() + timeout
    while IngestionRun.objects.active().exists():
        assert time.monotonic() < deadline, list(IngestionRun.objects.active().values())
        time.sleep(0.05)


def result_rows(page: Page) -> Locator:
    """The rows of the catalog table (entities only, not the "no match" row)."""
    return page.locator("#catalog-results tbody tr").filter(has=page.locator(".star-form"))


def result_names(page: Page) -> list[str]:
    """The names shown in the catalog table's Name column, top to bottom."""
    return [text.strip() for text in result_rows(page).locator("td:nth-child(2)").all_inner_texts()]


def expect_results(page: Page, label: str, count: int) -> None:
    """Wait until the results heading reads `label (count)`, e.g. `Components (33)`."""
    expect(page.locator("#results-heading")).to_have_text(f"{label} ({count})")


def url_param(name: str, value: str) -> re.Pattern[str]:
    """A pattern matching a URL whose query has name=value (value URL-encoded or not)."""
    choices = {
        re.escape(value),
        re.escape(quote_plus(value)),
        re.escape(quote_plus(value, safe="")),
    }
    return re.compile(rf"[?&]{re.escape(name)}=({'|'.join(choices)})(&|$)")
