"""SQLite underneath every table module: one connection per thread, one writer, and the shared SQL helpers.

SQLite runs in WAL mode so readers never wait for the writer; writes go in
short ``BEGIN IMMEDIATE`` transactions of one batch each, so a paper is
either wholly written or not at all, and a crash loses at most the batch in
flight. A second writer waits (busy timeout) instead of failing.

Each table family (papers, browsing, vectors, sync state, index marks) is a
class in its own module deriving from :class:`SQLiteBase`;
:class:`~paperradar.store.sqlite.SQLiteStore` combines them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import orjson

from .base import StoredPaper

JSON_FIELDS = ("authors", "categories", "links", "extra", "field_dates")
COLUMNS = (
    "rowid", "id", "title", "abstract", "authors", "categories", "published", "updated", "version",
    "comment", "journal_ref", "doi", "links", "extra", "upvotes", "title_key", "field_dates",
    "created_at", "changed_at", "seq",
)  # fmt: skip
SELECT = "SELECT " + ", ".join(f"p.{c}" for c in COLUMNS) + " FROM papers p"
CHUNK = 900  # ids per IN (...) list
# A correlated EXISTS probes the (category, paper) primary key once per candidate
# row; "rowid IN (SELECT paper ...)" would first collect every paper of the
# category (tens of thousands for cs.CV: 60 ms on the 115k file, against < 1 ms).
IN_CATEGORY = "EXISTS (SELECT 1 FROM paper_categories c WHERE c.category = ? AND c.paper = p.rowid)"


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SQLiteBase:
    """A SQLite file: this thread's connection, one write transaction at a time, the ``meta`` table."""

    path: str

    def _init_connections(self) -> None:
        self._local = threading.local()
        self._write_lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are per thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it."""
        with self._write_lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str, conn: sqlite3.Connection | None = None) -> None:
        sql = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        if conn is not None:
            conn.execute(sql, (key, value))
            return
        with self.write() as c:
            c.execute(sql, (key, value))


def rows_in(conn: sqlite3.Connection, sql: Callable[[str], str], values: Iterable[Any], before: tuple = ()
            ) -> list[sqlite3.Row]:
    """Rows of ``sql(marks)`` run over ``values`` in chunks (SQLite caps bound parameters);
    ``before`` are bound ahead of each chunk."""
    values = list(values)
    out: list[sqlite3.Row] = []
    for i in range(0, len(values), CHUNK):
        chunk = values[i : i + CHUNK]
        out += conn.execute(sql(",".join("?" * len(chunk))), (*before, *chunk)).fetchall()
    return out


def select_in(conn: sqlite3.Connection, sql: Callable[[str], str], values: Iterable[Any]) -> list[StoredPaper]:
    """Decoded paper rows of ``sql(marks)`` over ``values`` (see :func:`rows_in`)."""
    return [decode(r) for r in rows_in(conn, sql, values)]


def decode(r: sqlite3.Row) -> StoredPaper:
    row: dict[str, Any] = {c: r[c] for c in COLUMNS}
    for f in JSON_FIELDS:
        row[f] = orjson.loads(row[f]) if row[f] else ({} if f in ("links", "extra", "field_dates") else [])
    return row  # type: ignore[return-value]


def encode(row: StoredPaper | dict[str, Any], cols: list[str]) -> tuple:
    dumps = orjson.dumps
    json_fields = JSON_FIELDS
    return tuple(dumps(row[c]).decode() if c in json_fields else row[c] for c in cols)  # type: ignore[literal-required]
