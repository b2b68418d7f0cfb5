"""For you: a day's papers ranked for the signed-in viewer, each saying why: ``/for-you``, its JSON twin
``/api/me/for-you``, the cold-start forms and the private Atom feed's entries.

The ranking is :func:`paperradar.rank.recommend.for_user` (a linear model over the viewer's library,
votes and hidden papers; retrained when they change): this module only checks the request and shows the
answer. Each card says why: the saved papers it is closest to ("close to: ...", linked) and the
terms that weigh most for it.

**Cold start.** With fewer than three positives there is nothing to learn from, so the page asks for
them, three ways, each a plain form (``csrf_token``; :data:`auth.Writer`):

- ``POST /for-you/categories``: categories to follow (``category`` boxes, ``more``: others, written
  like ``cs.CL hep-th``), as the category pages' Follow buttons would (``store.add_follow``). Until
  the library says more, the page shows the trending papers of those categories.
- ``POST /for-you/author`` ("papers like mine"): the newest papers by the author named, found as the
  author page finds them, saved in the collection :data:`SEED_COLLECTION`: they become positives.
- ``POST /for-you/papers``: a pasted list of arXiv ids, or BibTeX (also RIS, CSL-JSON), into
  :data:`PASTE_COLLECTION`: BibTeX through the library's own import (:func:`.library.import_file`),
  ids matched to the stored papers through ``store.import_to_library`` (an id this site does not
  hold is listed as skipped: nothing is fetched from outside).

Both library forms go through ``import_to_library``, which adds to a collection and never takes a
paper out of the collections it is in. Hidden papers are never shown (the recommender leaves them
out; this module checks again, since a paper may have been hidden since the model was cached).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import taxonomy
from ..ids import parse_arxiv_id
from ..model import Paper
from ..rank import feed as feeds
from ..rank import recommend
from ..rank.authors import author_papers
from ..rank.ranked import Ranked
from ..sources.detect import detect
from ..store import Store, User
from ..store.library import DEFAULT_COLLECTION
from . import auth, schemas
from .common import (
    FEED_DATE,
    JSON,
    HTTPError,
    bad,
    card,
    feed_date_param,
    int_param,
    int_schema,
    papers_json,
    radar_of,
    render,
    store_of,
)
from .follows import MAX_FOLLOWS, check_follow
from .forms import field, next_path, optional_field, page_user, see_other
from .library import IMPORT_ORIGIN, IMPORTED, collection_url, import_file
from .links import paper_url
from .pages import Param, documented, errors
from .tex import tex_html

router = APIRouter()

PER_PAGE = 50  # papers a page (and, by default, the JSON) shows
MAX_LIMIT = 200
FEED_ENTRIES = 50
SEED_COLLECTION = "Papers like mine"  # where "papers like mine" puts an author's papers
PASTE_COLLECTION = DEFAULT_COLLECTION  # where pasted ids and BibTeX go
AUTHOR_MAX = 100  # an author's newest papers taken as positives
PASTE_MAX = 200_000  # characters of a pasted list (a BibTeX file of a few hundred entries)
IDS_MAX = 500  # arXiv ids in one paste
CATEGORY_CHOICES = 24  # categories offered as boxes on the cold-start form
_SEPARATORS = re.compile(r"[\s,;]+")

DATE = Param("date", "a day, YYYY-MM-DD: its papers are ranked (default: the newest day with papers, "
                     "not after today)", schema=FEED_DATE)
LIMIT = Param("limit", f"how many papers, best first (1 to {MAX_LIMIT}; default {PER_PAGE})",
              schema=int_schema(1, MAX_LIMIT, PER_PAGE))
Date, Limit = documented(DATE), documented(LIMIT)


# -- the data ---------------------------------------------------------------------------


def newest_day_of(store: Store) -> date:
    """Today if papers were listed today, else the newest day before it with listed papers (else today):
    the papers of a day are the candidates, so a day with only featured papers is not taken."""
    today = datetime.now(UTC).date()
    latest = store.latest_day(today.isoformat())
    day = date.fromisoformat(latest) if latest else today
    return min(max(day, feeds.FIRST_DAY), feeds.LAST_DAY)


def newest_day(request: Request) -> date:
    return newest_day_of(store_of(request))


def for_you(request: Request, user_id: int, day: date, limit: int) -> dict[str, Any]:
    """The ranking of ``day``'s papers for the user: the recommender's answer, without any paper the user
    hid (checked here again: the answer may come from a model cached before the paper was hidden)."""
    store = store_of(request)
    found = recommend.for_user(radar_of(request), user_id, day, limit)
    hidden = store.hidden_ids(user_id)
    papers = [r for r in found.papers if r["id"] not in hidden][:limit]
    followed = sorted(f["value"] for f in store.follows(user_id) if f["kind"] == "category")
    period = feeds.day(day)
    return {"day": day, "limit": limit, "papers": papers, "cold": found.cold, "reason": found.reason or None,
            "positives": found.positives, "candidates": found.candidates, "categories": followed,
            "previous": period.previous().start, "next": period.next().start}


def why_of(row: Ranked) -> dict[str, Any] | None:
    """A paper's ``why`` as the JSON gives it: the saved papers it is near (each with its page), the terms,
    what it matches of the follows; None at cold start (trending, nothing learnt)."""
    why = row.get("why")
    if not why:
        return None
    near = [{"id": n["id"], "title": n["title"], "similarity": round(float(n.get("similarity") or 0.0), 4),
             "url": paper_url(n["id"])} for n in why.get("near") or []]
    return {"near": near, "terms": [str(t) for t in why.get("terms") or []],
            "follows": [str(f) for f in why.get("follows") or []]}


def api_url(day: date, limit: int | None = None) -> str:
    query = f"?date={day.isoformat()}" + (f"&limit={limit}" if limit and limit != PER_PAGE else "")
    return "/api/me/for-you" + query


def page_url(day: date, limit: int | None = None) -> str:
    return f"/for-you?date={day.isoformat()}" + (f"&limit={limit}" if limit and limit != PER_PAGE else "")


def body(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON twin's answer."""
    rows = [r.paper for r in data["papers"]]
    return {"date": data["day"].isoformat(), "cold": data["cold"], "reason": data["reason"],
            "positives": data["positives"], "min_positives": recommend.MIN_POSITIVES, "categories": data["categories"],
            "limit": data["limit"], "total": len(data["papers"]),
            "previous": api_url(data["previous"], data["limit"]), "next": api_url(data["next"], data["limit"]),
            "papers": [{**paper, "score": float(r["score"]), "why": why_of(r)}
                       for paper, r in zip(papers_json(rows), data["papers"], strict=True)]}


