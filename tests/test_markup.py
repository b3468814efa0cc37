"""User-supplied Markdown and links are made safe before any page shows them."""

from __future__ import annotations

import pytest

from portal.markup import render_markdown, safe_url


def test_it_renders_markdown_and_removes_what_could_run():
    # given
    text = (
        "**Bold** [docs](https://docs.example) <script>alert(1)</script>\n\n"
        '<img src="x" onerror="alert(2)"> [bad](javascript:alert(3)) <style>body{}</style>'
    )

    # when
    html = render_markdown(text)

    # then
    assert "<strong>Bold</strong>" in html
    assert 'href="https://docs.example"' in html
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<style" not in html


@pytest.mark.parametrize("empty", [None, "", 42])
def test_it_renders_nothing_for_no_text(empty):
    assert render_markdown(empty) == ""


@pytest.mark.parametrize(
    "url",
    ["https://x.example/a", "http://x.example", "mailto:team@example.com"],
)
def test_it_accepts_web_and_mail_links(url):
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "",
        None,
        ["https://x.example"],
    ],
)
def test_it_refuses_links_that_could_run(url):
    assert safe_url(url) is None
