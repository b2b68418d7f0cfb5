"""Email digests: the ``subscriptions`` and ``outbox`` tables (migration 8).

A subscription is one address (lowercased), an account's or anyone's. Its
status follows from its dates: ``pending`` while a confirmation is awaited
(``confirm_hash`` set, or never confirmed), ``unsubscribed``, ``suspended``
(three permanent delivery failures in a row), else ``active``; only active
subscriptions get digests. Only the sha256 of a confirmation token is kept
(the link is in one mail only); the unsubscribe token is kept as it is, since
every digest must carry it (see migration 8).

The outbox is the record of every mail and what became of it. Delivery
(:mod:`paperradar.mail.outbox`) claims one row at a time, pending → sending
in its own transaction, and records the server's answer in another: so at
any moment at most one row is ``sending``, and after a crash that row is the
only one whose fate is unknown. The unique index on (subscription, kind,
period) makes enqueueing a period's digest idempotent: the second insert is
a no-op, so a rerun never makes a second digest for the same period.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from .connection import SQLiteBase, utcnow

FREQUENCIES = ("daily", "weekly")
SUB_FIELDS = ("id", "email", "user", "frequency", "categories", "confirm_expires_at", "confirmed_at",
              "unsubscribe_token", "created_at", "unsubscribed_at", "suspended_at", "failures", "last_failure")


def _sub_columns(alias: str = "") -> str:
    """A subscription's columns (``awaiting``: whether a confirmation is awaited; never the hash itself)."""
    return ", ".join([f"{alias}{f}" for f in SUB_FIELDS] + [f"{alias}confirm_hash IS NOT NULL AS awaiting"])


SUB_COLUMNS = _sub_columns()
MAIL_COLUMNS = ("id, kind, subscription, user, period, recipient, message_id, priority, state, attempts,"
                " next_attempt_at, created_at, sent_at, reply")


def _key(email: str) -> str:
    return email.strip().lower()


def subscription_status(row: sqlite3.Row | dict[str, Any]) -> str:
    """``pending``, ``unsubscribed``, ``suspended`` or ``active`` (see the module docstring)."""
    if row["awaiting"] or row["confirmed_at"] is None:
        return "pending"
    if row["unsubscribed_at"] is not None:
        return "unsubscribed"
    if row["suspended_at"] is not None:
        return "suspended"
    return "active"


def _subscription(row: sqlite3.Row) -> dict[str, Any]:
    out = {k: row[k] for k in row.keys() if k != "awaiting"}  # noqa: SIM118 (iterating a Row gives values)
    out["categories"] = orjson.loads(row["categories"])
    out["status"] = subscription_status(row)
    return out


def _mail(row: sqlite3.Row) -> dict[str, Any]:
    return {k: row[k] for k in row.keys()}  # noqa: SIM118 (iterating a Row gives values)


# The rows a subscription's digests go to: confirmed, nothing awaited, neither unsubscribed nor suspended.
ACTIVE = ("s.confirmed_at IS NOT NULL AND s.confirm_hash IS NULL AND s.unsubscribed_at IS NULL"
          " AND s.suspended_at IS NULL")


