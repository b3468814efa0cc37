"""Where an entity's docs come from: its `backstage.io/techdocs-ref`, resolved and read.

- `dir:<path>` is relative to the folder of the entity's descriptor file (file locations),
  resolved the way the OS would (symlinks included) and refused outside the catalog's
  reading allowlist (catalog.reading.allow, PathGuard).
- `url:<git repository>` is cloned shallowly (`git clone --depth 1`) from an https host the
  allowlist names, or from a `file://` path inside an allowed folder (a local or bare
  repository). Anything else is refused with a message saying why.

The content hash of a source covers mkdocs.yml and the docs folder; a file whose size and
mtime are what they were last time is not read again (its previous hash is reused).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from django.conf import settings

from catalog.config import CatalogConfig, get_config
from catalog.readers import PathGuard

ANNOTATION = "backstage.io/techdocs-ref"
CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")
SKIPPED_FOLDERS = {".git", "node_modules", "site", "__pycache__", ".venv"}
GIT_TIMEOUT = 60


class SourceError(Exception):
    """Docs that cannot be prepared: bad reference, missing files, refused path or host."""


@dataclass(frozen=True)
class DocsRef:
    """A parsed techdocs-ref: type "dir" or "url" and its target."""

    type: str
    target: str

    def __str__(self) -> str:
        return f"{self.type}:{self.target}"


def parse_ref(value: object) -> DocsRef:
    """Return the parsed annotation value, or raise SourceError saying what is wrong."""
    if not isinstance(value, str) or ":" not in value:
        raise SourceError(f"{ANNOTATION} must look like 'dir:.' or 'url:https://…', got {value!r}")
    type_, target = value.split(":", 1)
    type_ = type_.strip().lower()
    target = target.strip()
    if type_ not in ("dir", "url") or not target:
        raise SourceError(
            f"{ANNOTATION} {value!r}: only dir:<folder> and url:<git repository> are supported"
        )
    return DocsRef(type_, target)


def entity_ref_value(body: dict[str, Any]) -> str:
    """Return the techdocs-ref annotation of an entity body ("" when absent)."""
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION, "")
    return value if isinstance(value, str) else ""


def descriptor_file(body: dict[str, Any], source_target: str | None) -> str | None:
    """Return the path of the file that declared the entity, when it came from a file."""
    if source_target and os.path.isabs(source_target):
        return source_target
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    managed = annotations.get("backstage.io/managed-by-location", "")
    if isinstance(managed, str) and managed.startswith("file:"):
        path = managed[len("file:") :]
        return path if os.path.isabs(path) else None
    return None


def resolve_dir(
    ref: DocsRef, body: dict[str, Any], source_target: str | None, config: CatalogConfig
) -> Path:
    """Return the allowed, resolved folder a dir: ref names (holding mkdocs.yml)."""
    descriptor = descriptor_file(body, source_target)
    if descriptor is None:
        raise SourceError(
            f"{ANNOTATION} {ref}: dir: references work for entities read from files; this "
            "entity came from a URL location, so use url:<git repository> instead"
        )
    if os.path.isabs(ref.target):
        raise SourceError(f"{ANNOTATION} {ref}: the folder must be relative to {descriptor}")
    folder = os.path.normpath(os.path.join(os.path.dirname(descriptor), ref.target))
    real = PathGuard(config).real_path(folder)
    if not config.path_allowed(Path(real)):
        raise SourceError(
            f"{ANNOTATION} {ref}: {real} is outside the folders the catalog may read "
            "(catalog.reading.allow)"
        )
    if not os.path.isdir(real):
        raise SourceError(f"{ANNOTATION} {ref}: the folder {real} does not exist")
    return Path(real)


def check_git_url(url: str, config: CatalogConfig) -> str:
    """Return a git URL that may be cloned, or raise SourceError saying why not."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        real = PathGuard(config).real_path(os.path.normpath(parsed.path))
        if not config.path_allowed(Path(real)):
            raise SourceError(
                f"{ANNOTATION} url:{url}: {real} is outside the folders the catalog may read "
                "(catalog.reading.allow)"
            )
        return f"file://{real}"
    if parsed.scheme == "https" and parsed.hostname:
        host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        if not config.host_allowed(host):
            raise SourceError(
                f"{ANNOTATION} url:{url}: host {host} is not in catalog.reading.allow"
            )
        if parsed.username or parsed.password:
            raise SourceError(f"{ANNOTATION} url:{url}: credentials in URLs are not accepted")
        return url
    raise SourceError(
        f"{ANNOTATION} url:{url}: only git repositories over https (from an allowed host) or "
        "file:// paths inside an allowed folder can be read"
    )


