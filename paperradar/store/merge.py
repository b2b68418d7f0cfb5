"""How a newly read record merges into the stored one. Pure functions, no SQL.

Rules, field by field:
- a field the new record lacks never erases what is stored;
- otherwise the fresher metadata wins (``meta_date``; on a tie the later
  import wins, which makes a re-import of the same data a no-op);
- ``published`` (first listed) keeps the earliest day seen, ``updated``
  and ``version`` the latest; but a Hugging Face day (the day HF featured
  the paper, a search hit's ``publishedAt``) only stands until another
  source gives a day: HF features papers on its own days, sometimes before
  arXiv lists them, and arXiv's listing day is the paper's
  (``field_dates["published_from"]`` says when the stored day is HF's);
- ``links`` and ``extra`` are unions, the fresher record winning per key.
Each stored field remembers the ``meta_date`` that set it (``field_dates``).
"""

from __future__ import annotations

from typing import Any

from ..ids import title_key
from ..model import Paper

# Fields merged by "fresher wins"; the rest have their own rules below.
_FRESHER_WINS = ("title", "abstract", "authors", "categories", "comment", "journal_ref", "doi")
_UNION = ("links", "extra")
_DATED = _FRESHER_WINS + _UNION


_HF = "huggingface"  # field_dates["published_from"] when the stored published is only HF's day


def _hf_day(paper: Paper) -> bool:
    """Whether a record's ``published`` is a Hugging Face day (every HF response counts as one site)."""
    return paper.source.startswith("hf")


def _empty(value: Any) -> bool:
    # Field values are strings, lists, dicts or None: "not value" is the test.
    return not value


def new_row(paper: Paper, now: str) -> dict[str, Any]:
    """The stored row for a paper seen for the first time."""
    stamp = paper.meta_date or ""
    row: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract or "",
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "published": paper.published,
        "updated": paper.updated,
        "version": paper.version,
        "comment": paper.comment,
        "journal_ref": paper.journal_ref,
        "doi": paper.doi,
        "links": dict(paper.links),
        "extra": dict(paper.extra),
        "title_key": title_key(paper.title),
        "created_at": now,
        "changed_at": now,
    }
    row["field_dates"] = {f: stamp for f in _DATED if row[f]}
    if paper.published and _hf_day(paper):
        row["field_dates"]["published_from"] = _HF
    return row


def merge_row(stored: dict[str, Any], paper: Paper, now: str) -> dict[str, Any]:
    """The row after merging ``paper`` into ``stored`` (which is not modified)."""
    row = dict(stored)
    dates = dict(stored["field_dates"])
    stamp = paper.meta_date or ""
    incoming = new_row(paper, now)
    for field in _FRESHER_WINS:
        value = incoming[field]
        if _empty(value):
            continue
        if _empty(row[field]) or stamp >= dates.get(field, ""):
            row[field] = value
            dates[field] = stamp
    for field in _UNION:
        value = incoming[field]
        if _empty(value):
            continue
        if stamp >= dates.get(field, ""):
            row[field] = {**row[field], **value}
            dates[field] = stamp
        else:
            row[field] = {**value, **row[field]}
    _merge_published(row, dates, paper)
    row["updated"] = _pick(max, row["updated"], paper.updated)
    row["version"] = _pick(max, row["version"], paper.version)
    row["title_key"] = title_key(row["title"])
    row["field_dates"] = dates
    return row


def _merge_published(row: dict[str, Any], dates: dict[str, str], paper: Paper) -> None:
    """The earliest day among the records that are not HF's, else the earliest HF day."""
    if not paper.published:
        return
    stored_hf = dates.get("published_from") == _HF or not row["published"]
    if _hf_day(paper):
        if stored_hf:
            row["published"] = _pick(min, row["published"], paper.published)
            dates["published_from"] = _HF
    elif stored_hf:
        row["published"] = paper.published
        dates.pop("published_from", None)
    else:
        row["published"] = _pick(min, row["published"], paper.published)


def _pick(choose: Any, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return choose(a, b)


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when two rows hold the same paper data (bookkeeping aside)."""
    skip = {"created_at", "changed_at", "field_dates", "rowid"}
    if a.get("field_dates", {}).get("published_from") != b.get("field_dates", {}).get("published_from"):
        return False  # whose day ``published`` is decides the next merge: a change to keep
    return all(a.get(k) == b.get(k) for k in a.keys() | b.keys() if k not in skip)
