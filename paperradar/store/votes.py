"""Votes: one per user (or the owner) per paper, and the counts they make.

A row of ``votes`` is one person's upvote: ``user`` an account's id, or NULL
for the site's owner (``paperradar vote`` on a database without accounts, or
without ``--user``). The counts the rest of paperradar reads are kept beside
them by two triggers of migration 7, in the same transaction as the vote: the
``upvotes`` row of site ``local`` is the number of the paper's votes, and
``papers.upvotes`` the sum over sites (this site's votes plus the counts
imported from Hugging Face, every other site of ``upvotes``), so the feed's
order, trending and Hugging Face's ``upvotes`` field see the total without
knowing of votes. Because the triggers keep them, a vote that goes by
``ON DELETE CASCADE`` (a deleted account) leaves the counts true as well.

Adding a vote that exists, or removing one that does not, changes nothing:
both answer the paper's counts as they are after the call.
"""

from __future__ import annotations

import sqlite3

from ..ids import parse_arxiv_id
from .connection import SQLiteBase, utcnow

LOCAL = "local"  # the upvotes site of this site's votes; every other site is an imported count


class VoteTable(SQLiteBase):
    """Votes: one per user (or the owner) per paper."""

    def add_user_vote(self, paper_id: str, user_id: int | None = None) -> dict[str, int]:
        """Record the user's vote for the paper (``user_id`` None: the owner's); the paper's counts
        after it (:meth:`vote_counts`). Voting twice keeps one vote. ``KeyError`` for an unknown paper
        or user."""
        with self.write() as conn:
            paper = _paper_rowid(conn, paper_id)
            if user_id is not None and conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
                raise KeyError(f"user {user_id}")
            if not _has_vote(conn, paper, user_id):
                conn.execute("INSERT INTO votes (paper, user, created_at) VALUES (?, ?, ?)", (paper, user_id, utcnow()))
            return _counts(conn, paper)

    def remove_user_vote(self, paper_id: str, user_id: int | None = None) -> dict[str, int]:
        """Take the user's vote for the paper back (``user_id`` None: the owner's); the paper's counts
        after it. No vote to take back changes nothing. ``KeyError`` for an unknown paper."""
        with self.write() as conn:
            paper = _paper_rowid(conn, paper_id)
            conn.execute("DELETE FROM votes WHERE paper = ? AND user IS ?", (paper, user_id))
            return _counts(conn, paper)

    def vote_counts(self, paper_id: str) -> dict[str, int]:
        """``{"users": votes on this site, "huggingface": imported counts, "total": their sum}``;
        ``KeyError`` for an unknown paper."""
        return _counts(self.conn, _paper_rowid(self.conn, paper_id))

    def has_vote(self, paper_id: str, user_id: int | None = None) -> bool:
        """Whether the user (None: the owner) voted for the paper; False for an unknown paper."""
        try:
            return _has_vote(self.conn, _paper_rowid(self.conn, paper_id), user_id)
        except KeyError:
            return False

    def voted_ids(self, user_id: int) -> set[str]:
        """The ids of the papers the user voted for."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM votes v JOIN papers p ON p.rowid = v.paper WHERE v.user = ?", (user_id,))}


def _paper_rowid(conn: sqlite3.Connection, paper_id: str) -> int:
    """The stored paper's rowid, by its id (an arXiv id in any form: versions and URLs name the paper)."""
    parsed = parse_arxiv_id(paper_id)
    key = parsed[0] if parsed else paper_id.strip()
    row = conn.execute("SELECT rowid FROM papers WHERE id = ?", (key,)).fetchone()
    if row is None:
        raise KeyError(paper_id)
    return int(row[0])


def _has_vote(conn: sqlite3.Connection, paper: int, user_id: int | None) -> bool:
    # "user IS ?" matches NULL (the owner) as well as an id; the partial unique indexes keep one row.
    return conn.execute("SELECT 1 FROM votes WHERE paper = ? AND user IS ?", (paper, user_id)).fetchone() is not None


def _counts(conn: sqlite3.Connection, paper: int) -> dict[str, int]:
    users = conn.execute("SELECT COUNT(*) FROM votes WHERE paper = ?", (paper,)).fetchone()[0]
    imported = conn.execute("SELECT COALESCE(SUM(count), 0) FROM upvotes WHERE paper = ? AND site != ?",
                            (paper, LOCAL)).fetchone()[0]
    return {"users": int(users), "huggingface": int(imported), "total": int(users) + int(imported)}
