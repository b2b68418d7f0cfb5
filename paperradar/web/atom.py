"""Atom feeds: ``/feeds/daily.atom``, ``/feeds/trending.atom``, ``/feeds/search.atom?q=`` and
``/feeds/categories/{cat}.atom`` (RFC 4287, built with lxml so every text is escaped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from lxml import etree
from starlette.responses import Response

from .. import __version__
from ..citation import links
from ..rank import trending as trends
from ..rank.fusion import MODES
from ..rank.search import search
from ..store import Filters
from .common import bad, category_param, choice_param, paper_url, query_param, radar_of, store_of, url
from .feed import default_day

router = APIRouter()

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
ENTRIES = 50
DAILY_ENTRIES = 100
_CATEGORY = Query(None, description="only papers in this arXiv category")


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


def atom(request: Request, title: str, rows: list[dict[str, Any]], page_path: str, subtitle: str | None = None) -> Response:
    """An Atom feed of papers; ``page_path`` is the HTML page the feed follows."""
    base = str(request.base_url).rstrip("/")
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    self_url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    _el(root, "id", self_url)
    _el(root, "title", f"paperradar: {title}")
    if subtitle:
        _el(root, "subtitle", subtitle)
    updated = max((r.get("changed_at") or _stamp(r["published"]) for r in rows),
                  default=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    _el(root, "updated", updated)
    _el(root, "link", rel="self", type="application/atom+xml", href=self_url)
    _el(root, "link", rel="alternate", type="text/html", href=base + page_path)
    _el(root, "generator", "paperradar", version=__version__)
    for row in rows:
        entry = _el(root, "entry")
        page = base + paper_url(row["id"])
        _el(entry, "id", page)
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
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    return Response(body, media_type=MEDIA_TYPE)


@router.get("/feeds/daily.atom", tags=["feeds"], summary="Atom: the newest day's papers")
def daily_atom(request: Request, category: str | None = _CATEGORY) -> Response:
    cat = category_param(category)
    day = default_day(request).isoformat()
    rows, _ = store_of(request).feed(day, day, cat, DAILY_ENTRIES, 0)
    return atom(request, f"papers of {day}" + (f" in {cat}" if cat else ""), rows, url("/", category=cat))


@router.get("/feeds/trending.atom", tags=["feeds"], summary="Atom: trending papers")
def trending_atom(request: Request, category: str | None = _CATEGORY) -> Response:
    cat = category_param(category)
    rows, as_of, _ = trends.trending(store_of(request), None, cat, ENTRIES)
    return atom(request, "trending" + (f" in {cat}" if cat else ""), rows, url("/trending", category=cat),
                subtitle=f"{trends.FORMULA}, as of {as_of:%Y-%m-%d %H:%M} UTC")


@router.get("/feeds/search.atom", tags=["feeds"], summary="Atom: the top results of a search")
def search_atom(request: Request, q: str | None = Query(None, description="the query (required)"),
                mode: str | None = Query(None, description=", ".join(MODES)),
                category: str | None = _CATEGORY) -> Response:
    query = query_param(q)
    if not query:
        raise bad("q is required: the search this feed follows")
    chosen = choice_param(mode, "mode", MODES, "hybrid") or "hybrid"
    cat = category_param(category)
    rows = search(radar_of(request), query, chosen, Filters(category=cat), limit=ENTRIES)
    return atom(request, f"search {query[:100]!r}", rows, url("/search", q=query, mode=mode, category=cat))


@router.get("/feeds/categories/{category}.atom", tags=["feeds"], summary="Atom: a category's newest papers")
def category_atom(request: Request, category: str) -> Response:
    cat = category_param(category) or ""
    rows, _ = store_of(request).category_papers(cat, ENTRIES, 0)
    return atom(request, f"newest in {cat}", rows, f"/categories/{cat}")
