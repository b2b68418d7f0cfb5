"""The SQLite store: one file, every table family of :mod:`paperradar.store` combined.

Each family is a class in its own module over the shared connection of
:mod:`.connection`: papers (:mod:`.papers`), browsing queries
(:mod:`.browse`), vectors (:mod:`.vectors`), sync state
(:mod:`.sync_state`), the derived indexes' marks (:mod:`.marks`), featured
papers (:mod:`.featured`), accounts (:mod:`.users`), sign-in sessions (:mod:`.sessions`),
votes (:mod:`.votes`), comments (:mod:`.comments`), the library (:mod:`.library`),
follows and private feeds (:mod:`.follows`), digest subscriptions and the outbox (:mod:`.mail`),
the links mailed for accounts (:mod:`.mail_tokens`).
A new table family is a new module and one more base class here.
"""

from __future__ import annotations

from pathlib import Path

from .base import StorageFault
from .browse import BrowseQueries
from .connection import utcnow
from .faults import guarded
from .featured import FeaturedTable
from .marks import IndexMarks
from .migrations import SCHEMA_VERSION, migrate
from .papers import PaperTable, upvote_site
from .sync_state import SyncTables
from .users import UserTables
from .sessions import SessionTables
from .votes import VoteTable
from .comments import CommentTable
from .library import LibraryTables
from .follows import FollowTables
from .mail import MailTables
from .mail_tokens import MailTokenTables
from .vectors import VectorTables

__all__ = ["SQLiteStore", "upvote_site", "utcnow"]


class SQLiteStore(PaperTable, FeaturedTable, BrowseQueries, VectorTables, SyncTables, IndexMarks,
                  UserTables, SessionTables, VoteTable, CommentTable, LibraryTables, FollowTables, MailTables,
                  MailTokenTables):
    """Papers in one SQLite file. Safe to share between threads: each thread reads through its own connection."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._init_connections()
        with guarded(self.path):  # a full disk or a read-only folder: one line naming the file, not a traceback
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._open_access()
            if self.read_only and self._schema_version() < SCHEMA_VERSION:
                raise StorageFault(self.path, self.read_only,
                                   "its schema must be upgraded first: open it once where it can be written")
            migrate(self.conn)

    def _schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])