def _git_url_and_subdir(target: str) -> tuple[str, str]:
    # Backstage's URLs name a folder in a repository as .../tree/<branch>/<path>; for a plain
    # clone URL the docs sit at the repository's root. Also accept "<repo>#<subfolder>".
    if "#" in target:
        url, sub = target.split("#", 1)
        return url, sub.strip("/")
    match = re.match(r"^(https://[^/]+/[^/]+/[^/]+?)(?:\.git)?/(?:tree|blob)/[^/]+/?(.*)$", target)
    if match:
        return match.group(1), match.group(2).strip("/")
    return target, ""


def _git_env() -> dict[str, str]:
    # Never prompt for credentials or read the user's git config (hooks, helpers).
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/nonexistent",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ALLOW_PROTOCOL": "file:https",
    }


def remote_head(ref: DocsRef, config: CatalogConfig) -> str:
    """Return the commit the url: ref's repository HEAD points at (git ls-remote)."""
    url, _sub = _git_url_and_subdir(ref.target)
    checked = check_git_url(url, config)
    try:
        done = subprocess.run(
            ["git", "ls-remote", checked, "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=_git_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(f"{ANNOTATION} {ref}: git ls-remote took over {GIT_TIMEOUT}s") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise SourceError(f"{ANNOTATION} {ref}: cannot read the repository: {done.stderr.strip()}")
    return done.stdout.split()[0]


def clone(ref: DocsRef, config: CatalogConfig, into: Path) -> Path:
    """Clone a url: ref's repository shallowly into `into`; return the docs folder in it."""
    url, sub = _git_url_and_subdir(ref.target)
    checked = check_git_url(url, config)
    try:
        done = subprocess.run(
            ["git", "clone", "--depth", "1", "--quiet", "--no-tags", checked, str(into)],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=_git_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(f"{ANNOTATION} {ref}: git clone took over {GIT_TIMEOUT}s") from None
    if done.returncode != 0:
        raise SourceError(f"{ANNOTATION} {ref}: git clone failed: {done.stderr.strip()}")
    shutil.rmtree(into / ".git", ignore_errors=True)
    folder = (into / sub).resolve() if sub else into.resolve()
    if folder != into.resolve() and into.resolve() not in folder.parents:
        raise SourceError(f"{ANNOTATION} {ref}: the folder {sub!r} leaves the repository")
    if not folder.is_dir():
        raise SourceError(f"{ANNOTATION} {ref}: the repository has no folder {sub!r}")
    return folder


# --- mkdocs.yml ------------------------------------------------------------------------------


class Tagged:
    """A YAML value with a tag we do not interpret (`!!python/name:…`, `!ENV`), kept as is."""

    def __init__(self, tag: str, value: Any) -> None:
        self.tag = tag
        self.value = value


class _Loader(yaml.SafeLoader):
    pass


def _construct_tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(node.tag, value)


_Loader.add_multi_constructor("!", _construct_tagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_tagged)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    if isinstance(data.value, list):
        return dumper.represent_sequence(data.tag, data.value)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(data.tag, data.value)
    return dumper.represent_scalar(data.tag, str(data.value))


_Dumper.add_representer(Tagged, _represent_tagged)


def find_config(folder: Path) -> Path:
    """Return the mkdocs.yml (or .yaml) in folder, or raise SourceError."""
    for name in CONFIG_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise SourceError(f"no mkdocs.yml in {folder}: TechDocs needs one next to the docs/ folder")


def load_config(path: Path) -> dict[str, Any]:
    """Return mkdocs.yml as a mapping; a YAML error names its line and column."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise SourceError(
            f"{path.name} is not valid YAML ({where}): {exc.problem or exc.context}"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path.name} cannot be read as YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise SourceError(f"{path.name} must be a mapping (site_name: …, nav: …)")
    return raw


def docs_folder(config_path: Path, config: dict[str, Any]) -> Path:
    """Return the docs folder mkdocs.yml names (docs_dir, default docs/), which must exist."""
    name = config.get("docs_dir", "docs")
    if not isinstance(name, str) or os.path.isabs(name) or ".." in Path(name).parts:
        raise SourceError(f"{config_path.name}: docs_dir must be a folder next to it")
    folder = config_path.parent / name
    if not folder.is_dir():
        raise SourceError(
            f"the docs folder {name}/ is missing: {config_path.name} expects it at {folder}"
        )
    return folder


def with_techdocs_core(config: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Return mkdocs.yml with the techdocs-core plugin added if it lacks it (as Backstage's
    generator does), and whether it was added."""
    plugins = config.get("plugins")
    names: list[str] = []
    if isinstance(plugins, list):
        names = [p if isinstance(p, str) else next(iter(p), "") for p in plugins if p]
    elif isinstance(plugins, dict):
        names = list(plugins)
    if "techdocs-core" in names:
        return config, False
    updated = dict(config)
    if isinstance(plugins, dict):
        updated["plugins"] = {"techdocs-core": None, **plugins}
    else:
        updated["plugins"] = ["techdocs-core", *(plugins or [])]
    return updated, True


def dump_config(config: dict[str, Any]) -> str:
    """Return mkdocs.yml text for a mapping read by load_config (tags kept)."""
    return yaml.dump(config, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


# --- hashing ---------------------------------------------------------------------------------


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def iter_files(folder: Path, guard: PathGuard | None = None) -> list[tuple[str, os.stat_result]]:
    """Return (relative path, stat) of the files below folder, sorted, in one scandir walk.

    Hidden entries and build leftovers are skipped; links are followed only when they stay
    inside the allowlist (when a guard is given).
    """
    found: list[tuple[str, os.stat_result]] = []
    pending = [str(folder)]
    base = len(str(folder)) + 1
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIPPED_FOLDERS:
                continue
            if entry.is_symlink() and guard is not None and not guard.allowed(entry.path):
                continue
            try:
                if entry.is_dir():
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path[base:], entry.stat()))
            except OSError:
                continue
    found.sort()
    return found


def content_hash(
    folder: Path, previous: dict[str, list[Any]] | None = None, guard: PathGuard | None = None
) -> tuple[str, dict[str, list[Any]]]:
    """Return the hash of mkdocs.yml plus the docs tree, and the per-file record to keep.

    `previous` is the record of the last call: a file with the same size and mtime keeps its
    previous hash without being read.
    """
    previous = previous or {}
    config_path = find_config(folder)
    try:
        config = load_config(config_path)
        docs = docs_folder(config_path, config)
        prefix = docs.relative_to(config_path.parent).as_posix()
        files = [(config_path.name, config_path.stat())] + [
            (f"{prefix}/{relative}", stat) for relative, stat in iter_files(docs, guard)
        ]
    except SourceError:
        # A broken config still has a hash (of its bytes), so it is built once and its error
        # shown, and not rebuilt until it changes.
        files = [(config_path.name, config_path.stat())]
    # Hooks and other files mkdocs.yml may name sit next to it; they count too.
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name.endswith(".py") and not entry.name.startswith("."):
            files.append((entry.name, entry.stat()))
    record: dict[str, list[Any]] = {}
    digest = hashlib.sha256()
    for relative, stat in files:
        known = previous.get(relative)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            file_hash = known[2]
        else:
            try:
                file_hash = _hash_file(str(config_path.parent / relative))
            except OSError:
                continue
        record[relative] = [stat.st_size, stat.st_mtime_ns, file_hash]
        digest.update(f"{relative}\0{file_hash}\n".encode())
    return digest.hexdigest(), record


def copy_source(folder: Path, into: Path, guard: PathGuard | None = None) -> int:
    """Copy a docs source folder (mkdocs.yml's folder) into `into`; return the bytes copied.

    Symbolic links are copied as the files they point to only when those stay inside the
    allowlist; the total is capped by GREENROOM_TECHDOCS_MAX_SOURCE_BYTES.
    """
    limit = settings.GREENROOM_TECHDOCS_MAX_SOURCE_BYTES
    total = 0
    for relative, stat in iter_files(folder, guard):
        total += stat.st_size
        if total > limit:
            raise SourceError(
                f"the docs source is over {limit} bytes (GREENROOM_TECHDOCS_MAX_SOURCE_BYTES)"
            )
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / relative, target)
    return total


def catalog_config() -> CatalogConfig:
    """Return the catalog config whose allowlist governs what docs may be read."""
    return get_config()
