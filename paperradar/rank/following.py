"""Which new papers match a user's follows, and why: what ``/following`` and its private feed show.

A follow is an author (a name), a category, or a saved search (a query and the
search page's filters); see :mod:`paperradar.store.follows`.

**New** means: stored after a moment (``arrived_after``: the user's last "mark
all as seen", the first time the last :data:`FIRST_VISIT`), and first listed
no more than :data:`LISTING_LAG` before that moment. The first half is "since
your last visit" (a paper a sync brings in a day late is still new to you);
the second keeps an import of an old archive, whose papers are all stored
"now", from flooding the page with years-old papers.

How each kind matches, the way its own page finds papers:

- **author**: the author page's rule (:mod:`paperradar.rank.authors`): the
  keyword index finds the name as a phrase among the authors, and a paper is
  the author's when one of its authors has the same name after folding case
  and accents;
- **category**: the paper is in the category, primary or cross-listed (the
  store's ``paper_categories``);
- **search**: the search itself (:func:`paperradar.rank.search.search`, the
  saved mode, default hybrid) with its saved filters, restricted to papers
  first listed in the window: its top :data:`SEARCH_TOP` new results, ranked
  as the search page ranks them (a semantic ranking always has a "nearest"
  paper, so a saved search contributes its best few, not everything it
  touches). A semantic saved search before any paper has a vector is skipped,
  and the answer says so.

A paper matching several follows is listed once with every reason, newest
first (first-listing day, then arrival). Papers the user hid are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..app import Radar
from ..index.query import ParsedQuery, author_clause
from ..store import Filters, StoredPaper
from .authors import fold
from .fusion import NotEmbedded
from .ranked import Ranked
from .search import search

FIRST_VISIT = timedelta(days=7)  # never marked as seen: the papers of the last week
LISTING_LAG = timedelta(days=7)  # a new paper was first listed at most this long before arrived_after
FEED_WINDOW = timedelta(days=30)  # the private feed: papers that arrived in the last 30 days
PER_FOLLOW = 200  # candidates read per author or category follow
SEARCH_DEPTH = 100  # results asked of a saved search ...
SEARCH_TOP = 20  # ... of which its best new ones are kept
SHOWN = 200  # papers listed at most (the newest)
SEARCH_FILTERS = ("category", "author", "since", "until", "mode")
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def stamp(moment: datetime) -> str:
    """A time as the store writes it (``created_at``, ``following_seen_at``)."""
    return moment.astimezone(UTC).strftime(STAMP)


def now_stamp() -> str:
    return stamp(datetime.now(UTC))


def parse_stamp(text: str) -> datetime:
    """A stored time back (``YYYY-MM-DDTHH:MM:SSZ``); ValueError otherwise."""
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def first_visit_start(now: datetime | None = None) -> str:
    """Where /following starts for a user who never marked it as seen."""
    return stamp((now or datetime.now(UTC)) - FIRST_VISIT)


def day_start(day: date) -> str:
    """A day as a moment (its first second, UTC): ``since=YYYY-MM-DD`` of the JSON twin."""
    return f"{day.isoformat()}T00:00:00Z"


def listed_since(arrived_after: str) -> str:
    """The first listing day a new paper may have (see the module docstring)."""
    day = parse_stamp(arrived_after).date()
    return (day - LISTING_LAG).isoformat() if day >= date.min + LISTING_LAG else date.min.isoformat()


@dataclass(frozen=True)
class Reason:
    """Why a paper is listed: the follow it matches, and the words saying so ("author Jane Doe")."""

    follow_id: int
    kind: str
    value: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"follow": self.follow_id, "kind": self.kind, "value": self.value, "text": self.text}


@dataclass
class Match:
    """A new paper and every follow it matches."""

    row: StoredPaper
    reasons: list[Reason] = field(default_factory=list)


@dataclass
class NewPapers:
    """What /following shows: the matches (newest first, at most ``limit``), how many there are in
    all, the window they come from, and the follows that could not be matched (and why)."""

    arrived_after: str
    listed_since: str
    matches: list[Match]
    total: int
    skipped: list[tuple[Reason, str]] = field(default_factory=list)


def describe(follow: dict[str, Any]) -> str:
    """A follow in words: ``author Jane Doe``, ``category cs.CL``, ``search 'llm' (in cs.CL, since 2025-01-01)``."""
    kind, value = follow["kind"], follow["value"]
    if kind != "search":
        return f"{kind} {value}"
    short = value if len(value) <= 80 else value[:79] + "…"
    filters = follow.get("filters") or {}
    parts = [f"{label} {filters[key]}" for key, label in (("category", "in"), ("author", "by"),
                                                           ("since", "since"), ("until", "until"),
                                                           ("mode", "mode")) if filters.get(key)]
    return f"search '{short}'" + (f" ({', '.join(parts)})" if parts else "")


def reason(follow: dict[str, Any]) -> Reason:
    return Reason(int(follow["id"]), follow["kind"], follow["value"], describe(follow))


def new_papers(radar: Radar, follows: list[dict[str, Any]], arrived_after: str,
               hidden: set[str] | frozenset[str] = frozenset(), limit: int = SHOWN) -> NewPapers:
    """The papers new since ``arrived_after`` matching any of ``follows``, each with its reasons."""
    since_day = listed_since(arrived_after)
    found: dict[int, Match] = {}
    skipped: list[tuple[Reason, str]] = []
    for follow in follows:
        why = reason(follow)
        try:
            rows = _matching(radar, follow, since_day, arrived_after)
        except (NotEmbedded, ValueError) as exc:  # semantic before `embed`; a value search no longer takes
            skipped.append((why, str(exc)))
            continue
        fresh = [_stored(r) for r in rows if r["id"] not in hidden and _is_new(r, since_day, arrived_after)]
        if follow["kind"] == "search":  # its best new results, in the search's own order
            fresh = fresh[:SEARCH_TOP]
        for row in fresh:
            match = found.setdefault(row["rowid"], Match(row))
            if why not in match.reasons:
                match.reasons.append(why)
    ordered = sorted(found.values(), key=lambda m: (m.row["published"] or "", m.row["created_at"] or "",
                                                    m.row["id"]), reverse=True)
    return NewPapers(arrived_after, since_day, ordered[:limit], len(ordered), skipped)


def _stored(row: Any) -> StoredPaper:
    """The stored paper of a search result (its score and snippet belong to that search, not here)."""
    return row.paper if isinstance(row, Ranked) else row  # type: ignore[no-any-return]


def _is_new(row: StoredPaper | Any, since_day: str, arrived_after: str) -> bool:
    return (row["published"] or "") >= since_day and (row["created_at"] or "") > arrived_after


def _matching(radar: Radar, follow: dict[str, Any], since_day: str, arrived_after: str) -> list[Any]:
    kind, value = follow["kind"], follow["value"]
    if kind == "category":
        return radar.store.new_in_category(value, since_day, arrived_after, PER_FOLLOW)
    if kind == "author":
        return _author_papers(radar, value, since_day)
    if kind == "search":
        return _search_papers(radar, value, follow.get("filters") or {}, since_day)
    return []


def _author_papers(radar: Radar, name: str, since_day: str) -> list[StoredPaper]:
    """The author's papers first listed since ``since_day`` (the author page's rule, see rank/authors.py)."""
    clause = author_clause(name)
    if clause is None:
        return []
    hits = radar.keyword.search(ParsedQuery(must=[clause]), Filters(since=since_day), limit=PER_FOLLOW)
    wanted = fold(name)
    rows = radar.store.rows([h.rowid for h in hits])
    return [r for r in rows.values() if any(fold(a) == wanted for a in r["authors"])]


def _search_papers(radar: Radar, query: str, saved: dict[str, str], since_day: str) -> list[Any]:
    """The saved search's results among papers first listed since ``since_day`` (and its own since)."""
    since = max(filter(None, (saved.get("since"), since_day)))
    until = saved.get("until")
    if until and since > until:
        return []
    filters = Filters(category=saved.get("category"), author=saved.get("author"), since=since, until=until)
    return search(radar, query, saved.get("mode") or "hybrid", filters, limit=SEARCH_DEPTH)


def recent_papers(radar: Radar, follows: list[dict[str, Any]], hidden: set[str] | frozenset[str] = frozenset(),
                  limit: int = 100, now: datetime | None = None) -> NewPapers:
    """What the private /following feed lists: the matches that arrived in the last FEED_WINDOW
    (a feed reader keeps what it has seen; the feed never moves the user's "seen" mark)."""
    return new_papers(radar, follows, stamp((now or datetime.now(UTC)) - FEED_WINDOW), hidden, limit)
