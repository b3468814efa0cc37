"""`manage.py startplugin` makes a plugin that is ruff clean and whose own tests pass, and
refuses names that cannot be a plugin, saying why.

The plugin is generated into a temporary `plugins/` folder, never the checkout's: `plugins`
is a namespace package (no __init__.py), so with the temporary folder and the checkout both
on PYTHONPATH, `plugins.<name>` is found beside the in-tree plugins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command

REPO = Path(__file__).resolve().parent.parent
NAME = "acme_costs"
LONGEST_NAME = "a_plugin_with_the_longest_name"  # 30 characters, the most startplugin allows

EXPECTED_FILES = {
    "__init__.py",
    "cards.py",
    "tabs.py",
    "views.py",
    "urls.py",
    "README.md",
    f"templates/{NAME}/tab.html",
    f"templates/{NAME}/card.html",
    f"templates/{NAME}/index.html",
    "tests/__init__.py",
    f"tests/test_{NAME}.py",
}


def startplugin(name: str, directory: Path) -> str:
    """Run the command and return what it printed."""
    out = StringIO()
    call_command("startplugin", name, directory=directory, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder holding plugins/acme_costs and plugins/<longest name>, and what was printed."""
    root = tmp_path_factory.mktemp("startplugin")
    (root / "plugins").mkdir()
    printed = startplugin(NAME, root / "plugins")
    startplugin(LONGEST_NAME, root / "plugins")
    return root, printed


def sibling_database_url(url: str) -> str:
    """Return DATABASE_URL naming another database, so the subprocess's test database
    (test_<name>) is not the one this test run uses. SQLite's test file lives in the data
    folder, which the subprocess has its own of."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        return url
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_startplugin"))


def subprocess_env(root: Path) -> dict[str, str]:
    """Return the environment of a process that runs the generated plugin, and only it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(root), str(REPO)]),
        PORTAL_PLUGINS=f"plugins.{NAME}",
        DJANGO_SETTINGS_MODULE="tests.settings",
        GREENROOM_DATA_DIR=str(root / "data"),
    )
    if "DATABASE_URL" in os.environ:
        env["DATABASE_URL"] = sibling_database_url(os.environ["DATABASE_URL"])
    return env


def test_it_creates_the_plugin_and_says_what_to_do_next(generated: tuple[Path, str]) -> None:
    # given
    root, printed = generated
    folder = root / "plugins" / NAME

    # when
    files = {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}

    # then
    assert files == EXPECTED_FILES
    config = (folder / "__init__.py").read_text()
    assert 'name = "plugins.acme_costs"' in config and 'base_url = "acme-costs"' in config
    assert "PORTAL_PLUGINS=plugins.acme_costs" in printed
    assert "Restart" in printed and "make test" in printed and "/plugins/acme-costs/" in printed


def test_the_generated_code_is_ruff_clean(generated: tuple[Path, str]) -> None:
    # given: the repository's ruff settings, with first-party imports as in the checkout
    root, _ = generated
    config = [
        "--config",
        str(REPO / "pyproject.toml"),
        "--config",
        f"src = {[str(REPO), str(root)]!r}",
    ]

    # when
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *config, "plugins"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    formatting = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--diff", *config, "plugins"],
        cwd=root,
        capture_output=True,
        text=True,
    )

    # then
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_the_generated_package_joins_the_in_tree_plugins(generated: tuple[Path, str]) -> None:
    # when
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import plugins, plugins.{NAME} as p; print(p.config.name); print(*plugins.__path__)",
        ],
        cwd=REPO,
        env=subprocess_env(generated[0]),
        capture_output=True,
        text=True,
    )

    # then: one `plugins` package spans both folders
    assert found.returncode == 0, found.stderr
    name, paths = found.stdout.splitlines()
    assert name == f"plugins.{NAME}"
    assert str(generated[0] / "plugins") in paths.split() and str(REPO / "plugins") in paths.split()


def test_the_generated_tests_pass(generated: tuple[Path, str]) -> None:
    # given
    root, _ = generated

    # when: pytest with the repository's settings, on the generated plugin's tests only
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(REPO),
            "-p",
            "no:cacheprovider",
            "-q",
            str(root / "plugins" / NAME),
        ],
        cwd=REPO,
        env=subprocess_env(root),
        capture_output=True,
        text=True,
        timeout=240,
    )

    # then
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "4 passed" in output, output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("acme-costs", "'acme-costs' is not a Python identifier"),
        ("1acme", "'1acme' is not a Python identifier"),
        ("café", "'café' is not a Python identifier"),
        ("AcmeCosts", "'AcmeCosts' must be lower-case (e.g. 'acmecosts')"),
        ("_acme", "'_acme' must start with a letter"),
        ("class", "'class' is a Python keyword"),
        ("a" * 31, "is longer than 30 characters"),
        ("catalog", "'catalog' would use base_url 'catalog', which Greenroom reserves"),
        ("search", "'search' would use base_url 'search', which Greenroom reserves"),
        ("graph", "'graph' would use the entity tab path 'graph', which entity pages reserve"),
        ("portal", "'portal' is the label of the installed app 'portal'"),
        ("dummy_plugin", "'dummy_plugin' is the label of the installed app 'tests.dummy_plugin'"),
        ("json", "'json' conflicts with the name of an existing Python module"),
        ("dummy", "base_url 'dummy' is used by the plugin 'tests.dummy_plugin'"),
    ],
)
def test_it_rejects_a_name_that_cannot_be_a_plugin(tmp_path: Path, name: str, message: str) -> None:
    # given
    (tmp_path / "plugins").mkdir()

    # when
    with pytest.raises(CommandError) as raised:
        startplugin(name, tmp_path / "plugins")

    # then: it says why, and writes nothing
    assert message in str(raised.value)
    assert list((tmp_path / "plugins").iterdir()) == []


def test_it_rejects_a_folder_that_exists(tmp_path: Path) -> None:
    # given
    (tmp_path / "plugins" / NAME).mkdir(parents=True)

    # when / then
    with pytest.raises(CommandError, match=f"{tmp_path / 'plugins' / NAME} already exists"):
        startplugin(NAME, tmp_path / "plugins")


def test_it_rejects_a_plugin_package_that_exists_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: plugins.acme_costs importable from another folder on the path
    (tmp_path / "elsewhere" / "plugins" / NAME).mkdir(parents=True)
    (tmp_path / "elsewhere" / "plugins" / NAME / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(tmp_path / "elsewhere")
    (tmp_path / "plugins").mkdir()

    # when / then
    with pytest.raises(CommandError, match=f"plugins.{NAME} already exists"):
        startplugin(NAME, tmp_path / "plugins")


@pytest.mark.parametrize(
    ("folder", "message"),
    [("missing/plugins", "is not a folder"), ("extensions", "must be a folder named plugins")],
)
def test_it_rejects_a_directory_that_cannot_hold_plugins(
    tmp_path: Path, folder: str, message: str
) -> None:
    # given
    if folder == "extensions":
        (tmp_path / folder).mkdir()

    # when / then
    with pytest.raises(CommandError, match=message):
        startplugin(NAME, tmp_path / folder)
