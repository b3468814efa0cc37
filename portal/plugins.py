"""The plugin contract: the one module a plugin imports from Greenroom.

A plugin is a Django app (under `plugins/`, or any installed package) whose `__init__.py`
exports `config`, a `PortalPlugin` subclass. An admin enables it by listing it in
`PORTAL_PLUGINS` and configures it in `PORTAL_PLUGINS_CONFIG`; `portal/settings.py` calls
`load_plugins` at start-up, which imports each one, checks its version range, required
settings and settings schema, and stops start-up with `ImproperlyConfigured` naming the
plugin and the setting. When Django is ready, each plugin's `ready()` puts its
contributions into `portal.registry.registry`, where core code reads them: core never
imports a plugin.

What a plugin may contribute (class attributes of its config; see docs/plugins.md):
navigation, entity_tabs, entity_cards, cards (home/settings), urls.py at /plugins/<base_url>/,
api/urls.py at /api/<base_url>/, tasks.py and periodic_tasks, search_collators,
scaffolder_actions, catalog_processors, and its own models and migrations.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import importlib
import importlib.util
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured

from portal.registry import (
    ActionContext,
    ActionSpec,
    Card,
    CatalogProcessor,
    EntityCard,
    EntityTab,
    NavItem,
    ProcessorResult,
    SearchCollator,
    SearchDocument,
    registry,
)

__all__ = [
    "ActionContext",
    "ActionSpec",
    "Card",
    "CatalogProcessor",
    "EntityCard",
    "EntityTab",
    "NavItem",
    "PluginHealth",
    "PluginTimeout",
    "PortalPlugin",
    "ProcessorResult",
    "SearchCollator",
    "SearchDocument",
    "call_with_timeout",
    "dispatch",
    "enabled_plugins",
    "installed_plugins",
    "load_plugins",
    "plugin_settings",
]

log = logging.getLogger(__name__)

PORTAL_VERSION = "0.1.0"  # kept equal to portal.__version__ (a test checks)

# Paths under /api/ and /plugins/ that core owns; a plugin's base_url may not take them.
RESERVED_BASE_URLS = frozenset(
    {"catalog", "scaffolder", "techdocs", "search", "openapi", "auth", "plugins", "admin"}
)
DEFAULT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class PluginHealth:
    """What a plugin's health check says: "ok", "degraded" or "error", and why."""

    status: str = "ok"
    message: str = ""


