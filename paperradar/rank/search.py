"""Search: keyword (BM25), semantic (nearest vectors) and hybrid (both, fused by rank).

Keyword: every word must match first (precise); when that leaves the page
short, the rest is filled with papers matching any of the words, ranked
below them. A pasted passage (an abstract) is read as a bag of its words.

Hybrid, the default, fuses the two rankings by reciprocal rank over the top
``DEPTH`` of each (constants and their tuning: :mod:`paperradar.rank.fusion`);
a store with no vectors yet (imported with ``--no-embed``) is searched by
keyword alone.
"""

from __future__ import annotations

from ..app import Radar
from ..index.keyword import Hit
from ..index.query import ParsedQuery, is_passage, parse, parse_passage
from ..store import Filters
from .fusion import DEPTH, KEYWORD_WEIGHT, MODES, SEMANTIC_WEIGHT, NotEmbedded, fuse
from .ranked import Ranked, rows_for
from .semantic import has_vectors, nearest, query_vector

__all__ = ["MODES", "Filters", "NotEmbedded", "count_matches", "keyword_search", "search"]

EARLY_FILL = 5  # clauses from which the any-word search starts beside the all-words one


def search(
    radar: Radar, query: str, mode: str = "hybrid", filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[Ranked]:
    """Ranked papers for a query in one of :data:`MODES`, each with ``score`` and ``snippet``."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r} (one of {', '.join(MODES)})")
    embedded = mode != "keyword" and has_vectors(radar)
    if mode == "keyword" or (mode == "hybrid" and not embedded):
        return keyword_search(radar, query, filters, limit=limit, offset=offset)
    if not embedded:
        raise NotEmbedded()
    parsed = _parse(query)
    if parsed.empty or limit <= 0 or not query.strip():
        return []
    want = offset + limit
    # Fusing needs the top of each list, not all of it: with a filter, whose nearest
    # neighbours cost more to find, the vector list goes 3 pages deep instead of DEPTH.
    filtered = filters is not None and filters.active
    depth = want if mode == "semantic" else max(want, 3 * want if filtered else DEPTH)
    if mode == "semantic":
        hits = nearest(radar, query_vector(radar, query), depth, filters)[offset:want]
    else:
        # The two halves run at once (the encoder, the vector and the keyword index all
        # release the GIL): the query costs the slower half, not both.
        vector_half = radar.pool.submit(lambda: nearest(radar, query_vector(radar, query), depth, filters))
        keyword = [(h.rowid, h.score) for h in _keyword_hits(radar, parsed, filters, max(DEPTH, 2 * want))]
        hits = fuse(keyword, vector_half.result(), weights=(KEYWORD_WEIGHT, SEMANTIC_WEIGHT))[offset:want]
    return _with_snippets(radar, parsed, rows_for(radar.store, hits), filters)


def keyword_search(
    radar: Radar, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[Ranked]:
    """Ranked papers for a user query; any string is safe. Each result has ``score`` and ``snippet``."""
    parsed = _parse(query)
    if parsed.empty or limit <= 0:
        return []
    hits = _keyword_hits(radar, parsed, filters, offset + limit)[offset:]
    return _with_snippets(radar, parsed, rows_for(radar.store, [(h.rowid, h.score) for h in hits]), filters)


def count_matches(radar: Radar, query: str, filters: Filters | None = None) -> tuple[int, int]:
    """(papers with every word, papers with some) of a query, filters applied: the size of what
    keyword search ranks (semantic search ranks every paper, so it has no such count)."""
    parsed = _parse(query)
    if parsed.empty:
        return 0, 0
    index = radar.keyword
    every = index.matches(parsed, filters, mode="all")
    return every, (index.matches(parsed, filters, mode="any") if parsed.size > 1 else every)


def _parse(query: str) -> ParsedQuery:
    return parse_passage(query) if is_passage(query) else parse(query)


def _keyword_hits(radar: Radar, parsed: ParsedQuery, filters: Filters | None, want: int) -> list[Hit]:
    index = radar.keyword
    fill = parsed.size > 1
    # A long question rarely has every word in one paper, so its fill-in search
    # starts at once, beside the all-words one, instead of after it.
    early = None
    if parsed.size >= EARLY_FILL:  # two searches at once: neither is split in halves on top of that
        early = radar.pool.submit(index.search, parsed, filters, limit=2 * want, mode="any", halves=False)
    hits = index.search(parsed, filters, limit=want, mode="all", halves=early is None)
    if len(hits) < want and fill:
        seen = {h.rowid for h in hits}
        more = early.result() if early else index.search(parsed, filters, limit=want + len(hits), mode="any")
        hits += [h for h in more if h.rowid not in seen]
    return hits[:want]


def _with_snippets(radar: Radar, parsed: ParsedQuery, rows: list[Ranked], filters: Filters | None) -> list[Ranked]:
    snippets = radar.keyword.snippets(parsed, [r["abstract"] for r in rows], filters)
    return [row.with_(snippet=snippet) for row, snippet in zip(rows, snippets, strict=True)]
