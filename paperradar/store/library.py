"""The library: saved papers, notes, collections, hidden papers."""

from __future__ import annotations

from .connection import SQLiteBase


class LibraryTables(SQLiteBase):
    """The library: saved papers, notes, collections, hidden papers."""

    def saved_ids(self, user_id: int) -> set[str]:
        """The ids of the papers in the user's library."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM saved s JOIN papers p ON p.rowid = s.paper WHERE s.user = ?", (user_id,))}

    def hidden_ids(self, user_id: int) -> set[str]:
        """The ids of the papers the user hid."""
        return {r[0] for r in self.conn.execute(
            "SELECT p.id FROM hidden h JOIN papers p ON p.rowid = h.paper WHERE h.user = ?", (user_id,))}