# -- the page and its JSON twin ---------------------------------------------------------


def _asked(date_value: str | None, limit_value: str | None) -> tuple[date | None, int]:
    return feed_date_param(date_value), int_param(limit_value, "limit", PER_PAGE, 1, MAX_LIMIT)


@router.get("/for-you", include_in_schema=False)
def foryou_page(request: Request, date: str | None = None, limit: str | None = None) -> Response:
    """The signed-in viewer's papers of a day, ranked for them (anonymous: to /login, and back here after)."""
    user = page_user(request)
    if isinstance(user, Response):
        return user
    day, size = _asked(date, limit)
    return _page(request, user, day or newest_day(request), size)


def _page(request: Request, user: User, day: date, limit: int = PER_PAGE) -> Response:
    data = for_you(request, user.id, day, limit)
    papers = [card(r) | {"why": _why_card(r)} for r in data["papers"]]
    context: dict[str, Any] = {}
    if data["cold"]:
        context = start_context(request, day, data["categories"])
    label = f"{day:%A} {day.day} {day:%B %Y}"
    return render(request, "foryou.html", title=f"For you: {label}", papers=papers,
                  json_url=api_url(day, limit), previous=page_url(data["previous"], limit), next=page_url(data["next"], limit),
                  here=page_url(day, limit), min_positives=recommend.MIN_POSITIVES,
                  **{k: data[k] for k in ("day", "cold", "reason", "positives", "candidates", "categories")},
                  **context)


def _why_card(row: Ranked) -> dict[str, Any] | None:
    why = why_of(row)
    if why is None:
        return None
    return why | {"near": [n | {"title_html": tex_html(n["title"])} for n in why["near"]]}


