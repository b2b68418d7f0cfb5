"""Hugging Face's papers API at the same paths, with the same parameters and JSON.

``/api/daily_papers``, ``/api/papers/search``, ``/api/papers/{id}`` and ``/papers/{id}.md``
answer as huggingface.co does, so that a client written for it works unchanged; the test
suite drives ``huggingface_hub.HfApi(endpoint=...)`` against ``paperradar serve``
(``tests/test_hf_client.py``). These are plain JSON routes, not registry pages: they have
no HTML page. paperradar's own richer JSON (paging, snippets, modes, filters) is at its
own paths: ``/api/feed``, ``/api/search``, ``/api/paper/{id}``.

Where each field comes from:

* the daily list is the ``featured`` table (``store.featured_papers``): the papers Hugging
  Face featured on a day (imported daily responses) or that a user of this site submitted,
  never every arXiv paper first listed that day;
* ``paper.id``, ``title``, ``summary`` and ``upvotes`` are the stored paper's (``upvotes``:
  its total, Hugging Face's count plus local votes); every other HF field an import
  carried is in the paper's ``extra`` under HF's own name (``sources/hf_json.py``) and is
  served back where HF puts it: ``authors`` (objects with ``_id``, ``hidden``, ``user``),
  ``publishedAt``, ``discussionId``, ``githubRepo``, ``ai_summary``, ...;
* ``numComments`` counts as ``upvotes`` does: Hugging Face's count (as imported; 0 for a
  paper known only from arXiv) plus this site's comments; HF's paper object has none, and
  gets it once the paper has comments here;
* a paper paperradar knows only from arXiv gets what it can know: authors as
  ``{"name", "hidden": false}``, ``publishedAt`` its first arXiv listing (midnight UTC);
  the HF-only fields (``discussionId``, ``thumbnail``, ``ai_summary``, ...) are left out,
  as HF leaves them out for papers that lack them;
* ``paper.submittedOnDailyAt`` and ``submittedOnDailyBy`` (and the entry's
  ``submittedBy``) are the featured row's time and submitter: Hugging Face's user name, or
  for a submission here the member's display name (never an id or email);
* a search result's ``upvoted`` is whether the viewer (signed in, or with a bearer token)
  voted for the paper here; false for an anonymous viewer;
* the entry's own ``publishedAt`` is, as on Hugging Face today, the paper's
  ``publishedAt`` written in US Eastern wall-clock time with a ``Z`` (true of all 7,077
  entries of responses saved since March 2025; older responses had another time there,
  which imports do not keep). ``huggingface_hub`` reads it as ``submitted_at``.

/openapi.json describes them as it does the app's other plain JSON routes: each parameter
with the schema of what its check takes (``pages.documented``), the body's model
(``schemas.HfDailyEntry``, ``HfSearchEntry``, ``HfPaper``) and every status besides 200. A
value an import kept under HF's name is served only where it has the type the model gives it
(:func:`.hf_shapes.fits`); the periods are the feed's (``date``, ``week`` and ``month`` of the days from
0002-01-01 to 9998-12-31), so an answer is never a 500 at the calendar's ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, Response

from ..present import shown_featured
from ..rank import feed as feeds
from ..rank import trending as trends
from ..rank.search import search
from ..store import Store
from . import auth, schemas
from .common import (
    FEED_DATE,
    JSON,
    QUERY,
    bad,
    choice_param,
    choice_schema,
    feed_date_param,
    int_param,
    int_schema,
    query_param,
    radar_of,
    store_of,
    text_param,
)
from .hf_shapes import (
    Featuring,
    daily_entry,
    markdown,
    num_comments,
    paper_object,
    published_at,
    search_entry,
)
from .pages import Param, documented, errors
from .papers import FOUND_OR_NOT, PaperId, find

router = APIRouter()  # before the paper page: /papers/{id}.md is not a paper id
paper_router = APIRouter()  # after the paper's own routes: /api/papers/{id}/similar is not a paper id

SORTS = ("publishedAt", "trending")
PER_PAGE = 50  # Hugging Face's default (no saved day has more)
MAX_LIMIT = 100
MAX_SEEN = 100_000  # (p + 1) * limit: at most this many papers ranked for one answer
SEARCH_LIMIT = 50
_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")  # ASCII digits only, as in a date (int() reads others too)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")



# -- what /openapi.json says of the parameters ----------------------------------------------
# Each schema takes exactly what the parameter's check (below) takes. The periods are those the
# feed can show (common.feed_date_param: days from 0002-01-01 to 9998-12-31): a day of them, a
# month of their years, an ISO week of their years (0002-W01 begins 0001-12-31, 9998-W53 ends
# 9999-01-03: each has days in the range, as the week around a feed's first and last day). Two
# rules no schema states are in the descriptions: the narrowest period wins, pages past MAX_SEEN are empty.


def _two_digits(numbers: Iterable[int]) -> str:
    """Numbers from 0 to 99 as a pattern of two digits, grouped by tens: ``0[048]|1[26]|...``."""
    by_tens: dict[int, str] = {}
    for n in sorted(numbers):
        by_tens[n // 10] = by_tens.get(n // 10, "") + str(n % 10)
    return "|".join(f"{tens}[{units}]" for tens, units in by_tens.items())


def _long_years() -> str:
    """The years that have an ISO week 53, as a pattern of YYYY. The calendar repeats every 400
    years, so it is a matter of the century modulo 4 and the last two digits: for each of the
    four kinds of century, its centuries (the first two digits) and the years' last two digits."""
    kinds = []
    for kind in range(4):  # year 400 + 100 * kind + yy stands for every year of its place in the cycle
        ends = [yy for yy in range(100) if date(400 + 100 * kind + yy, 12, 28).isocalendar().week == 53]
        kinds.append(f"({_two_digits(cc for cc in range(100) if cc % 4 == kind)})({_two_digits(ends)})")
    return f"({'|'.join(kinds)})"


