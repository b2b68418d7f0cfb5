"""Sentences of a paper and their vectors: the fine-grained stage of similar papers.

A paper's document vector covers its first 96 tokens; comparing papers
sentence by sentence (each query sentence's best match in the candidate,
averaged) also sees the end of long abstracts, where results usually are.
Sentence vectors are computed when a paper first enters a shortlist and
kept in the store, so the cost is paid once per paper.
"""

from __future__ import annotations

import re

import numpy as np

from ..store import SQLiteStore
from ..store.vectors import SentenceVectors
from .embed import current_model, encoder, text_hash

MAX_SENTENCES = 16  # a longer abstract keeps its first 15 sentences (and its title)
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
_ABBREV = re.compile(r"\b(e\.g|i\.e|et al|etc|vs|cf|Fig|Eq|Sec|resp|approx|No)\.$", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Split an abstract into sentences (not after e.g., i.e., et al., decimals)."""
    parts: list[str] = []
    for piece in _SPLIT.split(" ".join(text.split())):
        if parts and _ABBREV.search(parts[-1]):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    return [p for p in parts if p.strip()]


def units(title: str, abstract: str) -> list[str]:
    """What is embedded sentence by sentence: the title, then the abstract's sentences."""
    return ([title.strip()] + sentences(abstract))[:MAX_SENTENCES]


def sentence_vectors(store: SQLiteStore, papers: dict[int, tuple[str, str]]) -> dict[int, np.ndarray]:
    """rowid -> one unit vector per unit (see :func:`units`), for papers given as rowid -> (title, abstract).

    Cached vectors whose text changed are recomputed; new ones are saved.
    """
    model = current_model()
    cache = SentenceVectors(store)
    cached = cache.get(model, list(papers))
    out: dict[int, np.ndarray] = {}
    todo: list[tuple[int, str, list[str]]] = []
    for rowid, (title, abstract) in papers.items():
        h = text_hash(title, abstract)
        hit = cached.get(rowid)
        if hit is not None and hit[0] == h:
            out[rowid] = hit[1]
        else:
            todo.append((rowid, h, units(title, abstract)))
    if todo:
        flat = [u for _, _, us in todo for u in us]
        vectors = encoder().encode(flat)
        items, at = [], 0
        for rowid, h, us in todo:
            out[rowid] = vectors[at : at + len(us)]
            items.append((rowid, h, out[rowid]))
            at += len(us)
        cache.save(model, items)
    return out