def start_context(request: Request, day: date, followed: list[str]) -> dict[str, Any]:
    """What the cold-start forms show: the categories with most papers in the week of ``day`` (and those
    already followed) as boxes, with their names."""
    week = feeds.week(day)
    counts = store_of(request).category_counts(week.start.isoformat(), week.end.isoformat(), CATEGORY_CHOICES)
    choices = list(counts)
    shown = {c for c, _ in choices}
    choices += [(c, 0) for c in followed if c not in shown]
    return {"category_choices": choices, "category_names": {c: taxonomy.name(c) or "" for c, _ in choices},
            "seed_collection": SEED_COLLECTION, "paste_collection": PASTE_COLLECTION, "author_max": AUTHOR_MAX,
            "paste_max": PASTE_MAX}


@router.get("/api/me/for-you", tags=["recommendations"], summary="A day's papers ranked for you, each with why "
            "(JSON twin of /for-you)", response_model=schemas.ForYou, responses=errors({401: ""}, (DATE, LIMIT)))
def foryou_api(request: Request, user: auth.SignedIn, date: Date = None, limit: Limit = None) -> Response:
    """The papers first listed on ``date`` that are not in your library and that you did not hide, best first
    for you: a linear model learnt from your library and upvotes (positives) and the papers you hid
    (negatives), retrained when they change. Each paper's ``why`` names the two or three saved papers it
    is closest to and the terms that weigh most for it. With fewer than `min_positives` positives
    (``cold``: true) the answer is instead the trending papers in the categories you follow, and ``why``
    is null; ``POST /api/me/follows``, ``PUT /api/me/library/{id}`` and ``POST /api/me/import/library``
    give it what it needs."""
    day, size = _asked(date, limit)
    return JSON(body(for_you(request, user.id, day or newest_day(request), size)))


# -- the cold-start forms ------------------------------------------------------------------


@router.post("/for-you/categories", include_in_schema=False)
async def categories_form(request: Request, user: auth.Writer) -> Response:
    """Follow the ticked categories (``category``) and those written in ``more``; 303 back to ``next``
    (a path of this site) or /for-you."""
    form = await request.form()
    asked: list[str] = []
    for value in form.getlist("category"):
        if not isinstance(value, str):
            raise bad("category must be text")
        asked.append(value)
    more = optional_field(form, "more", 300) or ""
    asked += [c for c in _SEPARATORS.split(more) if c]
    if not asked:
        raise bad("category: tick a category, or write one in more (such as cs.CL)")
    checked = []
    for value in asked:
        _, category, _ = check_follow("category", value, None, prefix="")
        if category not in checked:
            checked.append(category)
    store = store_of(request)
    new = [c for c in checked if store.find_follow(user.id, "category", c) is None]
    if store.follow_count(user.id) + len(new) > MAX_FOLLOWS:
        raise HTTPError(409, f"you follow {store.follow_count(user.id)} things already (at most {MAX_FOLLOWS}): "
                             "unfollow some first")
    for category in new:
        store.add_follow(user.id, "category", category)
    return see_other(next_path(form) or "/for-you")


@router.post("/for-you/author", include_in_schema=False)
async def author_form(request: Request, user: auth.Writer) -> Response:
    """"Papers like mine": the newest :data:`AUTHOR_MAX` papers by ``author`` saved in :data:`SEED_COLLECTION`;
    a page saying which. An author with no papers here is a 400 naming the field."""
    form = await request.form()
    name = field(form, "author", max_chars=300)
    rows, total = author_papers(radar_of(request), name, AUTHOR_MAX)
    if not rows:
        raise bad(f"author: no papers by {name[:100]!r} on this site; write the name as arXiv lists it "
                  "(as on an author's page)")
    papers = [_record(r) for r in rows]
    done = store_of(request).import_to_library(user.id, SEED_COLLECTION, papers, IMPORT_ORIGIN)
    listed = [{"id": pid, "title": row["title"], "url": paper_url(pid), "status": None}
              for (pid, _), row in zip(done.papers, rows, strict=True)]
    skipped = [] if total <= AUTHOR_MAX else [{"what": f"{total - AUTHOR_MAX} older papers",
                                              "why": f"only the newest {AUTHOR_MAX} are taken"}]
    return _added(request, f"Papers like yours: {name}", SEED_COLLECTION, listed, skipped)


