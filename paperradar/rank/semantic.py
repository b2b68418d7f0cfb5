"""Semantic search: papers nearest in meaning to a text or a vector, with filters that lose nothing.

Filters are the keyword index's (same category, author and date matching
as keyword search). When few papers pass them (up to ``EXACT_FILTERED``, 5,000),
those papers are scored exactly, so the result is exactly the top k among
them. When many pass, the nearest-neighbour search is widened round by round
until ``k`` of its results pass: it starts deep enough to hold that many
at the filter's share of the collection (counted first), so one round is
usual; the last resort scans everything that passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..index.embed import text_vector, vector_index
from ..index.keyword import Filters, keyword_index
from ..index.vectors import VectorIndex
from ..store import SQLiteStore

EXACT_FILTERED = 5_000  # filters passed by at most this many papers: score them all exactly
MAX_ROUNDS = 4


def query_vector(text: str) -> np.ndarray:
    """A query's vector; a pasted abstract is embedded whole (see :func:`text_vector`)."""
    return text_vector(text)


def nearest(
    store: SQLiteStore, vector: np.ndarray, k: int, filters: Filters | None = None, exclude: set[int] | None = None
) -> list[tuple[int, float]]:
    """The ``k`` nearest (rowid, cosine) that pass ``filters``, best first, ``exclude`` left out."""
    index = vector_index(store)
    exclude = exclude or set()
    want = k + len(exclude)
    if filters is None or not filters_active(filters):
        return _drop(index.search(vector, want), exclude, k)
    kw = keyword_index(store)
    passing, total = kw.filtered(filters, EXACT_FILTERED)
    if total <= EXACT_FILTERED:
        return _drop(index.search(vector, want, candidates=np.array(passing, dtype=np.int64)), exclude, k)
    size = max(len(index), 1)
    depth = min(size, int(want * size / total * 1.5) + 20)  # expected to hold `want` that pass
    for _ in range(MAX_ROUNDS):
        hits = index.search(vector, depth)
        ok = kw.passing(filters, [r for r, _ in hits])
        found = [(r, s) for r, s in hits if r in ok and r not in exclude]
        if len(found) >= k or depth >= size:
            return found[:k]
        depth = min(size, depth * 4)
    everything, _ = kw.filtered(filters, total)
    return _drop(index.search(vector, want, candidates=np.array(everything, dtype=np.int64)), exclude, k)


def semantic_search(
    store: SQLiteStore, text: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Store rows nearest to ``text``, each with ``score`` (cosine)."""
    if not text.strip() or limit <= 0:
        return []
    hits = nearest(store, query_vector(text), offset + limit, filters)
    return rows_for(store, hits[offset:])


def rows_for(store: SQLiteStore, hits: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """Store rows for (rowid, score) hits, in order; a rowid the store lacks is dropped."""
    rows = store.rows([r for r, _ in hits])
    out = []
    for rowid, score in hits:
        row = rows.get(rowid)
        if row is not None:
            row["score"] = score
            out.append(row)
    return out


def has_vectors(store: SQLiteStore) -> bool:
    """Whether any paper is embedded with the current model (semantic ranking is possible)."""
    index: VectorIndex = vector_index(store)
    return len(index) > 0


def filters_active(f: Filters) -> bool:
    return bool(f.category or f.author is not None or f.since or f.until)


def _drop(hits: list[tuple[int, float]], exclude: set[int], k: int) -> list[tuple[int, float]]:
    return [h for h in hits if h[0] not in exclude][:k]
