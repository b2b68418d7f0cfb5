"""What the rest of paperradar may ask of a store: the records it returns and the :class:`Store` protocol.

Surfaces and rankers are written against :class:`Store`, never against a
backend, so a second backend (PostgreSQL) implements the same protocol and
runs the same tests. Every backend keeps its SQL inside ``paperradar/store``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypedDict

import numpy as np

from ..model import Paper


class StoredPaper(TypedDict, total=False):
    """One paper as the store holds it (``get`` adds ``sources``, ``upvote_sources`` and ``featured``).

    Rankers never add keys to it: a ranked result wraps it (see
    :class:`paperradar.rank.ranked.Ranked`).
    """

    rowid: int
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: str | None
    updated: str | None
    version: int | None
    comment: str | None
    journal_ref: str | None
    doi: str | None
    links: dict[str, str]
    extra: dict[str, Any]
    upvotes: int
    title_key: str
    field_dates: dict[str, str]
    created_at: str
    changed_at: str
    seq: int
    sources: list[dict[str, Any]]
    upvote_sources: list[dict[str, Any]]
    featured: list[dict[str, Any]]


@dataclass
class Filters:
    """The one filter type: keyword, semantic and hybrid search, and the feed, read it alike.

    ``category`` matches any of a paper's categories (case-insensitive);
    ``author`` is a name as written (see :func:`paperradar.index.query.author_clause`);
    ``since``/``until`` bound the first-listing day, ``YYYY-MM-DD``, inclusive.
    """

    category: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.category or self.author is not None or self.since or self.until)


@dataclass(frozen=True)
class Featured:
    """A paper featured in a site's daily list on a day: one row of the ``featured`` table.

    ``source`` is ``"huggingface"`` (an imported HF Daily Papers entry) or
    ``"local"`` (submitted by a user of this site); ``submitted_by`` is the
    submitter's user name there (HF) or a local user id, ``submitted_at``
    the time of submission as the site gave it (an ISO timestamp); either is
    None where unknown (HF responses saved before March 2025 give no time).
    ``first_seen`` is when this store first learnt of it.
    """

    paper: int  # the paper's rowid
    day: str
    source: str
    submitted_by: str | None
    submitted_at: str | None
    first_seen: str

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "source": self.source, "submitted_by": self.submitted_by,
                "submitted_at": self.submitted_at, "first_seen": self.first_seen}


@dataclass(frozen=True)
class User:
    """An account: one row of the ``users`` table, without its password hash.

    ``email`` is trimmed and lowercased; ``disabled`` is true once
    ``users disable`` ran (a disabled user's tokens stop working);
    ``has_password`` says whether a password was set (an account added
    without one cannot sign in until ``users set-password``).
    """

    id: int
    email: str
    name: str | None
    is_admin: bool
    disabled: bool
    created_at: str
    has_password: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name, "is_admin": self.is_admin,
                "disabled": self.disabled, "has_password": self.has_password, "created_at": self.created_at}


class DuplicateUser(Exception):
    """An account with this email already exists (``str()`` is one line naming it)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a user with email {email!r} already exists")
        self.email = email


@dataclass
class MergeResult:
    """What one merged batch did: counts by record, and the rows written (as stored) with their seq."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: list[StoredPaper] = field(default_factory=list)
    seq: int = 0


@dataclass(frozen=True)
class Pending:
    """Papers to embed: ``rowids`` in embedding order; ``missing`` of them have no vector of this model."""

    rowids: list[int]
    missing: int
    changed: int
    checked_seq: int  # record with ``mark_vectors_checked`` once all are embedded


class StoreError(Exception):
    """The database cannot be opened or written as asked (the message names the path and the cause)."""


class StorageFault(Exception):
    """A file the store or an index lives in cannot be written: the disk is full, or it is read-only.

    Not an ``OSError``: the import pipeline reads an ``OSError`` as a damaged
    input, and this is never the input's fault. ``path`` is what could not be
    written (the database file or an index folder), ``cause`` a few words
    (``disk full``, ``read-only``, ``permission denied``); the CLI prints
    ``paperradar: <str(fault)>`` and exits 1. See :mod:`paperradar.store.faults`.
    """

    def __init__(self, path: str, cause: str, detail: str = "", action: str = "write") -> None:
        super().__init__(path, cause, detail, action)
        self.path = str(path)
        self.cause = cause
        self.detail = detail
        self.action = action

    def __str__(self) -> str:
        return f"cannot {self.action} {self.path}: {self.cause}" + (f" ({self.detail})" if self.detail else "")


class Store(Protocol):
    """Everything surfaces, rankers and indexes use. One method per question; rows are :class:`StoredPaper`."""

    path: str
    read_only: str | None  # why it was opened read-only ("read-only", "disk full"): reads work, writes fail

    # -- the store itself -------------------------------------------------------
    def close(self) -> None: ...
    def write(self) -> AbstractContextManager[Any]: ...
    def get_meta(self, key: str, default: str | None = None) -> str | None: ...
    def set_meta(self, key: str, value: str, conn: Any = None) -> None: ...

    # -- papers (store/papers.py) -------------------------------------------------
    def merge(self, papers: list[Paper], origin: str, conn: Any = None) -> MergeResult: ...
    def add_vote(self, paper_id: str, site: str = "local", delta: int = 1) -> int: ...
    def get(self, paper_id: str) -> StoredPaper | None: ...
    def rows(self, rowids: list[int]) -> dict[int, StoredPaper]: ...
    def rowids(self, paper_ids: list[str]) -> dict[str, int]: ...
    def changed_since(self, seq: int, batch: int = 5000) -> Iterator[list[StoredPaper]]: ...
    def max_seq(self) -> int: ...
    def count(self) -> int: ...
    def stats(self) -> dict[str, Any]: ...
    def feed(self, start: str, end: str, category: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[StoredPaper], int]: ...

    # -- featured papers (store/featured.py) -------------------------------------
    def add_featured(self, paper_id: str, day: str, source: str = "local", submitted_by: str | None = None,
                     submitted_at: str | None = None) -> bool: ...
    def featured_papers(self, start: str, end: str, category: str | None = None, submitter: str | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[tuple[StoredPaper, Featured]], int]: ...
    def has_featured(self, start: str, end: str) -> bool: ...
    def featured_days(self, start: str, end: str, category: str | None = None) -> list[tuple[str, int]]: ...
    def latest_featured_day(self, on_or_before: str | None = None) -> str | None: ...
    def featured_of(self, rowids: list[int]) -> dict[int, list[Featured]]: ...

    # -- browsing (store/browse.py) -----------------------------------------------
    def latest_day(self, on_or_before: str | None = None) -> str | None: ...
    def day_counts(self, start: str, end: str, category: str | None = None) -> list[tuple[str, int]]: ...
    def category_counts(self, start: str | None = None, end: str | None = None,
                        limit: int | None = None) -> list[tuple[str, int]]: ...
    def category_papers(self, category: str, limit: int = 50, offset: int = 0) -> tuple[list[StoredPaper], int]: ...
    def primary_category_share(self, category: str) -> int: ...
    def trending_candidates(self, since: str, until: str, category: str | None = None,
                            limit: int = 5000) -> list[StoredPaper]: ...

    # -- vectors (store/vectors.py) -----------------------------------------------
    def pending_vectors(self, model: str, text_hash: Callable[[str, str], str]) -> Pending: ...
    def mark_vectors_checked(self, model: str, seq: int) -> None: ...
    def paper_texts(self, rowids: list[int]) -> dict[int, tuple[str, str]]: ...
    def save_vectors(self, model: str, rowids: list[int], hashes: list[str], vectors: np.ndarray) -> None: ...
    def vector_count(self, model: str) -> int: ...
    def vector_models(self) -> dict[str, int]: ...
    def get_vectors(self, model: str, rowids: list[int]) -> tuple[np.ndarray, np.ndarray]: ...
    def all_vectors(self, model: str, batch: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...
    def max_vector_rowid(self) -> int: ...
    def vector_log_head(self) -> int: ...
    def vector_changes(self, seq: int, model: str) -> tuple[int, list[int], np.ndarray, np.ndarray]: ...
    def prune_vector_log(self, upto: int) -> None: ...
    def get_sentence_vectors(self, model: str, rowids: list[int]) -> dict[int, tuple[str, np.ndarray]]: ...
    def save_sentence_vectors(self, model: str, items: list[tuple[int, str, np.ndarray]]) -> None: ...
    def sentence_vector_count(self, model: str) -> int: ...
    def count_sentences_pending(self, model: str) -> int: ...
    def sentences_pending(self, model: str, after: int = 0, limit: int = 10_000) -> list[int]: ...

    # -- sync state (store/sync_state.py) ------------------------------------------
    def start_sync_run(self, source: str, request: dict[str, Any]) -> int: ...
    def finish_sync_run(self, run_id: int, status: str, error: str | None, notes: list[str]) -> None: ...
    def record_sync_page(self, run_id: int, counts: Any, harvest: Any = None, token: str | None = None,
                         complete_list_size: int | None = None) -> None: ...
    def sync_run(self, run_id: int) -> dict[str, Any]: ...
    def last_sync_runs(self) -> dict[str, dict[str, Any]]: ...
    def open_harvest(self, base_url: str, set_spec: str, metadata_prefix: str, from_date: str,
                     until_date: str) -> Any: ...
    def restart_harvest(self, harvest: Any) -> None: ...
    def last_open_ended_start(self, base_url: str, set_spec: str, metadata_prefix: str) -> str | None: ...
    def open_harvests(self) -> list[Any]: ...

    # -- derived indexes' lineage (store/marks.py) --------------------------------
    def add_index_mark(self, index: str, token: str, position: int, conn: Any = None) -> None: ...
    def has_index_mark(self, index: str, token: str) -> bool: ...

    # -- accounts (store/users.py) ---------------------------------------------------
    def add_user(self, email: str, name: str | None = None, password_hash: str | None = None,
                 is_admin: bool = False) -> User: ...
    def get_user(self, email: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def has_users(self) -> bool: ...
    def password_hash(self, email: str) -> str | None: ...
    def set_password_hash(self, email: str, password_hash: str) -> bool: ...
    def disable_user(self, email: str) -> bool: ...
    def delete_user(self, email: str) -> bool: ...
    def user_data(self, email: str) -> dict[str, Any] | None: ...
    def add_api_token(self, email: str, token_hash: str, label: str | None = None) -> int: ...
    def user_for_token(self, token_hash: str) -> User | None: ...
    def revoke_api_token(self, token_id: int) -> bool: ...

    # sign-in (sessions.py)
    def get_user_by_id(self, user_id: int) -> User | None: ...
    def set_user_name(self, user_id: int, name: str | None) -> bool: ...
    def user_api_tokens(self, user_id: int) -> list[dict[str, Any]]: ...
    def add_session(self, user_id: int, token_hash: str, csrf: str, lifetime: timedelta) -> int: ...
    def session(self, token_hash: str) -> tuple[int, str, User] | None: ...
    def end_session(self, session_id: int) -> None: ...
    def end_sessions(self, user_id: int, keep: int | None = None) -> int: ...
    def session_count(self, user_id: int) -> int: ...
    def add_login_failure(self, keys: list[str], at: float) -> None: ...
    def login_failures(self, key: str, since: float) -> list[float]: ...
    def clear_login_failures(self, key: str) -> None: ...
    def add_invite(self, token_hash: str, created_by: int | None, lifetime: timedelta) -> int: ...
    def invite_open(self, token_hash: str) -> bool: ...
    def add_invited_user(self, token_hash: str, email: str, name: str | None, password_hash: str) -> User | None: ...

    # votes (votes.py)
    def voted_ids(self, user_id: int) -> set[str]: ...

    # comments (comments.py)

    # library (library.py)
    def saved_ids(self, user_id: int) -> set[str]: ...
    def hidden_ids(self, user_id: int) -> set[str]: ...

    # follows and private feeds (follows.py)
