"""`/catalog-import` (analyze, then import) and `/locations` (runs, counts, polling rows)."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.utils import timezone

from catalog.choices import RunStatus, RunTrigger
from catalog.models import Entity, IngestionRun, Location
from tests.ui.conftest import doc, docs, html

# Registering runs the first ingestion when the transaction commits (inline in tests).
pytestmark = pytest.mark.django_db(transaction=True)

SPEC = {"type": "service", "lifecycle": "production", "owner": "team-a"}


def previewed(page: str) -> list[str]:
    """Return the refs the preview lists (kind:namespace/name, lower-cased)."""
    found = re.search(r"<ul data-preview-entities>(.*?)</ul>", page, re.S)
    refs = re.findall(r"<li><code>([^<]+)</code>", found.group(1)) if found else []
    return [ref.lower() for ref in refs]


def import_error(page: str) -> str:
    found = re.search(r"data-import-error>(.*?)</div>", page, re.S)
    return unescape(found.group(1)) if found else ""


@pytest.fixture
def good_file(write_file):
    """two.yaml (two components and a Location pointing at more/*.yaml) and its targets."""
    write_file("more/three.yaml", doc("Component", "three", SPEC))
    write_file("more/four.yaml", doc("API", "four", {**SPEC, "definition": "x: 1"}))
    return write_file(
        "two.yaml",
        docs(
            doc("Component", "one", SPEC, description="The first one"),
            doc("Component", "two", SPEC),
            doc("Location", "more", {"targets": ["./more/three.yaml", "./more/four.yaml"]}),
        ),
    )


def test_it_previews_the_entities_of_a_file_and_its_location_targets(
    configure, good_file, as_alice
):
    # when
    response = as_alice.post("/catalog-import", {"target": str(good_file), "action": "analyze"})

    # then
    page = html(response)
    refs = previewed(page)
    assert {"component:default/one", "component:default/two", "location:default/more"} <= set(refs)
    assert {"component:default/three", "api:default/four"} <= set(refs)
    assert "The first one" in page
    assert "data-preview-errors" not in page
    assert 'name="action" value="import"' in page
    assert f'name="target" value="{good_file}"' in page
    assert not Location.objects.exists()
    assert not Entity.objects.exists()


def test_it_answers_an_htmx_analyze_with_the_result_alone(configure, good_file, as_alice):
    # when
    response = as_alice.post(
        "/catalog-import",
        {"target": str(good_file), "action": "analyze"},
        HTTP_HX_REQUEST="true",
    )

    # then
    page = html(response)
    assert "<html" not in page
    assert "component:default/one" in previewed(page)


def test_it_shows_the_file_and_line_of_broken_yaml(configure, write_file, as_alice):
    # given
    broken = write_file(
        "broken.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: broken\n"
        "  description: a: b\nspec: {}\n",
    )

    # when
    response = as_alice.post("/catalog-import", {"target": str(broken), "action": "analyze"})

    # then
    page = html(response)
    problems = re.search(r"data-preview-errors>(.*?)</div>", page, re.S).group(1)
    assert f"<code>file:{broken}</code> line 5:" in problems


def test_it_shows_the_problems_of_an_invalid_entity(configure, write_file, as_alice):
    # given
    path = write_file("invalid.yaml", doc("Component", "bad", {**SPEC, "lifecycle": 7}))

    # when
    page = html(as_alice.post("/catalog-import", {"target": str(path), "action": "analyze"}))

    # then
    assert "data-preview-errors" in page
    assert "spec.lifecycle" in page
    assert "component:default/bad" not in previewed(page)


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/*.conf", "relative.yaml", "../x.yaml"])
def test_it_refuses_a_path_outside_the_allowed_reading_roots(configure, as_alice, target):
    # when
    page = html(as_alice.post("/catalog-import", {"target": target, "action": "analyze"}))

    # then
    assert import_error(page)
    assert "data-preview-entities" not in page
    assert "root:" not in page  # nothing of /etc/passwd is shown


def test_it_refuses_to_import_a_path_outside_the_allowed_reading_roots(configure, as_alice):
    # when
    page = html(as_alice.post("/catalog-import", {"target": "/etc/passwd", "action": "import"}))

    # then
    assert import_error(page)
    assert not Location.objects.exists()


def test_it_refuses_a_url_host_that_is_not_allowed(configure, as_alice):
    # when
    page = html(
        as_alice.post(
            "/catalog-import",
            {"target": "http://169.254.169.254/latest/meta-data", "action": "analyze"},
        )
    )

    # then
    assert import_error(page)


def test_it_shows_the_empty_form_on_get(configure, as_alice):
    # when
    page = html(as_alice.get("/catalog-import"))

    # then
    assert 'name="target"' in page
    assert "data-import-error" not in page
    assert "data-preview-entities" not in page


def test_it_registers_the_location_and_redirects_to_locations(configure, good_file, as_alice):
    # when
    response = as_alice.post("/catalog-import", {"target": str(good_file), "action": "import"})

    # then
    location = Location.objects.get()
    assert location.target == str(good_file) and location.type == "file"
    assert location.created_by == "alice"
    assert response.status_code == 302
    assert response["Location"] == f"/locations#location-{location.pk}"
    assert set(Entity.objects.filter(kind="component").values_list("name", flat=True)) == {
        "one",
        "two",
        "three",
    }
    assert Entity.objects.filter(ref="api:default/four").exists()


def test_it_says_a_location_is_already_registered(configure, good_file, as_alice):
    # given
    as_alice.post("/catalog-import", {"target": str(good_file), "action": "import"})

    # when
    response = as_alice.post("/catalog-import", {"target": str(good_file), "action": "import"})

    # then
    page = html(response)
    assert import_error(page) == f"file:{good_file} is already registered."
    assert Location.objects.count() == 1


def test_it_lists_locations_with_their_last_run(configure, good_file, as_alice):
    # given
    as_alice.post("/catalog-import", {"target": str(good_file), "action": "import"})
    location = Location.objects.get()
    run = location.latest_run()

    # when
    page = html(as_alice.get("/locations"))

    # then
    assert "Locations (1)" in page
    row = re.search(rf'<tr id="location-{location.pk}".*?</tr>', page, re.S).group(0)
    assert f"<code>file:{good_file}</code>" in row
    assert 'data-status="succeeded"' in row
    assert f"<td>{run.added} / {run.updated} / {run.unchanged} / {run.removed}</td>" in row
    assert run.added == 5  # one, two, more, three and four
    assert "hx-trigger" not in row


def test_it_shows_a_location_without_runs_as_never_run(configure, good_file, as_alice):
    # given
    location = Location.objects.create(type="file", target=str(good_file))

    # when
    page = html(as_alice.get(f"/locations/{location.pk}"))

    # then
    assert "never" in page
    assert 'data-status="none"' in page
    assert "hx-trigger" not in page


def test_it_polls_the_row_of_a_running_location(configure, good_file, as_alice):
    # given
    location = Location.objects.create(type="file", target=str(good_file))
    IngestionRun.objects.create(
        location=location,
        trigger=RunTrigger.REGISTRATION,
        status=RunStatus.RUNNING,
        started_at=timezone.now(),
        sources_total=3,
        sources_done=1,
    )

    # when
    row = html(as_alice.get(f"/locations/{location.pk}"))

    # then
    assert row.startswith(f'<tr id="location-{location.pk}"')
    assert f'hx-get="/locations/{location.pk}"' in row
    assert 'hx-trigger="every 2s"' in row
    assert "running: 1 of 3 files" in row


def test_it_stops_polling_once_the_run_finished(configure, good_file, register, as_alice):
    # given
    location = register(good_file).location

    # when
    row = html(as_alice.get(f"/locations/{location.pk}"))

    # then
    assert 'data-status="succeeded"' in row
    assert "hx-trigger" not in row
    assert "hx-get" not in row.split(">", 1)[0]


def test_it_answers_404_for_an_unknown_location(db, as_alice):
    # when
    response = as_alice.get("/locations/0f6d7c38-3a41-4d0a-9d55-7f1f2d6e9a10")

    # then
    assert response.status_code == 404


def test_it_refreshes_a_location(configure, good_file, register, as_alice):
    # given
    location = register(good_file).location
    runs = location.runs.count()

    # when
    response = as_alice.post(f"/locations/{location.pk}/refresh", HTTP_HX_REQUEST="true")

    # then
    row = html(response)
    assert row.startswith(f'<tr id="location-{location.pk}"')
    assert location.runs.count() == runs + 1
    assert location.latest_run().requested_by == "alice"


def test_it_redirects_to_locations_after_a_plain_refresh(configure, good_file, register, as_alice):
    # given
    location = register(good_file).location

    # when
    response = as_alice.post(f"/locations/{location.pk}/refresh")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/locations"
