"""Rank fusion and the constants of every ranking recipe, in one place to read and tune.

Reciprocal rank fusion: each paper scores ``sum(weight / (C + its rank))``
over the rankings it is in. Search fuses keyword and vector rankings;
similar papers fuse keyword, vector and sentence rankings. C and the weights
were tuned on the CSFCube dev queries (``paperradar eval csfcube``): C from
10 to 100 and weights from 0.5 to 2 measured within 0.01 of each other, so
the plainest setting stays (C = 60, equal weights).
"""

from __future__ import annotations

RRF_C = 60
KEYWORD_WEIGHT = 1.0
SEMANTIC_WEIGHT = 1.0
DEPTH = 100  # results taken from each ranking before fusing (more when paging deeper)
SHORTLIST = 100  # papers the first stage of similar papers passes to the sentence stage
MODES = ("hybrid", "keyword", "semantic")


class NotEmbedded(LookupError):
    """A ranking needs vectors that are not there yet: no paper has one, or this paper has none."""

    def __init__(self, message: str | None = None, paper_id: str | None = None) -> None:
        if message is None:
            message = (f"paper {paper_id!r} has no embedding yet: run `paperradar embed`" if paper_id else
                       "no paper has a vector yet: run `paperradar embed` (semantic search needs it)")
        super().__init__(message)
        self.paper_id = paper_id

    def __str__(self) -> str:
        return str(self.args[0])


def fuse(*rankings: list[tuple[int, float]], weights: tuple[float, ...] | None = None, c: float = RRF_C
         ) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of rankings of (rowid, score), best first."""
    fused: dict[int, float] = {}
    for weight, ranking in zip(weights or (1.0,) * len(rankings), rankings, strict=True):
        for rank, (rowid, _) in enumerate(ranking, start=1):
            fused[rowid] = fused.get(rowid, 0.0) + weight / (c + rank)
    return sorted(fused.items(), key=lambda kv: -kv[1])
