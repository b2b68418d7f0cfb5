"""Ranking metrics, as the CSFCube protocol defines them.

Pure functions over the grades of a ranked list (the grade of the paper at
rank 1, rank 2, ...; unjudged papers have grade 0). Nothing here knows an
evaluation set.

- :func:`dcg`: the first gain undiscounted, then gain / log2(rank)
  (rank 2 is divided by 1, rank 3 by log2 3, ...).
- :func:`ndcg_at_k`, :func:`ndcg_pct`: NDCG against the ideal order of the
  same pool; NDCG%20 cuts at 20% of the pool size.
- :func:`average_precision`: grades at or above a threshold are relevant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence


def dcg(gains: Sequence[float], k: int | None = None) -> float:
    """Discounted cumulative gain of the first ``k`` gains (all if ``k`` is None).

    ``gains[0] + sum(gains[i] / log2(i + 1) for i >= 1)``: rank 1 and rank 2
    count fully, then the discount grows with log2 of the rank.
    """
    top = gains if k is None else gains[: max(k, 0)]
    return sum(g if i == 0 else g / math.log2(i + 1) for i, g in enumerate(top))


def ndcg_at_k(gains: Sequence[float], k: int) -> float:
    """DCG of the ranking's first ``k`` gains over that of the best order of the same gains.

    The ideal ranking is the same pool sorted by gain; a pool with no gain
    scores 0.
    """
    ideal = dcg(sorted(gains, reverse=True), k)
    return dcg(gains, k) / ideal if ideal > 0 else 0.0


def pct_cutoff(pool_size: int, pct: float = 20.0) -> int:
    """The rank cut-off for NDCG%pct: ``pct`` percent of the pool, rounded down, at least 1."""
    return max(1, int(pool_size * pct / 100.0))


def ndcg_pct(gains: Sequence[float], pct: float = 20.0) -> float:
    """NDCG cut at ``pct`` percent of the ranked pool's size (CSFCube's NDCG%20)."""
    return ndcg_at_k(gains, pct_cutoff(len(gains), pct))


def average_precision(gains: Sequence[float], threshold: float = 2.0) -> float:
    """Mean of precision@i over the ranks i of relevant items (gain >= ``threshold``).

    Divided by the number of relevant items in the pool; a pool with none scores 0.
    """
    hits = 0
    total = 0.0
    for rank, g in enumerate(gains, start=1):
        if g >= threshold:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def ranked_gains(ranking: Iterable[str], grades: Mapping[str, float]) -> list[float]:
    """The grade of each ranked id (0 for an id without a grade)."""
    return [float(grades.get(item, 0.0)) for item in ranking]


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean (0 for no values)."""
    items = list(values)
    return sum(items) / len(items) if items else 0.0
