"""Similar papers: every other paper ranked by closeness to one paper, optionally on one facet.

Three signals, fused by reciprocal rank (equal weights): BM25 with the
paper's title and abstract as the query (shared rare words), the cosine of
document vectors (overall meaning), and a sentence-by-sentence comparison
(each sentence of the paper matched to its closest sentence in the other,
averaged), which also sees the ends of long abstracts. The first two pick a
shortlist from the whole store; the third re-ranks it. Measured on the
CSFCube dev queries (``paperradar eval csfcube``): keyword + vector alone
reach NDCG%20 0.597, adding the sentence stage 0.614, and embedding the
starting paper whole (its stored vector covers 96 tokens) 0.621 (MAP 0.442).
Equal weights and C = 60: other weights and C from 10 to 100 measured within
0.01 of it on the dev queries, so the plainest setting stays.

With a facet (background, method or result; see :mod:`paperradar.rank.facets`),
the paper's sentences that speak to that facet count double in the
sentence stage, so they drive the ranking; keyword and vector signals are
those of the whole paper (on their own, the facet's sentences measured
worse: 0.52 against 0.60). On the dev queries the facet moves method
queries up and the others down (0.614 overall with facets, 0.621 without).
"""

from __future__ import annotations

import numpy as np

from ..app import Radar
from ..index.embed import paper_text, text_hash, text_vector
from ..index.query import parse_passage
from ..store import StoredPaper
from .facets import FACETS, weights
from .fusion import MODES, SHORTLIST, NotEmbedded, fuse
from .ranked import Ranked, rows_for
from .semantic import nearest

__all__ = ["NotEmbedded", "UnknownPaper", "ranking", "similar"]


class UnknownPaper(LookupError):
    """No paper with this id in the store."""

    def __init__(self, paper_id: str) -> None:
        super().__init__(f"no paper with id {paper_id!r}")
        self.paper_id = paper_id


def similar(
    radar: Radar, paper_id: str, facet: str | None = None, limit: int = 10, mode: str = "hybrid"
) -> list[Ranked]:
    """The ``limit`` papers closest to ``paper_id`` (itself excluded), best first.

    Each row has ``score`` (the fused score) and ``why``: its rank in each
    signal (``keyword``, ``vector``, ``sentences``; None where it was not
    among that signal's candidates).
    """
    paper = radar.store.get(paper_id)
    if paper is None:
        raise UnknownPaper(paper_id)
    explained: dict[int, dict[str, int | None]] = {}
    rows = rows_for(radar.store, ranking(radar, paper, facet, limit, mode, explain=explained))
    return [row.with_(why=explained.get(row["rowid"], {})) for row in rows]


def ranking(
    radar: Radar, paper: StoredPaper, facet: str | None = None, k: int = 10, mode: str = "hybrid",
    candidates: list[int] | None = None, explain: dict[int, dict[str, int | None]] | None = None,
) -> list[tuple[int, float]]:
    """(rowid, score) of the ``k`` papers most like ``paper``, among ``candidates`` if given.

    Stage 1 shortlists ``SHORTLIST`` papers (at least 2k) by keyword and
    document vector (all of ``candidates`` when given); stage 2 adds the
    sentence-by-sentence comparison and fuses the signals by rank.
    """  # fmt: skip
    if facet is not None and facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r} (one of {', '.join(FACETS)})")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (one of {', '.join(MODES)})")
    depth = max(SHORTLIST, 2 * k) if candidates is None else len(candidates)
    signals: dict[str, list[tuple[int, float]]] = {}
    if mode != "semantic":
        signals["keyword"] = _keyword(radar, paper, depth, candidates)
    if mode != "keyword":
        signals["vector"] = _nearest(radar, paper, depth, candidates)
        shortlist = [r for r, _ in fuse(*(signals.get(n, []) for n in ("keyword", "vector")))][:depth]
        signals["sentences"] = _sentence_ranking(radar, paper, shortlist, facet)
    names = list(signals)
    fused = signals[names[0]] if len(names) == 1 else fuse(*(signals[n] for n in names))
    if explain is not None:
        ranks = {n: {r: i for i, (r, _) in enumerate(signals[n], start=1)} for n in names}
        for rowid, _ in fused[:k]:
            explain[rowid] = {n: ranks[n].get(rowid) for n in names}
    return fused[:k]


def _keyword(radar: Radar, paper: StoredPaper, depth: int, candidates: list[int] | None) -> list[tuple[int, float]]:
    """BM25 with the paper's title and abstract as the query."""
    parsed = parse_passage(paper_text(paper["title"], paper["abstract"]))
    hits = radar.keyword.search(parsed, None, limit=depth + 1, mode="any", within=candidates)
    return [(h.rowid, h.score) for h in hits if h.rowid != paper["rowid"]][:depth]


def _nearest(radar: Radar, paper: StoredPaper, depth: int, candidates: list[int] | None) -> list[tuple[int, float]]:
    """Cosine of document vectors; the paper's side also sees the end of its abstract: its stored
    vector (first 96 tokens) plus its whole text's (CSFCube dev: NDCG%20 0.614 -> 0.621, MAP 0.413 -> 0.442)."""
    index = radar.vectors
    keys, vectors = index.get(np.array([paper["rowid"]], dtype=np.int64))
    if len(keys) == 0:
        raise NotEmbedded(paper_id=paper["id"])
    query = vectors[0] + text_vector(radar.encoder, paper_text(paper["title"], paper["abstract"]))
    query /= max(float(np.linalg.norm(query)), 1e-12)
    if candidates is None:
        return nearest(radar, query, depth, exclude={paper["rowid"]})
    pool = np.array([c for c in candidates if c != paper["rowid"]], dtype=np.int64)
    return index.search(query, depth, candidates=pool)


def _sentence_ranking(
    radar: Radar, paper: StoredPaper, shortlist: list[int], facet: str | None
) -> list[tuple[int, float]]:
    """Each query sentence's best cosine in the candidate, averaged (facet sentences weighted up).

    Reads the sentence vectors the embedding pipeline stored (nothing is
    computed here); a paper whose text changed since, or that the second
    pass has not reached yet, is left out of this signal only.
    """
    matrices = sentence_matrices(radar, [paper["rowid"], *shortlist])
    query = matrices.get(paper["rowid"])
    if query is None:
        return []
    w = weights(paper["title"], paper["abstract"], facet)[: len(query)]
    scored = []
    for rowid in shortlist:
        m = matrices.get(rowid)
        if m is not None and rowid != paper["rowid"]:
            scored.append((rowid, float(((query @ m.T).max(axis=1) * w).sum() / w.sum())))
    return sorted(scored, key=lambda kv: -kv[1])


def sentence_matrices(radar: Radar, rowids: list[int]) -> dict[int, np.ndarray]:
    """rowid -> stored sentence vectors (one row per sentence) of papers whose text has not changed since."""
    stored = radar.store.get_sentence_vectors(radar.model, rowids)
    texts = radar.store.paper_texts([r for r in rowids if r in stored])
    return {r: m for r, (h, m) in stored.items() if r in texts and text_hash(*texts[r]) == h}
