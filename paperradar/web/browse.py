"""Authors and categories: ``/authors/{name}``, ``/categories``, ``/categories/{cat}`` and their JSON twins."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..present import paper_json
from ..rank.authors import author_papers
from .common import (
    JSON,
    author_url,
    card,
    category_param,
    category_url,
    name_param,
    page_param,
    pages,
    render,
    radar_of,
    store_of,
    twin,
    url,
    with_links,
)

router = APIRouter()

PER_PAGE = 50
_PAGE = Query(None, description="page number, from 1 (50 a page)")


def _listing(rows: list[dict[str, Any]], total: int, page: int) -> dict[str, Any]:
    return {"total": total, "page": page, "pages": pages(total, PER_PAGE), "per_page": PER_PAGE,
            "papers": [with_links(paper_json(r), r) for r in rows]}


# -- authors -------------------------------------------------------------------


def author_data(request: Request, name_: str, page_: str | None) -> dict[str, Any]:
    name = name_param(name_)
    page = page_param(page_)
    rows, total = author_papers(radar_of(request), name, PER_PAGE, (page - 1) * PER_PAGE)
    coauthors: dict[str, int] = {}
    for r in rows:
        for a in r["authors"]:
            if a != name:
                coauthors[a] = coauthors.get(a, 0) + 1
    top = sorted(coauthors.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return {"name": name, "rows": rows, "total": total, "page": page, "pages": pages(total, PER_PAGE),
            "coauthors": top}


@router.get("/authors/{name:path}", include_in_schema=False)
def author_page(request: Request, name: str, page: str | None = None) -> Response:
    data = author_data(request, name, page)
    return render(request, "author.html", **data, papers=[card(r) for r in data["rows"]],
                  title=data["name"], first_rank=(data["page"] - 1) * PER_PAGE + 1,
                  link=lambda **kw: url(author_url(data["name"]), **kw),
                  json_url=twin(request, "/api" + author_url(data["name"])))


@router.get("/api/authors/{name:path}", tags=["browse"], summary="An author's papers (JSON twin of /authors/{name})")
def author_api(request: Request, name: str, page: str | None = _PAGE) -> Response:
    """Papers with an author of this name (case and accents ignored), newest first; frequent co-authors."""
    data = author_data(request, name, page)
    out = {"name": data["name"], **_listing(data["rows"], data["total"], data["page"])}
    out["coauthors"] = [{"name": n, "papers": k} for n, k in data["coauthors"]]
    return JSON(out)


# -- categories ----------------------------------------------------------------


# arXiv's own categories (cs.CL, hep-th, cond-mat.mes-hall); sources also put ACM and MSC
# classes and free text in the categories field, which the listing leaves out.
_ARXIV_CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?$")
_counts_cache: dict[int, tuple[int, list[tuple[str, int]]]] = {}


def all_categories(request: Request) -> list[tuple[str, int]]:
    """arXiv categories with their paper counts; recounted only after the store changed."""
    store = store_of(request)
    seq = store.max_seq()
    cached = _counts_cache.get(id(store))
    if cached is None or cached[0] != seq:
        counts = [(c, n) for c, n in store.category_counts() if _ARXIV_CATEGORY.match(c)]
        _counts_cache[id(store)] = cached = (seq, counts)
    return cached[1]


@router.get("/categories", include_in_schema=False)
def categories_page(request: Request) -> Response:
    return render(request, "categories.html", categories=all_categories(request), title="Categories",
                  json_url="/api/categories")


@router.get("/api/categories", tags=["browse"], summary="Every arXiv category with its number of papers")
def categories_api(request: Request) -> Response:
    return JSON([{"category": c, "count": n} for c, n in all_categories(request)])


def category_data(request: Request, category_: str, page_: str | None) -> dict[str, Any]:
    category = category_param(category_) or ""
    page = page_param(page_)
    store = store_of(request)
    rows, total = store.category_papers(category, PER_PAGE, (page - 1) * PER_PAGE)
    return {"category": category, "rows": rows, "total": total, "primary": store.primary_category_share(category),
            "page": page, "pages": pages(total, PER_PAGE)}


@router.get("/categories/{category}", include_in_schema=False)
def category_page(request: Request, category: str, page: str | None = None) -> Response:
    data = category_data(request, category, page)
    return render(request, "category.html", **data, papers=[card(r) for r in data["rows"]],
                  title=data["category"], first_rank=(data["page"] - 1) * PER_PAGE + 1,
                  link=lambda **kw: url(category_url(data["category"]), **kw),
                  json_url=twin(request, "/api" + category_url(data["category"])),
                  atom_url=f"/feeds/categories/{data['category']}.atom")


@router.get("/api/categories/{category}", tags=["browse"], summary="A category's papers (JSON twin of /categories/{cat})")
def category_api(request: Request, category: str, page: str | None = _PAGE) -> Response:
    """Papers in the category (primary or cross-listed), newest first; ``primary``: how many have it first."""
    data = category_data(request, category, page)
    return JSON({"category": data["category"], "primary": data["primary"],
                 **_listing(data["rows"], data["total"], data["page"])})