_YEARS = FEED_DATE["pattern"].removeprefix("^").removesuffix("-")  # the years of the feed's days
WEEK: dict[str, Any] = {"type": "string",
                        "pattern": f"^({_YEARS}-W(0[1-9]|[1-4][0-9]|5[0-2])|{_long_years()}-W53)$"}
MONTH: dict[str, Any] = {"type": "string", "pattern": f"^{_YEARS}-(0[1-9]|1[0-2])$"}
FIRST_YEAR, LAST_YEAR = feeds.FIRST_DAY.year, feeds.LAST_DAY.year
_ONE_PERIOD = "date, week and month: given together, the narrowest wins (date, then week)"
DAILY_PARAMS = (
    Param("date", f"a day, YYYY-MM-DD, from {feeds.FIRST_DAY} to {feeds.LAST_DAY} ({_ONE_PERIOD})",
          schema=FEED_DATE),
    Param("week", f"an ISO week, YYYY-Www (e.g. 2025-W25), from {FIRST_YEAR:04d}-W01 to {LAST_YEAR:04d}-W53 "
                  f"(W53 in the years that have one; {_ONE_PERIOD})", schema=WEEK),
    Param("month", f"a month, YYYY-MM, from {FIRST_YEAR:04d}-01 to {LAST_YEAR:04d}-12 ({_ONE_PERIOD})",
          schema=MONTH),
    Param("submitter", "only the papers this user submitted: a Hugging Face user name, or a member of this "
                       "site by display name (as `submittedBy.name` shows it)"),
    Param("sort", "publishedAt (default) or trending", schema=choice_schema(SORTS, "publishedAt")),
    Param("p", f"page, from 0 (pages past the first {MAX_SEEN:,} papers are empty)",
          schema=int_schema(0, MAX_SEEN - 1, 0)),
    Param("limit", f"papers per page, 1 to {MAX_LIMIT} (default {PER_PAGE})",
          schema=int_schema(1, MAX_LIMIT, PER_PAGE)),
)
Day, Week, Month, Submitter, Sort, PageNumber, DailyLimit = (documented(param) for param in DAILY_PARAMS)
SEARCH_PARAMS = (
    Param("q", "the query (at most 10,000 characters; empty: no results)", schema=QUERY),
    Param("limit", f"how many, 1 to {MAX_LIMIT} (default {SEARCH_LIMIT})",
          schema=int_schema(1, MAX_LIMIT, SEARCH_LIMIT)),
)
Query_, SearchLimit = (documented(param) for param in SEARCH_PARAMS)


# -- routes ------------------------------------------------------------------------


