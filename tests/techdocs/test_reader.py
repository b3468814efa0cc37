"""The reader and the Docs tab: nav, toc, rewritten links, assets, sanitising, errors."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from techdocs import scheduler

READER = "/docs/default/component/payments/"


@pytest.fixture
def client_in(transactional_db) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.create(username="alice"))
    return client


def test_the_reader_shows_content_nav_and_toc(documented, client_in):
    # given
    documented()

    # when
    page = client_in.get(READER).content.decode()

    # then
    assert "<h1" in page and "Payments" in page
    nav = page.split('class="techdocs-nav"', 1)[1].split("</nav>\n  <article", 1)[0]
    assert f'href="{READER}guide/setup/"' in nav
    toc = page.split('class="techdocs-toc"', 1)[1]
    assert 'href="#architecture"' in toc and 'href="#operations"' in toc


def test_internal_links_stay_in_the_reader_and_assets_use_the_static_api(documented, client_in):
    # given
    documented()

    # when
    home = client_in.get(READER).content.decode()
    setup = client_in.get(f"{READER}guide/setup/").content.decode()

    # then
    assert f'href="{READER}guide/setup/"' in home
    assert 'src="/api/techdocs/static/docs/default/component/payments/img/diagram.png"' in home
    assert f'href="{READER}#architecture"' in setup


def test_code_keeps_its_highlighting_classes_and_stylesheet(documented, client_in):
    # given
    documented()

    # when
    page = client_in.get(READER).content.decode()

    # then
    assert 'class="highlight"' in page or "highlight" in page
    assert re.search(r'<span class="k">def</span>', page)
    assert "techdocs/pygments.css" in page


def test_scripts_and_handlers_from_docs_never_reach_the_page(documented, client_in):
    # given
    evil = (
        "# Evil\n\n<script>alert('x')</script>\n\n<img src=x onerror=\"alert('y')\">\n\n"
        '<a href="javascript:alert(1)">click</a>\n\n<iframe src="https://evil.example"></iframe>\n'
    )
    documented(files={"docs/index.md": evil})

    # when
    page = client_in.get(READER).content.decode()
    content = page.split('id="techdocs-content"', 1)[1].split("</article>", 1)[0]

    # then
    assert "<script" not in content and "alert(" not in content
    assert "onerror" not in content and "javascript:" not in content and "<iframe" not in content


def test_an_edit_link_comes_from_the_entitys_edit_url(documented, client_in):
    # given
    documented(**{"backstage.io/edit-url": "https://git.example/acme/payments/edit/main/x"})

    # when
    page = client_in.get(READER).content.decode()

    # then
    assert 'href="https://git.example/acme/payments/edit/main/x"' in page
    assert "Edit this page" in page


def test_an_edit_link_comes_from_mkdocs_edit_uri(documented, client_in):
    # given
    mkdocs = (
        "site_name: Payments\nrepo_url: https://git.example/acme/payments\n"
        "edit_uri: edit/main/docs/\n"
    )
    documented(files={"mkdocs.yml": mkdocs})

    # when
    page = client_in.get(f"{READER}guide/setup/").content.decode()

    # then
    assert 'href="https://git.example/acme/payments/edit/main/docs/guide/setup.md"' in page


def test_a_failed_build_shows_its_error_and_log_while_the_old_site_stays(
    documented, client_in, catalog_dir
):
    # given
    documented()
    (catalog_dir / "payments" / "mkdocs.yml").write_text("site_name: P\nplugins:\n  - nosuch\n")
    scheduler.check_sites()

    # when
    page = client_in.get(READER).content.decode()
    tab = client_in.get("/catalog/default/component/payments/docs").content.decode()

    # then
    for html in (page, tab):
        assert "data-build-error" in html and "nosuch" in html
        assert "the previous version is still shown" in html
        assert "Build log" in html
        assert "Runbooks live here." in html


def test_the_docs_tab_shows_the_home_page(documented, client_in):
    # given
    documented()

    # when
    tab = client_in.get("/catalog/default/component/payments/docs")
    overview = client_in.get("/catalog/default/component/payments").content.decode()

    # then
    assert tab.status_code == 200
    assert "Runbooks live here." in tab.content.decode()
    assert 'href="/catalog/default/component/payments/docs"' in overview


def test_an_unknown_page_is_a_404_with_a_way_home(documented, client_in):
    # given
    documented()

    # when
    response = client_in.get(f"{READER}no/such/page/")

    # then
    assert response.status_code == 404
    assert "not part of the documentation" in response.content.decode()
