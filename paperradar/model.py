"""The paper record that every source produces and the store merges.

A source turns its format into :class:`Paper` objects (or :class:`Reject`
objects for records it cannot use) and knows nothing of storage; the store
decides how a new record merges with what it already holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Fields the store merges one by one ("newer metadata wins per field").
MERGED_FIELDS: tuple[str, ...] = (
    "title",
    "abstract",
    "authors",
    "categories",
    "updated",
    "version",
    "comment",
    "journal_ref",
    "doi",
    "links",
)


@dataclass(slots=True)
class Paper:
    """One paper as a source saw it.

    ``id`` is filled by :func:`paperradar.ids.paper_key` when a source leaves
    it empty. Dates are ISO strings: ``published`` is the day the paper was
    first listed or published (YYYY-MM-DD), ``updated`` the day of its newest
    version. ``meta_date`` says how fresh this copy of the metadata is (an ISO
    date or timestamp); the store lets the fresher copy win field by field.
    ``upvotes`` is a count observed at ``upvotes_at`` on ``source``.
    ``featured_day`` is the day (YYYY-MM-DD) a site featured the paper in its
    daily list (Hugging Face Daily Papers: the day HF featured it, not the
    arXiv listing day), ``featured_by`` who submitted it there (a user name)
    and ``featured_at`` when (an ISO timestamp as the site gave it); a record
    that says nothing about featuring leaves them empty.
    """

    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    id: str = ""
    arxiv_id: str | None = None
    doi: str | None = None
    source_id: str | None = None
    published: str | None = None
    updated: str | None = None
    version: int | None = None
    comment: str | None = None
    journal_ref: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    upvotes: int | None = None
    upvotes_at: str | None = None
    meta_date: str | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    featured_day: str | None = None
    featured_by: str | None = None
    featured_at: str | None = None
    cut: dict[str, int] = field(default_factory=dict)  # field -> its length before it was cut to the limit


@dataclass(slots=True)
class Reject:
    """A record a source could not turn into a paper, and why.

    ``line`` is the 1-based line (or record number for formats without
    lines) where the record starts; ``reason`` is a short phrase that
    summaries group by, e.g. ``"missing title"`` or ``"broken JSON"``.
    """

    line: int
    reason: str
    detail: str = ""


class FormatError(Exception):
    """An input that cannot be read at all (unknown format, damaged file)."""


# What a parser yields, together with the line where the record started.
Item = tuple[int, "Paper | Reject"]