class PortalPlugin(AppConfig):
    """Base class of every plugin's config. Subclass it and export it as `config`.

    Only `name`, `base_url` and `version` are required; every contribution defaults to none.
    """

    # -- identity --------------------------------------------------------------------------
    name: str  # the Python package, e.g. "plugins.kubernetes"
    base_url: ClassVar[str] = ""  # /plugins/<base_url>/ and /api/<base_url>/
    version: ClassVar[str] = "0.0.0"
    description: ClassVar[str] = ""
    author: ClassVar[str] = ""
    min_portal_version: ClassVar[str] = ""
    max_portal_version: ClassVar[str] = ""

    # -- settings (PORTAL_PLUGINS_CONFIG[name]) ----------------------------------------------
    required_settings: ClassVar[list[str]] = []
    default_settings: ClassVar[dict[str, Any]] = {}
    # A JSON Schema the merged settings must satisfy (checked at start-up).
    settings_schema: ClassVar[dict[str, Any] | None] = None
    # Settings shown masked on the Plugins page; any key naming a token, password, secret
    # or key is masked too.
    secret_settings: ClassVar[list[str]] = []
    # Seconds the Plugins page waits for health(); pass it to call_with_timeout for the
    # outside calls of tabs and cards (`call_with_timeout(f, timeout=self.timeout_seconds)`).
    timeout_seconds: ClassVar[float] = DEFAULT_TIMEOUT_SECONDS

    # -- contributions ------------------------------------------------------------------------
    navigation: ClassVar[list[NavItem]] = []
    entity_tabs: ClassVar[list[EntityTab]] = []
    entity_cards: ClassVar[list[EntityCard]] = []
    cards: ClassVar[list[Card]] = []
    # Celery beat entries: {"name": {"task": "plugins.x.tasks.y", "schedule": seconds}}.
    periodic_tasks: ClassVar[dict[str, dict[str, Any]]] = {}
    search_collators: ClassVar[list[SearchCollator]] = []
    scaffolder_actions: ClassVar[list[ActionSpec]] = []
    catalog_processors: ClassVar[list[CatalogProcessor]] = []

    @classmethod
    def validate_settings(cls, values: dict[str, Any]) -> None:
        """Check what settings_schema cannot say (unique names, say); raise ValueError.

        Called at start-up after the schema check, with the merged settings; the message
        is shown naming the plugin.
        """

    def ready(self) -> None:
        """Register the plugin's contributions. Override and call super() to add more."""
        for item in self.navigation:
            registry.add_nav_item(item)
        for tab in self.entity_tabs:
            registry.add_entity_tab(_with_owner(tab, self.name))
        for entity_card in self.entity_cards:
            registry.add_entity_card(_with_owner(entity_card, self.name))
        for card in self.cards:
            registry.add_card(_with_owner(card, self.name))
        for collator in self.search_collators:
            registry.add_search_collator(_with_owner(collator, self.name))
        for action in self.scaffolder_actions:
            registry.add_scaffolder_action(_with_owner(action, self.name))
        for processor in self.catalog_processors:
            registry.add_catalog_processor(_with_owner(processor, self.name))

    @property
    def settings(self) -> dict[str, Any]:
        """This plugin's merged settings (defaults overlaid with PORTAL_PLUGINS_CONFIG)."""
        return plugin_settings(self.name)

    def health(self) -> PluginHealth:
        """Say whether the plugin can do its job (reach its outside service, say).

        Called by the Plugins page within `timeout_seconds`; the default says "ok".
        """
        return PluginHealth()


_Contribution = TypeVar("_Contribution")


def _with_owner(item: _Contribution, plugin: str) -> _Contribution:
    """Return the contribution marked with the plugin that made it (for logs and errors)."""
    if not dataclasses.is_dataclass(item) or getattr(item, "plugin", ""):
        return item  # the registry rejects what is not a contribution
    return dataclasses.replace(item, plugin=plugin)  # type: ignore[type-var]


# -- loading (called from settings, before Django is set up) ---------------------------------


@dataclass
class LoadedPlugins:
    """What settings need from the enabled plugins."""

    apps: list[str] = field(default_factory=list)
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    beat_schedule: dict[str, dict[str, Any]] = field(default_factory=dict)


def plugin_config_class(module_name: str) -> type[PortalPlugin]:
    """Import a plugin package and return its `config` class, or raise ImproperlyConfigured."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"Plugin {module_name!r} in PORTAL_PLUGINS cannot be imported: {exc}"
        ) from exc
    config = getattr(module, "config", None)
    if not (isinstance(config, type) and issubclass(config, PortalPlugin)):
        raise ImproperlyConfigured(
            f"Plugin {module_name!r} must export `config`, a subclass of "
            "portal.plugins.PortalPlugin, in its __init__.py"
        )
    if getattr(config, "name", None) != module_name:
        raise ImproperlyConfigured(
            f"Plugin {module_name!r}: its config's name is {getattr(config, 'name', None)!r}; "
            "it must be the package name"
        )
    return config


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def validate_plugin_settings(
    plugin: type[PortalPlugin], given: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Return the plugin's merged settings, or raise naming the plugin and the setting."""
    name = plugin.name
    if given is not None and not isinstance(given, Mapping):
        raise ImproperlyConfigured(
            f"Plugin {name!r}: PORTAL_PLUGINS_CONFIG[{name!r}] must be an object of settings"
        )
    merged = {**plugin.default_settings, **(given or {})}
    for setting in plugin.required_settings:
        if setting not in merged:
            raise ImproperlyConfigured(
                f"Plugin {name!r}: required setting {setting!r} is missing from "
                f"PORTAL_PLUGINS_CONFIG[{name!r}]"
            )
    if plugin.settings_schema:
        import jsonschema

        validator = jsonschema.Draft202012Validator(plugin.settings_schema)
        problems = sorted(validator.iter_errors(merged), key=lambda e: list(e.absolute_path))
        if problems:
            first = problems[0]
            where = "".join(
                f"[{part}]" if isinstance(part, int) else (f".{part}" if i else str(part))
                for i, part in enumerate(first.absolute_path)
            )
            raise ImproperlyConfigured(
                f"Plugin {name!r}: setting {where or '(the settings object)'!r} is invalid: "
                f"{first.message}"
            )
    try:
        plugin.validate_settings(merged)
    except ValueError as exc:
        raise ImproperlyConfigured(f"Plugin {name!r}: {exc}") from exc
    return merged


