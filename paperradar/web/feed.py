"""The daily feed: ``/`` (a day, week or month; category filter; counts), its JSON twin
``/api/feed``, and ``/api/daily_papers`` in the shape of Hugging Face's endpoint."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..present import paper_json
from ..rank import feed as feeds
from .common import (
    JSON,
    HTTPError,
    card,
    category_param,
    choice_param,
    date_param,
    int_param,
    page_param,
    pages,
    render,
    store_of,
    twin,
    url,
    with_links,
)

router = APIRouter()

PER_PAGE = 50
PERIODS = ("day", "week", "month")
SHOWN_CATEGORIES = 40

_DATE = Query(None, description="a day, YYYY-MM-DD (default: the newest day with papers, not after today)")
_PERIOD = Query(None, description="day (default), week (ISO, Monday to Sunday) or month: the one containing `date`")
_CATEGORY = Query(None, description="only papers in this arXiv category, e.g. cs.CL")
_PAGE = Query(None, description="page number, from 1")


def default_day(request: Request) -> date:
    """Today if it has papers, else the newest day with papers before it (else today)."""
    today = datetime.now(UTC).date()
    latest = store_of(request).latest_day(today.isoformat())
    return date.fromisoformat(latest) if latest else today


def period_of(day: date, kind: str) -> feeds.Period:
    if kind == "week":
        return feeds.week(day)
    if kind == "month":
        return feeds.month(day.year, day.month)
    return feeds.day(day)


def feed_data(request: Request, date_: str | None, period_: str | None, category_: str | None,
              page_: str | None) -> dict[str, Any]:
    """Everything the feed page and its twin show."""
    day = date_param(date_, "date")
    kind = choice_param(period_, "period", PERIODS, "day") or "day"
    category = category_param(category_)
    page = page_param(page_)
    store = store_of(request)
    day = day or default_day(request)
    period = period_of(day, kind)
    start, end = period.start.isoformat(), period.end.isoformat()
    rows, total = store.feed(start, end, category, PER_PAGE, (page - 1) * PER_PAGE)
    strip = period if kind != "day" else feeds.week(day)  # a day shows its week's days
    days = store.day_counts(strip.start.isoformat(), strip.end.isoformat(), category)
    categories = store.category_counts(start, end, SHOWN_CATEGORIES)

    def link(**change: Any) -> str:
        params = {"date": day.isoformat(), "period": kind if kind != "day" else None, "category": category}
        params.update(change)
        return url("/", **params)

    return {
        "day": day,
        "kind": kind,
        "period": period,
        "category": category,
        "page": page,
        "pages": pages(total, PER_PAGE),
        "total": total,
        "rows": rows,
        "days": days,
        "categories": categories,
        "link": link,
        "previous": link(date=period.previous().start.isoformat()),
        "next": link(date=period.next().start.isoformat()),
    }


@router.get("/", include_in_schema=False)
def feed_page(request: Request, date: str | None = None, period: str | None = None,
              category: str | None = None, page: str | None = None) -> Response:
    data = feed_data(request, date, period, category, page)
    return render(
        request, "feed.html", **data, papers=[card(r) for r in data["rows"]],
        first_rank=(data["page"] - 1) * PER_PAGE + 1, title=_title(data),
        json_url=twin(request, "/api/feed"), atom_url=url("/feeds/daily.atom", category=data["category"]),
    )


def _title(data: dict[str, Any]) -> str:
    period: feeds.Period = data["period"]
    what = {"day": "Papers of", "week": "Papers of the week", "month": "Papers of"}[data["kind"]]
    d = period.start
    label = f"{d:%A} {d.day} {d:%B %Y}" if data["kind"] == "day" else period.label
    return f"{what} {label}" + (f" in {data['category']}" if data["category"] else "")


@router.get("/api/feed", tags=["feed"], summary="The daily feed (JSON twin of /)")
def feed_api(request: Request, date: str | None = _DATE, period: str | None = _PERIOD,
             category: str | None = _CATEGORY, page: str | None = _PAGE) -> Response:
    """Papers first listed in a day, week or month, most upvoted first, then newest (50 a page);
    with the number of papers on each day and in each category."""
    data = feed_data(request, date, period, category, page)
    period_: feeds.Period = data["period"]
    return JSON({
        "period": {"kind": data["kind"], "start": period_.start.isoformat(), "end": period_.end.isoformat(),
                   "label": period_.label},
        "category": data["category"],
        "total": data["total"],
        "page": data["page"],
        "pages": data["pages"],
        "per_page": PER_PAGE,
        "days": [{"date": d, "count": n} for d, n in data["days"]],
        "categories": [{"category": c, "count": n} for c, n in data["categories"]],
        "previous": data["previous"].replace("/?", "/api/feed?", 1),
        "next": data["next"].replace("/?", "/api/feed?", 1),
        "papers": [with_links(paper_json(r), r) for r in data["rows"]],
    })


@router.get("/api/daily_papers", tags=["feed"], summary="A day's papers, shaped like Hugging Face's endpoint")
def daily_papers(request: Request, date: str | None = _DATE,
                 limit: str | None = Query(None, description="papers per page, 1 to 1000 (default 100)"),
                 p: str | None = Query(None, description="page, from 0 (as on Hugging Face)")) -> Response:
    """The papers first listed on ``date``, most upvoted first, as a list of
    ``{"paper": {"id", "title", "summary", "authors": [{"name"}], "publishedAt", "upvotes"}, ...}``
    like ``https://huggingface.co/api/daily_papers?date=``, so clients written for it work unchanged."""
    day = date_param(date, "date") or default_day(request)
    size = int_param(limit, "limit", 100, 1, 1000)
    page = int_param(p, "p", 0, 0, 10_000)
    if page * size > 100_000:
        raise HTTPError(400, "p * limit must be at most 100000")
    rows, _ = store_of(request).feed(day.isoformat(), day.isoformat(), None, size, page * size)
    return JSON([hf_entry(r) for r in rows])


def hf_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One paper as an item of Hugging Face's ``/api/daily_papers`` list."""
    published = f"{row['published']}T00:00:00.000Z" if row["published"] else None
    paper = {
        "id": row["id"],
        "title": row["title"],
        "summary": row["abstract"],
        "authors": [{"name": a} for a in row["authors"]],
        "publishedAt": published,
        "upvotes": row["upvotes"],
    }
    return {
        "paper": paper,
        "title": row["title"],
        "summary": row["abstract"],
        "publishedAt": published,
        "numComments": int((row.get("extra") or {}).get("numComments") or 0),
    }
