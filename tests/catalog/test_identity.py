"""A signed-in account is matched to its catalog User entity and groups."""

from __future__ import annotations

from catalog import ingest
from catalog.identity import resolve

ORG = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: guild-python}
spec: {type: guild, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: Alice.Smith}
spec:
  profile: {email: Alice@Example.com}
  memberOf: [team-a, guild-python]
"""


def test_it_matches_by_username_ignoring_case(configure, write_file, register):
    # given
    register(write_file("org.yaml", ORG))

    # when
    identity = resolve("alice.smith")

    # then
    assert identity.user_ref == "user:default/alice.smith"
    assert identity.group_refs == ("group:default/guild-python", "group:default/team-a")
    assert identity.ownership_refs[0] == "user:default/alice.smith"


def test_it_matches_by_email_when_configured(settings, configure, write_file, register):
    # given
    settings.GREENROOM_IDENTITY_MATCH = "email"
    register(write_file("org.yaml", ORG))

    # when/then: the email decides, whatever the username
    assert resolve("asmith", "alice@example.com").user_ref == "user:default/alice.smith"
    assert resolve("alice.smith", "").user_ref is None


def test_it_owns_nothing_without_a_user_entity(configure, write_file, register):
    # given
    register(write_file("org.yaml", ORG))

    # when
    identity = resolve("mallory")

    # then
    assert identity.user_ref is None and identity.ownership_refs == ()


def test_it_sees_new_memberships_after_the_catalog_changes(configure, write_file, register):
    # given: alice resolved (and cached) before she joins a group
    path = write_file("org.yaml", ORG.replace("memberOf: [team-a, guild-python]", "memberOf: []"))
    location_run = register(path)
    assert resolve("alice.smith").group_refs == ()

    # when: the org file changes and is refreshed
    path.write_text(ORG)
    ingest.refresh_location(location_run.location)

    # then
    assert "group:default/team-a" in resolve("alice.smith").group_refs
