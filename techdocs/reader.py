"""Show a published page inside the portal: its content, the site's navigation and the page's
table of contents, with links rewritten and everything sanitised.

The site's HTML is the source (so sites built elsewhere show the same): the content is
Material's `article.md-content__inner` (or `<main>`, or `<body>`), the navigation its primary
sidebar, the table of contents its secondary one. Links to other pages become reader URLs
(`/docs/{ns}/{kind}/{name}/{page}`), images and other files go through the static API, and
nh3 keeps a fixed list of tags and attributes suited to mkdocs output (highlighting classes
included): scripts, styles, event handlers and `javascript:` links from docs never reach the
browser.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import nh3
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from techdocs.models import DocsSite
from techdocs.storage import Storage

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "nav", "ol", "p", "pre", "q",
    "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
}
# Removed with everything inside them (not just the tags).
DROPPED = {
    "script", "style", "label", "svg", "noscript", "template", "input", "button", "iframe",
    "form", "textarea", "select", "object", "embed", "math",
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
_EDIT_BUTTON = re.compile(
    r'<a\b[^>]*class="[^"]*md-content__button[^"]*"[^>]*>.*?</a>', re.DOTALL | re.IGNORECASE
)
_EDIT_HREF = re.compile(
    r'<a\b[^>]*href="([^"]+)"[^>]*title="Edit this page"|'
    r'<a\b[^>]*title="Edit this page"[^>]*href="([^"]+)"',
    re.IGNORECASE,
)
_PAGE_EXTENSIONS = ("", ".html", ".htm")
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class ReaderPage:
    """One page ready for the reader template (HTML parts already sanitised)."""

    path: str  # the page's path in the site, "" for the home page, else ending in "/"
    title: str
    content: SafeString
    nav: SafeString
    toc: SafeString
    edit_url: str | None


class _Extractor(HTMLParser):
    """Collect the inner HTML of the first element matching each wanted predicate."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}  # fmt: skip

    def __init__(self, wanted: dict[str, tuple[str, str]]) -> None:
        super().__init__(convert_charrefs=False)
        self.wanted = wanted  # name -> (tag, class fragment)
        self.found: dict[str, list[str]] = {}
        self.open: dict[str, int] = {}  # name -> depth while collecting
        self.inside: dict[str, tuple[str, str]] = {}  # name -> the enclosing wanted element
        self.parents: list[tuple[str, str]] = []

    def _emit(self, text: str) -> None:
        for name in self.open:
            self.found[name].append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        self._emit(raw)
        classes = dict(attrs).get("class") or ""
        for name, (want_tag, fragment) in self.wanted.items():
            if name in self.found or want_tag != tag:
                continue
            if fragment and fragment not in classes.split():
                continue
            self.found[name] = []
            self.open[name] = 0
        if tag not in self.VOID:
            for name in self.open:
                self.open[name] += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._emit(self.get_starttag_text() or f"<{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        closing = []
        for name in list(self.open):
            self.open[name] -= 1
            if self.open[name] == 0:
                closing.append(name)
        for name in closing:
            del self.open[name]
        self._emit(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(f"&#{name};")


def extract(html: str) -> dict[str, str]:
    """Return the content, nav and toc HTML of a built page (whatever the theme had)."""
    parser = _Extractor(
        {
            "article": ("article", "md-content__inner"),
            "nav": ("nav", "md-nav--primary"),
            "toc_sidebar": ("div", "md-sidebar--secondary"),
            "main": ("main", ""),
            "body": ("body", ""),
        }
    )
    parser.feed(html)
    parser.close()
    parts = {name: "".join(chunks) for name, chunks in parser.found.items()}
    content = parts.get("article") or parts.get("main") or parts.get("body") or html
    return {"content": content, "nav": parts.get("nav", ""), "toc": parts.get("toc_sidebar", "")}


def page_file(path: str) -> str:
    """Return the file of a reader path: "" -> index.html, "a/b/" -> a/b/index.html."""
    path = path.lstrip("/")
    if not path or path.endswith("/"):
        return f"{path}index.html"
    if path.endswith((".html", ".htm")):
        return path
    return f"{path}/index.html"


def reader_url(site: DocsSite, page: str = "", fragment: str = "") -> str:
    """Return the portal URL of a page of the site (Backstage's /docs/{ns}/{kind}/{name}/…)."""
    base = reverse("techdocs:reader", args=[site.namespace, site.kind, site.name])
    return base + quote(page) + (f"#{fragment}" if fragment else "")


def static_url(site: DocsSite, path: str) -> str:
    """Return the static API URL of a file of the site."""
    base = reverse("techdocs-api:static-root", args=[site.namespace, site.kind, site.name])
    return base + quote(path)


class Rewriter:
    """Rewrite one page's link and image URLs to stay inside the portal."""

    def __init__(self, site: DocsSite, page_path: str) -> None:
        self.site = site
        self.page_dir = posixpath.dirname(page_file(page_path))

    def target(self, value: str) -> tuple[str, str] | None:
        """Return (site path, fragment) of a relative URL, None if it leaves the site."""
        parts = urlsplit(value)
        base = "" if self.page_dir == "." else self.page_dir
        joined = posixpath.normpath(posixpath.join(base, parts.path or "."))
        if joined == ".":
            joined = ""  # the site's root
        if joined.startswith(("..", "/")):
            return None
        if parts.path.endswith("/") and joined:
            joined += "/"
        return joined, parts.fragment

    def link(self, value: str) -> str | None:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            return value if parts.scheme in URL_SCHEMES else None
        if value.startswith("#"):
            return value
        if value.startswith("/"):
            return None  # an absolute path on some other server's layout
        found = self.target(value)
        if found is None:
            return None
        path, fragment = found
        if posixpath.splitext(path.rstrip("/"))[1] in _PAGE_EXTENSIONS:
            page = path
            if page.endswith("index.html"):
                page = page[: -len("index.html")]
            elif page and not page.endswith("/") and not page.endswith(".html"):
                page += "/"
            return reader_url(self.site, page, fragment)
        return static_url(self.site, path)

    def source(self, value: str) -> str | None:
        parts = urlsplit(value)
        if parts.scheme or parts.netloc:
            return value if parts.scheme in ("http", "https") else None
        if value.startswith("/"):
            return None
        found = self.target(value)
        return static_url(self.site, found[0]) if found else None

    def __call__(self, tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href" and tag == "a":
            return self.link(value)
        if attribute == "src" and tag == "img":
            return self.source(value)
        return value


def sanitize(html: str, rewriter: Rewriter | None = None) -> SafeString:
    """Return docs HTML cleaned by nh3 with the reader's allowlist (URLs rewritten)."""
    cleaned = nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=rewriter,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return mark_safe(cleaned)


def text_of(html: str) -> str:
    """Return the visible text of an HTML fragment (tags removed, spaces collapsed)."""
    text = nh3.clean(html, tags=set(), clean_content_tags=DROPPED)
    return re.sub(r"\s+", " ", _unescape(text)).strip()


def _unescape(text: str) -> str:
    from html import unescape

    return unescape(text)


def edit_url_of(html: str) -> str | None:
    """Return the "Edit this page" link mkdocs rendered (repo_url + edit_uri), if any."""
    match = _EDIT_HREF.search(html)
    if not match:
        return None
    url = _unescape(match.group(1) or match.group(2))
    return url if urlsplit(url).scheme in ("http", "https") else None


def read_page(site: DocsSite, storage: Storage, path: str) -> ReaderPage | None:
    """Return a page of the published site for the reader, or None when there is none."""
    html = storage.read_text(site.triplet, page_file(path))
    if html is None:
        return None
    parts = extract(html)
    rewriter = Rewriter(site, path)
    edit_url = edit_url_of(parts["content"])
    content_html = _EDIT_BUTTON.sub("", parts["content"])
    heading = _H1.search(content_html)
    title = text_of(heading.group(1)).rstrip("¶").strip() if heading else ""
    return ReaderPage(
        path=path,
        title=title or site.site_name or site.name,
        content=sanitize(content_html, rewriter),
        nav=sanitize(parts["nav"], rewriter),
        toc=sanitize(parts["toc"], rewriter),
        edit_url=edit_url,
    )


def reader_url_for(entity: object) -> str:
    """Return the reader URL of an entity's docs home page (its name as spelled)."""
    body = getattr(entity, "body", {}) or {}
    name = body.get("metadata", {}).get("name", getattr(entity, "name", ""))
    return reverse(
        "techdocs:reader",
        args=[getattr(entity, "namespace", "default"), getattr(entity, "kind", ""), name],
    )
