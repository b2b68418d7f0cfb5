"""Authors and categories: ``/authors/{name}``, ``/categories``, ``/categories/{cat}``, their JSON
twins, and ``/feeds/categories/{cat}.atom``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import taxonomy
from ..rank.authors import author_papers
from . import atom, schemas
from .common import (
    CATEGORY,
    NAME,
    PAGE,
    bad,
    category_param,
    name_param,
    page_param,
    paged,
    paged_json,
    radar_of,
    store_of,
)
from .library import HIDDEN, hidden_here, unhidden
from .links import url_for
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 50
ENTRIES = 50
_PAGE = Param("page", "page number, from 1 (50 a page)", schema=PAGE)
_CATEGORY_PARAM = Param("category", "an arXiv category, such as cs.CL or hep-th", schema=CATEGORY)
_NO_SLASH = {404: "no such address: a category has no slash"}


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
    return {"name": name, **paged(unhidden(request, params["hidden"], rows), total, page, params.size),
            "coauthors": top, "here": hidden_here(params["hidden"])}


def author_body(data: dict[str, Any]) -> dict[str, Any]:
    return {"name": data["name"], **paged_json(data),
            "coauthors": [{"name": n, "papers": k} for n, k in data["coauthors"]]}


AUTHOR = register(router, Page(
    "author", author_data, per_page=PER_PAGE,
    params=(Param("name", "the author's name", schema=NAME), _PAGE, HIDDEN),
    errors={404: "no such address: a name beginning with a line break matches no route"},
    html=Html("/authors/{name:path}", "author.html", lambda request, data: {"title": data["name"]}),
    json=Json("/api/authors/{name:path}", author_body, ["browse"],
              "An author's papers (JSON twin of /authors/{name})", """
              Papers with an author of this name (case and accents ignored), newest first; frequent co-authors.""",
              model=schemas.Author),
))


# -- categories ----------------------------------------------------------------


def categories_data(request: Request, params: Params) -> dict[str, Any]:
    """arXiv categories by name with their paper counts; what is not an arXiv category (ACM and MSC
    classes, free text, placeholders) counted together as "other". Recounted only after the store changed."""
    store = store_of(request)
    seq = store.max_seq()
    cached = getattr(request.app.state, "category_counts", None)
    if cached is None or cached[0] != seq:
        known: list[tuple[str, int]] = []
        other = 0
        for code, n in store.category_counts():
            if taxonomy.canonical(code) == code:
                known.append((code, n))
            else:
                other += n
        request.app.state.category_counts = cached = (seq, known, other)
    return {"categories": [(c, n, taxonomy.name(c)) for c, n in cached[1]], "other": cached[2]}


CATEGORIES = register(router, Page(
    "categories", categories_data,
    html=Html("/categories", "categories.html", lambda request, data: {"title": "Categories"}),
    json=Json("/api/categories", lambda data: [{"category": c, "count": n, "name": name}
                                               for c, n, name in data["categories"]],
              ["browse"], "Every arXiv category with its number of papers", model=list[schemas.CategoryCount]),
))


def category_data(request: Request, params: Params) -> dict[str, Any]:
    """A category's papers (primary or cross-listed), newest first; ``primary``: how many have it first."""
    asked = params["category"] or ""
    category = category_param(asked)
    if category is None:
        raise bad("category is empty")
    if category != asked:  # a form's field may carry stray spaces; a path names the category exactly
        raise bad(f"category must be an arXiv category such as cs.CL or hep-th, not {asked[:40]!r}")
    page = page_param(params["page"])
    store = store_of(request)
    rows, total = store.category_papers(category, params.size, (page - 1) * params.size)
    return {"category": category, "primary": store.primary_category_share(category),
            **paged(unhidden(request, params["hidden"], rows), total, page, params.size),
            "here": hidden_here(params["hidden"])}


def category_body(data: dict[str, Any]) -> dict[str, Any]:
    return {"category": data["category"], "primary": data["primary"], **paged_json(data)}


def category_entries(data: dict[str, Any]) -> atom.Feed:
    category = data["category"]
    return atom.Feed(f"newest in {category}", data["rows"], url_for("category", "html", category=category))


CATEGORY = register(router, Page(
    "category", category_data, per_page=PER_PAGE, params=(_CATEGORY_PARAM, _PAGE, HIDDEN), errors=_NO_SLASH,
    html=Html("/categories/{category}", "category.html", lambda request, data: {
        "title": data["category"], "category_name": taxonomy.name(data["category"])}),
    json=Json("/api/categories/{category}", category_body, ["browse"],
              "A category's papers (JSON twin of /categories/{cat})", """
              Papers in the category (primary or cross-listed), newest first; ``primary``: how many have it first.""",
              model=schemas.Category),
    atom=Atom("/feeds/categories/{category}.atom", category_entries, "Atom: a category's newest papers",
              (_CATEGORY_PARAM,), ENTRIES),
))
