"""Follows and private feed tokens: the ``follows`` and ``feed_tokens`` tables, and ``users.following_seen_at``.

A follow is (kind, value, filters): an author's name, a category, or a saved
search (its query as ``value`` and its filters). The filters are stored as
canonical JSON (keys sorted, empty values left out), so that the table's
UNIQUE (user, kind, value, filters) makes following the same search twice a
no-op however the filters were written. What the values may be is checked
by the web layer (the search page's own checks); the store only keeps them.

A private feed's secret travels in its URL; like an API token only its
sha256 is stored (made by :func:`paperradar.accounts.hash_secret`), so the
URL is shown once, when it is made. A revoked feed token is kept, dated, for
the user's own list and export; it stops working at once. Every method that
reads or changes one user's rows takes that user's id and never touches
another's: a follow or feed id of someone else is "not found".
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from .base import StoredPaper
from .connection import IN_CATEGORY, SELECT, SQLiteBase, decode, utcnow

FOLLOW_KINDS = ("author", "category", "search")


def filters_key(filters: dict[str, Any] | None) -> str:
    """How a follow's filters are stored: JSON with sorted keys, values as strings, empty ones left out."""
    kept = {k: str(v) for k, v in (filters or {}).items() if v not in (None, "")}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()


def _follow(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "kind": row["kind"], "value": row["value"], "filters": orjson.loads(row["filters"]),
            "created_at": row["created_at"]}


FOLLOW_COLUMNS = "id, kind, value, filters, created_at"
FEED_COLUMNS = "id, scope, created_at, revoked_at"


