"""Search: ``/search``, its JSON twin ``/api/search`` and its Atom feed ``/feeds/search.atom``
(keyword, semantic or hybrid, with filters). Hugging Face's ``/api/papers/search`` (a plain
list in HF's shape) is in :mod:`.hf_api`.

A pasted abstract is a query like any other: the keyword ranker matches as
many of its words as it can, the semantic one compares meanings.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..rank.fusion import MODES, NotEmbedded
from ..rank.search import count_matches, search
from ..store import Filters
from . import atom, schemas
from .common import (
    CATEGORY,
    DATE,
    PAGE,
    QUERY,
    QUERY_REQUIRED,
    HTTPError,
    bad,
    category_param,
    choice_param,
    choice_schema,
    date_param,
    embedding_notice,
    page_param,
    papers_json,
    query_param,
    radar_of,
    text_param,
)
from .library import HIDDEN, hidden_here, unhidden
from .links import url_for, url_or_none
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 20
ENTRIES = 50
DEFAULT_MODE = "hybrid"
_CATEGORY = "only papers in this arXiv category"


def search_data(request: Request, params: Params) -> dict[str, Any]:
    """One page of results (the feed: the first ``ENTRIES``, and it needs a query)."""
    query = query_param(params["q"])
    if not query and params.view == "atom":
        raise bad("q is required: the search this feed follows")
    mode = choice_param(params["mode"], "mode", MODES, DEFAULT_MODE) or DEFAULT_MODE
    category = category_param(params["category"])
    author = text_param(params["author"], "author")
    since, until = date_param(params["since"], "since"), date_param(params["until"], "until")
    empty_range = bool(since and until and since > until)  # no paper can be in it: no results, and the page says why
    page = page_param(params["page"])
    filters = Filters(category=category, author=author, since=since.isoformat() if since else None,
                      until=until.isoformat() if until else None)
    peek = 1 if params.view != "atom" else 0  # one past the page: whether there is a next page
    rows: list[dict[str, Any]] = []
    notice = None
    if query and not empty_range:
        try:
            rows = search(radar_of(request), query, mode, filters, limit=params.size + peek,
                          offset=(page - 1) * params.size)
        except ValueError as exc:
            raise bad(str(exc)) from exc
        except NotEmbedded as exc:  # semantic search before `paperradar embed` ran
            notice = str(exc)
    # The page says how many papers the words match (the JSON twin pages through the ranking instead).
    counts = count_matches(radar_of(request), query, filters) if (
        query and params.view == "html" and not empty_range) else None
    here = {"q": query, "mode": mode if mode != DEFAULT_MODE else None, "category": category, "author": author,
            "since": filters.since, "until": filters.until, **hidden_here(params["hidden"])}
    return {
        "query": query or "", "mode": mode, "mode_asked": params["mode"], "modes": MODES, "category": category,
        "author": author, "since": since, "until": until, "page": page, "per_page": params.size,
        "rows": unhidden(request, params["hidden"], rows[:params.size]), "notice": notice, "here": here,
        "counts": counts,
        "range_note": f"since ({since}) is after until ({until}): no paper can be first listed in between."
        if empty_range else None,
        "previous": {**here, "page": page - 1 if page > 2 else None} if page > 1 else None,
        "next": {**here, "page": page + 1} if len(rows) > params.size else None,
    }


def search_context(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    query = data["query"]
    return {"q": query, "title": f"Search: {query[:80]}" if query else "Search", "long_query": len(query) > 200,
            "atom_url": url_for("search", "atom", **data["here"]) if query else None,
            "progress": embedding_notice(request)}


def search_body(data: dict[str, Any]) -> dict[str, Any]:
    if data["notice"]:
        raise HTTPError(409, data["notice"])
    filters = {k: v for k, v in data["here"].items() if k in ("category", "author", "since", "until")}
    return {"query": data["query"], "mode": data["mode"], "filters": filters, "page": data["page"],
            "per_page": data["per_page"], "previous": url_or_none("search", "json", data["previous"]),
            "next": url_or_none("search", "json", data["next"]), "papers": papers_json(data["rows"])}


def search_entries(data: dict[str, Any]) -> atom.Feed:
    if data["notice"]:  # as its JSON twin says
        raise HTTPError(409, data["notice"])
    page = url_for("search", "html", q=data["query"], mode=data["mode_asked"], category=data["category"])
    return atom.Feed(f"search {data['query'][:100]!r}", data["rows"], page)


SEARCH = register(router, Page(
    "search", search_data, per_page=PER_PAGE,
    params=(
        Param("q", "the query: words, \"phrases\", prefix*, a OR b, -exclude, "
                   "title:/abstract:/author: fields; or a pasted abstract (at most 10,000 characters)", schema=QUERY),
        Param("mode", f"{', '.join(MODES)} (default {DEFAULT_MODE})", schema=choice_schema(MODES, DEFAULT_MODE)),
        Param("category", _CATEGORY, schema=CATEGORY),
        Param("author", "only papers by this author"),
        Param("since", "first listed on or after this day (YYYY-MM-DD; not after `until`)", schema=DATE),
        Param("until", "first listed on or before this day (YYYY-MM-DD; before `since`: no results)", schema=DATE),
        Param("page", "page number, from 1 (20 a page)", schema=PAGE),
        HIDDEN,
    ),
    errors={409: "mode=semantic (or its feed) before any paper has a vector: the message says to run "
                 "`paperradar embed`"},
    html=Html("/search", "search.html", search_context),
    json=Json("/api/search", search_body, ["papers"], "Search papers (JSON twin of /search)", """
        Ranked papers; each has ``score``, and for keyword matches a ``snippet`` and ``snippet_html``
        (matches in ``<mark>``, the rest escaped). ``mode=semantic`` before any paper has a vector
        (``paperradar embed``) is a 409 saying so.""", model=schemas.Search),
    atom=Atom("/feeds/search.atom", search_entries, "Atom: the top results of a search",
              (Param("q", "the query (required)", schema=QUERY_REQUIRED, required=True),
               Param("mode", ", ".join(MODES), schema=choice_schema(MODES, DEFAULT_MODE)),
               Param("category", _CATEGORY, schema=CATEGORY)), ENTRIES),
))
