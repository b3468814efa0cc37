"""Backstage's TechDocs API paths: static files, metadata, entity, and the sync stream."""

from __future__ import annotations

import json

from techdocs import scheduler
from techdocs.models import DocsBuild


def events(response) -> list[tuple[str, object]]:
    """Parse a server-sent event stream into (event, data) pairs."""
    text = b"".join(response.streaming_content).decode()
    found = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_static_serves_site_files_with_their_content_types(documented, api):
    # given
    documented()
    base = "/api/techdocs/static/docs/default/component/payments"

    # when
    page = api.get(f"{base}/index.html")
    image = api.get(f"{base}/img/diagram.png")
    folder = api.get(f"{base}/guide/setup/")

    # then
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert "sandbox" in page["Content-Security-Policy"]
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert folder.status_code == 200 and b"Setup" in b"".join(folder.streaming_content)


def test_static_refuses_path_escapes(documented, api, settings):
    # given
    documented()
    (settings.GREENROOM_TECHDOCS_DIR / "secret.txt").write_text("no")
    base = "/api/techdocs/static/docs/default/component/payments"

    # when / then
    for path in ("../../../secret.txt", "..%2F..%2F..%2Fsecret.txt", "%2e%2e/%2e%2e/secret.txt"):
        response = api.get(f"{base}/{path}")
        assert response.status_code == 404, path
        assert response.json()["error"]["name"] == "NotFoundError"


def test_metadata_endpoints(documented, api):
    # given
    documented()

    # when
    techdocs = api.get("/api/techdocs/metadata/techdocs/default/component/payments").json()
    entity = api.get("/api/techdocs/metadata/entity/default/component/payments").json()
    missing = api.get("/api/techdocs/metadata/techdocs/default/component/nobody")

    # then
    assert techdocs["site_name"] == "Payments" and "files" in techdocs
    assert entity["metadata"]["name"] == "payments"
    assert entity["locationMetadata"] == {"type": "dir", "target": "."}
    assert missing.status_code == 404


def test_sync_streams_the_build_log_then_finish_updated(documented, api, catalog_dir):
    # given: docs built once, then a page changes
    documented()
    (catalog_dir / "payments" / "docs" / "index.md").write_text("# Payments\n\nChanged.\n")

    # when
    response = api.get(
        "/api/techdocs/sync/default/component/payments", HTTP_ACCEPT="text/event-stream"
    )

    # then
    assert response["Content-Type"] == "text/event-stream"
    found = events(response)
    assert found[-1] == ("finish", {"updated": True})
    assert any(kind == "log" and "Running mkdocs build" in data for kind, data in found)


def test_sync_finishes_not_updated_when_nothing_changed(documented, api):
    # given
    documented()
    builds = DocsBuild.objects.count()

    # when
    found = events(api.get("/api/techdocs/sync/default/component/payments"))

    # then
    assert found == [("finish", {"updated": False})]
    assert DocsBuild.objects.count() == builds


def test_sync_reports_a_failing_build_as_an_error_event(documented, api, catalog_dir):
    # given
    documented()
    (catalog_dir / "payments" / "mkdocs.yml").write_text("site_name: [unclosed\n")

    # when
    found = events(api.get("/api/techdocs/sync/default/component/payments"))

    # then
    kind, message = found[-1]
    assert kind == "error"
    assert "not valid YAML" in message
    assert scheduler.check_sites().queued == []  # and it is not retried until it changes
