"""One paper: ``/papers/{id}`` (abstract with TeX rendered, links, BibTeX, upvotes, similar
papers by facet), its JSON twin ``/api/paper/{id}`` and its parts under ``/api/papers/{id}/``
(similar papers, BibTeX, votes). ``/api/papers/{id}`` itself is Hugging Face's paper object
(:mod:`.hf_api`).

Ids are arXiv ids (``2506.01234``, ``hep-th/9901001``), ``doi:...`` keys or
other stored keys; a versioned id or arXiv URL redirects to the paper's page.
Upvotes are a resource of their own, ``/api/papers/{id}/votes`` (GET, POST,
DELETE: :mod:`.votes`). Similar papers, BibTeX and votes are parts of the
paper page with JSON of their own, not pages: plain routes, declared before
the page (whose ``{id:path}`` would take them).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ..citation import bibtex, links
from ..present import featured_json, paper_json, shown_featured
from ..rank.fusion import NotEmbedded
from ..rank.similar import FACETS, UnknownPaper, similar
from . import schemas
from .common import (
    JSON,
    HTTPError,
    card,
    choice_param,
    choice_schema,
    embedding_notice,
    int_param,
    int_schema,
    papers_json,
    radar_of,
    store_of,
    text_param,
    with_links,
)
from .hf_shapes import shown_label
from .links import url_for
from .pages import Html, Json, Page, Param, Params, documented, errors, register
from .tex import abstract_html, tex_html

router = APIRouter()
log = logging.getLogger("paperradar.web")

SIMILAR = 10
PAPER_ID = Param("paper_id", "arXiv id (2503.01234, hep-th/9901001), doi:... key or other stored key", safe="/:")
FACET = Param("facet", f"compare on one facet: {', '.join(FACETS)} (default: the whole paper)",
              schema=choice_schema(FACETS, None))
LIMIT = Param("limit", f"how many, 1 to 100 (default {SIMILAR})", schema=int_schema(1, 100, SIMILAR))
PaperId, Facet, Limit = documented(PAPER_ID, in_path=True), documented(FACET), documented(LIMIT)
FOUND_OR_NOT = errors({400: "the id has control characters or is over 300 characters",
                       404: "no paper with this id"})


class BibTeXText(PlainTextResponse):
    """How /openapi.json names a BibTeX entry (the route writes it with its charset)."""

    media_type = "application/x-bibtex"


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
        if radar_of(request).embedding is not None:  # serve --embed is working on it
            return [], "Similar papers are being computed: this paper has no vector yet; reload in a few minutes."
        return [], "Similar papers are not computed yet for this paper (run `paperradar embed`)."
    except UnknownPaper as exc:  # deleted between the two reads
        raise HTTPError(404, str(exc)) from exc
    except Exception:  # the page (and the rest of the paper) still shows; the error is logged
        log.exception("similar papers of %s failed", row["id"])
        return [], "Similar papers could not be computed just now (the error was logged)."


@router.get("/api/papers/{paper_id:path}/similar", tags=["papers"], summary="Papers similar to one paper",
            response_model=schemas.Similar,
            responses=errors({400: "the id, facet or limit is not valid (the message says which)",
                              404: "no paper with this id"}))
def similar_api(request: Request, paper_id: PaperId, facet: Facet = None, limit: Limit = None) -> Response:
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
            response_class=BibTeXText, responses=FOUND_OR_NOT)
def bibtex_api(request: Request, paper_id: PaperId) -> Response:
    return PlainTextResponse(bibtex(find(request, paper_id)), media_type="application/x-bibtex; charset=utf-8")


def paper_data(request: Request, params: Params) -> dict[str, Any]:
    """The stored paper; ``paper_id`` is its canonical id, ``asked`` the id as written; ``featured`` its
    featured rows as visitors see them (a member who submitted it by display name)."""
    row = find(request, params["paper_id"] or "")
    store = store_of(request)
    return {"row": row, "paper_id": row["id"], "asked": params["paper_id"], "facet_asked": params["facet"],
            "featured": [shown_featured(store, f) or {} for f in row.get("featured", [])],
            "num_comments": store.comment_counts([row["rowid"]]).get(row["rowid"], 0)}


def paper_context(request: Request, data: dict[str, Any]) -> dict[str, Any] | Response:
    """The page, or a redirect to it from another spelling of its id (a version, an arXiv URL)."""
    row = data["row"]
    if row["id"] != data["asked"]:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(url_for("paper", "html", paper_id=row["id"]) + query, status_code=308)
    chosen = choice_param(data["facet_asked"], "facet", FACETS, None)
    rows, note = similar_rows(request, row, chosen)
    from .comments import section  # (comments builds on this module)

    return {
        "title": row["title"], "paper": row, "card": card(row), "title_html": tex_html(row["title"]),
        "abstract_html": abstract_html(row["abstract"] or ""), "links": links(row), "bibtex": bibtex(row),
        "bib_url": bibtex_url(request, row["id"]), "facets": FACETS, "facet": chosen,
        "similar": [card(r) for r in rows], "similar_note": note, "upvote_sources": row.get("upvote_sources", []),
        "submissions": [{"day": f["day"], "source": f["source"], "by": shown_label(f)} for f in data["featured"]],
        "progress": embedding_notice(request), "comments": section(request, row),
    }


def bibtex_url(request: Request, paper_id: str) -> str:
    """The address of :func:`bibtex_api` for a paper (a part of the page, not a page: its path is
    the route's own, the id escaped as :func:`.links.url_for` escapes it)."""
    return str(request.app.url_path_for("bibtex_api", paper_id=quote(paper_id, safe="/:")))


def paper_body(data: dict[str, Any]) -> dict[str, Any]:
    row = data["row"]
    paper = with_links(paper_json(row, full=True), row)
    paper["featured"] = [featured_json(f) for f in data["featured"]]
    paper["bibtex"] = bibtex(row)
    paper["num_comments"] = data["num_comments"]
    return paper


PAPER = register(router, Page(
    "paper", paper_data,
    params=(PAPER_ID,), errors={404: "no paper with this id"},
    html=Html("/papers/{paper_id:path}", "paper.html", paper_context, params=(Param("facet"),)),
    json=Json("/api/paper/{paper_id:path}", paper_body, ["papers"], "One paper (JSON twin of /papers/{id})", """
        Everything stored about a paper: metadata, links (arXiv abstract and PDF, Hugging Face),
        sources, upvotes by site, and its BibTeX entry. (`/api/papers/{id}` is the paper as Hugging Face
        gives it.)""", model=schemas.FullPaper),
))
