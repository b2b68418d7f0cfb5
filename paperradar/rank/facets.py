"""Facets of an abstract: which sentences state the problem (background), the method, the findings (result).

CSFCube's judges compared papers on one of these aspects at a time. An
abstract follows a familiar order (context, then "we propose", then "results
show"), so each sentence is scored by its position and by the cue phrases
that open each move in scientific writing, and goes to the facet it scores
highest for. Small and inspectable: :func:`explain` shows why
each sentence went where it did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..index.sentences import sentences, units

FACETS = ("background", "method", "result")
FACET_WEIGHT = 2.0  # a sentence of the asked facet counts this much, the others once

# Cue phrases of each rhetorical move (generic scientific-writing knowledge, not learned from data).
_CUES: dict[str, tuple[str, ...]] = {
    "background": (
        "recent", "recently", "however", "challenge", "challenging", "problem", "important", "widely", "has been",
        "have been", "remains", "remain", "existing", "despite", "limited", "limitation", "although", "increasingly",
        "crucial", "essential", "difficult", "task", "is a", "are a", "plays", "growing", "popular", "often",
        "traditional", "conventional", "lack", "suffer", "need", "motivat", "address",
    ),
    "method": (
        "we propose", "we present", "we introduce", "we develop", "we design", "we describe", "we formulate",
        "we use", "we train", "we apply", "we adopt", "we model", "we build", "we construct", "we leverage",
        "our approach", "our method", "our model", "our framework", "our system", "framework", "algorithm",
        "architecture", "approach", "method", "based on", "consists", "in this paper", "this paper", "in this work",
        "this work", "we first", "then", "which", "technique", "network", "learn", "jointly", "novel",
    ),
    "result": (
        "results", "result", "show", "shows", "demonstrate", "outperform", "achieve", "improve", "improvement",
        "experiment", "state-of-the-art", "state of the art", "significant", "accuracy", "we find", "we found",
        "find that", "evaluation", "evaluate", "we observe", "better", "reveal", "suggest", "indicate", "compared",
        "baseline", "benchmark", "performance", "effective", "gains", "empirical", "data set", "dataset",
    ),
}  # fmt: skip
# How much a sentence's relative position (0 first, 1 last) says: background early, result late.
_POSITION = {"background": lambda x: 1.5 * (1 - x) ** 2, "method": lambda x: 1.0 - abs(x - 0.45), "result": lambda x: 1.5 * x**2}


@dataclass(frozen=True)
class Sentence:
    text: str
    facet: str
    scores: dict[str, float]


def explain(abstract: str) -> list[Sentence]:
    """Each sentence with its facet and the scores that chose it."""
    sents = sentences(abstract)
    out = []
    for i, s in enumerate(sents):
        x = i / (len(sents) - 1) if len(sents) > 1 else 0.5
        low = s.lower()
        scores = {f: _POSITION[f](x) + sum(1.0 for cue in _CUES[f] if cue in low) for f in FACETS}
        out.append(Sentence(s, max(FACETS, key=lambda f: scores[f]), scores))
    return out


def weights(title: str, abstract: str, facet: str | None) -> np.ndarray:
    """How much each unit (title, then sentences; see :func:`paperradar.index.sentences.units`)
    counts when comparing papers on ``facet``: the facet's sentences count double."""
    n = len(units(title, abstract))
    out = np.ones(n, dtype=np.float32)
    if facet is None:
        return out
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r} (one of {', '.join(FACETS)})")
    for i, s in enumerate(explain(abstract)[: n - 1], start=1):
        if s.facet == facet:
            out[i] = FACET_WEIGHT
    return out
