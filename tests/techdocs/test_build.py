"""Building, publishing and skipping: real mkdocs builds (inline tasks), storage on disk."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from django.test import override_settings

from catalog.models import Entity
from techdocs import scheduler
from techdocs.models import DocsBuild, DocsSite
from techdocs.storage import get_storage


def site(ref: str = "component:default/payments") -> DocsSite:
    return DocsSite.objects.select_related("last_build").get(entity_ref=ref)


def test_it_builds_and_publishes_a_documented_entity_in_backstages_layout(documented, settings):
    # when
    documented()

    # then
    found = site()
    assert found.last_build.status == "succeeded", found.last_build.log
    folder = Path(settings.GREENROOM_TECHDOCS_DIR) / "default" / "component" / "payments"
    assert (folder / "index.html").is_file()
    assert (folder / "guide" / "setup" / "index.html").is_file()
    assert (folder / "img" / "diagram.png").is_file()
    metadata = json.loads((folder / "techdocs_metadata.json").read_text())
    assert metadata["site_name"] == "Payments"
    assert "guide/setup/index.html" in metadata["files"]
    assert metadata["etag"] == found.built_hash and metadata["build_timestamp"] > 0
    assert found.last_build.duration_seconds is not None
    assert "Running mkdocs build" in found.last_build.log
    assert "Published" in found.last_build.log


def test_it_adds_the_techdocs_core_plugin_when_mkdocs_yml_lacks_it(documented):
    # when
    documented()

    # then: the build says so, and the plugin's metadata file is there
    assert "adding it" in site().last_build.log
    assert get_storage().read_metadata(site().triplet)["site_name"] == "Payments"


def test_a_second_pass_builds_nothing_when_nothing_changed(documented):
    # given
    documented()
    builds = DocsBuild.objects.count()

    # when
    result = scheduler.check_sites()

    # then
    assert result.queued == [] and result.unchanged == 1
    assert DocsBuild.objects.count() == builds


def test_a_changed_page_is_rebuilt(documented, catalog_dir):
    # given
    documented()
    page = catalog_dir / "payments" / "docs" / "guide" / "setup.md"

    # when
    page.write_text("# Setup\n\nNow with a new step.\n")
    os.utime(page, ns=(time.time_ns(), time.time_ns() + 5_000_000))
    result = scheduler.check_sites()

    # then
    assert len(result.queued) == 1
    html = get_storage().read_text(site().triplet, "guide/setup/index.html")
    assert "Now with a new step." in html


def test_unchanged_files_are_not_read_again_to_hash_them(documented, catalog_dir, monkeypatch):
    # given
    from techdocs import sources

    documented()
    read: list[str] = []
    original = sources._hash_file
    monkeypatch.setattr(sources, "_hash_file", lambda path: read.append(path) or original(path))

    # when
    scheduler.check_sites()

    # then
    assert read == []


def test_a_failing_build_keeps_the_last_good_site_online(documented, catalog_dir):
    # given
    documented()
    good = get_storage().read_text(site().triplet, "index.html")

    # when: the docs folder goes
    (catalog_dir / "payments" / "mkdocs.yml").write_text("site_name: Payments\ndocs_dir: nope\n")
    scheduler.check_sites()

    # then
    found = site()
    assert found.last_build.status == "failed"
    assert "docs folder nope/ is missing" in found.last_build.error
    assert get_storage().read_text(found.triplet, "index.html") == good


def test_a_broken_mkdocs_yml_fails_with_its_line(documented):
    # when
    documented(files={"mkdocs.yml": "site_name: Payments\nnav:\n  - Home: index.md\n - bad\n"})

    # then
    build = site().last_build
    assert build.status == "failed"
    assert "mkdocs.yml is not valid YAML (line 4" in build.error


def test_a_missing_docs_folder_is_a_clear_error(documented, catalog_dir):
    # given
    folder = catalog_dir / "payments"
    folder.mkdir()
    (folder / "mkdocs.yml").write_text("site_name: Payments\n")

    # when
    documented(site=False)

    # then
    build = site().last_build
    assert build.status == "failed"
    assert "the docs folder docs/ is missing" in build.error


def test_an_unknown_plugin_is_a_clear_error(documented):
    # when
    documented(files={"mkdocs.yml": "site_name: P\nplugins:\n  - techdocs-core\n  - nosuch\n"})

    # then
    build = site().last_build
    assert build.status == "failed"
    assert "nosuch" in build.error and "not installed" in build.error


def test_a_hanging_build_is_stopped_at_the_time_limit(documented, settings):
    # given: a hook that sleeps far longer than the limit
    settings.GREENROOM_TECHDOCS_BUILD_TIMEOUT = 3
    hooks = "import time\n\ndef on_config(config):\n    time.sleep(60)\n    return config\n"

    # when
    started = time.monotonic()
    documented(files={"mkdocs.yml": "site_name: P\nhooks:\n  - hooks.py\n", "hooks.py": hooks})

    # then
    assert time.monotonic() - started < 30
    build = site().last_build
    assert build.status == "failed"
    assert "took longer than 3 s" in build.error


def test_a_dir_ref_outside_the_allowlist_is_refused(documented, tmp_path):
    # when
    documented(ref="dir:../../outside", site=False)

    # then
    build = site().last_build
    assert build.status == "failed"
    assert "outside the folders the catalog may read" in build.error


def test_an_unsupported_url_ref_is_refused_clearly(documented):
    # when
    documented(ref="url:https://github.example/acme/payments", site=False)

    # then
    assert "is not in catalog.reading.allow" in site().last_build.error


def test_a_url_ref_to_an_allowed_git_repository_is_cloned_and_built(
    documented, catalog_dir, tmp_path
):
    # given: a bare repository inside the allowed folder
    import subprocess

    from tests.techdocs.conftest import write_site

    work = write_site(tmp_path / "work")
    identity = {"NAME": "t", "EMAIL": "t@e"}
    env = {
        **os.environ,
        **{f"GIT_{who}_{k}": v for who in ("AUTHOR", "COMMITTER") for k, v in identity.items()},
    }
    bare = catalog_dir / "repos" / "payments.git"
    for command in (
        ["git", "init", "-q", str(work)],
        ["git", "-C", str(work), "add", "."],
        ["git", "-C", str(work), "commit", "-qm", "docs"],
        ["git", "clone", "-q", "--bare", str(work), str(bare)],
    ):
        subprocess.run(command, check=True, env=env)

    # when
    documented(ref=f"url:file://{bare}", site=False)

    # then
    found = site()
    assert found.last_build.status == "succeeded", found.last_build.log
    assert get_storage().has_site(found.triplet)
    assert len(found.built_hash) == 40  # the commit


def test_removing_the_entity_removes_its_site(documented, refresh, catalog_dir):
    # given
    run = documented()
    triplet = site().triplet

    # when
    (catalog_dir / "payments" / "catalog-info.yaml").write_text("")
    refresh(run.location)

    # then
    assert not Entity.objects.filter(ref="component:default/payments").exists()
    assert not DocsSite.objects.exists()
    assert not get_storage().has_site(triplet)


@override_settings(GREENROOM_TECHDOCS_BUILDER="external")
def test_the_external_builder_never_builds(documented):
    # when
    documented()

    # then
    assert not DocsBuild.objects.exists()