@router.get("/api/daily_papers", tags=["huggingface"], summary="Daily papers, as Hugging Face's endpoint of that name",
            response_model=list[schemas.HfDailyEntry],
            responses=errors({400: "a parameter is not valid (the message names it and says what it takes), "
                                   "more than one of date, week and month, or (p + 1) * limit over 100,000"}),
            description="""
A list of daily-list entries exactly as `https://huggingface.co/api/daily_papers` gives
them (`huggingface_hub`'s `list_daily_papers`): each `{"paper": {...}, "publishedAt",
"title", "summary", "numComments", "submittedBy", ...}`. The list is the papers *featured*
in the period (by Hugging Face, from imported Daily Papers responses, or by this site's
users), not every arXiv paper listed then. With no `date`, `week` or `month`: the most
recent ones.

`sort=publishedAt` (the default): the newest featured day first, the most upvoted first
within a day (as Hugging Face orders a day). `sort=trending`: by
`upvotes / (age_hours + 2) ^ 1.8`, the age counted from the start of the day the paper
was featured to the end of the period (or now); with no period, the papers featured in
the last 14 days. Hugging Face's own trending formula is not public (it is not computed
from upvotes alone), so this order is paperradar's, not a copy of theirs.""")
def daily_papers(
    request: Request,
    date: Day = None,
    week: Week = None,
    month: Month = None,
    submitter: Submitter = None,
    sort: Sort = None,
    p: PageNumber = None,
    limit: DailyLimit = None,
) -> Response:
    period = period_param(date, week, month)
    order = choice_param(sort, "sort", SORTS, "publishedAt")
    who = text_param(submitter, "submitter")
    size = int_param(limit, "limit", PER_PAGE, 1, MAX_LIMIT)
    page = int_param(p, "p", 0, 0, MAX_SEEN - 1)
    if (page + 1) * size > MAX_SEEN:  # past the first MAX_SEEN papers of a list: an empty page
        return JSON([])
    store = store_of(request)
    if order == "trending":
        listed = trending(store, period, who)
    else:
        listed = newest_first(store, period, who, (page + 1) * size)
    shown = listed[page * size:(page + 1) * size]
    comments = store.comment_counts([row["rowid"] for row, _ in shown])
    return JSON([daily_entry(row, featuring, comments.get(row["rowid"], 0)) for row, featuring in shown])


@router.get("/api/papers/search", tags=["huggingface"], summary="Search papers, as Hugging Face's endpoint of that name",
            response_model=list[schemas.HfSearchEntry],
            responses=errors({400: "q or limit is not valid (the message says which)"}),
            description="""
A list of results as `https://huggingface.co/api/papers/search?q=` gives them
(`huggingface_hub`'s `list_papers`): `{"paper": {...}, "publishedAt", "title", "summary",
"numComments", "upvoted", ...}`, best first, found by paperradar's hybrid search (keyword
and, once `paperradar embed` ran, meaning). Hugging Face's `highlightedTitle` and
`highlightedSummary` are not given; paperradar's own search, with modes, filters, pages and
highlighted snippets, is `/api/search`.""")
def search_papers(
    request: Request,
    q: Query_ = None,
    limit: SearchLimit = None,
) -> Response:
    query = query_param(q)
    size = int_param(limit, "limit", SEARCH_LIMIT, 1, MAX_LIMIT)
    if not query:
        return JSON([])
    try:
        rows = search(radar_of(request), query, "hybrid", None, limit=size)
    except ValueError as exc:
        raise bad(str(exc)) from exc
    store = store_of(request)
    comments = store.comment_counts([row["rowid"] for row in rows])
    user = auth.viewer(request).user
    voted = store.voted_ids(user.id) if user is not None and rows else set()
    return JSON([search_entry(row, comments.get(row["rowid"], 0), row["id"] in voted) for row in rows])


@router.get("/papers/{paper_id:path}.md", include_in_schema=False)
def paper_markdown(request: Request, paper_id: str) -> Response:
    """A paper as Markdown (``huggingface_hub``'s ``read_paper``): its title, authors, dates,
    links, AI summary and abstract. Hugging Face serves the paper's full text where it has it;
    paperradar has only the metadata."""
    return PlainTextResponse(markdown(find(request, paper_id)), media_type="text/markdown; charset=utf-8")


@paper_router.get("/api/papers/{paper_id:path}", tags=["huggingface"], summary="One paper, as Hugging Face's endpoint of that name",
                  response_model=schemas.HfPaper, responses=FOUND_OR_NOT,
                  description="""
The paper object as `https://huggingface.co/api/papers/{id}` gives it (`huggingface_hub`'s
`paper_info`): `id`, `authors` (objects), `publishedAt`, `title`, `summary`, `upvotes`, and
where known `submittedOnDailyAt`/`submittedOnDailyBy` (its latest featuring),
`discussionId`, `githubRepo`, `projectPage`, `ai_summary`, `ai_keywords`, ... Models,
datasets and Spaces linked to the paper are not known to paperradar and not given.
paperradar's own JSON of the paper (sources, links, BibTeX) is `/api/paper/{id}`.""")
def paper_info(request: Request, paper_id: PaperId) -> Response:
    row = find(request, paper_id)
    featured = row.get("featured") or []
    paper = paper_object(row, shown_featured(store_of(request), featured[-1] if featured else None))
    if local := store_of(request).comment_counts([row["rowid"]]).get(row["rowid"], 0):
        paper["numComments"] = num_comments(row, local)  # HF's paper object has none: added once there are ours
    return JSON(paper)


# -- parameters ----------------------------------------------------------------------


