"""Search documents of built docs, and `manage.py techdocs`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from portal.models import SearchEntry
from techdocs.models import DocsSite
from techdocs.storage import get_storage


def test_pages_and_sections_are_indexed_as_techdocs_documents(documented):
    # when
    documented()

    # then
    rows = {row.key: row for row in SearchEntry.objects.filter(type="techdocs")}
    home = rows["component:default/payments/"]
    assert home.location == "/docs/default/component/payments/"
    assert "Runbooks live here." in home.text
    section = rows["component:default/payments/#architecture"]
    assert section.location == "/docs/default/component/payments/#architecture"
    assert section.title.startswith("Architecture")
    assert rows["component:default/payments/guide/setup/#configure"].fields["owner"] == "team-a"
    assert home.kind == "component" and home.lifecycle == "production"


def test_removing_the_entity_removes_its_documents(documented, refresh, catalog_dir):
    # given
    run = documented()

    # when
    (catalog_dir / "payments" / "catalog-info.yaml").write_text("")
    refresh(run.location)

    # then
    assert not SearchEntry.objects.filter(type="techdocs").exists()


def test_publish_command_serves_a_site_built_elsewhere(documented, catalog_dir, tmp_path):
    # given: docs built by "CI" (here: a real mkdocs build), never by Greenroom
    from techdocs import builder

    documented(site=False)
    from tests.techdocs.conftest import write_site

    source = write_site(tmp_path / "ci")
    built = builder.build(source, tmp_path / "work", "ci", lambda line: None)

    # when
    call_command(
        "techdocs", "publish", "--entity", "component:default/payments",
        "--directory", str(built.site_dir), stdout=io.StringIO(),
    )  # fmt: skip

    # then
    site = DocsSite.objects.get(entity_ref="component:default/payments")
    assert get_storage().has_site(site.triplet)
    assert site.last_build.trigger == "published" and site.last_build.status == "succeeded"


def test_publish_command_refuses_a_folder_that_is_not_a_site(documented, tmp_path):
    documented(site=False)
    with pytest.raises(CommandError, match="not a built site"):
        call_command(
            "techdocs", "publish", "--entity", "component:default/payments",
            "--directory", str(tmp_path),
        )  # fmt: skip


def test_build_and_status_commands(documented):
    documented()
    out = io.StringIO()
    call_command(
        "techdocs", "build", "--entity", "component:default/payments", "--force", stdout=out
    )
    call_command("techdocs", "status", stdout=out)
    assert "succeeded" in out.getvalue()
