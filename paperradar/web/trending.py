"""Trending: ``/trending``, ``/api/trending`` and ``/feeds/trending.atom`` (upvotes with time
decay; the formula is stated)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request

from ..rank import trending as trends
from . import atom, schemas
from .common import (
    CATEGORY,
    FEED_DATE,
    PAGE,
    category_param,
    feed_date_param,
    page_param,
    paged,
    paged_json,
    store_of,
)
from .library import HIDDEN, hidden_here, unhidden
from .links import url_for
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 30
ENTRIES = 50
_CATEGORY = "only papers in this arXiv category"


def trending_data(request: Request, params: Params) -> dict[str, Any]:
    """One page of the ranking, as it stood at the end of ``date``, or now."""
    day = feed_date_param(params["date"])  # the day after it and the window before it are dates
    category = category_param(params["category"])
    page = page_param(params["page"])
    as_of = None
    if day is not None:  # as it stood at the end of that day
        as_of = datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=1)
    rows, as_of, total = trends.trending(store_of(request), as_of, category, params.size, (page - 1) * params.size)
    here = {"date": day.isoformat() if day else None, "category": category,
            **hidden_here(params["hidden"])}
    rows = unhidden(request, params["hidden"], rows)
    return {**paged(rows, total, page, params.size), "as_of": as_of, "category": category, "day": day,
            "here": here}


def trending_context(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    return {"formula": trends.FORMULA, "window_days": trends.WINDOW_DAYS,
            "title": "Trending" + (f" in {data['category']}" if data["category"] else "")}


def trending_body(data: dict[str, Any]) -> dict[str, Any]:
    listed = paged_json(data)
    for paper, r in zip(listed["papers"], data["rows"]):
        paper["trend"] = round(r["trend"], 8)
        paper["age_hours"] = round(r["age_hours"], 2)
    return {"formula": trends.FORMULA, "window_days": trends.WINDOW_DAYS,
            "as_of": data["as_of"].strftime("%Y-%m-%dT%H:%M:%SZ"), "category": data["category"], **listed}


def trending_entries(data: dict[str, Any]) -> atom.Feed:
    category = data["category"]
    return atom.Feed("trending" + (f" in {category}" if category else ""), data["rows"],
                     url_for("trending", "html", category=category),
                     subtitle=f"{trends.FORMULA}, as of {data['as_of']:%Y-%m-%d %H:%M} UTC")


TRENDING = register(router, Page(
    "trending", trending_data, per_page=PER_PAGE,
    params=(
        Param("date", "rank as at the end of this day, YYYY-MM-DD, from 0002-01-01 to 9998-12-31 "
                      "(default: now, or the newest day with papers)", schema=FEED_DATE),
        Param("category", _CATEGORY, schema=CATEGORY),
        Param("page", "page number, from 1", schema=PAGE),
        HIDDEN,
    ),
    html=Html("/trending", "trending.html", trending_context),
    json=Json("/api/trending", trending_body, ["trending"], "Trending papers (JSON twin of /trending)", """
        Papers listed in the last 14 days with upvotes, ranked by
        ``upvotes / (age_hours + 2) ^ 1.8``; each has ``trend`` (its score) and ``age_hours``.""",
              model=schemas.Trending),
    atom=Atom("/feeds/trending.atom", trending_entries, "Atom: trending papers",
              (Param("category", _CATEGORY, schema=CATEGORY),), ENTRIES),
))
