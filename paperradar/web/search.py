"""Search: ``/search`` and its JSON twin ``/api/papers/search`` (keyword, semantic or hybrid, with filters).

A pasted abstract is a query like any other: the keyword ranker matches as
many of its words as it can, the semantic one compares meanings.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..present import paper_json
from ..rank.fusion import MODES, NotEmbedded
from ..rank.search import search
from ..store import Filters
from .common import (
    JSON,
    HTTPError,
    bad,
    card,
    category_param,
    choice_param,
    date_param,
    page_param,
    query_param,
    render,
    radar_of,
    text_param,
    twin,
    url,
    with_links,
)

router = APIRouter()

PER_PAGE = 20
DEFAULT_MODE = "hybrid"


def search_data(request: Request, q: str | None, mode_: str | None, category_: str | None, author_: str | None,
                since_: str | None, until_: str | None, page_: str | None) -> dict[str, Any]:
    query = query_param(q)
    mode = choice_param(mode_, "mode", MODES, DEFAULT_MODE) or DEFAULT_MODE
    category = category_param(category_)
    author = text_param(author_, "author")
    since, until = date_param(since_, "since"), date_param(until_, "until")
    if since and until and since > until:
        raise bad(f"since ({since}) is after until ({until})")
    page = page_param(page_)
    filters = Filters(category=category, author=author, since=since.isoformat() if since else None,
                      until=until.isoformat() if until else None)
    rows: list[dict[str, Any]] = []
    more = False
    notice = None
    if query:
        try:
            rows = search(radar_of(request), query, mode, filters, limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE)
        except ValueError as exc:
            raise bad(str(exc)) from exc
        except NotEmbedded as exc:  # semantic search before `paperradar embed` ran
            notice = str(exc)
        more = len(rows) > PER_PAGE
        rows = rows[:PER_PAGE]
    params = {"q": query, "mode": mode if mode != DEFAULT_MODE else None, "category": category, "author": author,
              "since": since.isoformat() if since else None, "until": until.isoformat() if until else None}
    return {
        "query": query or "",
        "mode": mode,
        "modes": MODES,
        "category": category,
        "author": author,
        "since": since,
        "until": until,
        "page": page,
        "rows": rows,
        "notice": notice,
        "params": params,
        "previous": url("/search", **params, page=page - 1 if page > 2 else None) if page > 1 else None,
        "next": url("/search", **params, page=page + 1) if more else None,
    }


@router.get("/search", include_in_schema=False)
def search_page(request: Request, q: str | None = None, mode: str | None = None, category: str | None = None,
                author: str | None = None, since: str | None = None, until: str | None = None,
                page: str | None = None) -> Response:
    data = search_data(request, q, mode, category, author, since, until, page)
    title = f"Search: {data['query'][:80]}" if data["query"] else "Search"
    return render(
        request, "search.html", **data, q=data["query"], papers=[card(r) for r in data["rows"]],
        first_rank=(data["page"] - 1) * PER_PAGE + 1, title=title,
        long_query=len(data["query"]) > 200,
        json_url=twin(request, "/api/papers/search"),
        atom_url=url("/feeds/search.atom", **data["params"]) if data["query"] else None,
    )


@router.get("/api/papers/search", tags=["papers"], summary="Search papers (JSON twin of /search)")
def search_api(
    request: Request,
    q: str | None = Query(None, description="the query: words, \"phrases\", prefix*, a OR b, -exclude, "
                                            "title:/abstract:/author: fields; or a pasted abstract (at most 10,000 characters)"),
    mode: str | None = Query(None, description=f"{', '.join(MODES)} (default {DEFAULT_MODE})"),
    category: str | None = Query(None, description="only papers in this arXiv category"),
    author: str | None = Query(None, description="only papers by this author"),
    since: str | None = Query(None, description="first listed on or after this day (YYYY-MM-DD)"),
    until: str | None = Query(None, description="first listed on or before this day (YYYY-MM-DD)"),
    page: str | None = Query(None, description="page number, from 1 (20 a page)"),
) -> Response:
    """Ranked papers; each has ``score``, and for keyword matches a ``snippet`` and ``snippet_html``
    (matches in ``<mark>``, the rest escaped). ``mode=semantic`` before any paper has a vector
    (``paperradar embed``) is a 409 saying so."""
    data = search_data(request, q, mode, category, author, since, until, page)
    if data["notice"]:
        raise HTTPError(409, data["notice"])
    api = lambda link: link.replace("/search", "/api/papers/search", 1) if link else None
    return JSON({
        "query": data["query"],
        "mode": data["mode"],
        "filters": {"category": data["category"], "author": data["author"],
                    "since": data["since"].isoformat() if data["since"] else None,
                    "until": data["until"].isoformat() if data["until"] else None},
        "page": data["page"],
        "per_page": PER_PAGE,
        "previous": api(data["previous"]),
        "next": api(data["next"]),
        "papers": [with_links(paper_json(r), r) for r in data["rows"]],
    })