def load_plugins(
    names: Iterable[str], config: Mapping[str, Any] | None, portal_version: str = PORTAL_VERSION
) -> LoadedPlugins:
    """Import and check every enabled plugin; return the apps, settings and schedules to add.

    Called from settings. Any problem stops start-up with a message naming the plugin and,
    where it is about a setting, the setting.
    """
    config = dict(config or {})
    loaded = LoadedPlugins()
    names = list(names)
    unknown = sorted(set(config) - set(names))
    if unknown:
        raise ImproperlyConfigured(
            f"PORTAL_PLUGINS_CONFIG configures {', '.join(unknown)}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not enabled in PORTAL_PLUGINS"
        )
    base_urls: dict[str, str] = {}
    for module_name in names:
        if module_name in loaded.apps:
            raise ImproperlyConfigured(f"Plugin {module_name!r} is listed twice in PORTAL_PLUGINS")
        plugin = plugin_config_class(module_name)
        version = _version_tuple(portal_version)
        if plugin.min_portal_version and version < _version_tuple(plugin.min_portal_version):
            raise ImproperlyConfigured(
                f"Plugin {module_name!r} needs Greenroom {plugin.min_portal_version} or later; "
                f"this is {portal_version}"
            )
        if plugin.max_portal_version and version > _version_tuple(plugin.max_portal_version):
            raise ImproperlyConfigured(
                f"Plugin {module_name!r} supports Greenroom up to {plugin.max_portal_version}; "
                f"this is {portal_version}"
            )
        base_url = plugin.base_url
        if not base_url or not base_url.replace("-", "").replace("_", "").isalnum():
            raise ImproperlyConfigured(
                f"Plugin {module_name!r}: base_url {base_url!r} must be a non-empty slug"
            )
        if base_url in RESERVED_BASE_URLS:
            raise ImproperlyConfigured(
                f"Plugin {module_name!r}: base_url {base_url!r} is reserved by Greenroom"
            )
        if base_url in base_urls:
            raise ImproperlyConfigured(
                f"Plugins {base_urls[base_url]!r} and {module_name!r} both use "
                f"base_url {base_url!r}"
            )
        base_urls[base_url] = module_name
        loaded.config[module_name] = validate_plugin_settings(plugin, config.get(module_name))
        for entry_name, entry in plugin.periodic_tasks.items():
            if "task" not in entry or "schedule" not in entry:
                raise ImproperlyConfigured(
                    f"Plugin {module_name!r}: periodic task {entry_name!r} needs task and schedule"
                )
            loaded.beat_schedule[f"{base_url}-{entry_name}"] = {
                "options": {"queue": "default", "expires": float(entry["schedule"]) * 3},
                **entry,
            }
        loaded.apps.append(module_name)
    return loaded


