"""`manage.py startplugin NAME [--directory DIR]` makes a working plugin to start from.

It copies portal/plugin_skeleton/ to plugins/NAME/ (or DIR/NAME/): a `PortalPlugin` config
with settings and a schema, an entity tab for Components, a home card, a page at
/plugins/<base_url>/, tests and a README. Skeleton files end in `-tpl` (so ruff and pytest
leave them alone) and are filled in with string.Template; "plugin_name" in a path becomes NAME.
"""

from __future__ import annotations

import importlib.util
import keyword
import string
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.plugins import PORTAL_VERSION, RESERVED_BASE_URLS, enabled_plugins
from portal.registry import RESERVED_TAB_PATHS, registry

SKELETON = Path(__file__).resolve().parent.parent.parent / "plugin_skeleton"
MAX_NAME_LENGTH = 30  # keeps every generated line within the 100 columns ruff allows


def plugin_context(name: str) -> dict[str, str]:
    """Return the values the skeleton's $placeholders are filled with."""
    return {
        "name": name,
        "module": f"plugins.{name}",
        "base_url": name.replace("_", "-"),
        "verbose_name": name.replace("_", " ").strip().capitalize(),
        "class_name": "".join(part.capitalize() for part in name.split("_")) + "Config",
        "portal_version": PORTAL_VERSION,
    }


def check_name(name: str) -> None:
    """Raise CommandError unless NAME can be a plugin's package name, label and base_url."""
    if not (name.isascii() and name.isidentifier()):
        raise CommandError(
            f"{name!r} is not a Python identifier: use letters, digits and underscores, "
            "starting with a letter (e.g. acme_costs)"
        )
    if name != name.lower():
        raise CommandError(f"{name!r} must be lower-case (e.g. {name.lower()!r})")
    if name.startswith("_"):
        raise CommandError(f"{name!r} must start with a letter (plugins/_* folders are skipped)")
    if keyword.iskeyword(name):
        raise CommandError(f"{name!r} is a Python keyword; pick another name")
    if len(name) > MAX_NAME_LENGTH:
        raise CommandError(f"{name!r} is longer than {MAX_NAME_LENGTH} characters")
    base_url = name.replace("_", "-")
    if base_url in RESERVED_BASE_URLS:
        raise CommandError(
            f"{name!r} would use base_url {base_url!r}, which Greenroom reserves "
            f"(reserved: {', '.join(sorted(RESERVED_BASE_URLS))})"
        )
    if base_url in RESERVED_TAB_PATHS:
        raise CommandError(
            f"{name!r} would use the entity tab path {base_url!r}, which entity pages reserve "
            f"(reserved: {', '.join(sorted(path for path in RESERVED_TAB_PATHS if path))})"
        )


def check_free(name: str, folder: Path) -> None:
    """Raise CommandError if NAME or its folder, label, base_url, tab or card is taken."""
    base_url = name.replace("_", "-")
    if folder.exists():
        raise CommandError(f"{folder} already exists")
    if (existing := _spec_location(f"plugins.{name}")) is not None:
        raise CommandError(f"plugins.{name} already exists ({existing}); pick another name")
    for app in apps.get_app_configs():
        if app.label == name:
            raise CommandError(
                f"{name!r} is the label of the installed app {app.name!r}; pick another name"
            )
    if (location := _spec_location(name)) is not None:
        # Django's startapp refuses these too: tests under plugins/NAME/ are imported as the
        # top-level package NAME by pytest, which would shadow (or be shadowed by) the module.
        raise CommandError(
            f"{name!r} conflicts with the name of an existing Python module ({location}); "
            f"pick another name (e.g. {name}_plugin)"
        )
    for plugin in enabled_plugins():
        if plugin.base_url == base_url:
            raise CommandError(f"base_url {base_url!r} is used by the plugin {plugin.name!r}")
    if any(tab.path == base_url for tab in registry.entity_tabs):
        raise CommandError(f"an entity tab with the path {base_url!r} is already registered")
    if any(card.key == base_url for card in registry.cards):
        raise CommandError(f"a card with the key {base_url!r} is already registered")


def _spec_location(module: str) -> str | None:
    """Return where an importable module lives, or None when there is no such module."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin != "namespace":
        return spec.origin
    return ", ".join(spec.submodule_search_locations or []) or module


def render_skeleton(context: dict[str, str]) -> dict[Path, str]:
    """Return each file of the new plugin (path relative to its folder) and its text."""
    files: dict[Path, str] = {}
    for source in sorted(SKELETON.rglob("*-tpl")):
        relative = source.relative_to(SKELETON)
        target = Path(*(part.replace("plugin_name", context["name"]) for part in relative.parts))
        text = string.Template(source.read_text(encoding="utf-8")).substitute(context)
        files[target.with_name(target.name.removesuffix("-tpl"))] = text
    return files


class Command(BaseCommand):
    help = "Create a new plugin (a tab for Components, a home card, a page, tests) to start from."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the plugin's name, a lower-case identifier: acme_costs")
        parser.add_argument(
            "--directory",
            type=Path,
            help="the plugins folder to create NAME/ in (default: plugins/ of this checkout)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        directory: Path = (options["directory"] or settings.BASE_DIR / "plugins").resolve()
        check_name(name)
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        if directory.name != "plugins":
            raise CommandError(
                f"{directory} must be a folder named plugins: the new package is imported "
                f"as plugins.{name}"
            )
        folder = directory / name
        check_free(name, folder)

        context = plugin_context(name)
        shown = (
            folder.relative_to(settings.BASE_DIR)
            if folder.is_relative_to(settings.BASE_DIR)
            else folder
        )
        files = render_skeleton(context)  # all of it first: nothing is written if one fails
        for relative, text in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

        self.stdout.write(self.style.SUCCESS(f"Created plugin {context['module']} in {folder}"))
        self.stdout.write(
            "\nNext steps:\n"
            f"  1. Enable it: add {context['module']} to PORTAL_PLUGINS, e.g.\n"
            f"       PORTAL_PLUGINS={context['module']}\n"
            "     (comma-separated with any plugins already enabled).\n"
            "  2. Restart the portal (`make run`, or the web processes and workers).\n"
            f"  3. Open any Component's page: the {context['verbose_name']!r} tab is there.\n"
            f"     The plugin's page is /plugins/{context['base_url']}/; change the tab in\n"
            f"     {shown / 'templates' / name / 'tab.html'}.\n"
            f"  4. Run its tests: make test PYTEST_ARGS={shown / 'tests'}\n"
            "     (the test settings enable every plugin under plugins/).\n"
            "  The whole plugin contract is described in docs/plugins.md."
        )
