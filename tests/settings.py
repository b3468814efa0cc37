"""Settings for the test suite: the portal's, with the test plugin and every in-tree plugin on.

Enabling each package under plugins/ means a plugin's own tests (plugins/<name>/tests/) run in
`make test` as soon as the plugin exists, including one just made by `manage.py startplugin`.
Subprocesses the tests start (Celery workers, runserver) inherit DJANGO_SETTINGS_MODULE and
these variables, so they load the same plugins.
"""

import os
from pathlib import Path

_in_tree = sorted(
    f"plugins.{child.name}"
    for child in (Path(__file__).resolve().parent.parent / "plugins").iterdir()
    if (child / "__init__.py").is_file() and not child.name.startswith("_")
)
os.environ.setdefault("PORTAL_PLUGINS", ",".join(["tests.dummy_plugin", *_in_tree]))

from portal.settings import *  # noqa: E402, F403