def _record(row: Any) -> Paper:
    """A stored paper as a record that :meth:`import_to_library` matches to it (by its key), never a new one."""
    return Paper(title=row["title"], id=row["id"])


@router.post("/for-you/papers", include_in_schema=False)
async def papers_form(request: Request, user: auth.Writer) -> Response:
    """Pasted arXiv ids or BibTeX (RIS, CSL-JSON) into :data:`PASTE_COLLECTION`; a page saying what was
    saved and what was skipped (an id this site does not hold, a word that is no id)."""
    form = await request.form()
    text = field(form, "papers", max_chars=PASTE_MAX)
    fmt = detect(text.encode("utf-8")[:256 * 1024])
    if fmt in IMPORTED:
        summary = import_file(request, user, text.encode("utf-8"), "papers", PASTE_COLLECTION, fmt)
        listed = [{"id": p["id"], "title": p["title"], "url": paper_url(p["id"]), "status": p["status"]}
                  for p in summary["papers"]]
        skipped = [{"what": f"line {s['line']}", "why": s["reason"] + (f" ({s['detail']})" if s["detail"] else "")}
                   for s in summary["skipped"]]
        return _added(request, "Added to your library", PASTE_COLLECTION, listed, skipped)
    return _add_ids(request, user, text)


def _add_ids(request: Request, user: User, text: str) -> Response:
    words = [w for w in _SEPARATORS.split(text) if w]
    ids: list[str] = []
    skipped: list[dict[str, str]] = []
    for word in words:
        parsed = parse_arxiv_id(word)
        if parsed is None:
            skipped.append({"what": word[:100], "why": "not an arXiv id"})
        elif parsed[0] not in ids:
            ids.append(parsed[0])
    if not ids:
        raise bad("papers: paste arXiv ids (such as 2503.01234, one per line) or BibTeX entries")
    if len(ids) > IDS_MAX:
        raise bad(f"papers: at most {IDS_MAX} arXiv ids at once, not {len(ids)}")
    store = store_of(request)
    rows = []
    for paper_id in ids:
        row = store.get(paper_id)
        if row is None:
            skipped.append({"what": paper_id, "why": "not on this site (import or sync it first)"})
        else:
            rows.append(row)
    listed = []
    if rows:
        done = store.import_to_library(user.id, PASTE_COLLECTION, [_record(r) for r in rows], IMPORT_ORIGIN)
        listed = [{"id": pid, "title": row["title"], "url": paper_url(pid), "status": None}
                  for (pid, _), row in zip(done.papers, rows, strict=True)]
    return _added(request, "Added to your library", PASTE_COLLECTION, listed, skipped)


def _added(request: Request, title: str, collection: str, papers: list[dict[str, Any]],
           skipped: list[dict[str, str]]) -> Response:
    return render(request, "foryou_added.html", title=title, collection=collection,
                  collection_url=collection_url(collection), papers=papers, skipped=skipped)


# -- the private Atom feed (web/follows.py serves /feeds/private/{token}.atom) ----------------


def feed_rows(request: Request, user_id: int) -> list[dict[str, Any]]:
    """The entries of a user's private for-you feed: the newest day's papers ranked for them, each
    entry's text opening with why (the feed reader shows no cards)."""
    data = for_you(request, user_id, newest_day(request), FEED_ENTRIES)
    rows = []
    for r in data["papers"]:
        paper = dict(r.paper)
        rows.append({**paper, "abstract": f"{why_text(r, data['cold'])}\n\n{paper.get('abstract') or ''}"})
    return rows


def why_text(row: Ranked, cold: bool) -> str:
    """Why, in words, for a feed entry."""
    why = why_of(row)
    if why is None:
        return "For you: trending in the categories you follow" if cold else "For you"
    parts = []
    if why["near"]:
        parts.append("close to: " + "; ".join(n["title"] for n in why["near"]))
    if why["terms"]:
        parts.append("terms: " + ", ".join(why["terms"]))
    if why["follows"]:
        parts.append("you follow: " + "; ".join(why["follows"]))
    return "For you: " + " — ".join(parts) if parts else "For you"
