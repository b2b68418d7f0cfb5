"""Sentences of a paper: what the fine-grained stage of similar papers compares.

A paper's document vector covers its first 96 tokens; comparing papers
sentence by sentence (each query sentence's best match in the candidate,
averaged) also sees the end of long abstracts, where results usually are.
The sentence vectors are computed by the embedding pipeline's second pass
(:func:`paperradar.index.embed.embed_sentences`) and read from the store.
"""

from __future__ import annotations

import re

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
