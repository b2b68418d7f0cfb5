"""The PostgreSQL store: the same table modules as SQLite's, over a psycopg 3 connection pool.

:class:`PostgresBase` gives the table modules what :class:`~.connection.SQLiteBase`
gives them (``conn``, ``write()``, ``get_meta``/``set_meta``, ``close``), so
every query is written once; :mod:`.pg_connection` runs their SQLite-flavoured
SQL on PostgreSQL and :mod:`.pg_schema` holds the schema.

How it mirrors SQLite:

- each thread uses one connection from the pool (``psycopg_pool``) while it
  lives, in autocommit: every read sees what is committed, as a WAL reader does;
  the connection goes back to the pool when the thread ends or calls ``close()``;
- ``write()`` is one transaction that first takes a transaction-level advisory
  lock: one writer at a time across every process sharing the database, as
  SQLite's ``BEGIN IMMEDIATE`` (the merge numbers rows and stamps ``seq`` from
  ``MAX(...) + 1``, which needs it);
- a server that refuses writes (``default_transaction_read_only``, a standby)
  opens read-only, as a read-only SQLite file does; a write that fails for a
  full disk, a read-only server or a missing privilege is a
  :class:`~.base.StorageFault`; a server that cannot be reached, a wrong password
  or a missing database is a :class:`~.base.StoreError` naming the server, never
  the password.

``path`` is the database URL without its password: it names the store in every
message.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict

from .base import StorageFault, StoreError
from .browse import BrowseQueries
from .comments import CommentTable
from .connection import MetaTable
from .faults import DENIED, DISK_FULL, READ_ONLY
from .featured import FeaturedTable
from .follows import FollowTables
from .library import LibraryTables
from .mail import MailTables
from .mail_tokens import MailTokenTables
from .marks import IndexMarks
from .papers import PaperTable
from .pg_connection import Connection, configure
from .pg_schema import PG_SCHEMA_VERSION, migrate, schema_version
from .pg_vectors import PgVectorTables, apply_ddl
from .sessions import SessionTables
from .sync_state import SyncTables
from .users import UserTables
from .votes import VoteTable

__all__ = ["PostgresBase", "PostgresStore", "display_url"]

WRITE_LOCK = 0x5052_5752_4954  # pg_advisory_xact_lock key every write transaction holds ("PRWRIT")
POOL_SIZE = 32  # connections at most per store (per process): one per thread that uses the store
CONNECT_TIMEOUT = 10  # seconds
# SQLSTATEs that mean the storage refused the write (see StorageFault).
_FAULTS = {"25006": READ_ONLY, "53100": DISK_FULL, "42501": DENIED}


def display_url(url: str) -> str:
    """The URL as it may be shown: ``postgresql://user@host:port/db``, never the password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    if host.startswith("/"):  # a Unix socket's folder: kept as ?host=, naming the server (a usable --db)
        query = f"?host={host}" + (f"&port={params['port']}" if params.get("port") else "")
        return f"postgresql://{user}/{params.get('dbname') or ''}{query}"
    return f"postgresql://{user}{host}{port}/{params.get('dbname') or ''}"


def _why(exc: BaseException, url: str) -> str:
    """psycopg's reason, on one line, with the password (if any) taken out."""
    text = " ".join(str(exc).split())
    password = conninfo_to_dict(url).get("password") if url else None
    if password:
        text = text.replace(str(password), "***")
    return text


class _Held:
    """A thread's pooled connection; handed back to the pool when the thread's locals go."""

    def __init__(self, pool: psycopg_pool.ConnectionPool[Any]) -> None:
        self.pool = pool
        self.conn = Connection(pool.getconn())

    def release(self) -> None:
        raw, self.conn = self.conn.raw, None  # type: ignore[assignment]
        if raw is not None:
            with suppress(Exception):  # a closed pool: the connection was closed with it
                self.pool.putconn(raw)

    def __del__(self) -> None:
        if getattr(self, "conn", None) is not None:
            self.release()


