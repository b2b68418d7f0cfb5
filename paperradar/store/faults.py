"""The one place that reads a failed write as a storage fault: disk full, read-only, permission denied.

Writes fail in several libraries, each in its own words: SQLite
(``database or disk is full``, ``attempt to write a readonly database``),
the OS (``ENOSPC``, ``EROFS``, ``EACCES``), tantivy (``Failed to acquire
Lockfile: ... PermissionDenied``, ``An index writer was killed``) and usearch.
Users need one line that names the file and the cause, not a traceback, so
the code that writes the store or an index runs inside :func:`guarded`, which
turns those errors into :class:`~paperradar.store.base.StorageFault` with
the path that was being written. Anything else (a bug, a bad input) passes
through unchanged.

Some failures do not say why: tantivy's worker threads die with ``io::Error
most likely``, SQLite reports a plain ``disk I/O error``. For those the
file system is asked (:func:`probe`): a nearly full disk or a folder that
cannot be written is the cause; otherwise the error is not ours to rename.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .base import StorageFault

DISK_FULL, READ_ONLY, DENIED = "disk full", "read-only", "permission denied"
NEARLY_FULL = 1 << 20  # bytes: less free space than this after a failed write means the disk filled up

_ERRNO = {errno.ENOSPC: DISK_FULL, errno.EDQUOT: DISK_FULL, errno.EROFS: READ_ONLY,
          errno.EACCES: DENIED, errno.EPERM: DENIED}  # fmt: skip
# How the Rust and C libraries word the same causes (io::ErrorKind names, OS messages, error numbers).
_WORDS = [
    (DISK_FULL, ("no space left on device", "storagefull", "os error 28", "database or disk is full",
                 "quota exceeded", "os error 122")),
    (READ_ONLY, ("read-only file system", "readonlyfilesystem", "os error 30", "readonly database")),
    (DENIED, ("permission denied", "permissiondenied", "os error 13", "operation not permitted")),
]
# Failures that do not say why: the file system is asked (see probe).
_OPAQUE = ("index writer was killed", "worker thread", "disk i/o error", "unable to open database file",
           "failed to serialize", "failed to write", "failed to save")


def cause_of(exc: BaseException) -> str | None:
    """``disk full``, ``read-only`` or ``permission denied`` when ``exc`` says so itself, else None."""
    if isinstance(exc, StorageFault):
        return exc.cause
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name == "SQLITE_FULL":
            return DISK_FULL
        if name.startswith("SQLITE_READONLY"):
            return READ_ONLY
        if name in ("SQLITE_PERM", "SQLITE_AUTH"):
            return DENIED
    text = str(exc).lower()
    for cause, words in _WORDS:
        if any(w in text for w in words):
            return cause
    return None


def probe(path: str | Path) -> str | None:
    """Why writing under ``path`` may have failed when the error did not say: the disk is (nearly)
    full, or the nearest existing folder cannot be written; None when neither holds."""
    where = Path(path)
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        st = os.statvfs(where)
    except OSError:
        return None
    if st.f_bavail * st.f_frsize < NEARLY_FULL:
        return DISK_FULL
    if st.f_flag & os.ST_RDONLY:
        return READ_ONLY
    folder = where if where.is_dir() else where.parent
    if not os.access(folder, os.W_OK) or (where.is_file() and not os.access(where, os.W_OK)):
        return DENIED
    return None


def storage_fault(exc: BaseException, path: str | Path) -> StorageFault | None:
    """``exc`` as a fault in writing ``path``, or None when it is something else (a bug, a bad input)."""
    if isinstance(exc, StorageFault):
        return exc
    if not isinstance(exc, (OSError, sqlite3.Error, ValueError, RuntimeError)):
        return None
    cause = cause_of(exc)
    if cause is None and any(w in str(exc).lower() for w in _OPAQUE):
        cause = probe(path)
    return StorageFault(str(path), cause) if cause else None


@contextmanager
def guarded(path: str | Path) -> Iterator[None]:
    """Run a write to ``path``; a storage failure inside leaves as a :class:`StorageFault` naming it."""
    try:
        yield
    except StorageFault:
        raise
    except (OSError, sqlite3.Error, ValueError, RuntimeError) as exc:
        fault = storage_fault(exc, path)
        if fault is None:
            raise
        raise fault from exc