def period_param(day: str | None, week: str | None, month: str | None) -> tuple[date, date] | None:
    """The days ``date``, ``week`` (ISO, YYYY-Www) or ``month`` (YYYY-MM) cover; None if none is given.
    The periods are the feed's (:data:`DAILY_PARAMS`): a 400 naming the parameter past them."""
    # More than one: each is checked, then the narrowest wins (date, then week, then month).
    one = feed_date_param(day, "date")
    weeks = _period_of("week", week, week_param)
    months = _period_of("month", month, month_param)
    if one is not None:
        return one, one
    period = weeks or months
    return (period.start, period.end) if period is not None else None


def _period_of(name: str, value: str | None, parse: Callable[[str], feeds.Period]) -> feeds.Period | None:
    """The period a ``week`` or ``month`` value names (None if not given); a 400 naming it otherwise."""
    text = text_param(value, name)
    if text is None:
        return None
    try:
        return parse(text)
    except feeds.OutOfCalendar as exc:  # not past the years checked; named all the same
        raise bad(f"{name} is out of the calendar: {exc}") from None


def week_param(text: str) -> feeds.Period:
    m = _WEEK.fullmatch(text)
    if m is not None and not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
        raise bad(f"week must be an ISO week from {FIRST_YEAR:04d}-W01 to {LAST_YEAR:04d}-W53, not {text!r}")
    try:
        if m is None:
            raise ValueError
        start = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise bad(f"week must be an ISO week written YYYY-Www (such as 2025-W25; W01 to W52, or W53 in the "
                  f"years that have one), not {text[:40]!r}") from None
    return feeds.week(start)


def month_param(text: str) -> feeds.Period:
    m = _MONTH.fullmatch(text)
    if m is None or not 1 <= int(m[2]) <= 12:
        raise bad(f"month must be a month written YYYY-MM (such as 2025-06), not {text[:40]!r}")
    if not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
        raise bad(f"month must be a month from {FIRST_YEAR:04d}-01 to {LAST_YEAR:04d}-12, not {text!r}")
    return feeds.month(int(m[1]), int(m[2]))


# -- which papers, in which order ---------------------------------------------------------


Listed = list[tuple[dict[str, Any], Featuring]]


def featured_in(store: Store, start: date, end: date, who: str | None) -> Listed:
    """Every paper featured in [start, end] (by ``who``), each once, with its featured row."""
    a, b = start.isoformat(), end.isoformat()
    _, total = store.featured_papers(a, b, submitter=who, limit=0)
    if not total:
        return []
    rows, _ = store.featured_papers(a, b, submitter=who, limit=total)
    return [(dict(row), shown_featured(store, featured) or {}) for row, featured in rows]


def newest_first(store: Store, period: tuple[date, date] | None, who: str | None, need: int) -> Listed:
    """The period's papers (with none: at least the ``need`` most recently featured), newest
    featured day first, then most upvoted, then newest paper."""
    if period is not None:
        listed = featured_in(store, *period, who)
    else:
        latest = store.latest_featured_day(datetime.now(UTC).date().isoformat())
        if latest is None:
            return []
        end = date.fromisoformat(latest)
        span = 7
        while True:  # widen the window back in time until it holds enough (or everything)
            start = days_before(end, span - 1)
            listed = featured_in(store, start, end, who)
            if len(listed) >= need or start == date.min:
                break
            older = store.latest_featured_day((start - timedelta(days=1)).isoformat())
            if older is None or older >= start.isoformat():
                break
            span *= 4
    return sorted(listed, key=lambda item: (item[1]["day"], item[0]["upvotes"], published_at(item[0]) or "",
                                            item[0]["id"]), reverse=True)


def trending(store: Store, period: tuple[date, date] | None, who: str | None) -> Listed:
    """The period's papers (with none: those featured in the last ``WINDOW_DAYS`` days) by
    trending score at the end of the period (or now), highest first."""
    now = datetime.now(UTC)
    if period is None:
        latest = store.latest_featured_day(now.date().isoformat())
        if latest is None:
            return []
        until = date.fromisoformat(latest)
        period = (days_before(until, trends.WINDOW_DAYS - 1), until)
    end = period[1]  # as of its end, or now (a featured day after today: now, not past the calendar)
    as_of = now if end >= now.date() else datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)
    listed = featured_in(store, *period, who)

    def score(item: tuple[dict[str, Any], Featuring]) -> float:
        return trends.score(item[0]["upvotes"], trends.age_hours(item[1]["day"], as_of))

    return sorted(listed, key=lambda item: (score(item), item[0]["upvotes"], item[1]["day"], item[0]["id"]),
                  reverse=True)


def days_before(day: date, days: int) -> date:
    """``days`` days before ``day``, or the calendar's first day (a featured day near it)."""
    return day - timedelta(days=days) if days <= (day - date.min).days else date.min