# -- at run time ------------------------------------------------------------------------------


def plugin_settings(name: str) -> dict[str, Any]:
    """Return the merged settings of an enabled plugin (read at call time: tests override)."""
    from django.conf import settings

    plugin = get_plugin(name)
    defaults = dict(plugin.default_settings) if plugin is not None else {}
    return {**defaults, **settings.PORTAL_PLUGINS_CONFIG.get(name, {})}


def enabled_plugins() -> list[PortalPlugin]:
    """Return the app configs of the enabled plugins, in PORTAL_PLUGINS order."""
    return [app for app in apps.get_app_configs() if isinstance(app, PortalPlugin)]


def get_plugin(name: str) -> PortalPlugin | None:
    """Return an enabled plugin's app config by package name or base_url."""
    for plugin in enabled_plugins():
        if name in (plugin.name, plugin.base_url):
            return plugin
    return None


def installed_plugins() -> list[type[PortalPlugin]]:
    """Return every plugin found under plugins/ (enabled or not) and the enabled ones."""
    from django.conf import settings

    found: dict[str, type[PortalPlugin]] = {}
    plugins_dir = settings.BASE_DIR / "plugins"
    for child in sorted(plugins_dir.iterdir()) if plugins_dir.is_dir() else []:
        module_name = f"plugins.{child.name}"
        if not (child / "__init__.py").is_file() or child.name.startswith("_"):
            continue
        try:
            found[module_name] = plugin_config_class(module_name)
        except ImproperlyConfigured:
            log.warning("plugins/%s is not a loadable plugin", child.name)
    for plugin in enabled_plugins():
        found.setdefault(plugin.name, type(plugin))
    return list(found.values())


def has_module(package: str, submodule: str) -> bool:
    """Return whether package.submodule exists, without importing it."""
    try:
        return importlib.util.find_spec(f"{package}.{submodule}") is not None
    except ModuleNotFoundError:
        return False


def dispatch(task: Any, *args: Any, priority: bool = False, countdown: float = 0.0) -> None:
    """Run a plugin's Celery task in the background once the current transaction commits.

    On Celery workers when a broker is set, else on the portal's in-process pool (the
    embedded default), where `task.delay()` would fail for want of a broker.
    """
    from portal import background  # not at import: settings import this module

    background.dispatch(task, *args, priority=priority, countdown=countdown)


class PluginTimeout(Exception):
    """An outside call of a plugin took longer than its time limit."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


_executor_lock = threading.Lock()
_executor: concurrent.futures.ThreadPoolExecutor | None = None

_T = TypeVar("_T")


def _shared_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=16, thread_name_prefix="plugin-call"
            )
        return _executor


def call_with_timeout(function: Callable[..., _T], *args: Any, timeout: float, **kwargs: Any) -> _T:
    """Run an outside call (HTTP, a cluster, a vendor SDK) and give up after `timeout` s.

    The page that waits gets PluginTimeout and can show it; the call finishes (or fails) on
    its own thread. Use it for network calls only: the thread has no database transaction
    of the request.
    """
    future = _shared_executor().submit(function, *args, **kwargs)
    try:
        return future.result(timeout=timeout)
    except concurrent.futures.TimeoutError as exc:
        raise PluginTimeout(timeout) from exc


def masked_settings(plugin: type[PortalPlugin] | PortalPlugin, values: Mapping[str, Any]) -> Any:
    """Return the settings with secrets replaced by "••••••" (for the Plugins page)."""
    secret_names = set(plugin.secret_settings)

    def is_secret(key: str) -> bool:
        lowered = key.lower()
        if key in secret_names or lowered.endswith("key"):  # apiKey, privateKey, key
            return True
        return any(word in lowered for word in ("token", "password", "secret", "credential"))

    def mask(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                key: ("••••••" if is_secret(str(key)) and item not in (None, "") else mask(item))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [mask(item) for item in value]
        return value

    return mask(values)
