"""Keyword search: BM25 over title, abstract and authors, with filters.

Every word must match first (precise); when that leaves the page short, the
rest is filled with papers matching any of the words, ranked below them, so a
long natural-language query still returns something useful.
"""

from __future__ import annotations

from typing import Any

from ..index.keyword import Filters, Hit, keyword_index
from ..index.query import parse
from ..store import SQLiteStore

__all__ = ["MODES", "Filters", "keyword_search", "search"]

MODES = ("hybrid", "keyword", "semantic")


def search(
    store: SQLiteStore, query: str, mode: str = "hybrid", filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Ranked papers for a query in one of :data:`MODES` (semantic/hybrid land in this session)."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r} (one of {', '.join(MODES)})")
    return keyword_search(store, query, filters, limit=limit, offset=offset)


def keyword_search(
    store: SQLiteStore, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Ranked papers for a user query; any string is safe. Each row has ``score`` and ``snippet``."""
    parsed = parse(query)
    if parsed.empty or limit <= 0:
        return []
    index = keyword_index(store)
    want = offset + limit
    hits = index.search(parsed, filters, limit=want, mode="all")
    if len(hits) < want and parsed.size > 1:
        seen = {h.rowid for h in hits}
        more = index.search(parsed, filters, limit=want + len(hits), mode="any")
        hits += [h for h in more if h.rowid not in seen]
    rows = _rows(store, hits[offset:want])
    for row, snippet in zip(rows, index.snippets(parsed, [r["abstract"] for r in rows], filters)):
        row["snippet"] = snippet
    return rows


def _rows(store: SQLiteStore, hits: list[Hit]) -> list[dict[str, Any]]:
    """Store rows for index hits, in hit order; a hit the store lacks is dropped."""
    rows = store.rows([h.rowid for h in hits])
    out = []
    for h in hits:
        row = rows.get(h.rowid)
        if row is not None:
            row["score"] = h.score
            out.append(row)
    return out
