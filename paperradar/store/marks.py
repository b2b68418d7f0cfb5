"""Which saved states of the derived indexes were made from this database.

The keyword and vector indexes live in files beside the database. When an
index is saved, it draws a random token, records it here (in the database,
with the position it reached), then writes it into its own stamp file. On
open, an index whose token the database does not hold was made from another
database: a restored backup next to a newer index, a copy without its
``-wal`` file, a folder copied from elsewhere. Such an index is rebuilt,
never served. (A crash between the two writes leaves the previous token in
the stamp: still one of ours, and the index only catches up.)
"""

from __future__ import annotations

import sqlite3

from .connection import SQLiteBase, utcnow


class IndexMarks(SQLiteBase):
    """The ``index_marks`` table."""

    def add_index_mark(self, index: str, token: str, position: int, conn: sqlite3.Connection | None = None) -> None:
        """Record that ``index`` saved a state stamped ``token`` at ``position`` (in ``conn``'s transaction if given)."""
        sql = ("INSERT INTO index_marks (index_name, token, position, made_at) VALUES (?, ?, ?, ?) ON CONFLICT"
               " (index_name, token) DO UPDATE SET position = excluded.position, made_at = excluded.made_at")
        if conn is not None:
            conn.execute(sql, (index, token, position, utcnow()))
            return
        with self.write() as c:
            c.execute(sql, (index, token, position, utcnow()))

    def has_index_mark(self, index: str, token: str) -> bool:
        """Whether a saved state of ``index`` stamped ``token`` was made from this database."""
        row = self.conn.execute(
            "SELECT 1 FROM index_marks WHERE index_name = ? AND token = ?", (index, token)
        ).fetchone()
        return row is not None