class MailTables(SQLiteBase):
    """Digest subscriptions and the outbox."""

    # -- subscriptions ---------------------------------------------------------------

    def add_subscription(self, email: str, frequency: str, categories: list[str], user_id: int | None,
                         confirm_hash: str | None, confirm_expires_at: str | None, unsubscribe_token: str
                         ) -> tuple[dict[str, Any], str]:
        """Subscribe an address; returns (the subscription, what happened: ``created``, ``updated``
        or ``unchanged``).

        ``confirm_hash`` None: the caller vouches for the address (the site's owner on the command
        line, an account subscribing itself), so the subscription is active at once, with these
        settings, whatever it was before (unsubscribed and suspended ones too). With a hash (double
        opt-in, a form anyone can fill in): a new or inactive subscription takes the settings and
        awaits confirmation of that token; an active one is left ``unchanged`` (a stranger must not
        change it). ``unsubscribe_token`` is used for a new row only. ``user_id`` links the
        address to an account (kept when None)."""
        if frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
        email, cats, now = _key(email), orjson.dumps(list(categories)).decode(), utcnow()
        with self.write() as c:
            row = c.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE email = ?", (email,)).fetchone()
            if row is None:
                confirmed = now if confirm_hash is None else None
                cur = c.execute(
                    "INSERT INTO subscriptions (email, user, frequency, categories, confirm_hash, confirm_expires_at,"
                    " confirmed_at, unsubscribe_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (email, user_id, frequency, cats, confirm_hash, confirm_expires_at, confirmed,
                     unsubscribe_token, now))
                what, sid = "created", cur.lastrowid
            elif confirm_hash is None:
                c.execute(
                    "UPDATE subscriptions SET frequency = ?, categories = ?, user = COALESCE(?, user),"
                    " confirm_hash = NULL, confirm_expires_at = NULL, confirmed_at = COALESCE(confirmed_at, ?),"
                    " unsubscribed_at = NULL, suspended_at = NULL, failures = 0 WHERE id = ?",
                    (frequency, cats, user_id, now, row["id"]))
                what, sid = "updated", row["id"]
            elif subscription_status(row) == "active":
                what, sid = "unchanged", row["id"]
            else:
                c.execute(
                    "UPDATE subscriptions SET frequency = ?, categories = ?, user = COALESCE(?, user),"
                    " confirm_hash = ?, confirm_expires_at = ? WHERE id = ?",
                    (frequency, cats, user_id, confirm_hash, confirm_expires_at, row["id"]))
                what, sid = "updated", row["id"]
            got = c.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?", (sid,)).fetchone()
        return _subscription(got), what

    def confirm_subscription(self, confirm_hash: str) -> dict[str, Any] | None:
        """Confirm the subscription awaiting this token (given by its hash): active from now on (an
        unsubscribed or suspended one too: its owner just showed the address works and wants mail).
        None when no subscription awaits it or its link has expired."""
        now = utcnow()
        with self.write() as c:
            row = c.execute("SELECT id FROM subscriptions WHERE confirm_hash = ? AND (confirm_expires_at IS NULL"
                            " OR confirm_expires_at >= ?)", (confirm_hash, now)).fetchone()
            if row is None:
                return None
            c.execute("UPDATE subscriptions SET confirm_hash = NULL, confirm_expires_at = NULL, confirmed_at = ?,"
                      " unsubscribed_at = NULL, suspended_at = NULL, failures = 0 WHERE id = ?", (now, row["id"]))
            got = c.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?", (row["id"],)).fetchone()
        return _subscription(got)

    def subscription(self, email: str) -> dict[str, Any] | None:
        """The subscription of this address (any case), or None."""
        row = self.conn.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE email = ?", (_key(email),)).fetchone()
        return _subscription(row) if row else None

    def subscription_by_id(self, subscription_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        return _subscription(row) if row else None

    def subscription_by_token(self, unsubscribe_token: str) -> dict[str, Any] | None:
        """The subscription whose unsubscribe link carries this token, or None."""
        row = self.conn.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE unsubscribe_token = ?",
                                (unsubscribe_token,)).fetchone()
        return _subscription(row) if row else None

    def user_subscription(self, user_id: int) -> dict[str, Any] | None:
        """The subscription linked to this account, or None."""
        row = self.conn.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE user = ? ORDER BY id LIMIT 1",
                                (user_id,)).fetchone()
        return _subscription(row) if row else None

    def subscriptions(self, frequency: str | None = None) -> list[dict[str, Any]]:
        """Every subscription (of one frequency), oldest first, each with ``last_sent``: when its
        last digest was accepted by the server (None: never)."""
        where, args = ("WHERE s.frequency = ?", (frequency,)) if frequency else ("", ())
        rows = self.conn.execute(
            f"SELECT {_sub_columns('s.')}, (SELECT MAX(o.sent_at) FROM outbox o WHERE o.subscription = s.id AND o.kind = 'digest'"
            f" AND o.state = 'sent') AS last_sent FROM subscriptions s {where} ORDER BY s.id", args)
        return [_subscription(r) for r in rows]

    def set_subscription(self, subscription_id: int, frequency: str | None = None,
                         categories: list[str] | None = None) -> dict[str, Any] | None:
        """Change a subscription's frequency and/or categories (None: kept); None if no such one."""
        if frequency is not None and frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {', '.join(FREQUENCIES)}, not {frequency!r}")
        cats = None if categories is None else orjson.dumps(list(categories)).decode()
        with self.write() as c:
            c.execute("UPDATE subscriptions SET frequency = COALESCE(?, frequency), categories = COALESCE(?, categories)"
                      " WHERE id = ?", (frequency, cats, subscription_id))
            row = c.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        return _subscription(row) if row else None

    def unsubscribe(self, subscription_id: int) -> dict[str, Any] | None:
        """End a subscription (idempotent: the first date is kept); its digests not yet sent are
        cancelled in the same transaction, so nothing more is mailed after this returns. A
        confirmation still awaited is withdrawn. None if no such subscription."""
        with self.write() as c:
            c.execute("UPDATE subscriptions SET unsubscribed_at = COALESCE(unsubscribed_at, ?), confirm_hash = NULL,"
                      " confirm_expires_at = NULL WHERE id = ?", (utcnow(), subscription_id))
            c.execute("UPDATE outbox SET state = 'failed', message = NULL, reply = 'cancelled: unsubscribed'"
                      " WHERE subscription = ? AND kind = 'digest' AND state = 'pending'", (subscription_id,))
            row = c.execute(f"SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        return _subscription(row) if row else None

    def due_subscriptions(self, frequency: str, kind: str, period: str) -> list[dict[str, Any]]:
        """Active subscriptions of ``frequency`` with no ``kind`` mail for ``period`` in the outbox yet
        (whatever its state: one made is never made again), oldest first."""
        rows = self.conn.execute(
            f"SELECT {_sub_columns('s.')} FROM subscriptions s"
            f" WHERE s.frequency = ? AND {ACTIVE} AND NOT EXISTS (SELECT 1 FROM outbox o"
            " WHERE o.subscription = s.id AND o.kind = ? AND o.period = ?) ORDER BY s.id", (frequency, kind, period))
        return [_subscription(r) for r in rows]

    # -- the outbox --------------------------------------------------------------------

    def enqueue_mail(self, kind: str, recipient: str, message_id: str, message: bytes, at: float,
                     subscription_id: int | None = None, user_id: int | None = None, period: str | None = None,
                     priority: int = 0) -> int | None:
        """Put a mail in the outbox, due at ``at`` (Unix seconds); its id, or None when the
        subscription already has its ``kind`` mail for ``period`` (nothing is changed then)."""
        with self.write() as c:
            cur = c.execute(
                "INSERT INTO outbox (kind, subscription, user, period, recipient, message_id, message, priority,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (subscription, kind, period) WHERE subscription IS NOT NULL AND period IS NOT NULL"
                " DO NOTHING",
                (kind, subscription_id, user_id, period, _key(recipient), message_id, message, priority, at, utcnow()))
            return cur.lastrowid if cur.rowcount > 0 else None

    def claim_mail(self, now: float) -> dict[str, Any] | None:
        """Take the next mail due (account mails before digests, then oldest first): pending → sending,
        its attempts counted, in one transaction; the row with its ``message`` bytes, or None when
        nothing is due. A digest whose subscription is no longer active is cancelled on the way."""
        with self.write() as c:
            while True:
                row = c.execute(
                    "SELECT o.id, o.kind, o.subscription FROM outbox o WHERE o.state = 'pending'"
                    " AND o.next_attempt_at <= ? ORDER BY o.priority DESC, o.next_attempt_at, o.id LIMIT 1",
                    (now,)).fetchone()
                if row is None:
                    return None
                if row["kind"] == "digest" and row["subscription"] is not None and c.execute(
                        f"SELECT 1 FROM subscriptions s WHERE s.id = ? AND {ACTIVE}", (row["subscription"],)
                ).fetchone() is None:
                    c.execute("UPDATE outbox SET state = 'failed', message = NULL, reply = 'cancelled: the"
                              " subscription is no longer active' WHERE id = ?", (row["id"],))
                    continue
                c.execute("UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?", (row["id"],))
                got = c.execute(f"SELECT {MAIL_COLUMNS}, message FROM outbox WHERE id = ?", (row["id"],)).fetchone()
                return _mail(got)

    def mail_sent(self, mail_id: int, reply: str) -> None:
        """The server accepted the mail (``reply``: its 250 line): sent, the message dropped, and
        the address's count of permanent failures back to 0."""
        with self.write() as c:
            c.execute("UPDATE outbox SET state = 'sent', sent_at = ?, reply = ?, message = NULL WHERE id = ?",
                      (utcnow(), reply, mail_id))
            c.execute("UPDATE subscriptions SET failures = 0 WHERE failures > 0 AND email ="
                      " (SELECT recipient FROM outbox WHERE id = ?)", (mail_id,))

    def mail_retry(self, mail_id: int, error: str, at: float, counted: bool = True) -> None:
        """A temporary failure: pending again, due at ``at`` (Unix seconds). ``counted`` False: the
        claim's attempt is given back (the mail never reached a server that could take it)."""
        with self.write() as c:
            c.execute("UPDATE outbox SET state = 'pending', next_attempt_at = ?, reply = ?,"
                      " attempts = attempts - CASE WHEN attempts > 0 THEN ? ELSE 0 END WHERE id = ?",
                      (at, error, 0 if counted else 1, mail_id))

    def mail_failed(self, mail_id: int, error: str, permanent: bool, suspend_after: int) -> bool:
        """The mail will not be sent: failed, its message dropped. A ``permanent`` failure (the
        server's 5xx for this address) is counted against the address's subscription, which is
        suspended at ``suspend_after`` failures in a row; True when this suspended it."""
        now = utcnow()
        with self.write() as c:
            c.execute("UPDATE outbox SET state = 'failed', reply = ?, message = NULL WHERE id = ?", (error, mail_id))
            if not permanent:
                return False
            row = c.execute("SELECT recipient FROM outbox WHERE id = ?", (mail_id,)).fetchone()
            if row is None:
                return False
            c.execute("UPDATE subscriptions SET failures = failures + 1, last_failure = ? WHERE email = ?",
                      (f"{now} {error}"[:500], row["recipient"]))
            cur = c.execute("UPDATE subscriptions SET suspended_at = ? WHERE email = ? AND suspended_at IS NULL"
                            " AND failures >= ?", (now, row["recipient"], suspend_after))
            if cur.rowcount:  # nothing more goes to a suspended address
                c.execute("UPDATE outbox SET state = 'failed', message = NULL, reply = 'cancelled: address"
                          " suspended' WHERE recipient = ? AND kind = 'digest' AND state = 'pending'",
                          (row["recipient"],))
            return cur.rowcount > 0

    def recover_mail(self) -> list[dict[str, Any]]:
        """Mails left ``sending`` by a delivery that stopped before it recorded the server's answer
        (only to be called by the one delivery running, see :mod:`paperradar.mail.outbox`): pending
        again, due now. Returns them as they were."""
        with self.write() as c:
            rows = [_mail(r) for r in c.execute(f"SELECT {MAIL_COLUMNS} FROM outbox WHERE state = 'sending'")]
            c.execute("UPDATE outbox SET state = 'pending', next_attempt_at = 0 WHERE state = 'sending'")
        return rows

    def next_mail_at(self) -> float | None:
        """When the earliest pending mail is due (Unix seconds), or None when none is pending."""
        row = self.conn.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    def mail_counts(self, kind: str | None = None, period: str | None = None) -> dict[str, int]:
        """How many mails are in each state (of one kind, of one period)."""
        where, args = [], []
        for col, value in (("kind", kind), ("period", period)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        sql = "SELECT state, COUNT(*) FROM outbox" + (" WHERE " + " AND ".join(where) if where else "") + " GROUP BY state"
        counts = {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
        counts.update({r[0]: int(r[1]) for r in self.conn.execute(sql, args)})
        return counts

    def mails(self, subscription_id: int | None = None, kind: str | None = None, period: str | None = None
              ) -> list[dict[str, Any]]:
        """Outbox rows (without their message), oldest first, of a subscription, kind and period."""
        where, args = [], []
        for col, value in (("subscription", subscription_id), ("kind", kind), ("period", period)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        sql = f"SELECT {MAIL_COLUMNS} FROM outbox" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        return [_mail(r) for r in self.conn.execute(sql, args)]
