"""Keyword search: BM25 over title, abstract and authors, with filters.

Every word must match first (precise); when that leaves the page short, the
rest is filled with papers matching any of the words, ranked below them, so a
long natural-language query still returns something useful.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..index.keyword import author_clause, parse, plain_terms, to_fts
from ..store import QuerySyntaxError, SearchFilters, SQLiteStore


@dataclass
class Filters:
    category: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None


def keyword_search(
    store: SQLiteStore, query: str, filters: Filters | None = None, limit: int = 20, offset: int = 0
) -> list[dict[str, Any]]:
    """Ranked papers for a user query; any string is safe."""
    filters = filters or Filters()
    parsed = parse(query)
    if parsed.empty:
        return []
    want = offset + limit
    results = _run(store, to_fts(parsed, "all"), filters, want, query)
    if len(results) < want and len(parsed.must) + len(parsed.any_of) > 1:
        seen = {r["id"] for r in results}
        extra = _run(store, to_fts(parsed, "any"), filters, want + len(results), query)
        results += [r for r in extra if r["id"] not in seen]
    return results[offset:want]


def _run(store: SQLiteStore, expr: str | None, f: Filters, limit: int, query: str) -> list[dict[str, Any]]:
    if expr is None:
        return []
    if f.author:
        clause = author_clause(f.author)
        if clause is None:
            return []
        expr = f"({expr}) AND {clause}"
    store_filters = SearchFilters(category=f.category, since=f.since, until=f.until)
    try:
        return store.search(expr, store_filters, limit)
    except QuerySyntaxError:
        fallback = plain_terms(query)
        if fallback is None:
            return []
        if f.author:
            fallback = f"({fallback}) AND {author_clause(f.author)}"
        return store.search(fallback, store_filters, limit)
