"""Search: keyword (BM25), semantic (nearest vectors) and hybrid (both, fused by rank).

Keyword: every word must match first (precise); when that leaves the page
short, the rest is filled with papers matching any of the words, ranked
below them. A pasted passage (an abstract) is read as a bag of its words.

Hybrid, the default, fuses the two rankings by reciprocal rank:
``score = w_k / (C + keyword rank) + w_s / (C + semantic rank)``, over the
top ``DEPTH`` of each. C and the weights were tuned on the CSFCube dev
queries (``paperradar eval csfcube``); a store with no vectors yet (imported
with ``--no-embed``) is searched by keyword alone.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..index.keyword import Filters, Hit, keyword_index
from ..index.query import ParsedQuery, is_passage, parse, parse_passage
from ..store import SQLiteStore
from .semantic import filters_active, has_vectors, nearest, query_vector, rows_for

__all__ = ["MODES", "Filters", "NotEmbedded", "keyword_search", "search"]

MODES = ("hybrid", "keyword", "semantic")
RRF_C = 60
KEYWORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0
DEPTH = 100  # results taken from each ranking before fusing (more when paging deeper)
EARLY_FILL = 5  # clauses from which the any-word search starts beside the all-words one
# Runs the parts of a search that can go at the same time as the caller's part.
_POOL = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1), thread_name_prefix="paperradar-search")


class NotEmbedded(RuntimeError):
    """Semantic search asked of a store with no vectors of the current model."""


def search(
    store: SQLiteStore, query: str, mode: str = "hybrid", filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Ranked store rows for a query in one of :data:`MODES`, each with ``score`` and ``snippet``."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r} (one of {', '.join(MODES)})")
    embedded = mode != "keyword" and has_vectors(store)
    if mode == "keyword" or (mode == "hybrid" and not embedded):
        return keyword_search(store, query, filters, limit=limit, offset=offset)
    if not embedded:
        raise NotEmbedded("no paper has a vector yet: run `paperradar embed` (semantic search needs it)")
    parsed = _parse(query)
    if parsed.empty or limit <= 0 or not query.strip():
        return []
    want = offset + limit
    # Fusing needs the top of each list, not all of it: with a filter, whose nearest
    # neighbours cost more to find, the vector list goes 3 pages deep instead of DEPTH.
    filtered = filters is not None and filters_active(filters)
    depth = want if mode == "semantic" else max(want, 3 * want if filtered else DEPTH)
    if mode == "semantic":
        hits = nearest(store, query_vector(query), depth, filters)[offset:want]
    else:
        # The two halves run at once (the encoder, the vector and the keyword index all
        # release the GIL): the query costs the slower half, not both.
        vector_half = _POOL.submit(lambda: nearest(store, query_vector(query), depth, filters))
        keyword = [(h.rowid, h.score) for h in _keyword_hits(store, parsed, filters, max(DEPTH, 2 * want))]
        hits = fuse(keyword, vector_half.result(), weights=(KEYWORD_WEIGHT, SEMANTIC_WEIGHT))[offset:want]
    return _with_snippets(store, parsed, rows_for(store, hits), filters)


def fuse(*rankings: list[tuple[int, float]], weights: tuple[float, ...] | None = None, c: float = RRF_C
         ) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of rankings of (rowid, score), best first: each paper scores
    ``sum(weight / (c + its rank))`` over the rankings it is in."""
    fused: dict[int, float] = {}
    for weight, ranking in zip(weights or (1.0,) * len(rankings), rankings, strict=True):
        for rank, (rowid, _) in enumerate(ranking, start=1):
            fused[rowid] = fused.get(rowid, 0.0) + weight / (c + rank)
    return sorted(fused.items(), key=lambda kv: -kv[1])


def keyword_search(
    store: SQLiteStore, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Ranked papers for a user query; any string is safe. Each row has ``score`` and ``snippet``."""
    parsed = _parse(query)
    if parsed.empty or limit <= 0:
        return []
    hits = _keyword_hits(store, parsed, filters, offset + limit)[offset:]
    return _with_snippets(store, parsed, rows_for(store, [(h.rowid, h.score) for h in hits]), filters)


def _parse(query: str) -> ParsedQuery:
    return parse_passage(query) if is_passage(query) else parse(query)


def _keyword_hits(store: SQLiteStore, parsed: ParsedQuery, filters: Filters | None, want: int) -> list[Hit]:
    index = keyword_index(store)
    fill = parsed.size > 1
    # A long question rarely has every word in one paper, so its fill-in search
    # starts at once, beside the all-words one, instead of after it.
    early = None
    if parsed.size >= EARLY_FILL:
        early = _POOL.submit(index.search, parsed, filters, limit=2 * want, mode="any")
    hits = index.search(parsed, filters, limit=want, mode="all")
    if len(hits) < want and fill:
        seen = {h.rowid for h in hits}
        more = early.result() if early else index.search(parsed, filters, limit=want + len(hits), mode="any")
        hits += [h for h in more if h.rowid not in seen]
    return hits[:want]


def _with_snippets(
    store: SQLiteStore, parsed: ParsedQuery, rows: list[dict[str, Any]], filters: Filters | None
) -> list[dict[str, Any]]:
    index = keyword_index(store)
    for row, snippet in zip(rows, index.snippets(parsed, [r["abstract"] for r in rows], filters), strict=True):
        row["snippet"] = snippet
    return rows
