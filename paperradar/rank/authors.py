"""An author's papers: the keyword index finds candidates by name, the store's rows decide.

The index matches the name as a phrase in the authors field (case and accents
folded, so "Muller" finds "Müller"); of those papers, the ones with an author
whose name is the same after the same folding are the author's, newest first.
"""

from __future__ import annotations

import unicodedata
from ..app import Radar
from ..index.query import ParsedQuery, author_clause
from ..store import StoredPaper

MAX_CANDIDATES = 5000


def fold(name: str) -> str:
    """A name compared the way the index compares it: accents dropped, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def author_papers(radar: Radar, name: str, limit: int = 50, offset: int = 0) -> tuple[list[StoredPaper], int]:
    """Papers by an author named ``name`` (newest first) and how many there are."""
    clause = author_clause(name)
    if clause is None:
        return [], 0
    hits = radar.keyword.search(ParsedQuery(must=[clause]), limit=MAX_CANDIDATES)
    rows = radar.store.rows([h.rowid for h in hits])
    wanted = fold(name)
    mine = [r for r in rows.values() if any(fold(a) == wanted for a in r["authors"])]
    mine.sort(key=lambda r: (r["published"] or "", r["id"]), reverse=True)
    return mine[offset : offset + limit], len(mine)
