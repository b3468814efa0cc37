"""Where published sites live: Backstage's layout (`{namespace}/{kind}/{name}/` holding
`index.html`, a folder per page, assets and `techdocs_metadata.json`) behind one interface.

`LocalStorage` keeps them under GREENROOM_TECHDOCS_DIR. Publishing is atomic: the new site
is copied into a fresh version folder, then a symbolic link `{name}` is swapped onto it with
one rename, so readers see the old site or the new one, never half of each, and a failed
build never touches what is online. (An S3-compatible storage would implement the same
four methods; it is not built yet.)
"""

from __future__ import annotations

import json
import mimetypes
import os
import shutil
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from django.conf import settings

METADATA_FILE = "techdocs_metadata.json"
_SEGMENT_OK = str.maketrans("", "", "/\\\x00")


class StorageError(Exception):
    """A site or file that cannot be published or read."""


def _segment(value: str) -> str:
    # Triplet parts become folder names: lower-cased like Backstage's default paths, and
    # never a path separator or "..".
    cleaned = value.lower().translate(_SEGMENT_OK)
    if cleaned in ("", ".", ".."):
        raise StorageError(f"{value!r} cannot name a docs folder")
    return cleaned


class Storage(ABC):
    """Published sites, addressed by entity triplet (namespace, kind, name)."""

    @abstractmethod
    def publish(self, triplet: tuple[str, str, str], site_dir: Path) -> None:
        """Replace the triplet's site with the files of site_dir, atomically."""

    @abstractmethod
    def has_site(self, triplet: tuple[str, str, str]) -> bool:
        """Return whether a site is published for the triplet."""

    @abstractmethod
    def file_path(self, triplet: tuple[str, str, str], path: str) -> Path | None:
        """Return a local path to serve for a file of the site (None if absent)."""

    @abstractmethod
    def delete(self, triplet: tuple[str, str, str]) -> None:
        """Remove the triplet's site."""

    def read_metadata(self, triplet: tuple[str, str, str]) -> dict[str, Any] | None:
        """Return the site's techdocs_metadata.json (None when absent or unreadable)."""
        path = self.file_path(triplet, METADATA_FILE)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def read_text(self, triplet: tuple[str, str, str], path: str) -> str | None:
        """Return a text file of the site (None when absent)."""
        found = self.file_path(triplet, path)
        if found is None:
            return None
        return found.read_text(encoding="utf-8", errors="replace")


class LocalStorage(Storage):
    """Sites in folders under `root`, each `{ns}/{kind}/{name}` a link to its version."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _link(self, triplet: tuple[str, str, str]) -> Path:
        namespace, kind, name = triplet
        return self.root / _segment(namespace) / _segment(kind) / _segment(name)

    def site_dir(self, triplet: tuple[str, str, str]) -> Path | None:
        """Return the resolved folder of the published site, or None."""
        link = self._link(triplet)
        if not link.exists():
            return None
        return link.resolve()

    def publish(self, triplet: tuple[str, str, str], site_dir: Path) -> None:
        link = self._link(triplet)
        versions = link.parent / ".versions"
        versions.mkdir(parents=True, exist_ok=True)
        version = versions / f"{link.name}-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        shutil.copytree(site_dir, version, symlinks=False)
        previous = link.resolve() if link.is_symlink() else None
        temporary = link.parent / f".{link.name}.{uuid.uuid4().hex}.link"
        os.symlink(os.path.relpath(version, link.parent), temporary)
        if link.exists() and not link.is_symlink():
            # A folder published by hand or an older layout: move it aside first.
            shutil.rmtree(link)
        os.replace(temporary, link)  # the atomic step
        if previous is not None and previous != version.resolve():
            shutil.rmtree(previous, ignore_errors=True)

    def has_site(self, triplet: tuple[str, str, str]) -> bool:
        folder = self.site_dir(triplet)
        return folder is not None and (folder / "index.html").is_file()

    def file_path(self, triplet: tuple[str, str, str], path: str) -> Path | None:
        folder = self.site_dir(triplet)
        if folder is None:
            return None
        if "\x00" in path:
            return None
        candidate = (folder / path.lstrip("/")).resolve()
        # No escapes: `..`, absolute paths and links out of the site are all refused.
        if candidate != folder and folder not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def delete(self, triplet: tuple[str, str, str]) -> None:
        link = self._link(triplet)
        target = link.resolve() if link.is_symlink() else None
        if link.is_symlink():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        if target is not None:
            shutil.rmtree(target, ignore_errors=True)


def content_type(path: str) -> str:
    """Return the Content-Type to serve a site file with."""
    guessed, encoding = mimetypes.guess_type(path)
    if encoding == "gzip":
        return "application/gzip"
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/javascript", "application/json"):
        return f"{guessed}; charset=utf-8"
    return guessed


def get_storage() -> Storage:
    """Return the configured storage (GREENROOM_TECHDOCS_STORAGE)."""
    return LocalStorage(Path(settings.GREENROOM_TECHDOCS_DIR))
