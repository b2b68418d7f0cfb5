"""Similar papers: every other paper ranked by closeness to one paper, optionally on one facet.

(Being built in this session: the signature is what surfaces call.)
"""

from __future__ import annotations

from typing import Any

from ..store import SQLiteStore

FACETS = ("background", "method", "result")


class UnknownPaper(LookupError):
    """No paper with this id in the store."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"no paper with id {paper_id!r}")
        self.paper_id = paper_id


class NotEmbedded(LookupError):
    """The paper has no vector yet (imported with --no-embed, or embedding still running)."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"paper {paper_id!r} has no embedding yet: run `paperradar embed`")
        self.paper_id = paper_id


def similar(store: SQLiteStore, paper_id: str, facet: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Store rows of the ``limit`` papers closest to ``paper_id`` (itself excluded), each with ``score``."""
    if store.get(paper_id) is None:
        raise UnknownPaper(paper_id)
    raise NotEmbedded(paper_id)
