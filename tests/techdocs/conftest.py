"""TechDocs fixtures: a documented component on disk, registered through real ingestion
(which queues the docs check, and in the tests' inline mode builds at once)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from catalog.models import IngestionRun
from tests.conftest import component

MKDOCS = """
site_name: Payments
nav:
  - Home: index.md
  - Guide:
      - Setup: guide/setup.md
"""
INDEX = """
# Payments

Takes the **money**. Read the [setup guide](guide/setup.md) first.

## Architecture

![diagram](img/diagram.png)

```python
def charge(amount):
    return amount
```

## Operations

Runbooks live here.
"""
SETUP = """
# Setup

## Install

Back to the [architecture](../index.md#architecture).

### Configure

Set `PAYMENTS_KEY`.
"""
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def write_site(folder: Path, files: dict[str, str | bytes] | None = None) -> Path:
    """Write a small mkdocs site (mkdocs.yml + docs/) into folder; extra files override."""
    contents: dict[str, str | bytes] = {
        "mkdocs.yml": MKDOCS,
        "docs/index.md": INDEX,
        "docs/guide/setup.md": SETUP,
        "docs/img/diagram.png": PNG,
    }
    contents.update(files or {})
    for name, value in contents.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(textwrap.dedent(value).lstrip("\n"), encoding="utf-8")
    return folder


def documented_component(name: str, ref: str = "dir:.", owner: str = "team-a", **extra) -> str:
    """Return a Component descriptor carrying a techdocs-ref."""
    doc = yaml.safe_load(component(name, owner=owner))
    doc["metadata"]["annotations"] = {"backstage.io/techdocs-ref": ref, **extra}
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture(autouse=True)
def _docs_storage(settings, tmp_path: Path) -> Path:
    """Each test publishes into its own folder."""
    settings.GREENROOM_TECHDOCS_DIR = tmp_path / "published"
    settings.GREENROOM_TECHDOCS_BUILDER = "local"
    return settings.GREENROOM_TECHDOCS_DIR


@pytest.fixture
def documented(register, catalog_dir: Path) -> Callable[..., IngestionRun]:
    """Return a function that writes a documented component (descriptor + site) and
    registers it; the docs are built by the time it returns."""

    def make(
        name: str = "payments",
        files: dict[str, str | bytes] | None = None,
        ref: str = "dir:.",
        site: bool = True,
        **extra: str,
    ) -> IngestionRun:
        folder = catalog_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        if site:
            write_site(folder, files)
        descriptor = folder / "catalog-info.yaml"
        descriptor.write_text(documented_component(name, ref, **extra), encoding="utf-8")
        return register(descriptor)

    return make
