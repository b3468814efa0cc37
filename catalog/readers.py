"""Read catalog files and URLs, only where the reading allowlist says, with size limits.

Also expands a file location's glob and resolves Backstage's `$text`, `$json` and `$yaml`
placeholders relative to the file or URL that holds them, under the same allowlist — for
file locations too, which Backstage does not check.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import requests
import yaml

from catalog.choices import LocationType
from catalog.config import CatalogConfig, glob_root, is_glob
from catalog.descriptors import DescriptorError, _Loader

PLACEHOLDER_KEYS = ("$text", "$json", "$yaml")


class ReadError(Exception):
    """A target that could not be read. transient=True means trying later may work."""

    def __init__(self, message: str, transient: bool = False, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.missing = missing


class PathGuard:
    """Resolve paths as the OS would (symlinks included) to check them against the allowlist.

    Resolving a path costs an lstat per component; a guard remembers each folder it has
    resolved, so a batch of files in shared folders costs about one lstat per file.
    """

    def __init__(self, config: CatalogConfig) -> None:
        self.config = config
        self._folders: dict[str, str] = {}

    def real_folder(self, folder: str) -> str:
        known = self._folders.get(folder)
        if known is not None:
            return known
        parent = os.path.dirname(folder)
        if parent == folder:
            real = folder
        else:
            candidate = os.path.join(self.real_folder(parent), os.path.basename(folder))
            real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
        self._folders[folder] = real
        return real

    def real_path(self, path: str) -> str:
        if "/." in path:
            return os.path.realpath(path)  # rare: `..` must apply after links are resolved
        candidate = os.path.join(self.real_folder(os.path.dirname(path)), os.path.basename(path))
        return os.path.realpath(candidate) if os.path.islink(candidate) else candidate

    def allowed(self, path: str) -> bool:
        return self.config.path_allowed(Path(self.real_path(path)))


def check_file_path(target: str, config: CatalogConfig, guard: PathGuard | None = None) -> str:
    """Return a file target resolved if it may be read, else raise ReadError."""
    if not os.path.isabs(target):
        raise ReadError(f"{target}: file targets must be absolute paths")
    resolved = (guard or PathGuard(config)).real_path(target)
    if not config.path_allowed(Path(resolved)):
        raise ReadError(
            f"{target}: reading {resolved} is not allowed; add its folder to "
            "catalog.reading.allow in the config file"
        )
    return resolved


def read_file(target: str, config: CatalogConfig, guard: PathGuard | None = None) -> bytes:
    """Return a file's bytes, refusing paths outside the allowlist and oversized files."""
    path = check_file_path(target, config, guard)
    try:
        with open(path, "rb") as handle:
            data = handle.read(config.max_file_bytes + 1)
    except FileNotFoundError:
        raise ReadError(f"{target}: file not found", missing=True) from None
    except IsADirectoryError:
        raise ReadError(f"{target}: is a folder, not a file") from None
    except PermissionError:
        raise ReadError(f"{target}: permission denied") from None
    except OSError as exc:
        raise ReadError(f"{target}: {exc.strerror or exc}", transient=True) from None
    if len(data) > config.max_file_bytes:
        raise ReadError(
            f"{target}: file is over the limit of {config.max_file_bytes} bytes "
            "(catalog.maxFileBytes)"
        )
    return data


