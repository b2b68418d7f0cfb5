"""The SQLite store: one file, every table family of :mod:`paperradar.store` combined.

Each family is a class in its own module over the shared connection of
:mod:`.connection`: papers (:mod:`.papers`), browsing queries
(:mod:`.browse`), vectors (:mod:`.vectors`), sync state
(:mod:`.sync_state`), the derived indexes' marks (:mod:`.marks`). A new
table family is a new module and one more base class here.
"""

from __future__ import annotations

from pathlib import Path

from .browse import BrowseQueries
from .connection import utcnow
from .marks import IndexMarks
from .migrations import migrate
from .papers import PaperTable, upvote_site
from .sync_state import SyncTables
from .vectors import VectorTables

__all__ = ["SQLiteStore", "upvote_site", "utcnow"]


class SQLiteStore(PaperTable, BrowseQueries, VectorTables, SyncTables, IndexMarks):
    """Papers in one SQLite file. Safe to share between threads: each thread reads through its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._init_connections()
        migrate(self.conn)
