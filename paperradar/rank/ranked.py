"""A ranked result: a stored paper plus what the ranking says of it, without changing the paper.

Surfaces read a result like the stored row (``r["title"]``) and the
ranking's additions the same way (``r["score"]``, ``r["snippet"]``,
``r["why"]``, ``r["trend"]``); the stored record itself is never mutated,
so a row cached or shared elsewhere keeps what the store said.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..store import Store, StoredPaper


class Ranked(Mapping[str, Any]):
    """A :class:`StoredPaper` with ranking fields laid over it (read-only)."""

    __slots__ = ("paper", "extra")

    def __init__(self, paper: StoredPaper, **extra: Any) -> None:
        self.paper = paper
        self.extra = extra

    def __getitem__(self, key: str) -> Any:
        if key in self.extra:
            return self.extra[key]
        return self.paper[key]  # type: ignore[literal-required]

    def __iter__(self) -> Iterator[str]:
        yield from self.paper
        yield from (k for k in self.extra if k not in self.paper)

    def __len__(self) -> int:
        return len(self.paper) + sum(1 for k in self.extra if k not in self.paper)

    def __repr__(self) -> str:
        return f"Ranked({self.paper.get('id')!r}, {self.extra!r})"

    def with_(self, **more: Any) -> Ranked:
        """The same result with more ranking fields."""
        return Ranked(self.paper, **self.extra, **more)


def rows_for(store: Store, hits: list[tuple[int, float]]) -> list[Ranked]:
    """Results for (rowid, score) hits, in order, each with ``score``; a rowid the store lacks is dropped."""
    rows = store.rows([r for r, _ in hits])
    return [Ranked(rows[rowid], score=score) for rowid, score in hits if rowid in rows]
