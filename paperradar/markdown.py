"""Comments' Markdown rendered to HTML that is safe to put in a page.

Two layers, so that a mistake in one is caught by the other:

1. markdown-it-py with CommonMark and raw HTML **off**: ``<script>`` or
   ``<img onerror=...>`` typed in a comment is text, escaped; links go through
   markdown-it's own link check (no ``javascript:``, ``vbscript:``, ``file:``,
   ``data:``). Strikethrough and tables are on (as on GitHub).
2. nh3 (the Rust ammonia sanitizer) over the result, with an allow-list: the
   tags Markdown makes and nothing else, ``href`` the only link attribute,
   and only ``http:``, ``https:`` and ``mailto:`` links, or paths on this site
   (``/papers/...``; not ``//host``). Every link gets
   ``rel="nofollow noopener ugc"``: a comment's links earn no ranking from
   the site, and the page it opens cannot reach back to this one.

Images are not shown: ``![alt](url)`` becomes a link to the image, named by
its alt text. A remote image in a comment would tell its host who reads the
page (a tracking pixel) and load whatever the commenter chose; the site's
Content-Security-Policy (``img-src 'self' data:``) would block it anyway.
Headings are shifted down to ``h4``-``h6``, under the page's own ``h2``
"Comments", so a comment cannot outrank the paper's title.

The text is rendered each time it is shown (cached), never stored as HTML:
a stricter rule here applies to every old comment at once. Nothing here knows
of the web app.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

MAX_CHARS = 10_000  # a long, careful comment; not a paper
TAGS = {"p", "br", "hr", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
        "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener ugc"


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image as a link to it, named by its alt text (the same link checks apply)."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt)}</a>'


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable(["strikethrough", "table"])
    md.add_render_rule("image", _image)
    return md


_md = _parser()


def _href(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: keep a link only to http(s), mailto or a path on this site."""
    if tag == "a" and attribute == "href":
        lowered = value.strip().lower()
        if lowered.startswith(("http://", "https://", "mailto:")):
            return value
        if value.startswith("/") and not value.startswith(("//", "/\\")):
            return value
        return None
    if tag == "ol" and attribute == "start":
        return value if value.isascii() and value.isdigit() and len(value) <= 9 else None
    return value


def render(text: str) -> str:
    """A comment's Markdown as clean HTML (block elements, no images, checked links)."""
    return _render(text)


@lru_cache(maxsize=2048)
def _render(text: str) -> str:
    tokens = _md.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 3, 6)}"
    html = _md.renderer.render(tokens, _md.options, {})
    return clean(html)


def clean(html: str) -> str:
    """HTML kept to the allow-list (the second layer; also usable on its own)."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, attribute_filter=_href, url_schemes=SCHEMES,
                     link_rel=LINK_REL, strip_comments=True)
