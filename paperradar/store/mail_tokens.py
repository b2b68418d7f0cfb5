"""Single-use links mailed for accounts: the ``mail_tokens`` table (migration 8).

A sign-in link, a password reset link, or the confirmation of an ``open``
registration (see :mod:`paperradar.mail.messages`). As with sessions and
invitations only the sha256 of the link's token is stored: the mail is the
only place the token exists. A token works once (:meth:`use_mail_token`
marks it used in the same statement that finds it, so two requests racing
with one link cannot both succeed) and until it expires. A registration's
token carries what the account will be made of (``payload``: the name and
the password's argon2 hash): the account exists only once its address is
confirmed. Expired and used rows are deleted a day after they were made, when new
ones are added.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from .connection import SQLiteBase

PURPOSES = ("signin", "reset", "register")
KEPT = timedelta(days=1)  # used and expired rows are deleted after this
_COLUMNS = "id, purpose, email, user, payload, created_at, expires_at, used_at"


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _token(row: Any) -> dict[str, Any]:
    out = dict(zip(row.keys(), row, strict=True))
    out["payload"] = orjson.loads(row["payload"])
    return out


class MailTokenTables(SQLiteBase):
    """Sign-in, password-reset and registration links (their tokens' hashes)."""

    def add_mail_token(self, purpose: str, token_hash: str, email: str, user_id: int | None,
                       lifetime: timedelta, payload: dict[str, Any] | None = None) -> int:
        """Store a new link's token (given by its hash) for ``email`` (and its account, if any),
        valid for ``lifetime``; returns its id."""
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
        now = datetime.now(UTC)
        with self.write() as c:
            c.execute("DELETE FROM mail_tokens WHERE (expires_at < ? OR used_at IS NOT NULL) AND created_at < ?",
                      (_at(now), _at(now - KEPT)))  # kept a while: they count towards the hourly limit
            cur = c.execute(
                "INSERT INTO mail_tokens (token_hash, purpose, email, user, payload, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_hash, purpose, email.strip().lower(), user_id, orjson.dumps(payload or {}).decode(),
                 _at(now), _at(now + lifetime)))
        assert cur.lastrowid is not None
        return cur.lastrowid

    def mail_token(self, purpose: str, token_hash: str) -> dict[str, Any] | None:
        """The live (unused, unexpired) token of this purpose, without using it (a page that shows
        the link's button: a GET changes nothing); None otherwise."""
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM mail_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL"
            " AND expires_at > ?", (token_hash, purpose, _at(datetime.now(UTC)))).fetchone()
        return _token(row) if row else None

    def use_mail_token(self, purpose: str, token_hash: str) -> dict[str, Any] | None:
        """Use the token once: marks it used and returns it, or None when it is unknown, used,
        expired or for another purpose. The other live links of the same purpose for the same
        address stop working too (a reset made with one link leaves no other reset link open)."""
        now = _at(datetime.now(UTC))
        with self.write() as c:
            cur = c.execute("UPDATE mail_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ?"
                            " AND used_at IS NULL AND expires_at > ?", (now, token_hash, purpose, now))
            if cur.rowcount != 1:
                return None
            row = c.execute(f"SELECT {_COLUMNS} FROM mail_tokens WHERE token_hash = ?", (token_hash,)).fetchone()
            c.execute("UPDATE mail_tokens SET used_at = ? WHERE email = ? AND purpose = ? AND used_at IS NULL",
                      (now, row["email"], purpose))
        return _token(row)

    def mail_tokens_since(self, email: str, since: str) -> int:
        """How many links were made for this address since ``since`` (``YYYY-MM-DDTHH:MM:SSZ``),
        whatever their purpose: the per-address limit on mails a stranger can have sent."""
        return int(self.conn.execute("SELECT COUNT(*) FROM mail_tokens WHERE email = ? AND created_at >= ?",
                                     (email.strip().lower(), since)).fetchone()[0])
