"""User-supplied text made safe to show: Markdown rendered then sanitised, links checked.

Descriptions, README cards and (later) TechDocs pages come from descriptor files anyone can
edit, so nothing from them may run in a reader's browser: nh3 (ammonia) keeps a fixed set of
tags and attributes, drops scripts, styles and event handlers, and only lets links use
http(s), mailto and relative URLs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "span": {"class"},
    "div": {"class"},
    "th": {"align"},
    "td": {"align"},
}
_URL_SCHEMES = {"http", "https", "mailto"}
MAX_MARKDOWN_CHARS = 200_000


def sanitize_html(html: str, *, images: bool = True) -> SafeString:
    """Return HTML with everything that could run or restyle the page removed (and images,
    unless `images`)."""
    cleaned = nh3.clean(
        html,
        tags=_TAGS if images else _TAGS - {"img"},
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)


def render_markdown(text: object, *, images: bool = True) -> SafeString:
    """Return Markdown rendered to sanitised HTML ("" for no text)."""
    if not text or not isinstance(text, str):
        return mark_safe("")
    html = markdown_lib.markdown(
        text[:MAX_MARKDOWN_CHARS], extensions=["extra", "sane_lists"], output_format="html"
    )
    return sanitize_html(html, images=images)


def safe_url(url: object) -> str | None:
    """Return the URL if it is safe as a link target (http, https, mailto), else None.

    `javascript:`, `data:` and friends are refused, however they are spelled or padded.
    """
    if not isinstance(url, str):
        return None
    candidate = url.strip()
    if not candidate or any(ord(c) < 32 for c in candidate):
        return None
    scheme = urlsplit(candidate).scheme.lower()
    return candidate if scheme in _URL_SCHEMES else None
