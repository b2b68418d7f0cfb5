"""One paper: ``/papers/{id}`` (abstract with TeX rendered, links, BibTeX, upvotes, similar
papers by facet) and its JSON twins under ``/api/papers/{id}``.

Ids are arXiv ids (``2506.01234``, ``hep-th/9901001``), ``doi:...`` keys or
other stored keys; a versioned id or arXiv URL redirects to the paper's page.
Upvotes are a resource of their own (``/api/papers/{id}/votes``): today
counts come from imports and ``paperradar vote``; per-user votes will be
``POST``/``DELETE`` on the same address once accounts exist. Similar papers,
BibTeX and votes are parts of the paper page with JSON of their own, not pages:
plain routes, declared before the page (whose ``{id:path}`` would take them).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ..citation import bibtex, links
from ..present import paper_json
from ..rank.fusion import NotEmbedded
from ..rank.similar import FACETS, UnknownPaper, similar
from .common import (
    JSON,
    HTTPError,
    card,
    choice_param,
    int_param,
    papers_json,
    radar_of,
    store_of,
    text_param,
    with_links,
)
from .links import url_for
from .pages import Html, Json, Page, Param, Params, register
from .tex import abstract_html, tex_html

router = APIRouter()
log = logging.getLogger("paperradar.web")

SIMILAR = 10


def find(request: Request, paper_id: str) -> dict[str, Any]:
    """The stored paper, or a 404 that says which id was not found."""
    key = text_param(paper_id, "id")
    row = store_of(request).get(key) if key else None
    if row is None:
        raise HTTPError(404, f"no paper with id {paper_id[:200]!r}")
    return row


def similar_rows(request: Request, row: dict[str, Any], facet: str | None, limit: int = SIMILAR
                 ) -> tuple[list[dict[str, Any]], str | None]:
    """Similar papers, or none and the reason (the paper has no embedding yet)."""
    try:
        return similar(radar_of(request), row["id"], facet=facet, limit=limit), None
    except NotEmbedded:
        return [], "Similar papers are not computed yet for this paper (run `paperradar embed`)."
    except UnknownPaper as exc:  # deleted between the two reads
        raise HTTPError(404, str(exc)) from exc
    except Exception:  # the page (and the rest of the paper) still shows; the error is logged
        log.exception("similar papers of %s failed", row["id"])
        return [], "Similar papers could not be computed just now (the error was logged)."


@router.get("/api/papers/{paper_id:path}/similar", tags=["papers"], summary="Papers similar to one paper")
def similar_api(request: Request, paper_id: str,
                facet: str | None = Query(None, description=f"compare on one facet: {', '.join(FACETS)} (default: the whole paper)"),
                limit: str | None = Query(None, description="how many, 1 to 100 (default 10)")) -> Response:
    """The most similar papers (the paper itself excluded), best first, each with ``score`` and ``why``
    (its rank by shared words, by document vector and by sentences). A paper without an embedding
    yet gives ``"embedded": false``, ``"papers": []`` and a ``note`` saying so."""
    row = find(request, paper_id)
    chosen = choice_param(facet, "facet", FACETS, None)
    size = int_param(limit, "limit", SIMILAR, 1, 100)
    rows, note = similar_rows(request, row, chosen, size)
    papers = papers_json(rows)
    for paper, r in zip(papers, rows):
        if "why" in r:
            paper["why"] = r["why"]
    return JSON({"id": row["id"], "facet": chosen, "embedded": note is None, "note": note, "papers": papers})


@router.get("/api/papers/{paper_id:path}/bibtex", tags=["papers"], summary="A paper's BibTeX entry",
            response_class=PlainTextResponse)
def bibtex_api(request: Request, paper_id: str) -> Response:
    return PlainTextResponse(bibtex(find(request, paper_id)), media_type="application/x-bibtex; charset=utf-8")


@router.get("/api/papers/{paper_id:path}/votes", tags=["papers"], summary="A paper's upvotes, by where they were counted")
def votes_api(request: Request, paper_id: str) -> Response:
    """``upvotes`` (the total) and ``by_site``: imported counts (``huggingface``) and local votes
    (``local``, from ``paperradar vote``)."""
    row = find(request, paper_id)
    return JSON({"id": row["id"], "upvotes": row["upvotes"], "by_site": row.get("upvote_sources", [])})


def paper_data(request: Request, params: Params) -> dict[str, Any]:
    """The stored paper; ``paper_id`` is its canonical id, ``asked`` the id as written."""
    row = find(request, params["paper_id"] or "")
    return {"row": row, "paper_id": row["id"], "asked": params["paper_id"], "facet_asked": params["facet"]}


def paper_context(request: Request, data: dict[str, Any]) -> dict[str, Any] | Response:
    """The page, or a redirect to it from another spelling of its id (a version, an arXiv URL)."""
    row = data["row"]
    if row["id"] != data["asked"]:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(url_for("paper", "html", paper_id=row["id"]) + query, status_code=308)
    chosen = choice_param(data["facet_asked"], "facet", FACETS, None)
    rows, note = similar_rows(request, row, chosen)
    return {
        "title": row["title"], "paper": row, "card": card(row), "title_html": tex_html(row["title"]),
        "abstract_html": abstract_html(row["abstract"] or ""), "links": links(row), "bibtex": bibtex(row),
        "bib_url": url_for("paper", "json", paper_id=row["id"]) + "/bibtex", "facets": FACETS, "facet": chosen,
        "similar": [card(r) for r in rows], "similar_note": note, "upvote_sources": row.get("upvote_sources", []),
    }


def paper_body(data: dict[str, Any]) -> dict[str, Any]:
    row = data["row"]
    paper = with_links(paper_json(row, full=True), row)
    paper["bibtex"] = bibtex(row)
    return paper


PAPER = register(router, Page(
    "paper", paper_data,
    params=(Param("paper_id", safe="/:"),),
    html=Html("/papers/{paper_id:path}", "paper.html", paper_context, params=(Param("facet"),)),
    json=Json("/api/papers/{paper_id:path}", paper_body, ["papers"], "One paper (JSON twin of /papers/{id})", """
        Everything stored about a paper: metadata, links (arXiv abstract and PDF, Hugging Face),
        sources, upvotes by site, and its BibTeX entry."""),
))
