"""Trending: upvotes with time decay, the way Hacker News ranks its front page.

    score = upvotes / (age_hours + 2) ^ 1.8

``age_hours`` counts from the start (00:00 UTC) of the day a paper was first
listed to the moment the ranking is made (``as_of``). A paper's score falls
as it ages, so a day-old paper with 10 upvotes (10 / 26^1.8 = 0.028) ranks
above a week-old one with 100 (100 / 170^1.8 = 0.010). Only papers listed in
the last :data:`WINDOW_DAYS` days with at least one upvote are candidates.

``as_of`` defaults to now; when the store's newest paper is older than that
(an offline import, a paused sync), it is the end of the newest listing day,
so an imported dump still has a trending list, "as of" its last day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ..store import Store, StoredPaper
from .ranked import Ranked

GRAVITY = 1.8
OFFSET_HOURS = 2.0
WINDOW_DAYS = 14
FORMULA = f"score = upvotes / (age_hours + {OFFSET_HOURS:g}) ^ {GRAVITY:g}"


def score(upvotes: int, age_hours: float, gravity: float = GRAVITY) -> float:
    """The decayed score of a paper with ``upvotes`` that is ``age_hours`` old (negative ages count as 0)."""
    return max(upvotes, 0) / (max(age_hours, 0.0) + OFFSET_HOURS) ** gravity


def age_hours(listed: str | None, as_of: datetime) -> float:
    """Hours from the start (UTC) of the listing day ``listed`` (YYYY-MM-DD) to ``as_of``."""
    if not listed:
        return float("inf")
    start = datetime.combine(date.fromisoformat(listed[:10]), time(0), tzinfo=UTC)
    return max((as_of - start).total_seconds() / 3600.0, 0.0)


def rank(rows: list[StoredPaper], as_of: datetime, gravity: float = GRAVITY) -> list[Ranked]:
    """Papers ordered by decayed score, highest first (ties: more upvotes, then newer, then id);
    each result has ``trend`` (the score) and ``age_hours``."""
    out = []
    for row in rows:
        age = age_hours(row.get("published"), as_of)
        trend = 0.0 if age == float("inf") else score(row["upvotes"], age, gravity)
        out.append(Ranked(row, age_hours=age, trend=trend))
    return sorted(out, key=lambda r: (-r["trend"], -r["upvotes"], r["age_hours"], r["id"]))


def reference_time(store: Store, now: datetime | None = None) -> datetime:
    """``now``, or the end of the newest listing day if the store has nothing that recent."""
    now = now or datetime.now(UTC)
    latest = store.latest_day(now.date().isoformat())
    if latest is None:
        return now
    end_of_latest = datetime.combine(date.fromisoformat(latest), time(0), tzinfo=UTC) + timedelta(days=1)
    return min(now, end_of_latest)


def trending(
    store: Store,
    as_of: datetime | None = None,
    category: str | None = None,
    limit: int = 30,
    offset: int = 0,
    window_days: int = WINDOW_DAYS,
) -> tuple[list[Ranked], datetime, int]:
    """The trending papers as of ``as_of`` (default :func:`reference_time`): (page of rows, as_of, total)."""
    as_of = as_of or reference_time(store)
    until = as_of.date()
    since = until - timedelta(days=window_days - 1)
    ranked = rank(store.trending_candidates(since.isoformat(), until.isoformat(), category), as_of)
    return ranked[offset : offset + limit], as_of, len(ranked)
