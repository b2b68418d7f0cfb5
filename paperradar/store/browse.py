"""Read queries for browsing (web pages, feeds): days and categories with counts,
a category's newest papers, trending candidates.

One of the table modules that :class:`~paperradar.store.sqlite.SQLiteStore`
combines (see :mod:`paperradar.store.connection`). Every method reads
through the calling thread's connection (``self.conn``), so web workers in
several threads never share one.
"""

from __future__ import annotations

from typing import Any

from .base import StoredPaper
from .connection import IN_CATEGORY, SELECT, SQLiteBase, decode


class BrowseQueries(SQLiteBase):
    """Counts and listings by day and category. Dates are ``YYYY-MM-DD`` strings (first listing day)."""

    def latest_day(self, on_or_before: str | None = None) -> str | None:
        """The newest listing day with papers, not after ``on_or_before`` if given (else the newest of all)."""
        if on_or_before:
            row = self.conn.execute(
                "SELECT MAX(published) FROM papers WHERE published <= ?", (on_or_before,)
            ).fetchone()
            if row[0] is not None:
                return str(row[0])
        row = self.conn.execute("SELECT MAX(published) FROM papers").fetchone()
        return str(row[0]) if row[0] is not None else None

    def day_counts(self, start: str, end: str, category: str | None = None) -> list[tuple[str, int]]:
        """(day, number of papers first listed that day) for the days in [start, end] that have any."""
        sql = "SELECT p.published, COUNT(*) FROM papers p WHERE p.published BETWEEN ? AND ?"
        params: list[Any] = [start, end]
        if category:
            sql += " AND " + IN_CATEGORY
            params.append(category)
        sql += " GROUP BY p.published ORDER BY p.published"
        return [(str(d), int(n)) for d, n in self.conn.execute(sql, params)]

    def category_counts(
        self, start: str | None = None, end: str | None = None, limit: int | None = None
    ) -> list[tuple[str, int]]:
        """(category, papers) for papers first listed in [start, end] (all papers without a range),
        counting every category a paper is in, most papers first."""
        if start is None and end is None:
            sql = "SELECT c.category, COUNT(*) AS n FROM paper_categories c GROUP BY c.category"
            params: list[Any] = []
        else:
            sql = (
                "SELECT c.category, COUNT(*) AS n FROM papers p JOIN paper_categories c ON c.paper = p.rowid"
                " WHERE p.published BETWEEN ? AND ? GROUP BY c.category"
            )
            params = [start or "", end or "9999-12-31"]
        sql += " ORDER BY n DESC, c.category"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [(str(c), int(n)) for c, n in self.conn.execute(sql, params)]

    def category_papers(
        self, category: str, limit: int = 50, offset: int = 0
    ) -> tuple[list[StoredPaper], int]:
        """Papers in a category (any position, case-insensitive), newest first; and their count."""
        total = self.conn.execute(
            "SELECT COUNT(*) FROM paper_categories WHERE category = ?", (category,)
        ).fetchone()[0]
        rows = self.conn.execute(
            f"{SELECT} WHERE {IN_CATEGORY} ORDER BY p.published DESC, p.id DESC LIMIT ? OFFSET ?",
            (category, limit, offset),
        ).fetchall()
        return [decode(r) for r in rows], int(total)

    def primary_category_share(self, category: str) -> int:
        """How many papers have ``category`` as their primary (first) category."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM paper_categories WHERE category = ? AND is_primary = 1", (category,)
        ).fetchone()
        return int(row[0])

    def trending_candidates(
        self, since: str, until: str, category: str | None = None, limit: int = 5000
    ) -> list[StoredPaper]:
        """Papers with at least one upvote first listed in [since, until], most upvoted first
        (at most ``limit``): what :mod:`paperradar.rank.trending` ranks."""
        sql = f"{SELECT} WHERE p.published BETWEEN ? AND ? AND p.upvotes > 0"
        params: list[Any] = [since, until]
        if category:
            sql += " AND " + IN_CATEGORY
            params.append(category)
        sql += " ORDER BY p.upvotes DESC, p.published DESC LIMIT ?"
        params.append(limit)
        return [decode(r) for r in self.conn.execute(sql, params)]
