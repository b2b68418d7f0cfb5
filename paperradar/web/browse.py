"""Authors and categories: ``/authors/{name}``, ``/categories``, ``/categories/{cat}``, their JSON
twins, and ``/feeds/categories/{cat}.atom``."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from ..rank.authors import author_papers
from . import atom
from .common import category_param, name_param, page_param, paged, paged_json, radar_of, store_of
from .links import url_for
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 50
ENTRIES = 50
_PAGE = Param("page", "page number, from 1 (50 a page)")


# -- authors -------------------------------------------------------------------


def author_data(request: Request, params: Params) -> dict[str, Any]:
    """An author's papers, newest first, and who wrote most of them with them."""
    name = name_param(params["name"] or "")
    page = page_param(params["page"])
    rows, total = author_papers(radar_of(request), name, params.size, (page - 1) * params.size)
    coauthors: dict[str, int] = {}
    for r in rows:
        for a in r["authors"]:
            if a != name:
                coauthors[a] = coauthors.get(a, 0) + 1
    top = sorted(coauthors.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return {"name": name, **paged(rows, total, page, params.size), "coauthors": top}


def author_body(data: dict[str, Any]) -> dict[str, Any]:
    return {"name": data["name"], **paged_json(data),
            "coauthors": [{"name": n, "papers": k} for n, k in data["coauthors"]]}


AUTHOR = register(router, Page(
    "author", author_data, per_page=PER_PAGE, params=(Param("name"), _PAGE),
    html=Html("/authors/{name:path}", "author.html", lambda request, data: {"title": data["name"]}),
    json=Json("/api/authors/{name:path}", author_body, ["browse"],
              "An author's papers (JSON twin of /authors/{name})", """
              Papers with an author of this name (case and accents ignored), newest first; frequent co-authors."""),
))


# -- categories ----------------------------------------------------------------


# arXiv's own categories (cs.CL, hep-th, cond-mat.mes-hall); sources also put ACM and MSC
# classes and free text in the categories field, which the listing leaves out.
_ARXIV_CATEGORY = re.compile(r"^[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]+(?:-[a-z]+)*)?$")
_counts_cache: dict[int, tuple[int, list[tuple[str, int]]]] = {}


def categories_data(request: Request, params: Params) -> dict[str, Any]:
    """arXiv categories with their paper counts; recounted only after the store changed."""
    store = store_of(request)
    seq = store.max_seq()
    cached = _counts_cache.get(id(store))
    if cached is None or cached[0] != seq:
        counts = [(c, n) for c, n in store.category_counts() if _ARXIV_CATEGORY.match(c)]
        _counts_cache[id(store)] = cached = (seq, counts)
    return {"categories": cached[1]}


CATEGORIES = register(router, Page(
    "categories", categories_data,
    html=Html("/categories", "categories.html", lambda request, data: {"title": "Categories"}),
    json=Json("/api/categories", lambda data: [{"category": c, "count": n} for c, n in data["categories"]],
              ["browse"], "Every arXiv category with its number of papers"),
))


def category_data(request: Request, params: Params) -> dict[str, Any]:
    """A category's papers (primary or cross-listed), newest first; ``primary``: how many have it first."""
    category = category_param(params["category"]) or ""
    page = page_param(params["page"])
    store = store_of(request)
    rows, total = store.category_papers(category, params.size, (page - 1) * params.size)
    return {"category": category, "primary": store.primary_category_share(category),
            **paged(rows, total, page, params.size)}


def category_body(data: dict[str, Any]) -> dict[str, Any]:
    return {"category": data["category"], "primary": data["primary"], **paged_json(data)}


def category_entries(data: dict[str, Any]) -> atom.Feed:
    category = data["category"]
    return atom.Feed(f"newest in {category}", data["rows"], url_for("category", "html", category=category))


CATEGORY = register(router, Page(
    "category", category_data, per_page=PER_PAGE, params=(Param("category"), _PAGE),
    html=Html("/categories/{category}", "category.html", lambda request, data: {"title": data["category"]}),
    json=Json("/api/categories/{category}", category_body, ["browse"],
              "A category's papers (JSON twin of /categories/{cat})", """
              Papers in the category (primary or cross-listed), newest first; ``primary``: how many have it first."""),
    atom=Atom("/feeds/categories/{category}.atom", category_entries, "Atom: a category's newest papers",
              (Param("category"),), ENTRIES),
))
