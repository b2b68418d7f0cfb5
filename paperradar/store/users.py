"""Accounts: the ``users`` and ``api_tokens`` tables.

Only hashes are stored: a user's password as an argon2id hash (made and
checked in :mod:`paperradar.accounts`, never here), a personal API token as
the sha256 hex digest of the token (a long random secret, so a fast hash is
enough; see migration 6). Emails are trimmed and lowercased on the way in and
in every lookup. A database without any user works as before accounts
existed: :meth:`UserTables.has_users` is what turns sign-in on.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from .base import DuplicateUser, User
from .connection import SQLiteBase, utcnow
from .library import library_export

USER_COLUMNS = "u.id, u.email, u.name, u.is_admin, u.disabled_at, u.created_at, u.password_hash IS NOT NULL AS has_password"


def _key(email: str) -> str:
    """How an email is stored and looked up."""
    return email.strip().lower()


def _user(row: sqlite3.Row) -> User:
    return User(id=row["id"], email=row["email"], name=row["name"], is_admin=bool(row["is_admin"]),
                disabled=row["disabled_at"] is not None, created_at=row["created_at"],
                has_password=bool(row["has_password"]))


class UserTables(SQLiteBase):
    """The ``users`` and ``api_tokens`` tables."""

    def add_user(self, email: str, name: str | None = None, password_hash: str | None = None,
                 is_admin: bool = False) -> User:
        """Add an account (``email`` already checked by :func:`paperradar.accounts.normalize_email`);
        ``password_hash`` None: no password yet. Raises :class:`DuplicateUser` if the email is taken."""
        try:
            with self.write() as c:
                c.execute("INSERT INTO users (email, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
                          (_key(email), name, password_hash, int(is_admin), utcnow()))
        except sqlite3.IntegrityError as exc:
            raise DuplicateUser(_key(email)) from exc
        user = self.get_user(email)
        assert user is not None
        return user

    def get_user(self, email: str) -> User | None:
        """The account with this email (any case, surrounding spaces ignored), or None."""
        row = self.conn.execute(f"SELECT {USER_COLUMNS} FROM users u WHERE u.email = ?", (_key(email),)).fetchone()
        return _user(row) if row else None

    def list_users(self) -> list[User]:
        """Every account, oldest first."""
        return [_user(r) for r in self.conn.execute(f"SELECT {USER_COLUMNS} FROM users u ORDER BY u.id")]

    def has_users(self) -> bool:
        """Whether any account exists: sign-in is on once one does (disabled ones count too)."""
        return self.conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def password_hash(self, email: str) -> str | None:
        """The stored argon2 hash of the user's password; None for an unknown user or one without a password."""
        row = self.conn.execute("SELECT password_hash FROM users WHERE email = ?", (_key(email),)).fetchone()
        return row[0] if row else None

    def set_password_hash(self, email: str, password_hash: str) -> bool:
        """Replace the user's password hash (a new password, or the same one rehashed); False if no such user."""
        with self.write() as c:
            cur = c.execute("UPDATE users SET password_hash = ? WHERE email = ?", (password_hash, _key(email)))
        return cur.rowcount > 0

    def disable_user(self, email: str) -> bool:
        """Mark the account disabled (kept, with its data; its tokens stop working); False if no such user.
        Disabling a disabled account keeps the first date."""
        with self.write() as c:
            cur = c.execute("UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE email = ?",
                            (utcnow(), _key(email)))
        return cur.rowcount > 0

    def delete_user(self, email: str) -> bool:
        """Delete the account and its tokens (ON DELETE CASCADE); False if no such user."""
        with self.write() as c:
            cur = c.execute("DELETE FROM users WHERE email = ?", (_key(email),))
        return cur.rowcount > 0

    def user_data(self, email: str) -> dict[str, Any] | None:
        """Everything stored about a user, for the export ``users delete`` writes first: the account
        (no password hash), its tokens (no hashes), the papers it featured (source ``local``,
        ``submitted_by`` its id) and voted for (``votes``: paper and date), its comments, follows,
        private feeds (no hashes) and library. None if no such user."""
        user = self.get_user(email)
        if user is None:
            return None
        tokens = [dict(r) for r in self.conn.execute(
            "SELECT id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE user = ? ORDER BY id",
            (user.id,))]
        featured = [dict(r) for r in self.conn.execute(
            "SELECT p.id AS paper, f.day, f.submitted_at, f.first_seen FROM featured f JOIN papers p ON p.rowid = f.paper "
            "WHERE f.source = 'local' AND f.submitted_by = ? ORDER BY f.day, p.id", (str(user.id),))]
        votes = [dict(r) for r in self.conn.execute(
            "SELECT p.id AS paper, v.created_at FROM votes v JOIN papers p ON p.rowid = v.paper "
            "WHERE v.user = ? ORDER BY v.created_at, p.id", (user.id,))]
        follows = [dict(r) | {"filters": orjson.loads(r["filters"])} for r in self.conn.execute(
            "SELECT id, kind, value, filters, created_at FROM follows WHERE user = ? ORDER BY id", (user.id,))]
        feeds = [dict(r) for r in self.conn.execute(  # private feeds, without their hashes
            "SELECT id, scope, created_at, revoked_at FROM feed_tokens WHERE user = ? ORDER BY id", (user.id,))]
        comments = [dict(r) for r in self.conn.execute(  # as written (Markdown)
            "SELECT c.id, p.id AS paper, c.body, c.created_at, c.edited_at FROM comments c "
            "JOIN papers p ON p.rowid = c.paper WHERE c.user = ? ORDER BY c.id", (user.id,))]
        return {"user": user.as_dict(), "api_tokens": tokens, "featured": featured, "votes": votes, "comments": comments,
                "follows": follows, "private_feeds": feeds, "library": library_export(self.conn, user.id)}

    def add_api_token(self, email: str, token_hash: str, label: str | None = None) -> int:
        """Store a new personal API token's hash for the user; returns the token's id.
        Raises ``KeyError`` if no such user."""
        user = self.get_user(email)
        if user is None:
            raise KeyError(email)
        with self.write() as c:
            cur = c.execute("INSERT INTO api_tokens (user, token_hash, label, created_at) VALUES (?, ?, ?, ?)",
                            (user.id, token_hash, label, utcnow()))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def user_for_token(self, token_hash: str) -> User | None:
        """The user a token (given by its hash) belongs to, recording its use; None for an unknown or
        revoked token, or a disabled user. A read-only store answers without recording the use."""
        row = self.conn.execute(
            f"SELECT t.id AS token_id, {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user "
            "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND u.disabled_at IS NULL", (token_hash,)).fetchone()
        if row is None:
            return None
        if not self.read_only:
            with self.write() as c:
                c.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (utcnow(), row["token_id"]))
        return _user(row)

    def revoke_api_token(self, token_id: int) -> bool:
        """Revoke a token (kept, dated, for the user's export); False if there is no such token."""
        with self.write() as c:
            cur = c.execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                            (utcnow(), token_id))
        return cur.rowcount > 0
