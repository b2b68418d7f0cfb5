"""Trending: ``/trending`` and ``/api/trending`` (upvotes with time decay; the formula is stated)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..present import paper_json
from ..rank import trending as trends
from .common import (
    JSON,
    card,
    category_param,
    date_param,
    page_param,
    pages,
    render,
    store_of,
    twin,
    url,
    with_links,
)

router = APIRouter()

PER_PAGE = 30


def trending_data(request: Request, date_: str | None, category_: str | None, page_: str | None) -> dict[str, Any]:
    day = date_param(date_, "date")
    category = category_param(category_)
    page = page_param(page_)
    store = store_of(request)
    as_of = None
    if day is not None:  # as it stood at the end of that day
        as_of = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)
    rows, as_of, total = trends.trending(store, as_of, category, PER_PAGE, (page - 1) * PER_PAGE)
    return {"rows": rows, "as_of": as_of, "total": total, "category": category, "page": page,
            "pages": pages(total, PER_PAGE), "day": day}


@router.get("/trending", include_in_schema=False)
def trending_page(request: Request, date: str | None = None, category: str | None = None,
                  page: str | None = None) -> Response:
    data = trending_data(request, date, category, page)

    def link(**change: Any) -> str:
        params = {"date": data["day"].isoformat() if data["day"] else None, "category": data["category"]}
        params.update(change)
        return url("/trending", **params)

    return render(
        request, "trending.html", **data, papers=[card(r) for r in data["rows"]], link=link,
        formula=trends.FORMULA, window_days=trends.WINDOW_DAYS, first_rank=(data["page"] - 1) * PER_PAGE + 1,
        title="Trending" + (f" in {data['category']}" if data["category"] else ""),
        json_url=twin(request, "/api/trending"), atom_url=url("/feeds/trending.atom", category=data["category"]),
    )


@router.get("/api/trending", tags=["trending"], summary="Trending papers (JSON twin of /trending)")
def trending_api(request: Request,
                 date: str | None = Query(None, description="rank as at the end of this day (default: now, or the newest day with papers)"),
                 category: str | None = Query(None, description="only papers in this arXiv category"),
                 page: str | None = Query(None, description="page number, from 1")) -> Response:
    """Papers listed in the last 14 days with upvotes, ranked by
    ``upvotes / (age_hours + 2) ^ 1.8``; each has ``trend`` (its score) and ``age_hours``."""
    data = trending_data(request, date, category, page)
    papers = []
    for r in data["rows"]:
        paper = with_links(paper_json(r), r)
        paper["trend"] = round(r["trend"], 8)
        paper["age_hours"] = round(r["age_hours"], 2)
        papers.append(paper)
    return JSON({
        "formula": trends.FORMULA,
        "window_days": trends.WINDOW_DAYS,
        "as_of": data["as_of"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "category": data["category"],
        "total": data["total"],
        "page": data["page"],
        "pages": data["pages"],
        "per_page": PER_PAGE,
        "papers": papers,
    })
