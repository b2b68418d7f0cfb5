"""SQLite underneath every table module: one connection per thread, one writer, and the shared SQL helpers.

SQLite runs in WAL mode so readers never wait for the writer; writes go in
short ``BEGIN IMMEDIATE`` transactions of one batch each, so a paper is
either wholly written or not at all, and a crash loses at most the batch in
flight. A second writer waits (busy timeout) instead of failing.

A database that cannot be written (a read-only file, folder or mount: a
copy served as it is; a disk so full that not even the ``-shm`` file WAL
readers need can be made) is opened read-only, so reading keeps working:
with ``mode=ro`` where SQLite can still make the ``-shm`` file, else
``immutable=1`` (no ``-shm`` at all; only when no ``-wal`` holds changes it
would miss). ``read_only`` then says why, and every write stops at once with
a :class:`~paperradar.store.base.StorageFault`; a write that fails for lack
of space or permission becomes one too (:mod:`.faults`).

Each table family (papers, browsing, vectors, sync state, index marks) is a
class in its own module deriving from :class:`SQLiteBase`;
:class:`~paperradar.store.sqlite.SQLiteStore` combines them.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from .base import StorageFault, StoredPaper
from .faults import DENIED, DISK_FULL, READ_ONLY, cause_of, guarded, probe

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
RW, RO, IMMUTABLE = "rw", "ro", "immutable"  # how connections open the file (see SQLiteBase._open_access)


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class MetaTable:
    """The ``meta`` table (key -> value), the same SQL on every backend."""

    conn: Any
    write: Callable[[], Any]  # the backend's one write transaction

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str, conn: Any = None) -> None:
        sql = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        if conn is not None:
            conn.execute(sql, (key, value))
            return
        with self.write() as c:
            c.execute(sql, (key, value))


class SQLiteBase(MetaTable):
    """A SQLite file: this thread's connection, one write transaction at a time, the ``meta`` table."""

    path: str
    read_only: str | None = None  # why it cannot be written ("read-only", "disk full", ...); None: it can

    def _init_connections(self) -> None:
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._access = RW

    def _open_access(self) -> None:
        """Choose how every thread's connection opens the file: read-write where it can be written,
        else read-only (``mode=ro``), else immutable; each is tried with a first read."""
        choices = self._access_choices()
        why: str | None = None  # why the first choice failed: what a write will be told
        for access in choices:
            self._access, self.read_only = access, None if access == RW else why or READ_ONLY
            try:
                self.conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return
            except sqlite3.OperationalError as exc:
                self.close()
                cause = _unwritable(exc, self.path)
                if cause is None:
                    raise
                why = why or cause
                if access != choices[-1]:
                    continue
                if access == RO:  # immutable was not offered: the -wal holds changes, and no -shm can be made
                    name = Path(self.path).name
                    raise StorageFault(self.path, why, f"its write-ahead log {name}-wal holds changes that "
                                       f"cannot be read without creating {name}-shm", action="read") from exc
                raise

    def _access_choices(self) -> list[str]:
        """The ways to open the file worth trying, in order (read-write first where it may work)."""
        if self.path == ":memory:" or not os.path.exists(self.path):
            return [RW]  # created here: a failure to create it is the answer
        choices = [RW, RO] if os.access(self.path, os.W_OK) else [RO]
        wal = Path(self.path + "-wal")
        if not wal.exists() or wal.stat().st_size == 0:
            choices.append(IMMUTABLE)  # nothing in a write-ahead log that immutable reading would miss
        return choices

    def _connect(self) -> sqlite3.Connection:
        if self._access == RW:
            return sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        query = "mode=ro" if self._access == RO else "mode=ro&immutable=1"
        uri = f"{Path(self.path).absolute().as_uri()}?{query}"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections are per thread)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.row_factory = sqlite3.Row
            if not self.read_only:
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
        """One write transaction: all of it lands, or none of it.

        A read-only store refuses at once; a disk that fills up or a file
        that turns out read-only ends it as a :class:`StorageFault` (the
        transaction rolled back: nothing of it is stored).
        """
        if self.read_only:
            raise StorageFault(self.path, self.read_only)
        with self._write_lock, guarded(self.path):
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                _rollback(conn)
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                _rollback(conn)  # SQLite may keep the transaction open after a failed COMMIT (disk full)
                raise


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is still open; SQLite rolls a transaction back by itself after some errors
    (disk full), and a second ROLLBACK's own error must not hide the first."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass


def _unwritable(exc: sqlite3.Error, path: str) -> str | None:
    """Why opening failed when the file, its folder or its mount cannot be written (or the disk has
    no room for the -shm file): ``read-only``, ``permission denied``, ``disk full``; None otherwise."""
    cause = cause_of(exc)
    if cause in (READ_ONLY, DENIED, DISK_FULL):
        return cause
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")):  # the -shm file could not be made: ask why
        return probe(path) or (READ_ONLY if name.startswith("SQLITE_CANTOPEN") else None)
    return None


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
