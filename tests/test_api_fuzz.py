"""Schemathesis against our own OpenAPI description: whatever it sends, no route answers
with a server error (bad input is a 400 with a message, never a 500)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from portal.wsgi import application

TOKEN = "fuzz-token-" + "x" * 24

schema = schemathesis.openapi.from_wsgi("/api/openapi?format=json", application)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_input_makes_the_api_fail(case, transactional_db, configure, settings):
    settings.API_TOKENS = {"fuzz": TOKEN}
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400 and response.headers.get("Content-Type", [""])[0].startswith(
        "application/json"
    ):
        body = response.json()
        assert "error" in body or "errors" in body, body
