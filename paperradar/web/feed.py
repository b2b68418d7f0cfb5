"""The daily feed: ``/`` (a day, week or month; category filter; counts), its JSON twin
``/api/feed`` and Atom feed ``/feeds/daily.atom``; and ``/api/daily_papers`` in the shape of
Hugging Face's endpoint (a plain route: it is JSON only, no page's twin)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..rank import feed as feeds
from . import atom
from .common import (
    JSON,
    HTTPError,
    category_param,
    choice_param,
    date_param,
    int_param,
    page_param,
    paged,
    papers_json,
    store_of,
)
from .links import url_for
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 50
DAILY_ENTRIES = 100
PERIODS = ("day", "week", "month")
SHOWN_CATEGORIES = 40
DATE_DOC = "a day, YYYY-MM-DD (default: the newest day with papers, not after today)"


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


def feed_data(request: Request, params: Params) -> dict[str, Any]:
    """Everything the feed page, its twin and its Atom feed show (the feed: the newest day)."""
    day = date_param(params["date"], "date")
    kind = choice_param(params["period"], "period", PERIODS, "day") or "day"
    category = category_param(params["category"])
    page = page_param(params["page"])
    store = store_of(request)
    day = day or default_day(request)
    period = period_of(day, kind)
    start, end = period.start.isoformat(), period.end.isoformat()
    rows, total = store.feed(start, end, category, params.size, (page - 1) * params.size)
    strip = period if kind != "day" else feeds.week(day)  # a day shows its week's days
    here = {"date": day.isoformat(), "period": kind if kind != "day" else None, "category": category}
    return {
        **paged(rows, total, page, params.size), "day": day, "kind": kind, "period": period, "category": category,
        "days": store.day_counts(strip.start.isoformat(), strip.end.isoformat(), category),
        "categories": store.category_counts(start, end, SHOWN_CATEGORIES), "here": here,
        "previous": {**here, "date": period.previous().start.isoformat()},
        "next": {**here, "date": period.next().start.isoformat()},
    }


def _title(data: dict[str, Any]) -> str:
    period: feeds.Period = data["period"]
    what = {"day": "Papers of", "week": "Papers of the week", "month": "Papers of"}[data["kind"]]
    d = period.start
    label = f"{d:%A} {d.day} {d:%B %Y}" if data["kind"] == "day" else period.label
    return f"{what} {label}" + (f" in {data['category']}" if data["category"] else "")


def feed_body(data: dict[str, Any]) -> dict[str, Any]:
    period: feeds.Period = data["period"]
    return {
        "period": {"kind": data["kind"], "start": period.start.isoformat(), "end": period.end.isoformat(),
                   "label": period.label},
        **{k: data[k] for k in ("category", "total", "page", "pages", "per_page")},
        "days": [{"date": d, "count": n} for d, n in data["days"]],
        "categories": [{"category": c, "count": n} for c, n in data["categories"]],
        "previous": url_for("feed", "json", **data["previous"]), "next": url_for("feed", "json", **data["next"]),
        "papers": papers_json(data["rows"]),
    }


def feed_entries(data: dict[str, Any]) -> atom.Feed:
    day, category = data["day"].isoformat(), data["category"]
    title = f"papers of {day}" + (f" in {category}" if category else "")
    return atom.Feed(title, data["rows"], url_for("feed", "html", category=category))


FEED = register(router, Page(
    "feed", feed_data, per_page=PER_PAGE,
    params=(
        Param("date", DATE_DOC),
        Param("period", "day (default), week (ISO, Monday to Sunday) or month: the one containing `date`"),
        Param("category", "only papers in this arXiv category, e.g. cs.CL"),
        Param("page", "page number, from 1"),
    ),
    html=Html("/", "feed.html", lambda request, data: {"title": _title(data)}),
    json=Json("/api/feed", feed_body, ["feed"], "The daily feed (JSON twin of /)", """
        Papers first listed in a day, week or month, most upvoted first, then newest (50 a page);
        with the number of papers on each day and in each category."""),
    atom=Atom("/feeds/daily.atom", feed_entries, "Atom: the newest day's papers",
              (Param("category", "only papers in this arXiv category"),), DAILY_ENTRIES),
))


@router.get("/api/daily_papers", tags=["feed"], summary="A day's papers, shaped like Hugging Face's endpoint")
def daily_papers(request: Request, date: str | None = Query(None, description=DATE_DOC),
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
