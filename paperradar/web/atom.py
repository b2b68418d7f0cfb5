"""Atom feeds (RFC 4287), built with lxml so every text is escaped.

Which feeds there are, and what each holds, is declared with its page (see
:mod:`.pages`): ``/feeds/daily.atom``, ``/feeds/trending.atom``, ``/feeds/search.atom?q=``
and ``/feeds/categories/{cat}.atom``. This module only writes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from lxml import etree
from starlette.responses import Response

from .. import __version__
from ..citation import links
from .links import paper_url, site_url

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG = "tag:paperradar,2025:"  # RFC 4151: ids independent of the address a feed is fetched from
MEDIA_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class Feed:
    """What a feed shows: its title, its papers, the HTML page it follows, a subtitle."""

    title: str
    rows: list[dict[str, Any]]
    page_path: str
    subtitle: str | None = None


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _xml_text(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = _xml_text(text)
    return el


def _xml_text(text: str) -> str:
    """Text XML 1.0 can carry: characters it forbids (NUL, most C0 controls) become spaces."""
    return "".join(ch if ch in "\t\n\r" or (" " <= ch <= "\ud7ff") or ("\ue000" <= ch <= "\ufffd")
                   or ch >= "\U00010000" else " " for ch in text)


def _stamp(day: str | None) -> str:
    return f"{day}T00:00:00Z" if day else "1970-01-01T00:00:00Z"


def respond(request: Request, feed: Feed) -> Response:
    """The feed as an Atom document. Links are absolute on the site's base URL (``serve --base-url``;
    without one, the host the request came through, which the server checked against its list);
    ids are tag URIs that stay the same whatever address the feed is read through."""
    base = site_url(request)
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    self_url = base + here
    _el(root, "id", TAG + here.lstrip("/"))
    _el(root, "title", f"paperradar: {feed.title}")
    if feed.subtitle:
        _el(root, "subtitle", feed.subtitle)
    updated = max((r.get("changed_at") or _stamp(r["published"]) for r in feed.rows),
                  default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _el(root, "updated", updated)
    _el(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _el(root, "link", rel="alternate", type="text/html", href=base + feed.page_path)
    _el(root, "generator", "paperradar", version=__version__)
    for row in feed.rows:
        _entry(_el(root, "entry"), row, base)
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return Response(body, media_type=MEDIA_TYPE)


def _entry(entry: etree._Element, row: dict[str, Any], base: str) -> None:
    page = base + paper_url(row["id"])
    _el(entry, "id", TAG + paper_url(row["id"]).lstrip("/"))
    _el(entry, "title", row["title"], type="text")
    _el(entry, "updated", row.get("changed_at") or _stamp(row["published"]))
    _el(entry, "published", _stamp(row["published"]))
    _el(entry, "link", rel="alternate", type="text/html", href=page)
    for name, href in links(row).items():
        kind = "application/pdf" if name == "pdf" else "text/html"
        _el(entry, "link", rel="related", type=kind, href=href, title=name)
    for name in row["authors"] or ["unknown"]:
        _el(_el(entry, "author"), "name", name)
    for cat in row["categories"]:
        _el(entry, "category", term=cat)
    _el(entry, "summary", row["abstract"] or "", type="text")