class PostgresBase(MetaTable):
    """A PostgreSQL database: this thread's connection, one write transaction at a time, the ``meta`` table."""

    path: str
    read_only: str | None = None

    def _init_postgres(self, url: str) -> None:
        self.url = url
        self.path = display_url(url)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None

    def _open_pool(self) -> None:
        self._pool = psycopg_pool.ConnectionPool(
            self.url, min_size=1, max_size=POOL_SIZE, configure=configure, open=True,
            kwargs={"connect_timeout": CONNECT_TIMEOUT}, name=self.path,
        )

    @property
    def conn(self) -> Connection:
        """This thread's connection (one per thread, as with SQLite)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None and held.conn is not None and not held.conn.raw.broken:
            return held.conn
        if self._pool is None or self._pool.closed:
            self._open_pool()
        assert self._pool is not None
        held = _Held(self._pool)
        self._local.held = held
        return held.conn

    def close(self) -> None:
        """Hand this thread's connection back to the pool (the next use takes one again)."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is not None:
            held.release()
            self._local.held = None

    def dispose(self) -> None:
        """Close every connection of the pool (this store's last use in this process)."""
        self.close()
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: all of it lands, or none of it; one writer at a time (see the module docstring)."""
        if self.read_only:
            raise StorageFault(self.path, self.read_only)
        with self._write_lock, self._guarded():
            conn = self.conn
            with conn.raw.transaction():
                conn.raw.execute("SELECT pg_advisory_xact_lock($1)", (WRITE_LOCK,))
                yield conn

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """A write the server refused for lack of space, for being read-only or for a missing privilege
        leaves as a :class:`StorageFault` naming the database."""
        try:
            yield
        except psycopg.Error as exc:
            cause = _FAULTS.get(exc.sqlstate or "")
            if cause is None:
                raise
            raise StorageFault(self.path, cause, (exc.diag.message_primary or "").strip()) from exc


class PostgresStore(PostgresBase, PaperTable, FeaturedTable, BrowseQueries, PgVectorTables, SyncTables, IndexMarks,
                    UserTables, SessionTables, VoteTable, CommentTable, LibraryTables, FollowTables, MailTables,
                    MailTokenTables):
    """Papers in a PostgreSQL database. Safe to share between threads: each reads through its own connection."""

    def __init__(self, url: str) -> None:
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"invalid PostgreSQL URL {display_url(url)}: {_why(exc, '')}") from None
        self._init_postgres(url)
        self._prepare()
        self._open_pool()

    def _prepare(self) -> None:
        """Connect once: a clear error when the server cannot be used, the read-only check, the migrations."""
        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                if conn.execute("SHOW transaction_read_only").fetchone()[0] == "on":  # type: ignore[index]
                    self.read_only = READ_ONLY
                    if schema_version(conn) < PG_SCHEMA_VERSION:
                        raise StorageFault(self.path, READ_ONLY,
                                           "its schema must be upgraded first: open it once where it can be written")
                    self.pgvector = apply_ddl(conn, writable=False)
                    return
                try:
                    with self._guarded():
                        migrate(conn)
                        self.pgvector = apply_ddl(conn, writable=True)  # pgvector's objects (store/pg_vectors.py)
                except psycopg.Error as exc:  # e.g. no citext extension on the server
                    raise StoreError(f"cannot make the schema in {self.path}: {_why(exc, self.url)}") from None
        except psycopg.OperationalError as exc:
            if exc.sqlstate in _FAULTS:
                raise StorageFault(self.path, _FAULTS[exc.sqlstate]) from None
            raise StoreError(f"cannot connect to PostgreSQL at {self.path}: {_why(exc, self.url)}") from None

    def vector_log_head(self) -> int:
        """The newest vector change's number (0: none yet); the counter the log's trigger moves
        (SQLite reads ``sqlite_sequence``)."""
        return int(self.conn.execute("SELECT seq FROM vector_log_head").fetchone()[0])
