"""Semantic search: papers nearest in meaning to a text or a vector, with filters that lose nothing.

Filters are the keyword index's (same category, author and date matching
as keyword search). When few papers pass them (up to ``EXACT_FILTERED``, 5,000),
those papers are scored exactly, so the result is exactly the top k among
them. When many pass, the nearest-neighbour search is tried first, deep
enough to hold ``k`` that pass at the filter's share of the collection
(counted first), and widened while that stays cheap (up to ``ANN_DEPTH_MAX``
neighbours); when the filter excludes the query's whole neighbourhood (an
astrophysics question with ``category:cs.CL``), every paper that passes is
scored exactly instead, scanned in the vector index's int8 rows
(:meth:`VectorIndex.search` with candidates). Widening the graph search
further cost more than that scan at a million papers (bench/README.md).
"""

from __future__ import annotations

import numpy as np

from ..app import Radar
from ..index.embed import text_vector
from ..store import Filters
from .ranked import Ranked, rows_for

EXACT_FILTERED = 5_000  # filters passed by at most this many papers: score them all exactly
ANN_DEPTH_MAX = 2_000  # deepest graph search tried for a filter; past it, what passes is scanned exactly
WIDEN = 4  # each graph round looks this many times deeper than the last
SHARE_MARGIN = 1.5  # the first round looks this many times deeper than the filter's share suggests


def query_vector(radar: Radar, text: str) -> np.ndarray:
    """A query's vector; a pasted abstract is embedded whole (see :func:`text_vector`)."""
    return text_vector(radar.encoder, text)


def nearest(
    radar: Radar, vector: np.ndarray, k: int, filters: Filters | None = None, exclude: set[int] | None = None
) -> list[tuple[int, float]]:
    """The ``k`` nearest (rowid, cosine) that pass ``filters``, best first, ``exclude`` left out."""
    index = radar.vectors
    exclude = exclude or set()
    want = k + len(exclude)
    if filters is None or not filters.active:
        return _drop(index.search(vector, want), exclude, k)
    kw = radar.keyword
    passing, total = kw.filtered(filters, EXACT_FILTERED)
    if total <= EXACT_FILTERED:
        return _drop(index.search(vector, want, candidates=np.array(passing, dtype=np.int64)), exclude, k)
    size = max(len(index), 1)
    depth = min(size, int(want * size / total * SHARE_MARGIN) + 20)  # expected to hold `want` that pass
    while depth <= ANN_DEPTH_MAX:
        hits = index.search(vector, depth)
        ok = kw.passing(filters, [r for r, _ in hits])
        found = [(r, s) for r, s in hits if r in ok and r not in exclude]
        if len(found) >= k or depth >= size:
            return found[:k]
        if len(found) * ANN_DEPTH_MAX < k * depth:  # at this rate even the deepest round falls short
            break
        depth = min(size, depth * WIDEN)
    everything, _ = kw.filtered(filters, 1 << 62)  # all of them, however many pass by now
    return _drop(index.search(vector, want, candidates=np.array(everything, dtype=np.int64)), exclude, k)


def semantic_search(
    radar: Radar, text: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[Ranked]:
    """Papers nearest to ``text``, each with ``score`` (cosine)."""
    if not text.strip() or limit <= 0:
        return []
    hits = nearest(radar, query_vector(radar, text), offset + limit, filters)
    return rows_for(radar.store, hits[offset:])


def has_vectors(radar: Radar) -> bool:
    """Whether any paper is embedded with the current model (semantic ranking is possible)."""
    return len(radar.vectors) > 0


def _drop(hits: list[tuple[int, float]], exclude: set[int], k: int) -> list[tuple[int, float]]:
    return [h for h in hits if h[0] not in exclude][:k]
