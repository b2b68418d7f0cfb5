"""A psycopg 3 connection that runs the table modules' SQL as it is written for SQLite.

The table modules (:mod:`.papers`, :mod:`.users`, ...) are written once, in
the SQL both backends share, with sqlite3's habits: ``?`` placeholders,
``cursor.lastrowid``, rows indexed by position and by name. Rather than a
second copy of every query, this adapter bridges those habits:

- ``?`` becomes PostgreSQL's own ``$1, $2, ...`` (psycopg's :class:`RawCursor`),
  so a literal ``%`` (``LIKE 'title:%'``) needs no escaping;
- ``x IS ?`` / ``x IS NOT ?`` (SQLite's null-safe comparison) become
  ``IS NOT DISTINCT FROM`` / ``IS DISTINCT FROM``;
- the column ``user``, a reserved word in PostgreSQL, is quoted;
- an ``INSERT`` into a table with an ``id`` identity gets ``RETURNING id``, which
  is what ``cursor.lastrowid`` reads;
- rows are tuples that also answer ``row["name"]`` and ``row.keys()``, like
  :class:`sqlite3.Row`; booleans come back as 0/1 and integral ``numeric`` values
  (``SUM`` of a ``bigint``) as ``int``, the values SQLite gives;
- a unique or foreign-key violation is raised as :class:`PgIntegrityError`, a
  :class:`sqlite3.IntegrityError`, which is what the table modules catch.

Translation is textual and only outside string literals and quoted names;
each distinct statement is translated once (cached).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, ClassVar

import psycopg
from psycopg.adapt import Dumper, Loader

from .pg_schema import ID_TABLES

_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_IS_NOT = re.compile(r"\bIS\s+NOT\s+\?", re.IGNORECASE)
_IS = re.compile(r"\bIS\s+\?", re.IGNORECASE)
_USER = re.compile(r"\buser\b")
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


class PgIntegrityError(sqlite3.IntegrityError):
    """A constraint PostgreSQL enforced (unique, foreign key, check), as the table modules expect it."""

    sqlstate: str | None = None


@lru_cache(maxsize=8192)
def translate(sql: str, returning: bool = True) -> tuple[str, bool]:
    """``sql`` in PostgreSQL's words, and whether ``RETURNING id`` was added (see the module docstring)."""
    out: list[str] = []
    count = 0
    pos = 0
    for match in _QUOTED.finditer(sql):
        part, count = _plain(sql[pos : match.start()], count)
        out += [part, match.group(0)]
        pos = match.end()
    part, count = _plain(sql[pos:], count)
    out.append(part)
    text = "".join(out)
    insert = _INSERT.match(text)
    add = bool(returning and insert and insert.group(1).lower() in ID_TABLES and "RETURNING" not in text.upper())
    return (text.rstrip().rstrip(";") + " RETURNING id" if add else text), add


def _plain(text: str, count: int) -> tuple[str, int]:
    """One stretch outside quotes: the rewrites, then each ``?`` numbered from ``count + 1``."""
    text = _IS_NOT.sub("IS DISTINCT FROM ?", text)
    text = _IS.sub("IS NOT DISTINCT FROM ?", text)
    text = _USER.sub('"user"', text)
    pieces = text.split("?")
    out = [pieces[0]]
    for piece in pieces[1:]:
        count += 1
        out += [f"${count}", piece]
    return "".join(out), count


class Row(tuple):  # type: ignore[type-arg]
    """A result row: a tuple that also answers ``row["column"]`` and ``row.keys()`` (as sqlite3.Row)."""

    __slots__ = ()
    _names: tuple[str, ...] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                lowered = key.lower()
                if lowered in self._index:
                    return tuple.__getitem__(self, self._index[lowered])
                raise IndexError(f"No item with that key: {key!r}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=4096)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    index = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)  # the first of two equal names, as sqlite3.Row
    return type("Row", (Row,), {"__slots__": (), "_names": names, "_index": index})


def row_factory(cursor: Any) -> Any:
    """psycopg row factory making :class:`Row` objects."""
    if cursor.description is None:
        return tuple
    cls = _row_class(tuple(c.name for c in cursor.description))
    return cls


class _BoolAsInt(Loader):
    """SQLite has no boolean: ``x IS NOT NULL AS flag`` reads as 0 or 1 there, so it does here."""

    def load(self, data: Any) -> int:
        return 1 if bytes(data) == b"t" else 0


class _Numeric(Loader):
    """``SUM`` over a ``bigint`` is ``numeric`` in PostgreSQL: an ``int`` when integral (as in SQLite), else a float."""

    def load(self, data: Any) -> int | float:
        text = bytes(data)
        if b"." in text or b"e" in text.lower() or b"n" in text.lower():
            return float(text)
        return int(text)


class _BoolDumper(Dumper):
    """A Python bool bound to a statement is 1 or 0, as sqlite3 binds it (the columns are integers)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


def configure(conn: psycopg.Connection[Any]) -> None:
    """Set up a new pooled connection: autocommit between transactions, our rows, SQLite's value types."""
    conn.autocommit = True
    conn.row_factory = row_factory  # type: ignore[assignment]
    conn.cursor_factory = psycopg.RawCursor  # type: ignore[assignment]
    conn.adapters.register_loader("bool", _BoolAsInt)
    conn.adapters.register_loader("numeric", _Numeric)
    conn.adapters.register_dumper(bool, _BoolDumper)


class Cursor:
    """What one statement gave: rows to fetch or iterate, ``rowcount``, ``lastrowid``."""

    def __init__(self, cur: psycopg.Cursor[Any], returning: bool) -> None:
        self._cur = cur
        self._returning = returning
        self._lastrowid: int | None = None
        self._read = False

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount

    @property
    def lastrowid(self) -> int | None:
        if self._returning and not self._read:
            row = self._cur.fetchone()
            self._lastrowid = int(row[0]) if row else None
            self._read = True
        return self._lastrowid

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur.description is not None else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur.description is not None else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Connection:
    """A psycopg connection with sqlite3's ``execute`` / ``executemany`` (see the module docstring)."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | Iterable[Any] = ()) -> Cursor:
        text, returning = translate(sql)
        cur = self.raw.cursor()
        with _integrity():
            cur.execute(text, tuple(params))  # type: ignore[arg-type]
        return Cursor(cur, returning)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        text, _ = translate(sql, returning=False)
        cur = self.raw.cursor()
        rows = [tuple(r) for r in rows]
        if rows:
            with _integrity():
                cur.executemany(text, rows)  # type: ignore[arg-type]
        return Cursor(cur, False)


@contextmanager
def _integrity() -> Iterator[None]:
    """Raise PostgreSQL's integrity errors as :class:`PgIntegrityError` (the table modules catch sqlite3's)."""
    try:
        yield
    except psycopg.errors.IntegrityError as exc:
        err = PgIntegrityError(str(exc).strip())
        err.sqlstate = exc.sqlstate
        raise err from exc
