"""Web sign-in: the ``sessions``, ``login_failures`` and ``invites`` tables.

As with API tokens, only a hash of each secret is stored (the sha256 hex
digest, made by :mod:`paperradar.accounts`): a stolen database gives no
session cookie and no invite link. A session row also holds the session's
CSRF token (not a credential on its own: it is only accepted together with
the session cookie). Failed sign-ins are kept as (key, time) rows so that
throttling holds across restarts and across the processes of one site.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from .base import User
from .connection import SQLiteBase, utcnow
from .users import USER_COLUMNS, _user


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SessionTables(SQLiteBase):
    """Sessions, sign-in failures and invitations."""

    # -- users by id ---------------------------------------------------------

    def get_user_by_id(self, user_id: int) -> User | None:
        """The account with this id, or None."""
        row = self.conn.execute(f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def set_user_name(self, user_id: int, name: str | None) -> bool:
        """Change the name shown for a user; False if no such user."""
        with self.write() as c:
            cur = c.execute("UPDATE users SET name = ? WHERE id = ?", (name, user_id))
        return cur.rowcount > 0

    def user_api_tokens(self, user_id: int) -> list[dict[str, Any]]:
        """The user's API tokens (never their hashes), newest first: id, label, dates."""
        return [dict(r) for r in self.conn.execute(
            "SELECT id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE user = ? ORDER BY id DESC",
            (user_id,))]

    # -- sessions --------------------------------------------------------------

    def add_session(self, user_id: int, token_hash: str, csrf: str, lifetime: timedelta) -> int:
        """Store a new session for the user (its token given by its hash); returns its id."""
        now = datetime.now(UTC)
        with self.write() as c:
            cur = c.execute(
                "INSERT INTO sessions (user, token_hash, csrf, created_at, expires_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?)", (user_id, token_hash, csrf, _at(now), _at(now + lifetime), _at(now)))
            c.execute("DELETE FROM sessions WHERE expires_at < ?", (_at(now),))  # the expired go on each sign-in
        assert cur.lastrowid is not None
        return cur.lastrowid

    def session(self, token_hash: str) -> tuple[int, str, User] | None:
        """(session id, CSRF token, user) of a live session: not expired, its user enabled; else None."""
        row = self.conn.execute(
            f"SELECT s.id AS session_id, s.csrf, {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled_at IS NULL",
            (token_hash, utcnow())).fetchone()
        if row is None:
            return None
        return int(row["session_id"]), str(row["csrf"]), _user(row)

    def end_session(self, session_id: int) -> None:
        """Sign one session out."""
        with self.write() as c:
            c.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def end_sessions(self, user_id: int, keep: int | None = None) -> int:
        """Sign the user out everywhere (but the session ``keep``); returns how many sessions ended."""
        with self.write() as c:
            cur = c.execute("DELETE FROM sessions WHERE user = ? AND id IS NOT ?", (user_id, keep))
        return cur.rowcount

    def session_count(self, user_id: int) -> int:
        """How many live sessions the user has (the settings page shows it)."""
        return int(self.conn.execute("SELECT COUNT(*) FROM sessions WHERE user = ? AND expires_at > ?",
                                     (user_id, utcnow())).fetchone()[0])

    # -- sign-in failures --------------------------------------------------------

    def add_login_failure(self, keys: list[str], at: float) -> None:
        """Record a failed sign-in under each key (the account, the client address)."""
        with self.write() as c:
            c.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, at) for k in keys])
            c.execute("DELETE FROM login_failures WHERE at < ?", (at - 86_400,))  # a day is more than any window

    def login_failures(self, key: str, since: float) -> list[float]:
        """When sign-in failed under ``key`` since ``since`` (seconds since the epoch), oldest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT at FROM login_failures WHERE key = ? AND at >= ? ORDER BY at", (key, since))]

    def clear_login_failures(self, key: str) -> None:
        """Forget an account's failures (it signed in)."""
        with self.write() as c:
            c.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    # -- invitations -------------------------------------------------------------

    def add_invite(self, token_hash: str, created_by: int | None, lifetime: timedelta) -> int:
        """Store a new invitation (its link's token given by its hash); returns its id."""
        now = datetime.now(UTC)
        with self.write() as c:
            cur = c.execute("INSERT INTO invites (token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)",
                            (token_hash, created_by, _at(now), _at(now + lifetime)))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def invite_open(self, token_hash: str) -> bool:
        """Whether an invitation exists, is unused and has not expired."""
        return self.conn.execute("SELECT 1 FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                                 (token_hash, utcnow())).fetchone() is not None

    def add_invited_user(self, token_hash: str, email: str, name: str | None, password_hash: str) -> User | None:
        """Create the account an invitation is used for and mark the invitation used, in one
        transaction; None when the invitation is unknown, used or expired. Raises
        :class:`~paperradar.store.base.DuplicateUser` when the email is taken (the invite stays open)."""
        from .users import _key
        from .base import DuplicateUser

        with self.write() as c:
            row = c.execute("SELECT id FROM invites WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                            (token_hash, utcnow())).fetchone()
            if row is None:
                return None
            try:
                cur = c.execute("INSERT INTO users (email, name, password_hash, is_admin, created_at)"
                                " VALUES (?, ?, ?, 0, ?)", (_key(email), name, password_hash, utcnow()))
            except sqlite3.IntegrityError as exc:
                raise DuplicateUser(_key(email)) from exc
            c.execute("UPDATE invites SET used_at = ?, used_by = ? WHERE id = ?", (utcnow(), cur.lastrowid, row[0]))
        return self.get_user(email)  # type: ignore[attr-defined, no-any-return]
