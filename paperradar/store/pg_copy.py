"""Moving in: a SQLite store copied into a PostgreSQL database, row for row, resumably (``paperradar copy``).

Every row keeps its ids (papers' ``rowid``, users', comments', ... ``id``), so
foreign keys, tokens, feed links and the positions the derived indexes saved
(``papers.seq``, the vector log) stay true in the target. How:

- **One snapshot.** The source is read in one SQLite read transaction: what is
  copied, and the counts compared at the end, are the database at one moment,
  even if a server keeps writing to it (WAL readers see a fixed state).
- **Key ranges.** Each table is walked in the order of a unique key (its
  primary key; SQLite's own ``rowid`` for ``votes`` and ``login_failures``,
  which have none), in batches. A batch goes in with ``COPY`` and, in the same
  transaction, the key of its last row is written to ``copy_progress`` in the
  target: after ``kill -9`` or a lost connection, the rerun starts after the
  last committed key. No row is copied twice, none is skipped.
- **Stored counts as they are.** ``papers.upvotes`` and the ``upvotes`` rows
  are copied from the source; the triggers that maintain them from ``votes``
  (and the vector log from ``vectors``) are disabled inside each batch's
  transaction (``ALTER TABLE ... DISABLE TRIGGER``, rolled back with it if the
  process dies), and the vector log is copied as it is.
- **Whose copy.** ``copy_source`` holds a fingerprint of the source (its first
  papers' and users' ids and creation times). A target with rows but no such
  mark, or another source's mark, is refused: ``copy`` fills an empty database
  or resumes its own copy. A session-level advisory lock keeps a second
  ``copy`` out while one runs.
- **The end.** Identity sequences are moved past the largest id, or past
  SQLite's ``sqlite_sequence`` where ``AUTOINCREMENT`` remembers deleted ones
  (``setval``; never backwards); the vector log's head likewise; then rows are
  counted table by table on both sides, with the sums of the vote counts.

A target that fails (unreachable, wrong password, full disk, a row it refuses)
is a :class:`~.base.StoreError` or :class:`~.base.StorageFault` naming the
database without its password; what was committed stays, and the same
command resumes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .base import StorageFault, StoreError
from .connection import utcnow
from .migrations import SchemaTooNew
from .pg_schema import ID_TABLES
from .postgres import _FAULTS, CONNECT_TIMEOUT, PostgresStore, _why, display_url
from .sqlite import SQLiteStore

__all__ = ["TABLES", "Check", "CopyPlan", "StoreCopy", "Table"]

COPY_LOCK = 0x5052_434F_5059  # pg_advisory_lock key a running copy holds ("PRCOPY")
LOCK_WAIT = 5.0  # seconds to wait for another copy's lock
BLOB_SHARE = 10  # tables of large values (vectors, mails) go in batches this many times smaller


@dataclass(frozen=True)
class Table:
    """A table to copy: walked in the order of ``key`` (SQLite expressions naming a unique key)."""

    name: str
    key: tuple[str, ...]
    triggers: tuple[str, ...] = ()  # PostgreSQL triggers off while its rows go in (the source's values are kept)
    blobs: bool = False  # large values: smaller batches


# Parents before children (the target checks every foreign key as rows arrive).
TABLES: tuple[Table, ...] = (
    Table("papers", ("rowid",)),
    Table("paper_categories", ("category", "paper")),
    Table("upvotes", ("paper", "site")),
    Table("provenance", ("paper", "source")),
    Table("featured", ("paper", "day", "source")),
    Table("vectors", ("paper",), triggers=("vectors_logged_insert",), blobs=True),
    Table("sentence_vectors", ("paper",), blobs=True),
    Table("vector_log", ("seq",)),
    Table("users", ("id",)),
    Table("api_tokens", ("id",)),
    Table("sessions", ("id",)),
    Table("login_failures", ("rowid",)),  # no key of its own: SQLite's rowid (never VACUUMed by paperradar)
    Table("invites", ("id",)),
    Table("votes", ("rowid",), triggers=("votes_counted_insert",)),  # likewise
    Table("comments", ("id",)),
    Table("saved", ('"user"', "paper")),
    Table("collections", ("id",)),
    Table("collection_papers", ("collection", "paper")),
    Table("hidden", ('"user"', "paper")),
    Table("follows", ("id",)),
    Table("feed_tokens", ("id",)),
    Table("subscriptions", ("id",)),
    Table("outbox", ("id",), blobs=True),
    Table("mail_tokens", ("id",)),
    Table("sync_runs", ("id",)),
    Table("oai_harvests", ("id",)),
    Table("index_marks", ("index_name", "token")),
    Table("meta", ("key",)),  # every key: the positions they name (seq, vector log) are kept
)
# Totals the triggers keep, compared besides the row counts: (label, SQL both backends run).
SUMS = (
    ("papers.upvotes (sum)", 'SELECT COALESCE(SUM(upvotes), 0) FROM papers'),
    ("upvotes.count (sum)", 'SELECT COALESCE(SUM("count"), 0) FROM upvotes'),
    ("upvotes.count, local (sum)",
     "SELECT COALESCE(SUM(\"count\"), 0) FROM upvotes WHERE site = 'local'"),
)
_PROGRESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS copy_source (
    one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    fingerprint TEXT NOT NULL,
    path TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE TABLE IF NOT EXISTS copy_progress (
    tbl TEXT PRIMARY KEY,
    last_key TEXT,
    copied BIGINT NOT NULL DEFAULT 0,
    done BOOLEAN NOT NULL DEFAULT FALSE
)"""


