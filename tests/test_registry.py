"""What plugins contribute through portal.registry shows up in the pages, and a broken
contribution costs only its own card or tab."""

from __future__ import annotations

import copy

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils.html import format_html

from portal.registry import Card, EntityTab, NavItem, registry
from tests.conftest import component


@pytest.fixture
def contributions():
    """Registry changes made by a test are undone after it."""
    saved = {name: copy.copy(value) for name, value in vars(registry).items()}
    yield registry
    for name, value in saved.items():
        setattr(registry, name, value)


@pytest.fixture
def client(transactional_db) -> Client:
    person = get_user_model().objects.create_user("dana", password="pw-for-tests-only")
    signed_in = Client()
    signed_in.force_login(person)
    return signed_in


def _boom(*args: object) -> str:
    raise RuntimeError("plugin bug")


def test_it_shows_contributed_sidebar_entries_cards_and_tabs(
    contributions, client, configure, write_file, register
):
    # given: a plugin's sidebar entry, home card and a tab for services only
    register(write_file("c.yaml", component("svc") + "---\n" + component("lib", type="library")))
    contributions.add_nav_item(NavItem("Costs", "/plugins/costs/", icon="puzzle"))
    contributions.add_card(
        Card("home", "costs", "Cloud costs", lambda r: format_html("<b>{}</b>", "$12"))
    )
    contributions.add_entity_tab(
        EntityTab(
            "costs",
            "Costs",
            lambda r, e: format_html("<p>{} costs $3</p>", e.name),
            types=("service",),
        )
    )

    # when
    home = client.get("/").content.decode()
    service = client.get("/catalog/default/component/svc").content.decode()
    tab = client.get("/catalog/default/component/svc/costs").content.decode()
    library = client.get("/catalog/default/component/lib")

    # then
    assert 'href="/plugins/costs/"' in home and "Costs" in home
    assert "Cloud costs" in home and "<b>$12</b>" in home
    assert 'href="/catalog/default/component/svc/costs"' in service
    assert "<p>svc costs $3</p>" in tab
    assert "/component/lib/costs" not in library.content.decode()
    assert client.get("/catalog/default/component/lib/costs").status_code == 404


def test_it_renders_an_error_card_in_place_of_a_failing_contribution(
    contributions, client, configure, write_file, register, caplog
):
    # given: a card and a tab that raise
    register(write_file("c.yaml", component("svc")))
    contributions.add_card(Card("home", "broken", "Broken card", _boom))
    contributions.add_entity_tab(EntityTab("broken", "Broken", _boom))

    # when
    home = client.get("/")
    tab = client.get("/catalog/default/component/svc/broken")

    # then: the pages work, the failures are shown in place and logged
    assert home.status_code == 200 and "This card could not be shown" in home.content.decode()
    assert "Starred entities" in home.content.decode()
    assert tab.status_code == 200 and "This tab could not be shown" in tab.content.decode()
    assert "plugin bug" in caplog.text


@pytest.mark.parametrize(
    "bad",
    [
        lambda: registry.add_entity_tab(EntityTab("api", "Shadow", _boom)),
        lambda: registry.add_entity_tab(EntityTab("a/b", "Slash", _boom)),
        lambda: registry.add_card(Card("sidebar", "x", "Wrong slot", _boom)),
        lambda: registry.add_card(Card("home", "starred", "Duplicate key", _boom)),
        lambda: registry.add_nav_item("not a NavItem"),  # type: ignore[arg-type]
    ],
)
def test_it_refuses_bad_contributions_at_registration(contributions, bad):
    with pytest.raises(ImproperlyConfigured):
        bad()