class FollowTables(SQLiteBase):
    """Follows and private feed tokens."""

    # -- follows -------------------------------------------------------------------

    def add_follow(self, user_id: int, kind: str, value: str, filters: dict[str, Any] | None = None
                   ) -> tuple[dict[str, Any], bool]:
        """Follow an author, category or search; (the follow, True) when it is new, (the existing
        one, False) when the user already followed exactly this."""
        if kind not in FOLLOW_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FOLLOW_KINDS)}, not {kind!r}")
        key = filters_key(filters)
        with self.write() as c:
            cur = c.execute("INSERT INTO follows (user, kind, value, filters, created_at) VALUES (?, ?, ?, ?, ?)"
                            " ON CONFLICT (user, kind, value, filters) DO NOTHING",
                            (user_id, kind, value, key, utcnow()))
            created = cur.rowcount > 0
            row = c.execute(f"SELECT {FOLLOW_COLUMNS} FROM follows WHERE user = ? AND kind = ? AND value = ?"
                            " AND filters = ?", (user_id, kind, value, key)).fetchone()
        return _follow(row), created

    def follows(self, user_id: int) -> list[dict[str, Any]]:
        """The user's follows (id, kind, value, filters, created_at), by kind then oldest first."""
        return [_follow(r) for r in self.conn.execute(
            f"SELECT {FOLLOW_COLUMNS} FROM follows WHERE user = ? ORDER BY kind, id", (user_id,))]

    def follow_count(self, user_id: int) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM follows WHERE user = ?", (user_id,)).fetchone()[0])

    def find_follow(self, user_id: int, kind: str, value: str, filters: dict[str, Any] | None = None) -> int | None:
        """The id of the user's follow of exactly this (filters compared in their stored form; a
        category's name in any case, as categories are compared everywhere), or None."""
        same = "lower(value) = lower(?)" if kind == "category" else "value = ?"  # ASCII case, as COLLATE NOCASE
        row = self.conn.execute(f"SELECT id FROM follows WHERE user = ? AND kind = ? AND {same} AND filters = ?",
                                (user_id, kind, value, filters_key(filters))).fetchone()
        return int(row[0]) if row else None

    def remove_follow(self, user_id: int, follow_id: int) -> dict[str, Any] | None:
        """Stop following: the follow removed, or None when the user has no follow with this id."""
        with self.write() as c:
            row = c.execute(f"SELECT {FOLLOW_COLUMNS} FROM follows WHERE id = ? AND user = ?",
                            (follow_id, user_id)).fetchone()
            if row is None:
                return None
            c.execute("DELETE FROM follows WHERE id = ? AND user = ?", (follow_id, user_id))
        return _follow(row)

    def following_seen_at(self, user_id: int) -> str | None:
        """When the user last marked /following as seen (YYYY-MM-DDTHH:MM:SSZ), or None (never)."""
        row = self.conn.execute("SELECT following_seen_at FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def set_following_seen_at(self, user_id: int, at: str, only_forward: bool = True) -> str | None:
        """Record that the user has seen /following up to ``at``; with ``only_forward`` an earlier time
        than the one stored is ignored (two tabs marking in turn never bring old papers back).
        Returns the time now stored (None: no such user)."""
        with self.write() as c:
            if only_forward:
                c.execute("UPDATE users SET following_seen_at = ? WHERE id = ?"
                          " AND (following_seen_at IS NULL OR following_seen_at < ?)", (at, user_id, at))
            else:
                c.execute("UPDATE users SET following_seen_at = ? WHERE id = ?", (at, user_id))
            row = c.execute("SELECT following_seen_at FROM users WHERE id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def new_in_category(self, category: str, listed_since: str, arrived_after: str, limit: int = 200
                        ) -> list[StoredPaper]:
        """Papers in ``category`` (any position, case-insensitive) first listed on or after
        ``listed_since`` (a day) and stored after ``arrived_after`` (a time), newest first."""
        return [decode(r) for r in self.conn.execute(
            f"{SELECT} WHERE {IN_CATEGORY} AND p.published >= ? AND p.created_at > ?"
            " ORDER BY p.published DESC, p.id DESC LIMIT ?", (category, listed_since, arrived_after, limit))]

    # -- private feed tokens -----------------------------------------------------------

    def add_feed_token(self, user_id: int, token_hash: str, scope: str) -> dict[str, Any]:
        """Store a new private feed's token (given by its hash) for ``scope`` (``following`` or
        ``collection:NAME``); returns its row (id, scope, created_at, revoked_at)."""
        with self.write() as c:
            cur = c.execute("INSERT INTO feed_tokens (user, token_hash, scope, created_at) VALUES (?, ?, ?, ?)",
                            (user_id, token_hash, scope, utcnow()))
            row = c.execute(f"SELECT {FEED_COLUMNS} FROM feed_tokens WHERE id = ?", (cur.lastrowid,)).fetchone()
        return dict(row)

    def feed_tokens(self, user_id: int) -> list[dict[str, Any]]:
        """The user's private feeds (never their hashes), newest first: id, scope, created_at, revoked_at."""
        return [dict(r) for r in self.conn.execute(
            f"SELECT {FEED_COLUMNS} FROM feed_tokens WHERE user = ? ORDER BY id DESC", (user_id,))]

    def live_feed_tokens(self, user_id: int) -> int:
        """How many of the user's private feeds are not revoked."""
        return int(self.conn.execute("SELECT COUNT(*) FROM feed_tokens WHERE user = ? AND revoked_at IS NULL",
                                     (user_id,)).fetchone()[0])

    def feed_token(self, token_hash: str) -> tuple[int, int, str] | None:
        """(token id, user id, scope) of a live private feed token: not revoked, its user enabled; else None."""
        row = self.conn.execute(
            "SELECT t.id, t.user, t.scope FROM feed_tokens t JOIN users u ON u.id = t.user"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled_at IS NULL", (token_hash,)).fetchone()
        return (int(row[0]), int(row[1]), str(row[2])) if row else None

    def revoke_feed_token(self, user_id: int, token_id: int) -> dict[str, Any] | None:
        """Revoke one of the user's private feeds (at once; kept, dated); its row, or None when the
        user has no feed with this id. Revoking a revoked feed keeps the first date."""
        with self.write() as c:
            cur = c.execute("UPDATE feed_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND user = ?",
                            (utcnow(), token_id, user_id))
            if cur.rowcount == 0:
                return None
            row = c.execute(f"SELECT {FEED_COLUMNS} FROM feed_tokens WHERE id = ?", (token_id,)).fetchone()
        return dict(row)