@dataclass
class CopyPlan:
    """Where a table stands: rows in the source's snapshot, rows already copied, whether it is finished."""

    table: Table
    source_rows: int
    copied: int = 0
    done: bool = False
    last_key: list[Any] | None = None


@dataclass(frozen=True)
class Check:
    """One comparison of the end: a table's rows (or a total) in the source and in the target."""

    name: str
    source: int
    target: int

    @property
    def equal(self) -> bool:
        return self.source == self.target


class StoreCopy:
    """One run of ``paperradar copy``: open both ends, then :meth:`plans`, :meth:`copy_table` each,
    :meth:`finish`, :meth:`compare`, :meth:`close`."""

    def __init__(self, source: str, target: str, batch: int = 5000) -> None:
        self.batch = batch
        self.sqlite = _open_source(source)
        self.source_path = str(Path(self.sqlite.path).resolve())
        self.target_url = target
        self.finished = False  # the target holds this source's finished copy (a rerun only compares)
        try:
            self.sqlite.conn.execute("BEGIN")  # one snapshot for the whole run (taken at the first read)
            self._check_source_tables()
            try:
                store = PostgresStore(target)  # a clear error if unreachable; makes or upgrades the schema
            except SchemaTooNew as exc:
                raise StoreError(f"{display_url(target)}: {exc}") from None
            self.target = store.path
            store.dispose()
            self.pg = self._connect()
            self.resumed = self._claim()
        except BaseException:
            self.close()
            raise

    # -- opening ------------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.target_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.target}: {_why(exc, self.target_url)}") from None
        # A commit lost to a crash of the server loses its batch and that batch's checkpoint together.
        conn.execute("SET synchronous_commit = off")
        # Waits a little: the server ends the session of a copy killed a moment ago (and frees its lock)
        # only once it notices that the client is gone.
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{LOCK_WAIT}s")))
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (COPY_LOCK,))
        except psycopg.errors.LockNotAvailable:
            conn.close()
            raise StoreError(f"another paperradar copy is writing into {self.target}: wait for it to end") from None
        conn.execute("RESET lock_timeout")
        return conn

    def _check_source_tables(self) -> None:
        """Every table of the source is one this copy knows: a table added by a later migration and
        forgotten here would otherwise be left behind without a word."""
        names = {r[0] for r in self.sqlite.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
        unknown = sorted(names - {t.name for t in TABLES})
        if unknown:
            raise StoreError(f"{self.source_path}: tables this paperradar cannot copy: {', '.join(unknown)}")

    def _claim(self) -> bool:
        """Mark the target as this source's copy, or find it already is (True: resuming); refuse
        a target that holds other data."""
        fingerprint = self._fingerprint()
        with self._target("prepare"):
            marked = self.pg.execute("SELECT to_regclass('copy_source') IS NOT NULL").fetchone()
            row = marked and marked[0] and self.pg.execute(
                "SELECT fingerprint, path, started_at, finished_at FROM copy_source").fetchone()
            if row:
                if row[0] != fingerprint:
                    raise StoreError(
                        f"{self.target} holds a copy of another database ({row[1]}, begun {row[2]}): "
                        "paperradar copy fills an empty database or resumes its own copy")
                self.finished = row[3] is not None
                return True
            held = self._nonempty_tables()
            if held:
                raise StoreError(f"{self.target} already holds data ({', '.join(held)}): paperradar copy "
                                 "only fills an empty database (or resumes a copy of the same source)")
            with self.pg.transaction():
                self.pg.execute(_PROGRESS_SCHEMA)
                self.pg.execute("INSERT INTO copy_source (fingerprint, path, started_at) VALUES (%s, %s, %s)",
                                (fingerprint, self.source_path, utcnow()))
        return False

    def _nonempty_tables(self) -> list[str]:
        held = []
        for table in TABLES:
            query = sql.SQL("SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1000) AS t").format(
                sql.Identifier(table.name))
            n = self.pg.execute(query).fetchone()[0]  # type: ignore[index]
            if n:
                held.append(f"{table.name}: {n}{'+' if n == 1000 else ''} rows")
        return held

    def _fingerprint(self) -> str:
        """What identifies the source across runs: its first papers and users (ids and creation times,
        which no later write changes). The path may differ (a moved file is the same source)."""
        conn = self.sqlite.conn
        papers = conn.execute("SELECT rowid, created_at FROM papers ORDER BY rowid LIMIT 100").fetchall()
        users = conn.execute("SELECT id, created_at FROM users ORDER BY id LIMIT 100").fetchall()
        text = json.dumps([[list(r) for r in papers], [list(r) for r in users]])
        return hashlib.sha256(text.encode()).hexdigest()

    # -- copying ------------------------------------------------------------------------

    def plans(self) -> list[CopyPlan]:
        """Every table's rows in the source and how far an earlier run got."""
        with self._target("read progress"):
            done = {r[0]: r for r in self.pg.execute("SELECT tbl, last_key, copied, done FROM copy_progress")}
        out = []
        for table in TABLES:
            rows = self.sqlite.conn.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0]
            plan = CopyPlan(table, int(rows))
            if table.name in done:
                _, key, plan.copied, plan.done = done[table.name]
                plan.last_key = json.loads(key) if key else None
            out.append(plan)
        return out

    def copy_table(self, plan: CopyPlan, on_batch: Callable[[int], None] = lambda n: None) -> int:
        """Copy what is left of one table, a batch per transaction; returns the rows copied now."""
        table = plan.table
        if plan.done:
            return 0
        columns = self._columns(table.name)
        size = max(1, self.batch // BLOB_SHARE) if table.blobs else self.batch
        copied = 0
        for rows in self._batches(table, columns, plan.last_key, size):
            last = list(rows[-1][: len(table.key)]) if rows else plan.last_key
            finished = len(rows) < size
            self._write_batch(table, columns, rows, last, finished)
            plan.last_key, plan.copied, plan.done = last, plan.copied + len(rows), finished
            copied += len(rows)
            on_batch(len(rows))
            if finished:
                break
        return copied

    def _columns(self, name: str) -> list[str]:
        """The table's columns, which both schemas must name alike (same migrations)."""
        mine = [r[1] for r in self.sqlite.conn.execute(f"PRAGMA table_info({name})")]
        with self._target("read columns"):
            theirs = {r[0] for r in self.pg.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                " AND table_name = %s", (name,))}
        missing = [c for c in mine if c not in theirs]
        if missing:
            raise StoreError(f"{self.target}: table {name} lacks the columns {', '.join(missing)} of the source")
        return mine

    def _batches(self, table: Table, columns: list[str], after: list[Any] | None, size: int
                 ) -> Iterator[list[tuple[Any, ...]]]:
        """The source's rows after key ``after``, in key order, ``size`` at a time (an empty list at the end)."""
        keys = ", ".join(table.key)
        wanted = ", ".join(f'"{c}"' for c in columns)
        ahead = f"({keys}) > ({', '.join('?' * len(table.key))})"
        while True:
            where = f"WHERE {ahead} " if after is not None else ""
            query = f"SELECT {keys}, {wanted} FROM {table.name} {where}ORDER BY {keys} LIMIT ?"
            rows = [tuple(r) for r in self.sqlite.conn.execute(query, (*(after or ()), size))]
            yield rows
            if len(rows) < size:
                return
            after = list(rows[-1][: len(table.key)])

    def _write_batch(self, table: Table, columns: list[str], rows: list[tuple[Any, ...]], last: list[Any] | None,
                     finished: bool) -> None:
        """One transaction: the rows (triggers off), and where the table now stands."""
        name = sql.Identifier(table.name)
        skip = len(table.key)
        with self._target(f"copy {table.name}"), self.pg.transaction():
            for trigger in table.triggers:
                self.pg.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(name, sql.Identifier(trigger)))
            if rows:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    name, sql.SQL(", ").join(sql.Identifier(c) for c in columns))
                with self.pg.cursor().copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row[skip:])
            for trigger in table.triggers:
                self.pg.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(name, sql.Identifier(trigger)))
            self.pg.execute(
                "INSERT INTO copy_progress (tbl, last_key, copied, done) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (tbl) DO UPDATE SET last_key = excluded.last_key,"
                " copied = copy_progress.copied + excluded.copied, done = excluded.done",
                (table.name, json.dumps(last) if last is not None else None, len(rows), finished))

    # -- the end ------------------------------------------------------------------------

    def finish(self) -> dict[str, int]:
        """Sequences past every id the source gave (deleted ones too), the vector log's head likewise;
        the copy marked finished. Returns each moved sequence's new value."""
        given = self._sqlite_sequences()
        moved: dict[str, int] = {}
        with self._target("finish"), self.pg.transaction():
            for name in sorted(ID_TABLES):
                top = self.pg.execute(sql.SQL("SELECT COALESCE(MAX(id), 0) FROM {}").format(
                    sql.Identifier(name))).fetchone()[0]  # type: ignore[index]
                value = max(int(top), given.get(name, 0))
                if value:
                    got = self.pg.execute(
                        "SELECT setval(s, GREATEST(%s, COALESCE(pg_sequence_last_value(s), 0)))"
                        " FROM pg_get_serial_sequence(%s, 'id') AS s", (value, name)).fetchone()
                    moved[name] = int(got[0])  # type: ignore[index]
            head = max(given.get("vector_log", 0), self._source_int("SELECT COALESCE(MAX(seq), 0) FROM vector_log"))
            self.pg.execute("UPDATE vector_log_head SET seq = GREATEST(seq, %s)", (head,))
            self.pg.execute("UPDATE copy_source SET finished_at = COALESCE(finished_at, %s)", (utcnow(),))
        return moved

    def _sqlite_sequences(self) -> dict[str, int]:
        """What SQLite's AUTOINCREMENT tables have ever given (``sqlite_sequence``)."""
        conn = self.sqlite.conn
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone() is None:
            return {}
        return {r[0]: int(r[1]) for r in conn.execute("SELECT name, seq FROM sqlite_sequence")}

    def _source_int(self, query: str) -> int:
        return int(self.sqlite.conn.execute(query).fetchone()[0])

    def compare(self) -> list[Check]:
        """Rows of every table and the vote totals, in the source's snapshot and in the target."""
        checks = []
        with self._target("count"):
            for table in TABLES:
                theirs = self.pg.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(
                    sql.Identifier(table.name))).fetchone()[0]  # type: ignore[index]
                checks.append(Check(table.name, self._source_int(f"SELECT COUNT(*) FROM {table.name}"), int(theirs)))
            for label, query in SUMS:
                theirs = self.pg.execute(query).fetchone()[0]  # type: ignore[index,arg-type]
                checks.append(Check(label, self._source_int(query), int(theirs)))
            head = self.pg.execute("SELECT seq FROM vector_log_head").fetchone()[0]  # type: ignore[index]
            mine = max(self._sqlite_sequences().get("vector_log", 0),
                       self._source_int("SELECT COALESCE(MAX(seq), 0) FROM vector_log"))
            checks.append(Check("vector_log head", mine, int(head)))
        return checks

    def close(self) -> None:
        """Release the lock (with the connection) and the source's snapshot."""
        pg = getattr(self, "pg", None)
        if pg is not None:
            pg.close()
            self.pg = None  # type: ignore[assignment]
        if self.sqlite.conn.in_transaction:
            self.sqlite.conn.execute("ROLLBACK")
        self.sqlite.close()

    @contextmanager
    def _target(self, doing: str) -> Iterator[None]:
        """A failure of the target as one line naming it (never its password): a refused write as a
        :class:`StorageFault`, anything else as a :class:`StoreError`; what was committed stays."""
        try:
            yield
        except psycopg.Error as exc:
            cause = _FAULTS.get(exc.sqlstate or "")
            if cause is not None:
                raise StorageFault(self.target, cause, (exc.diag.message_primary or "").strip()) from None
            lost = isinstance(exc, psycopg.OperationalError)
            hint = "; run the same command again to resume" if lost else ""
            raise StoreError(f"{self.target}: {doing} failed: {_why(exc, self.target_url)}{hint}") from None


def _open_source(path: str) -> SQLiteStore:
    """The SQLite store to copy; it must exist (opening a missing path would make an empty database)."""
    if "://" in path and not path.startswith("sqlite:///"):
        raise StoreError(f"the source must be a SQLite database file, not a URL: {path.split('://')[0]}://...")
    path = path.removeprefix("sqlite:///")
    file = Path(path)
    if not file.is_file():
        raise StoreError(f"no SQLite database at {path}" + (" (a folder)" if file.is_dir() else ""))
    try:
        return SQLiteStore(path)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {path} as a SQLite database: {exc}") from None
    except SchemaTooNew as exc:
        raise StoreError(f"{path}: {exc}") from None
