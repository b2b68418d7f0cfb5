"""What a page shows differently to the signed-in viewer: which papers they voted for, saved, hid,
and what they follow.

Templates ask ``you.voted(id)``, ``you.saved(id)``, ``you.hidden(id)`` for each
card and ``you.following(kind, value, filters)`` for a follow button; each set is
read once per request, on first use, with one query (a user's votes or library
are thousands of ids at most, their follows 500). Anonymous: all False (None).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store import Store, User
from ..store.follows import filters_key


class You:
    """The viewer's own marks on papers, read lazily for one request."""

    def __init__(self, store: Store, user: User | None) -> None:
        self.store, self.user = store, user
        self._sets: dict[str, set[str]] = {}
        self._follows: dict[tuple[str, str, str], int] | None = None

    def _ids(self, name: str, read: Callable[[int], set[str]]) -> set[str]:
        if self.user is None:
            return set()
        if name not in self._sets:
            self._sets[name] = read(self.user.id)
        return self._sets[name]

    def voted(self, paper_id: str) -> bool:
        return paper_id in self._ids("voted", self.store.voted_ids)

    def saved(self, paper_id: str) -> bool:
        return paper_id in self._ids("saved", self.store.saved_ids)

    def hidden(self, paper_id: str) -> bool:
        return paper_id in self._ids("hidden", self.store.hidden_ids)

    def following(self, kind: str, value: str, filters: dict[str, Any] | None = None) -> int | None:
        """The id of the viewer's follow of exactly this (as :meth:`Store.find_follow
        <paperradar.store.follows.FollowTables.find_follow>` compares: filters in their stored form,
        a category in any case), or None; anonymous: None."""
        if self.user is None:
            return None
        if self._follows is None:
            self._follows = {_follow_key(f["kind"], f["value"], f["filters"]): f["id"]
                             for f in self.store.follows(self.user.id)}
        return self._follows.get(_follow_key(kind, value, filters))

    def library_entry(self, paper_id: str) -> dict[str, Any] | None:
        """The viewer's entry for a paper (collections, note), or None (the paper page's save form)."""
        return self.store.library_entry(self.user.id, paper_id) if self.user and self.saved(paper_id) else None

    def collections(self) -> list[str]:
        """The names of the viewer's collections (the default one first)."""
        return [c["name"] for c in self.store.collections(self.user.id)] if self.user else []


def _follow_key(kind: str, value: str, filters: dict[str, Any] | None) -> tuple[str, str, str]:
    return kind, value.lower() if kind == "category" else value, filters_key(filters)
