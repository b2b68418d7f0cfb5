"""Comments on papers: the ``comments`` table.

A comment is kept as its author wrote it (Markdown source): it is rendered to
HTML when shown (:mod:`paperradar.markdown`), so a better sanitizer applies to
old comments too and an edit page shows the text as typed. A comment goes
with its user or its paper (``ON DELETE CASCADE``); ids are never given again
(``AUTOINCREMENT``), so a stale edit or delete link cannot reach a newer
comment that took a deleted one's id.

The rows handed out name the author by display name only (their name, else
the part of their email before ``@``): never the email, which is not public.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .base import display_name
from .connection import SQLiteBase, rows_in, utcnow

_SELECT = ("SELECT c.id, p.id AS paper, c.user, u.name, u.email, c.body, c.created_at, c.edited_at "
           "FROM comments c JOIN papers p ON p.rowid = c.paper JOIN users u ON u.id = c.user")


def _comment(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "paper": row["paper"], "user": row["user"],
            "author": display_name(row["name"], row["email"]), "body": row["body"],
            "created_at": row["created_at"], "edited_at": row["edited_at"]}


class CommentTable(SQLiteBase):
    """Comments on papers: add, read, edit, delete, count.

    Each comment is a dict: ``id``, ``paper`` (the paper's id), ``user`` (the author's user
    id), ``author`` (display name), ``body`` (Markdown as written), ``created_at``,
    ``edited_at`` (None until edited).
    """

    def add_comment(self, paper_id: str, user_id: int, body: str) -> dict[str, Any] | None:
        """Store a comment by ``user_id`` on the paper with this (canonical) id; None if no such paper."""
        with self.write() as c:
            row = c.execute("SELECT rowid FROM papers WHERE id = ?", (paper_id,)).fetchone()
            if row is None:
                return None
            cur = c.execute("INSERT INTO comments (paper, user, body, created_at) VALUES (?, ?, ?, ?)",
                            (row[0], user_id, body, utcnow()))
        assert cur.lastrowid is not None
        return self.comment(cur.lastrowid)

    def comment(self, comment_id: int) -> dict[str, Any] | None:
        """One comment, or None."""
        row = self.conn.execute(f"{_SELECT} WHERE c.id = ?", (comment_id,)).fetchone()
        return _comment(row) if row else None

    def paper_comments(self, paper_id: str) -> list[dict[str, Any]]:
        """The comments on a paper, oldest first (empty for an unknown paper)."""
        return [_comment(r) for r in self.conn.execute(
            f"{_SELECT} WHERE c.paper = (SELECT rowid FROM papers WHERE id = ?) ORDER BY c.id", (paper_id,))]

    def edit_comment(self, comment_id: int, body: str) -> dict[str, Any] | None:
        """Replace a comment's text, dated ``edited_at`` (the same text again changes nothing);
        None if there is no such comment."""
        with self.write() as c:
            c.execute("UPDATE comments SET body = ?, edited_at = ? WHERE id = ? AND body IS NOT ?",
                      (body, utcnow(), comment_id, body))
        return self.comment(comment_id)

    def delete_comment(self, comment_id: int) -> bool:
        """Delete a comment; False if there was none."""
        with self.write() as c:
            cur = c.execute("DELETE FROM comments WHERE id = ?", (comment_id,))
        return cur.rowcount > 0

    def comment_counts(self, rowids: list[int]) -> dict[int, int]:
        """How many comments each paper (by rowid) has; papers without any are left out."""
        return {r[0]: r[1] for r in rows_in(
            self.conn, lambda marks: f"SELECT paper, COUNT(*) FROM comments WHERE paper IN ({marks}) GROUP BY paper",
            rowids)}
