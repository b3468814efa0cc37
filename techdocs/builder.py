"""Build one site: copy the sources to a temporary folder, run mkdocs there, return the site.

The build runs `python -m mkdocs build` (this interpreter's, so the plugins installed with
Greenroom) in its own process group with a time limit (GREENROOM_TECHDOCS_BUILD_TIMEOUT):
on expiry the whole group is killed, so a hook that hangs or spawns children cannot outlive
it. mkdocs.yml gets the techdocs-core plugin when it lacks it, as Backstage's generator does.
Every line mkdocs prints goes to `log` as it comes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from techdocs import sources
from techdocs.storage import METADATA_FILE

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MAX_LOG_LINE = 2000


class BuildError(Exception):
    """A build that failed; the message says why in words for the page."""


@dataclass
class BuiltSite:
    """The result of a successful build: the site folder and its metadata."""

    site_dir: Path
    metadata: dict[str, Any]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def run_mkdocs(
    config_file: Path, site_dir: Path, log: Callable[[str], None], timeout: float
) -> tuple[int, list[str]]:
    """Run mkdocs build; return its exit code and the lines it printed.

    Raises BuildError when the time limit passes (the process group is killed first).
    """
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
        # mkdocs-material prints a long banner about MkDocs 2.0 on every build.
        "NO_MKDOCS_2_WARNING": "1",
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    command = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--clean",
        "--config-file",
        str(config_file),
        "--site-dir",
        str(site_dir),
    ]
    process = subprocess.Popen(
        command,
        cwd=config_file.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its own process group, killed whole on timeout
    )
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _kill_group(process)

    timer = threading.Timer(timeout, expire)
    timer.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = _ANSI.sub("", raw.decode("utf-8", errors="replace")).rstrip()
            if not line.strip():
                continue
            line = line[:MAX_LOG_LINE]
            lines.append(line)
            log(line)
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            _kill_group(process)
            process.wait()
    if expired.is_set():
        raise BuildError(
            f"the build took longer than {timeout:g} s (GREENROOM_TECHDOCS_BUILD_TIMEOUT) "
            "and was stopped"
        )
    return code, lines


def _explain_failure(lines: list[str]) -> str:
    """Return the lines of mkdocs output that say what went wrong."""
    for line in lines:
        lowered = line.lower()
        if "is not installed" in lowered or "config value" in lowered:
            return line.strip()
    errors = [line.strip() for line in lines if line.lstrip().startswith(("ERROR", "Error"))]
    if errors:
        return " / ".join(errors[-3:])
    tail = [line.strip() for line in lines[-3:]]
    return " / ".join(tail) or "mkdocs exited without saying why"


def list_files(site_dir: Path) -> list[str]:
    """Return the site's files, relative, sorted (Backstage's metadata `files`)."""
    return sorted(
        str(path.relative_to(site_dir)).replace(os.sep, "/")
        for path in site_dir.rglob("*")
        if path.is_file()
    )


def write_metadata(site_dir: Path, etag: str, config: dict[str, Any] | None = None) -> dict:
    """Complete techdocs_metadata.json as Backstage's generator writes it; return it."""
    path = site_dir / METADATA_FILE
    try:
        metadata = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict):
        metadata = {}
    config = config or {}
    metadata.setdefault("site_name", str(config.get("site_name") or ""))
    if metadata.get("site_description") in (None, "None"):
        metadata["site_description"] = str(config.get("site_description") or "")
    metadata["etag"] = etag
    metadata["build_timestamp"] = int(time.time() * 1000)
    metadata["files"] = [f for f in list_files(site_dir) if f != METADATA_FILE]
    for key in ("repo_url", "edit_uri"):
        if isinstance(config.get(key), str) and key not in metadata:
            metadata[key] = config[key]
    path.write_text(json.dumps(metadata), encoding="utf-8")
    return metadata


def build(
    source: Path,
    workdir: Path,
    etag: str,
    log: Callable[[str], None],
    guard: Any = None,
    timeout: float | None = None,
) -> BuiltSite:
    """Build the docs whose mkdocs.yml sits in `source`, inside `workdir` (a fresh folder).

    Raises BuildError (or sources.SourceError) with a message for people.
    """
    timeout = float(timeout if timeout is not None else settings.GREENROOM_TECHDOCS_BUILD_TIMEOUT)
    config_path = sources.find_config(source)
    config = sources.load_config(config_path)
    sources.docs_folder(config_path, config)
    copy = workdir / "src"
    copy.mkdir(parents=True)
    copied = sources.copy_source(source, copy, guard)
    log(f"Copied {copied} bytes of sources to an isolated folder")
    patched, added = sources.with_techdocs_core(config)
    copied_config = copy / config_path.name
    if added:
        log("mkdocs.yml does not use the techdocs-core plugin: adding it")
        copied_config.write_text(sources.dump_config(patched), encoding="utf-8")
    site_dir = workdir / "site"
    started = timezone.now()
    log(f"Running mkdocs build (time limit {timeout:g} s)")
    code, lines = run_mkdocs(copied_config, site_dir, log, timeout)
    if code != 0:
        raise BuildError(f"mkdocs build failed (exit {code}): {_explain_failure(lines)}")
    if not (site_dir / "index.html").is_file():
        raise BuildError("mkdocs build produced no index.html (is there a docs/index.md?)")
    metadata = write_metadata(site_dir, etag, config)
    seconds = (timezone.now() - started).total_seconds()
    log(f"Built {len(metadata['files'])} files in {seconds:.1f} s")
    return BuiltSite(site_dir, metadata)
