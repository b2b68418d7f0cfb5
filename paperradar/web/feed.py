"""The daily feed: ``/`` (a day, week or month; category filter; counts), its JSON twin
``/api/feed`` and Atom feed ``/feeds/daily.atom``. Hugging Face's ``/api/daily_papers`` (the
featured papers, in HF's shape) is in :mod:`.hf_api`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request

from ..present import shown_featured
from ..rank import feed as feeds
from . import atom, schemas
from .common import (
    CATEGORY,
    FEED_DATE,
    PAGE,
    category_param,
    choice_param,
    choice_schema,
    feed_date_param,
    page_param,
    paged,
    papers_json,
    store_of,
)
from .hf_shapes import shown_label
from .library import HIDDEN, hidden_here, unhidden
from .links import url_for
from .pages import Atom, Html, Json, Page, Param, Params, register

router = APIRouter()

PER_PAGE = 50
DAILY_ENTRIES = 100
PERIODS = ("day", "week", "month")
LISTS = ("featured", "all")
SHOWN_CATEGORIES = 40
DATE_DOC = ("a day, YYYY-MM-DD, from 0002-01-01 to 9998-12-31 "
            "(default: the newest day with papers, not after today)")


def default_day(request: Request) -> date:
    """Today if it has papers, else the newest day before it with papers, featured or first listed
    (else today)."""
    today = datetime.now(UTC).date()
    store = store_of(request)
    days = [d for d in (store.latest_featured_day(today.isoformat()), store.latest_day(today.isoformat())) if d]
    day = date.fromisoformat(max(days)) if days else today
    return min(max(day, feeds.FIRST_DAY), feeds.LAST_DAY)  # a paper dated at the calendar's end


def period_of(day: date, kind: str) -> feeds.Period:
    if kind == "week":
        return feeds.week(day)
    if kind == "month":
        return feeds.month(day.year, day.month)
    return feeds.day(day)


def feed_data(request: Request, params: Params) -> dict[str, Any]:
    """Everything the feed page, its twin and its Atom feed show (the feed: the newest day)."""
    day = feed_date_param(params["date"])
    kind = choice_param(params["period"], "period", PERIODS, "day") or "day"
    category = category_param(params["category"])
    page = page_param(params["page"])
    store = store_of(request)
    day = day or default_day(request)
    period = period_of(day, kind)
    start, end = period.start.isoformat(), period.end.isoformat()
    asked = choice_param(params["list"], "list", LISTS, None)
    offset = (page - 1) * params.size
    # One query gives the featured page and its count, which also decides the default list.
    pairs, featured_total = store.featured_papers(start, end, category, None,
                                                  0 if asked == "all" else params.size, offset)
    shown = asked or ("featured" if featured_total else "all")
    strip = period if kind != "day" else feeds.week(day)  # a day shows its week's days
    featured: dict[int, dict[str, Any]] = {}  # by rowid: the featured row as visitors see it
    if shown == "featured":
        total = featured_total
        rows = [r for r, _ in pairs]
        featured = {r["rowid"]: shown_featured(store, f) or {} for r, f in pairs}
        days = store.featured_days(strip.start.isoformat(), strip.end.isoformat(), category)
        all_total = store.feed(start, end, category, 0, 0)[1]
    else:
        rows, total = store.feed(start, end, category, params.size, offset)
        days, all_total = store.day_counts(strip.start.isoformat(), strip.end.isoformat(), category), total
    here = {"date": day.isoformat(), "period": kind if kind != "day" else None, "category": category,
            "list": params["list"] and shown, **hidden_here(params["hidden"])}
    rows = unhidden(request, params["hidden"], rows)
    return {
        **paged(rows, total, page, params.size), "day": day, "kind": kind, "period": period, "category": category,
        "list": shown, "featured": featured, "featured_total": featured_total, "all_total": all_total,
        "empty_store": total == 0 and store.count() == 0,
        "days": days,
        "categories": store.category_counts(start, end, SHOWN_CATEGORIES), "here": here,
        "previous": {**here, "date": period.previous().start.isoformat()},
        "next": {**here, "date": period.next().start.isoformat()},
    }


def _title(data: dict[str, Any]) -> str:
    period: feeds.Period = data["period"]
    what = {"day": "Papers of", "week": "Papers of the week", "month": "Papers of"}[data["kind"]]
    if data["list"] == "featured":
        what = "Featured " + what[0].lower() + what[1:]
    d = period.start
    label = f"{d:%A} {d.day} {d:%B %Y}" if data["kind"] == "day" else period.label
    return f"{what} {label}" + (f" in {data['category']}" if data["category"] else "")


def _submitters(data: dict[str, Any]) -> dict[str, str]:
    """"Submitted by ..." of each featured card, by paper id (a member by display name, never the email)."""
    out = {}
    for row in data["rows"]:
        featured = data["featured"].get(row["rowid"])
        if featured is not None and (label := shown_label(featured)):
            out[row["id"]] = label
    return out


def feed_body(data: dict[str, Any]) -> dict[str, Any]:
    period: feeds.Period = data["period"]
    return {
        "period": {"kind": data["kind"], "start": period.start.isoformat(), "end": period.end.isoformat(),
                   "label": period.label},
        "showing": data["list"],
        **{k: data[k] for k in ("category", "featured_total", "all_total", "total", "page", "pages", "per_page")},
        "days": [{"date": d, "count": n} for d, n in data["days"]],
        "categories": [{"category": c, "count": n} for c, n in data["categories"]],
        "previous": url_for("feed", "json", **data["previous"]), "next": url_for("feed", "json", **data["next"]),
        "papers": [{**paper, "featured": data["featured"][row["rowid"]]} if row["rowid"] in data["featured"]
                   else paper for paper, row in zip(papers_json(data["rows"]), data["rows"], strict=True)],
    }


def feed_entries(data: dict[str, Any]) -> atom.Feed:
    day, category = data["day"].isoformat(), data["category"]
    title = f"{'featured papers' if data['list'] == 'featured' else 'papers'} of {day}" + (
        f" in {category}" if category else "")
    return atom.Feed(title, data["rows"], url_for("feed", "html", category=category))


FEED = register(router, Page(
    "feed", feed_data, per_page=PER_PAGE,
    params=(
        Param("date", DATE_DOC, schema=FEED_DATE),
        Param("period", "day (default), week (ISO, Monday to Sunday) or month: the one containing `date`",
              schema=choice_schema(PERIODS, "day")),
        Param("category", "only papers in this arXiv category, e.g. cs.CL", schema=CATEGORY),
        Param("list", "featured (the papers featured on those days, by Hugging Face or this site's members) or "
                      "all (every paper first listed on arXiv then); default: featured when there are any",
              schema=choice_schema(LISTS, None)),
        Param("page", "page number, from 1", schema=PAGE),
        HIDDEN,
    ),
    html=Html("/", "feed.html", lambda request, data: {"title": _title(data),
                                                       "submitters": _submitters(data)}),
    json=Json("/api/feed", feed_body, ["feed"], "The daily feed (JSON twin of /)", """
        The papers featured in a day, week or month (Hugging Face Daily Papers, submissions), or all
        papers first listed then (`list`); most upvoted first, then newest (50 a page); with the
        number of papers on each day and in each category.""", model=schemas.Feed),
    atom=Atom("/feeds/daily.atom", feed_entries, "Atom: the newest day's papers",
              (Param("category", "only papers in this arXiv category", schema=CATEGORY),), DAILY_ENTRIES),
))
