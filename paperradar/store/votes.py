"""Votes: one per user (or the owner) per paper."""

from __future__ import annotations

from .connection import SQLiteBase


class VoteTable(SQLiteBase):
    """Votes: one per user (or the owner) per paper."""

    def voted_ids(self, user_id: int) -> set[str]:
        """The ids of the papers the user voted for."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM votes v JOIN papers p ON p.rowid = v.paper WHERE v.user = ?", (user_id,))}
