"""The featured table: which papers a daily list featured on which day, and who submitted them.

A paper is featured on a day when Hugging Face featured it that day (rows
with source ``huggingface``, written by the merge from imported HF daily
entries: see :meth:`PaperTable._collect_featured
<paperradar.store.papers.PaperTable._collect_featured>`) or when a user of
this site submits it (source ``local``, :meth:`FeaturedTable.add_featured`).
The day is the featuring site's day, never the arXiv listing day: that one
is the paper's ``published``.

One of the table modules that :class:`~paperradar.store.sqlite.SQLiteStore`
combines (see :mod:`paperradar.store.connection`). A paper featured on
several days (or by both sources) in a period is listed once, with its
first featured row in the period (``huggingface`` before ``local`` on the
same day).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import Any

from ..ids import parse_arxiv_id
from .base import Featured, StoredPaper, display_name
from .connection import COLUMNS, SQLiteBase, decode, rows_in, utcnow

SOURCES = ("huggingface", "local")
_PAPER_COLUMNS = ", ".join(f"p.{c}" for c in COLUMNS)
_F_COLUMNS = "f.paper, f.day, f.source, f.submitted_by, f.submitted_at, f.first_seen"
# A featured row's paper is in a category (the EXISTS probes the category's primary key).
_F_IN_CATEGORY = "EXISTS (SELECT 1 FROM paper_categories c WHERE c.category = ? AND c.paper = f.paper)"


def featured_row(r: sqlite3.Row | tuple) -> Featured:
    return Featured(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], str(r[5]))


class FeaturedTable(SQLiteBase):
    """Featured papers by day: the Daily Papers list, its days, and who submitted what."""

    def add_featured(
        self, paper_id: str, day: str, source: str = "local", submitted_by: str | None = None,
        submitted_at: str | None = None, only_new: bool = False,
    ) -> bool:
        """Feature a stored paper on ``day`` (a user's submission: source ``local``).

        ``submitted_at`` defaults to now for a new row. Returns True if the row is new; an
        existing row keeps its ``first_seen`` and takes the submitter and time
        it is given. With ``only_new``, a paper featured on that day already (by any
        source) is left as it is and False returned: the check and the insert are one
        write transaction, so of two processes submitting it at once one wins (a web
        submission: once a paper and day, with several workers too).
        KeyError for an unknown paper, ValueError for a bad day or source.
        """
        if source not in SOURCES:
            raise ValueError(f"unknown featuring source {source!r} (one of {', '.join(SOURCES)})")
        day = date.fromisoformat(day).isoformat()
        parsed = parse_arxiv_id(paper_id)
        key = parsed[0] if parsed else paper_id.strip()
        with self.write() as conn:
            row = conn.execute("SELECT rowid FROM papers WHERE id = ?", (key,)).fetchone()
            if row is None:
                raise KeyError(paper_id)
            if only_new and conn.execute("SELECT 1 FROM featured WHERE paper = ? AND day = ?",
                                         (row[0], day)).fetchone() is not None:
                return False
            before = conn.execute(
                "SELECT 1 FROM featured WHERE paper = ? AND day = ? AND source = ?", (row[0], day, source)
            ).fetchone()
            if before is None:
                now = utcnow()
                conn.execute(
                    "INSERT INTO featured (paper, day, source, submitted_by, submitted_at, first_seen)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (row[0], day, source, submitted_by, submitted_at or now, now),
                )
            else:
                conn.execute(
                    "UPDATE featured SET submitted_by = COALESCE(?, submitted_by),"
                    " submitted_at = COALESCE(?, submitted_at) WHERE paper = ? AND day = ? AND source = ?",
                    (submitted_by, submitted_at, row[0], day, source),
                )
            return before is None

    def featured_papers(
        self, start: str, end: str, category: str | None = None, submitter: str | None = None,
        limit: int = 50, offset: int = 0,
    ) -> tuple[list[tuple[StoredPaper, Featured]], int]:
        """Papers featured in [start, end], each once with its first featured row there;
        most upvoted first, then the newest featured day, then the newest paper; and their count.

        ``category`` keeps papers in that category (any position); ``submitter``
        keeps what that user submitted (HF's ``submitter`` parameter): the rows Hugging Face
        credits to that user name, and this site's submissions (source ``local``, stored by user
        id) of every member whose display name (:func:`~paperradar.store.base.display_name`) it
        is. A user id never matches: ids are not shown, so they are not asked either.
        """
        where, params = _where(self.conn, start, end, submitter)
        counted, count_params = where, list(params)
        if category:
            counted += " AND " + _F_IN_CATEGORY
            count_params.append(category)
        total = self.conn.execute(f"SELECT COUNT(DISTINCT f.paper) FROM featured f WHERE {counted}",
                                  count_params).fetchone()[0]
        sql = (
            f"WITH firsts AS (SELECT {_F_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY f.paper ORDER BY f.day, f.source)"
            f" AS n FROM featured f WHERE {counted})"
            f" SELECT {_PAPER_COLUMNS}, {_F_COLUMNS} FROM firsts f JOIN papers p ON p.rowid = f.paper WHERE f.n = 1"
            " ORDER BY p.upvotes DESC, f.day DESC, p.published DESC, p.id DESC LIMIT ? OFFSET ?"
        )
        out = []
        width = len(COLUMNS)
        for r in self.conn.execute(sql, (*count_params, limit, offset)):
            out.append((decode(r), featured_row(tuple(r)[width:])))
        return out, int(total)

    def has_featured(self, start: str, end: str) -> bool:
        """Whether any paper is featured on a day in [start, end]."""
        row = self.conn.execute("SELECT 1 FROM featured WHERE day BETWEEN ? AND ? LIMIT 1", (start, end)).fetchone()
        return row is not None

    def featured_days(self, start: str, end: str, category: str | None = None) -> list[tuple[str, int]]:
        """(day, papers featured that day) for the days in [start, end] that have any (the day strip)."""
        sql = "SELECT f.day, COUNT(DISTINCT f.paper) FROM featured f WHERE f.day BETWEEN ? AND ?"
        params: list[Any] = [start, end]
        if category:
            sql += " AND " + _F_IN_CATEGORY
            params.append(category)
        sql += " GROUP BY f.day ORDER BY f.day"
        return [(str(d), int(n)) for d, n in self.conn.execute(sql, params)]

    def latest_featured_day(self, on_or_before: str | None = None) -> str | None:
        """The newest day with featured papers, not after ``on_or_before`` if given (else the newest of all)."""
        if on_or_before:
            row = self.conn.execute("SELECT MAX(day) FROM featured WHERE day <= ?", (on_or_before,)).fetchone()
            if row[0] is not None:
                return str(row[0])
        row = self.conn.execute("SELECT MAX(day) FROM featured").fetchone()
        return str(row[0]) if row[0] is not None else None

    def featured_of(self, rowids: list[int]) -> dict[int, list[Featured]]:
        """Every featured row of the given papers, oldest day first; papers never featured are absent."""
        out: dict[int, list[Featured]] = {}
        rows = rows_in(
            self.conn, lambda marks: f"SELECT {_F_COLUMNS} FROM featured f WHERE f.paper IN ({marks})", rowids
        )
        for r in sorted(rows, key=lambda r: (r[1], r[2])):
            out.setdefault(int(r[0]), []).append(featured_row(r))
        return out


# Featuring a paper again on a day keeps the row's first_seen; a submitter or
# time given again replaces the stored one, an unknown one never erases it.
UPSERT = (
    "ON CONFLICT (paper, day, source) DO UPDATE SET"
    " submitted_by = COALESCE(excluded.submitted_by, featured.submitted_by),"
    " submitted_at = COALESCE(excluded.submitted_at, featured.submitted_at)"
)


def _where(conn: sqlite3.Connection, start: str, end: str, submitter: str | None) -> tuple[str, list[Any]]:
    where, params = "f.day BETWEEN ? AND ?", [start, end]
    if submitter is not None:
        members = local_submitters(conn, submitter)
        where += " AND ((f.source != 'local' AND f.submitted_by = ?)"
        params.append(submitter)
        if members:
            where += f" OR (f.source = 'local' AND f.submitted_by IN ({', '.join('?' * len(members))}))"
            params.extend(members)
        where += ")"
    return where, params


def local_submitters(conn: sqlite3.Connection, name: str) -> list[str]:
    """The ids (as ``featured.submitted_by`` stores them) of the members shown as ``name``. The
    display name is a rule in Python, so every account is read: a site has a few hundred at most."""
    return [str(r[0]) for r in conn.execute("SELECT id, name, email FROM users ORDER BY id")
            if display_name(r[1], r[2]) == name]
