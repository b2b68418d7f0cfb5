"""Named job locks: one process at a time, on any host, runs a background job of a database.

``serve --workers N`` runs N processes, and a team may run ``serve --sync`` on
several machines over one PostgreSQL database; each of them schedules the same
background jobs (the sync rounds, the digest round, ``--embed``'s embedding,
the outbox's delivery). Each tick of a schedule takes the job's lock without
waiting (:meth:`JobLock.acquire`); the holder runs the job, the others skip
that tick. The lock lives exactly as long as its holder: a holder that is
killed (``kill -9``, a crash, a lost machine) frees it with no clean-up, so
a job never stays locked by a process that is gone.

- **SQLite**: an exclusive ``fcntl.flock`` on ``<db>-<name>.lock`` beside the
  database file (the outbox's ``<db>-mail.lock`` is the lock named ``mail``).
  The kernel drops it when the holder's file is closed, which a dead process's
  always is. flock works between the processes of one machine, which is where
  one SQLite file is shared. A database in memory has no file: a lock per
  store object in this process stands in.
- **PostgreSQL**: a session advisory lock, ``pg_try_advisory_lock(ns, key)``
  (``pg_advisory_lock`` to wait), taken on a connection of its own, opened for
  the hold and closed at release: the pool's connections are shared by a
  thread's calls and handed back between them, which a session lock must
  outlive. The server drops a session's advisory locks when the session ends,
  and a killed holder's session ends as soon as the server sees its
  connection close. The two-key form keeps these locks apart from the
  store's one-key write lock (:data:`.postgres.WRITE_LOCK`).

Exactly-once does not rest on the lock alone: each job is idempotent too (a
sync round resumes and merges; the outbox sends a subscriber's digest of a
period once), so a lock lost with its connection can at worst make two
holders do work that lands once.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from . import on_server
from .base import StorageFault, Store, StoreError
from .faults import guarded

__all__ = ["JOB_NAMESPACE", "JobLock", "job_lock"]

JOB_NAMESPACE = 0x504A_4F42  # first key of every job's advisory lock ("PJOB"; fits a PostgreSQL int4)
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_memory_locks: dict[tuple[int, str], threading.Lock] = {}  # (id of a store in memory, name) -> its lock
_memory_guard = threading.Lock()


class JobLock:
    """One process's hold, or attempt at a hold, on the lock named ``name`` of one database.

    Not re-entrant: a second :meth:`acquire` while held is refused (a job does not run inside itself).
    """

    def __init__(self, store: Store, name: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"a job lock's name is lower-case letters, digits and '-', not {name!r}")
        self.store = store
        self.name = name
        self.held = False

    def acquire(self, block: bool = False) -> bool:
        """Take the lock: True when this holds it now; False when another holder has it and ``block`` is false."""
        if self.held:
            return False
        self.held = self._take(block)
        return self.held

    def release(self) -> None:
        """Let go of the lock (nothing when not held)."""
        if self.held:
            self.held = False
            self._let_go()

    @contextmanager
    def hold(self, block: bool = False) -> Iterator[bool]:
        """``with lock.hold() as got:``: ``got`` says whether this process runs the job; released at the end."""
        got = self.acquire(block)
        try:
            yield got
        finally:
            if got:
                self.release()

    def _take(self, block: bool) -> bool:
        raise NotImplementedError

    def _let_go(self) -> None:
        raise NotImplementedError


class FileJobLock(JobLock):
    """SQLite's variant: ``flock`` on ``<db>-<name>.lock`` (see the module docstring)."""

    def __init__(self, store: Store, name: str) -> None:
        super().__init__(store, name)
        self.path = f"{store.path}-{name}.lock"
        self._fd: int | None = None

    def _take(self, block: bool) -> bool:
        if self.store.read_only:  # a read-only copy runs no job that writes; its folder may not even take the file
            raise StorageFault(self.store.path, self.store.read_only, "background jobs run only where the "
                               "database can be written")
        with guarded(self.path):  # a folder that cannot be written: one line, not a traceback
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def _let_go(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file releases the lock


class MemoryJobLock(JobLock):
    """A database in memory: one lock per store object, in this process (nothing else can open it)."""

    def _lock(self) -> threading.Lock:
        with _memory_guard:
            return _memory_locks.setdefault((id(self.store), self.name), threading.Lock())

    def _take(self, block: bool) -> bool:
        return self._lock().acquire(blocking=block)

    def _let_go(self) -> None:
        self._lock().release()


class AdvisoryJobLock(JobLock):
    """PostgreSQL's variant: a session advisory lock on a connection of its own (see the module docstring)."""

    def __init__(self, store: Store, name: str) -> None:
        super().__init__(store, name)
        self.key = _int4(zlib.crc32(name.encode()))
        self._conn: Any = None

    def _take(self, block: bool) -> bool:
        import psycopg

        from .postgres import _why

        url: str = self.store.url  # type: ignore[attr-defined]
        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                   application_name=f"paperradar job {self.name}")
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {self.store.path} for the {self.name} job's "
                             f"lock: {_why(exc, url)}") from None
        try:
            if block:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", (JOB_NAMESPACE, self.key))
                got = True
            else:
                row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (JOB_NAMESPACE, self.key)).fetchone()
                got = bool(row and row[0])
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _let_go(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            with suppress(Exception):  # a connection already lost holds nothing any more
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (JOB_NAMESPACE, self.key))
        finally:
            conn.close()  # ending the session would release it anyway


def job_lock(store: Store, name: str) -> JobLock:
    """The lock named ``name`` of ``store``'s database, in the variant its backend uses (not yet taken)."""
    if on_server(store.path):  # a PostgresStore's path is its URL without the password
        return AdvisoryJobLock(store, name)
    if not store.path or store.path == ":memory:":
        return MemoryJobLock(store, name)
    return FileJobLock(store, name)


def _int4(value: int) -> int:
    """An unsigned 32-bit number as the signed int4 PostgreSQL's advisory lock functions take."""
    return value - (1 << 32) if value >= 1 << 31 else value
