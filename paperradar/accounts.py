"""Accounts without a surface: password hashing, personal API tokens, email checks.

Shared by the CLI (``paperradar users``) and, later, the web app's sign-in,
so both hash, check and name things the same way. Nothing here touches SQL:
it works through the :class:`~paperradar.store.Store` protocol.

- Passwords are hashed with argon2id (``argon2-cffi``'s :class:`PasswordHasher`,
  whose default type is argon2id; the parameters and salt travel inside the
  hash). :func:`check_password` verifies in constant time and, when the stored
  hash was made with other parameters than the current hasher's, stores a new
  hash of the password it just verified (``needs_rehash``), so raising the
  parameters upgrades every account as its owner signs in.
- A personal API token is ``prt_`` followed by 32 random bytes
  (:func:`secrets.token_urlsafe`): recognisable in a config file or a leak
  scanner, and shown once. Only its sha256 hex digest is stored: with 256 bits
  of randomness a fast hash cannot be reversed by guessing, and it keeps each
  request's lookup to one indexed read.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .store import Store, User

TOKEN_PREFIX = "prt_"
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a cap keeps a pasted file from being hashed
MAX_EMAIL = 254  # RFC 5321's limit on a forward path

_HASHER = PasswordHasher()  # argon2id, argon2-cffi's recommended parameters (RFC 9106, low memory)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class AccountError(ValueError):
    """A value given for an account is not acceptable; ``str()`` names the field and the problem."""


def normalize_email(text: str) -> str:
    """The email as stored (trimmed, lowercased), or :class:`AccountError` saying what is wrong with it."""
    email = text.strip().lower()
    if not email:
        raise AccountError("email: empty")
    if len(email) > MAX_EMAIL:
        raise AccountError(f"email: longer than {MAX_EMAIL} characters")
    if any(ch.isspace() for ch in email):
        raise AccountError(f"email: contains a space: {text.strip()!r}")
    if email.count("@") != 1:
        raise AccountError(f"email: needs exactly one @: {email!r}")
    local, domain = email.split("@")
    if not local or not domain:
        raise AccountError(f"email: needs a name before and a domain after the @: {email!r}")
    if "." not in domain.strip(".") or not _EMAIL.fullmatch(email):
        raise AccountError(f"email: the domain needs a dot (like example.org): {email!r}")
    return email


def check_new_password(password: str) -> str:
    """The password if it is acceptable for a new one, else :class:`AccountError` naming the problem."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: too short ({len(password)} characters; at least {MIN_PASSWORD})")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"password: too long (at most {MAX_PASSWORD} characters)")
    return password


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash of ``password`` (a new random salt each time)."""
    return (hasher or _HASHER).hash(password)


def verify_password(stored: str | None, password: str, hasher: PasswordHasher | None = None
                    ) -> tuple[bool, str | None]:
    """Whether ``password`` matches the ``stored`` hash, and a new hash to store when the match
    was made with other parameters than ``hasher``'s (None otherwise). A missing or damaged
    hash never matches; the time taken does not depend on how much of the password matched."""
    hasher = hasher or _HASHER
    if not stored:
        hasher.hash(password)  # as slow as a real check: no timing tells "no password" from "wrong"
        return False, None
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, hasher.hash(password) if hasher.check_needs_rehash(stored) else None


def check_password(store: Store, email: str, password: str, hasher: PasswordHasher | None = None) -> User | None:
    """The enabled user whose email and password these are, else None; rehashes and stores the
    password when its hash was made with other parameters than the current ones."""
    user = store.get_user(email)
    ok, new_hash = verify_password(store.password_hash(email) if user else None, password, hasher)
    if not ok or user is None or user.disabled:
        return None
    if new_hash is not None and not store.read_only:
        store.set_password_hash(email, new_hash)
    return user


def new_token() -> str:
    """A new personal API token: ``prt_`` and 43 URL-safe characters (256 random bits)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored of a token: its sha256 hex digest (see the module docstring for why not argon2)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def user_for_token(store: Store, token: str) -> User | None:
    """The user a personal API token belongs to (not revoked, user not disabled), else None."""
    if not token.strip().startswith(TOKEN_PREFIX):
        return None
    return store.user_for_token(hash_token(token))


# -- web sign-in: sessions, throttling, invitations ------------------------------------------

SESSION_LIFETIME = timedelta(days=30)
INVITE_LIFETIME = timedelta(days=7)
INVITE_PREFIX = "inv_"
THROTTLE_FAILURES = 10  # failed sign-ins per account, and per client address, ...
THROTTLE_WINDOW = 15 * 60  # ... in this many seconds; then 429 until the oldest leaves the window


def hash_secret(secret: str) -> str:
    """What is stored of a session cookie, invite link or feed token: like an API token, its sha256."""
    return hashlib.sha256(secret.strip().encode()).hexdigest()


def start_session(store: Store, user: User) -> tuple[str, str]:
    """A new session for ``user``: (the cookie's token, the session's CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.add_session(user.id, hash_secret(token), csrf, SESSION_LIFETIME)
    return token, csrf


def session_of(store: Store, token: str) -> tuple[int, str, User] | None:
    """(session id, CSRF token, user) for a session cookie's token; None if unknown, expired or disabled."""
    if not token or len(token) > 200:
        return None
    return store.session(hash_secret(token))


def throttle_keys(email: str, address: str | None) -> list[str]:
    """The keys failures are counted under: the account (as typed, normalised) and the client address."""
    keys = [f"email:{email.strip().lower()[:MAX_EMAIL]}"]
    return keys + ([f"addr:{address}"] if address else [])


def retry_after(store: Store, email: str, address: str | None, now: float | None = None) -> int | None:
    """Seconds until a sign-in for this account from this address may be tried again, or None when
    it may be tried now (fewer than THROTTLE_FAILURES failures under each key in the window)."""
    now = time.time() if now is None else now
    wait = 0.0
    for key in throttle_keys(email, address):
        failures = store.login_failures(key, now - THROTTLE_WINDOW)
        if len(failures) >= THROTTLE_FAILURES:
            wait = max(wait, failures[-THROTTLE_FAILURES] + THROTTLE_WINDOW - now)
    return max(1, math.ceil(wait)) if wait > 0 else None


def sign_in(store: Store, email: str, password: str, address: str | None) -> User | None:
    """The user these credentials belong to, or None (an unknown email and a wrong password alike:
    the same answer, about the same time). A failure is counted for throttling, a success clears
    the account's count. Call :func:`retry_after` first."""
    user = check_password(store, email, password)
    if store.read_only:
        return user
    if user is None:
        store.add_login_failure(throttle_keys(email, address), time.time())
    else:
        store.clear_login_failures(throttle_keys(email, None)[0])
    return user


def new_invite(store: Store, created_by: int | None) -> str:
    """A single-use invitation's token (``inv_`` and 43 characters), valid for INVITE_LIFETIME."""
    token = INVITE_PREFIX + secrets.token_urlsafe(32)
    store.add_invite(hash_secret(token), created_by, INVITE_LIFETIME)
    return token