def check_url(url: str, config: CatalogConfig) -> None:
    """Raise ReadError unless url is http(s) on an allowlisted host."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ReadError(f"{url}: only http and https URLs can be read")
    host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
    if not (config.host_allowed(host) or config.host_allowed(parsed.hostname)):
        raise ReadError(
            f"{url}: host {host} is not on the reading allowlist (catalog.reading.allow)"
        )


def read_url(url: str, config: CatalogConfig) -> bytes:
    """Fetch a URL on an allowlisted host; redirects are followed only to allowlisted hosts."""
    for _hop in range(5):
        check_url(url, config)
        try:
            with requests.get(
                url,
                timeout=config.read_timeout_seconds,
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/yaml, text/plain, */*"},
            ) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code == 404:
                    raise ReadError(f"{url}: not found (HTTP 404)", missing=True)
                if response.status_code >= 500 or response.status_code == 429:
                    raise ReadError(f"{url}: HTTP {response.status_code}", transient=True)
                if response.status_code >= 400:
                    raise ReadError(f"{url}: HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_content(65536):
                    body.extend(chunk)
                    if len(body) > config.max_file_bytes:
                        raise ReadError(
                            f"{url}: response is over the limit of {config.max_file_bytes} "
                            "bytes (catalog.maxFileBytes)"
                        )
                return bytes(body)
        except requests.Timeout:
            raise ReadError(f"{url}: timed out", transient=True) from None
        except requests.ConnectionError as exc:
            raise ReadError(
                f"{url}: cannot connect ({exc.__class__.__name__})", transient=True
            ) from None
        except requests.RequestException as exc:
            raise ReadError(f"{url}: {exc}", transient=True) from None
    raise ReadError(f"{url}: too many redirects")


def read_target(
    type_: str, target: str, config: CatalogConfig, guard: PathGuard | None = None
) -> bytes:
    """Read a source of either type."""
    if type_ == LocationType.FILE:
        return read_file(target, config, guard)
    return read_url(target, config)


def check_glob_root(target: str, config: CatalogConfig) -> str:
    """Return the glob's root folder if reading may happen below it, else raise ReadError."""
    if not os.path.isabs(target):
        raise ReadError(f"{target}: file targets must be absolute paths")
    root = glob_root(target)
    real = Path(PathGuard(config).real_path(root))
    # The root itself must be inside the allowlist: the walk below trusts what it finds.
    if not config.path_allowed(real):
        raise ReadError(f"{target}: reading under {root} is not allowed (catalog.reading.allow)")
    return root


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a relative glob (`**` for any folders, `*`, `?`, `[..]`) to a regex."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        char = pattern[index]
        end = pattern.find("]", index + 1) if char == "[" else -1
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif end != -1:
            body = pattern[index + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def iter_file_target(target: str, config: CatalogConfig) -> Iterator[str]:
    """Yield the files a file target names: itself, or what its glob matches, as found.

    Globs are walked with scandir: hidden files and folders are skipped, symbolic links to
    folders are not followed, and a linked file counts only if it resolves inside the
    allowlist. Raises ReadError (at the first step) for a root outside the allowlist.
    """
    if not is_glob(target):
        yield target
        return
    root = check_glob_root(target, config)
    matcher = _glob_regex(target[len(root) :].lstrip("/"))
    guard = PathGuard(config)
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
                continue
            if not matcher.match(entry.path[len(root) :].lstrip("/")) or not entry.is_file():
                continue
            if entry.is_symlink() and not guard.allowed(entry.path):
                continue
            yield entry.path


def resolve_child_target(base_type: str, base_target: str, target: str) -> tuple[str, str]:
    """Resolve a Location entity's target relative to the file or URL that declares it."""
    if urlparse(target).scheme in ("http", "https"):
        return LocationType.URL, target
    if base_type == LocationType.URL:
        return LocationType.URL, urljoin(base_target, target)
    return LocationType.FILE, os.path.normpath(os.path.join(os.path.dirname(base_target), target))


def has_placeholders(value: Any) -> bool:
    """Return whether any mapping in value is a $text/$json/$yaml placeholder."""
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in PLACEHOLDER_KEYS:
            return True
        return any(has_placeholders(v) for v in value.values())
    if isinstance(value, list):
        return any(has_placeholders(v) for v in value)
    return False


def resolve_placeholders(
    value: Any, base_type: str, base_target: str, config: CatalogConfig, path: str = ""
) -> Any:
    """Return value with every placeholder replaced by what it refers to.

    Raises DescriptorError naming the field for an unreadable or malformed reference.
    """
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in PLACEHOLDER_KEYS:
            ((key, reference),) = value.items()
            return _resolve_one(key, reference, base_type, base_target, config, path)
        return {
            k: resolve_placeholders(v, base_type, base_target, config, f"{path}.{k}" if path else k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            resolve_placeholders(v, base_type, base_target, config, f"{path}[{i}]")
            for i, v in enumerate(value)
        ]
    return value


def _resolve_one(
    key: str, reference: Any, base_type: str, base_target: str, config: CatalogConfig, path: str
) -> Any:
    if not isinstance(reference, str) or not reference:
        raise DescriptorError(f"{path}: {key} must be a path or URL", field=path)
    type_, target = resolve_child_target(base_type, base_target, reference)
    try:
        raw = read_target(type_, target, config)
        text = raw.decode("utf-8-sig")
    except ReadError as exc:
        raise DescriptorError(f"{path}: {key} {reference}: {exc.message}", field=path) from None
    except UnicodeDecodeError:
        raise DescriptorError(f"{path}: {key} {reference}: not UTF-8 text", field=path) from None
    if key == "$text":
        return text
    try:
        if key == "$json":
            return json.loads(text)
        return yaml.load(text, Loader=_Loader)
    except (ValueError, yaml.YAMLError) as exc:
        raise DescriptorError(
            f"{path}: {key} {reference}: cannot be parsed: {exc}", field=path
        ) from None
