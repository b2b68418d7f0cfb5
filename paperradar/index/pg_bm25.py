"""BM25 for keyword search on PostgreSQL: the few hundred best matches by ``ts_rank``, ranked again as tantivy ranks.

PostgreSQL ranks by ``ts_rank``, whose shape is not BM25's: no length
normalization per field (tantivy puts "Matryoshka Gaussian Splatting" first
for its short title), a term frequency that saturates after two or three
occurrences, no idf. Scoring BM25 for every match in SQL would need each
paper's per-field term counts, which the stored ``tsvector`` holds only as
positions; so :mod:`.pg_keyword` asks the database for the best
:data:`RERANK` matches by its cheap score (tantivy's top 10 is within the
first 200 for 97% of bench/queries.txt at 115k papers) and this module ranks
those by BM25 with tantivy's parameters:

- **term frequency per field** from two ``ts_rank`` calls per word
  (:func:`paperradar.store.pg_search.features`): with only title positions
  weighted, ``ts_rank`` is ``(1 + 1/4 + ... + 1/n²) / (π²/6)`` for ``n``
  occurrences, which :func:`occurrences` inverts; with title and abstract
  weighted, the same for both, so the abstract's count is the difference;
- **field lengths** as byte lengths of title, abstract and authors relative
  to their means (tantivy counts words; the ratio is the same to within a
  few percent);
- **idf** ``ln(1 + (N - df + 0.5) / (df + 0.5))`` from the papers holding the
  word in any field: the planner's statistics for common words, a count by
  the GIN index (no document read) for the others, kept per process.
  tantivy's idf is per field (a word is rarer in titles); one idf for all
  fields is the remaining difference.

Boosts are tantivy's (title 10, abstract 4, authors 2; a field clause
unboosted). A phrase counts as often as its rarest word occurs in the field
(an upper bound: the database checked that the phrase is there) with the
sum of its words' idf, as tantivy weighs a phrase. A prefix scores a
constant, as tantivy's automaton query does.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ..store import pg_search as sql
from .keyword import WEIGHTS

K1, B = 1.2, 0.75  # tantivy's BM25 parameters
BOOSTS = WEIGHTS  # the field boosts tantivy ranks with (index/keyword.py)
PREFIX_SCORE = 4.0  # a prefix clause matched (tantivy: a constant score times the field's boost)
RERANK = 200  # matches ranked again by BM25 (more when a page asks for more)
STATS_EVERY = 600.0  # seconds between readings of the corpus' size and mean lengths
_ZETA2 = math.pi**2 / 6


def occurrences(rank: float) -> int:
    """``n`` from ``ts_rank = (1 + 1/4 + ... + 1/n²) / (π²/6)`` (the tail of the sum is ``≈ 1/(n + 1/2)``)."""
    if rank <= 0.0:
        return 0
    tail = _ZETA2 * (1.0 - rank)
    return 256 if tail <= 1.0 / 256.5 else max(1, round(1.0 / tail - 0.5))


def saturate(tf: int, ratio: float) -> float:
    """BM25's term-frequency part for ``tf`` occurrences in a field ``ratio`` times its mean length."""
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * ratio)) if tf else 0.0


@dataclass
class Term:
    """One clause as BM25 sees it: its stemmed lexemes (tsquery text), its fields and boosts, and flags."""

    lexemes: list[str]  # title and abstract: every one must occur (a phrase)
    fields: dict[str, float]  # field -> boost
    idf_lexemes: list[str]  # whose idf the clause carries
    authors: str | None = None  # tsquery of the clause among the authors (weight C)
    prefix: str | None = None  # tsquery of a prefix clause: matched or not


@dataclass
class Corpus:
    """The corpus numbers BM25 needs, read from the database now and then (they move slowly)."""

    papers: int = 0
    means: tuple[float, float, float] = (1.0, 1.0, 1.0)  # title, abstract, authors (bytes)
    counts: dict[str, int] = field(default_factory=dict)  # lexeme (tsquery text) -> papers holding it
    read_at: float = -math.inf

    def fresh(self, conn: Any) -> Corpus:
        if time.monotonic() - self.read_at > STATS_EVERY:
            self.papers = sql.count(conn)
            self.means = sql.field_lengths(conn)
            self.counts = {}
            self.read_at = time.monotonic()
        return self

    def idf(self, conn: Any, lexemes: list[str], shares: dict[str, float], least: float) -> dict[str, float]:
        """Each lexeme's idf: its share in the planner's statistics, else counted (rarer than ``least``)."""
        missing = [x for x in dict.fromkeys(lexemes) if x not in self.counts]
        listed = {x: shares[x[1:-1].replace("''", "'")] for x in missing if x[1:-1].replace("''", "'") in shares}
        self.counts.update({x: round(s * self.papers) for x, s in listed.items()})
        rare = [x for x in missing if x not in listed]
        if rare:
            cap = max(1000, int(least * self.papers) + 1)
            self.counts.update(zip(rare, sql.document_counts(conn, rare, cap), strict=True))
        if len(self.counts) > 20_000:
            self.counts = {}
        n = max(self.papers, 1)
        return {x: math.log(1 + (n - min(self.counts.get(x, 0), n) + 0.5) / (self.counts.get(x, 0) + 0.5))
                for x in lexemes}


def rerank(conn: Any, corpus: Corpus, terms: list[Term], rowids: list[int], idf: dict[str, float]) -> list[tuple[int, float]]:
    """``rowids`` ranked by BM25 over ``terms``, best first, ties by rowid."""
    lexemes = list(dict.fromkeys(x for t in terms for x in t.lexemes))
    flags = list(dict.fromkeys(q for t in terms for q in (t.authors, t.prefix) if q))
    at = {x: i for i, x in enumerate(lexemes)}
    flag_at = {q: i for i, q in enumerate(flags)}
    mean_title, mean_abstract, mean_authors = corpus.means
    scored = []
    for rowid, title_len, abstract_len, authors_len, in_title, in_both, matched in sql.features(
            conn, rowids, lexemes, flags):
        ratios = {"title": (title_len or 0) / mean_title, "abstract": (abstract_len or 0) / mean_abstract,
                  "authors": (authors_len or 0) / mean_authors}
        title_tf = [occurrences(r) for r in in_title]
        abstract_tf = [max(0, occurrences(r) - t) for r, t in zip(in_both, title_tf, strict=True)]
        score = 0.0
        for term in terms:
            if term.prefix:
                score += PREFIX_SCORE * matched[flag_at[term.prefix]]
                continue
            weight = sum(idf[x] for x in term.idf_lexemes)
            for name, boost in term.fields.items():
                if name == "authors":
                    tf = int(bool(term.authors and matched[flag_at[term.authors]]))
                elif term.lexemes:
                    counts = title_tf if name == "title" else abstract_tf
                    tf = min(counts[at[x]] for x in term.lexemes)
                else:
                    tf = 0
                score += boost * weight * saturate(tf, ratios[name])
        scored.append((int(rowid), score))
    scored.sort(key=lambda hit: (-hit[1], hit[0]))
    return scored
