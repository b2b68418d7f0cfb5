"""A temporary database on a PostgreSQL server, dropped afterwards: where ``paperradar eval`` measures on PostgreSQL.

An evaluation imports its own corpus and must never touch the user's
papers, so on PostgreSQL it works in a database of its own beside the
user's (the role needs ``CREATEDB``), named ``paperradar_eval_<pid>_<random>``
and dropped when done, even after an error (``WITH (FORCE)``: the store's
pooled connections may still be open).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from .base import StoreError


def _with_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead (query string, e.g. ``?host=/socket``, kept)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextmanager
def temporary_database(url: str) -> Iterator[str]:
    """The URL of a new, empty database on ``url``'s server, dropped on exit."""
    name = f"paperradar_eval_{os.getpid()}_{secrets.token_hex(4)}"
    where = _with_database(url, urlsplit(url).path.lstrip("/") or "postgres")
    try:
        with psycopg.connect(where, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise StoreError(f"cannot make a temporary database on {_shown(url)}: {' '.join(str(exc).split())}") from None
    try:
        yield _with_database(url, name)
    finally:
        try:
            with psycopg.connect(where, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except psycopg.Error:
            pass  # the server went away: nothing more to do from here


def _shown(url: str) -> str:
    """The URL without its password."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, ""))
