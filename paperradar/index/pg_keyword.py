"""Keyword search on PostgreSQL: :class:`KeywordIndex`'s questions, answered by a ``tsvector`` in the database.

The rank layer asks ``radar.keyword`` the same things on both backends
(``search``, ``matches``, ``snippets``, ``filtered``, ``passing``, ``count``);
on a :class:`~paperradar.store.postgres.PostgresStore` that is a
:class:`PgKeywordIndex`. A parsed search (:mod:`.query`) becomes a
``tsquery`` here, with the meaning tantivy gives it:

- a word: its English stem in title or abstract (weights ``AB``) or the word
  itself among the authors (``C``); words all required (mode ``all``) or any
  (``any``; a field clause stays required, as on tantivy);
- ``"a phrase"``: the lexemes at their positions (``<->``, ``<2>`` over a
  stop word); ``prefix*``: an unstemmed word of title or abstract starting so
  (weight ``D``, see :mod:`paperradar.store.pg_search`) where the stemmed field
  holds its start, or an author's name starting so;
- ``a OR b``: ``|``; ``-word``: ``!``; ``title:`` ``A``, ``abstract:`` ``B``,
  ``author:`` ``C``.

Ranking: the database scores the matches cheaply (``ts_rank`` per clause
times its idf) and hands back the best :data:`RERANK`, which
:mod:`.pg_bm25` ranks again by BM25 as tantivy does. The papers scored are
picked through the GIN index with a loosened query (no weights, phrases as
their words: the index answers it without reading documents), at most
:data:`SCORED_MAX` of them, and for a long question in mode ``any`` by
its :data:`MATCH_RAREST` rarest words; the exact query is checked on each
paper read. Match counts stop at :data:`COUNT_CAP` ("more than 1,000").

The lexemes come from the server (``to_tsvector`` with the column's own
configurations), so a query is stemmed exactly as the stored text; the
``tsquery`` is written from them, never parsed from user input, so no search
is a syntax error. The database keeps the index current itself, so the
write side that :class:`~paperradar.app.Radar` drives for tantivy is a no-op.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import numpy as np

from ..store import Filters
from ..store import pg_search as sql
from . import pg_bm25
from .keyword import MIN_PREFIX, Hit
from .query import Clause, ParsedQuery, author_clause

_WEIGHTS = {"title": "A", "abstract": "B", "authors": "C"}
STATS_EVERY = 600.0  # seconds between readings of the lexemes' shares (they move slowly)
RERANK = pg_bm25.RERANK
SCORED_MAX = 20_000  # matches scored by ts_rank at most (the newest): a word in most papers costs a bounded time
MATCH_RAREST = 8  # mode any: papers scored are those with one of the rarest words of a long question
_LOOSE = re.compile(r"('(?:[^']|'')*')(?::(\*?)[A-D]*)?|<\d+>|<->")  # in tsquery text: a lexeme, its weights; a phrase step
COUNT_CAP = 1000  # matches counted exactly up to this many; past it the /search page says "more than 1,000"


def _quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _phrase(tokens: list[tuple[str, int]], weights: str, prefix_last: bool = False) -> str | None:
    """Lexemes at their positions as a tsquery (``<N>``: N positions apart); the last one a prefix if asked."""
    if not tokens:
        return None
    parts, last = [], None
    for i, (lexeme, pos) in enumerate(tokens):
        star = "*" if prefix_last and i == len(tokens) - 1 else ""
        label = star + weights
        term = _quote(lexeme) + (f":{label}" if label else "")
        if last is not None:
            parts.append(f"<{max(pos - last, 0)}>")
        parts.append(term)
        last = pos
    return "(" + " ".join(parts) + ")" if len(tokens) > 1 else parts[0]


def _loosen(m: re.Match[str]) -> str:
    """A lexeme without its weights (a prefix stays one), a phrase step as ``&``: what the GIN index
    answers without reading the documents."""
    return m[1] + (":*" if m[2] else "") if m[1] else "&"


def _any(parts: list[str | None]) -> str | None:
    kept = [p for p in parts if p]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else "(" + " | ".join(kept) + ")"


class PgKeywordIndex:
    """Keyword search over ``papers.search_doc``; made (idempotently) on first use."""

    in_database = True  # Radar: nothing to index, catch up, commit or stamp
    read_only: str | None = None

    def __init__(self, store: Any) -> None:
        self.store = store
        self.path = store.path
        sql.ensure(store.url, store.path, store.read_only)
        self._lexed: dict[tuple[str, str], list[tuple[str, int]]] = {}  # (config, text) -> lexemes, bounded
        self._stats: tuple[dict[str, float], float] | None = None
        self._stats_at = 0.0
        self._corpus = pg_bm25.Corpus()

    # -- what Radar's bookkeeping calls: the database does it --------------------------

    def writer(self, wait: float = 0.0) -> None:
        return None

    def add(self, rows: list[Any], replace: bool = True) -> None:
        return None

    def commit(self) -> None:
        return None

    def clear(self) -> None:
        return None

    def close(self) -> None:
        return None

    def abandon(self) -> None:
        return None

    def refresh(self) -> None:
        return None  # every read sees what is committed

    def stamp(self) -> str | None:
        return None

    def write_stamp(self, token: str) -> None:
        return None

    # -- reading ----------------------------------------------------------------

    def search(self, parsed: ParsedQuery, filters: Filters | None = None, limit: int = 10, offset: int = 0,
               mode: str = "all", within: list[int] | None = None, halves: bool = True) -> list[Hit]:
        """Top hits for a parsed query (``all`` clauses required, or ``any``); only rowids ``within``.

        ``halves`` is the tantivy index's (splitting a slow query across two cores);
        the PostgreSQL server plans its own work, so it is accepted and not used.
        """
        query = self.tsquery(parsed, mode)
        if query is None or limit <= 0 or (within is not None and not within):
            return []
        f = filters or Filters()
        conn, corpus = self.store.conn, self._corpus.fresh(self.store.conn)
        terms = self._terms(parsed)
        idf = corpus.idf(conn, [x for t in terms for x in t.idf_lexemes], *self._shares())
        found = sql.search(conn, query, self._ranked(parsed), f, self._author(f), max(RERANK, offset + limit), 0,
                           within, scored=SCORED_MAX,
                           match=self._match(parsed, mode, idf, rarest=within is None))
        ranked = pg_bm25.rerank(conn, corpus, terms, [rowid for rowid, _ in found], idf)
        return [Hit(rowid, score) for rowid, score in ranked[offset:offset + limit]]

    def matches(self, parsed: ParsedQuery, filters: Filters | None = None, mode: str = "all") -> int:
        """How many papers match, up to :data:`COUNT_CAP` (past it a :class:`~paperradar.store.pg_search.Count`
        that reads "more than 1,000": an exact count of a common word visits every matching row)."""
        query = self.tsquery(parsed, mode)
        if query is None:
            return 0
        f = filters or Filters()
        return sql.matches(self.store.conn, query, f, self._author(f), COUNT_CAP)

    def snippets(self, parsed: ParsedQuery, abstracts: list[str], filters: Filters | None = None) -> list[str]:
        """Abstract fragments around the query's words (ts_headline), marked as tantivy's; "" without a match."""
        query = self._headline_query(parsed)
        if query is None:
            return ["" for _ in abstracts]
        marked = sql.headlines(self.store.conn, query, abstracts)
        return [text if "\x02" in text else "" for text in marked]

    def filtered(self, filters: Filters, limit: int) -> tuple[np.ndarray, int]:
        """How many papers pass ``filters``, and their rowids (sorted) if that is at most ``limit``."""
        rowids, total = sql.filtered(self.store.conn, filters, self._author(filters), limit)
        return np.asarray(rowids, dtype=np.int64), total

    def passing(self, filters: Filters, rowids: list[int]) -> set[int]:
        if not rowids:
            return set()
        return sql.passing(self.store.conn, filters, self._author(filters), [int(r) for r in rowids])

    def count(self) -> int:
        return sql.count(self.store.conn)

    # -- BM25's view and the papers to score ----------------------------------------------

    def _terms(self, parsed: ParsedQuery) -> list[pg_bm25.Term]:
        """Each wanted clause as :mod:`.pg_bm25` scores it (its lexemes, fields and boosts)."""
        out = []
        for clause in dict.fromkeys([*parsed.must, *(c for g in parsed.any_of for c in g)]):
            query = self._clause(clause)
            if not query:
                continue
            if clause.prefix and query.count(":*"):
                out.append(pg_bm25.Term([], {}, [], prefix=query))
                continue
            stems = list(dict.fromkeys(_quote(x) for x, _ in self._lex("en", clause.text)))
            names = self._lex("names", clause.text)
            fields = dict(pg_bm25.BOOSTS) if clause.field is None else {clause.field: 1.0}
            if clause.field == "authors":
                stems = []
            plain = [x for x in stems if "-" not in x] or stems  # "vision-language": its words, as tantivy's
            out.append(pg_bm25.Term(stems, fields, plain or [_quote(x) for x, _ in names],
                                    authors=_phrase(names, "C") if "authors" in fields else None))
        return out

    def _match(self, parsed: ParsedQuery, mode: str, idf: dict[str, float], rarest: bool = True) -> str | None:
        """The papers worth scoring, as a tsquery without weights (the GIN index answers it without reading
        documents; the exact query is checked on the documents scored): the query without its exclusions,
        and in mode ``any`` only the :data:`MATCH_RAREST` rarest optional words of a long question, as
        search engines read pasted text (a paper with none of them does not make the top); not among
        given papers (``within``: "similar papers" ranks a pool, every paper of which must be scored)."""
        loose = ParsedQuery(must=parsed.must, any_of=parsed.any_of)
        optional = [c for c in parsed.must if not c.field] + [c for g in parsed.any_of for c in g]
        if rarest and mode == "any" and len(optional) > MATCH_RAREST:
            def rarity(clause: Clause) -> float:
                return sum(idf.get(_quote(x), 0.0) for x, _ in self._lex("en", clause.text))

            keep = set(sorted(optional, key=rarity, reverse=True)[:MATCH_RAREST])
            loose = ParsedQuery(must=[c for c in parsed.must if c.field or c in keep],
                                any_of=[[c for c in g if c in keep] for g in parsed.any_of if set(g) & keep])
        query = self.tsquery(loose, mode)
        return _LOOSE.sub(_loosen, query) if query else None

    # -- the tsquery ---------------------------------------------------------------

    def _ranked(self, parsed: ParsedQuery) -> list[tuple[str, float]]:
        """Each wanted clause's tsquery and its weight, ``log(1 + (1 - share) / share)`` (BM25's idf) summed over
        its lexemes, from the share of papers holding each (a prefix: 1). Scored one by one and summed,
        like BM25 (ts_rank of the whole AND query would rank by how close the words stand instead)."""
        shares, least = self._shares()
        out: dict[str, float] = {}
        for clause in [*parsed.must, *(c for g in parsed.any_of for c in g)]:
            query = self._clause(clause)
            if not query:
                continue
            weight = 1.0
            if shares and not clause.prefix:
                lexemes = {lex for cfg in ("en", "names") for lex, _ in self._lex(cfg, clause.text)}
                rarity = [shares.get(lex, least / 2) for lex in lexemes]
                weight = sum(math.log(1 + (1 - min(r, 0.999)) / max(r, 1e-9)) for r in rarity) / 2 or 1.0
            out[query] = out.get(query, 0.0) + weight
        return list(out.items())

    def _shares(self) -> tuple[dict[str, float], float]:
        """Lexeme shares from the planner's statistics, read again every STATS_EVERY seconds."""
        now = time.monotonic()
        if self._stats is None or now - self._stats_at > STATS_EVERY:
            self._stats, self._stats_at = sql.lexeme_shares(self.store.conn), now
        return self._stats

    def tsquery(self, parsed: ParsedQuery, mode: str = "all") -> str | None:
        """The parsed search as tsquery text, with the meaning of :meth:`KeywordIndex._query` (None: nothing)."""
        self._prime([*parsed.must, *(c for g in parsed.any_of for c in g), *parsed.exclude])
        required = [c for c in parsed.must if mode == "all" or c.field]
        optional = [c for c in parsed.must if c not in required]
        must = [q for q in (self._clause(c) for c in required) if q]
        if mode == "all":
            must += [q for q in (_any([self._clause(c) for c in g]) for g in parsed.any_of) if q]
        else:
            optional += [c for g in parsed.any_of for c in g]
        should = _any([self._clause(c) for c in optional])
        if should:
            must.append(should)
        if not must:
            return None
        excluded = [f"!{q}" for q in (self._clause(c) for c in parsed.exclude) if q]
        return " & ".join(must + excluded)

    def _author(self, f: Filters) -> str | None:
        """The ``--author`` filter's tsquery (None: a name with no words, which nothing matches)."""
        if f.author is None:
            return None
        clause = author_clause(f.author)
        return self._clause(clause) if clause else None

    def _clause(self, clause: Clause) -> str | None:
        """One clause in its field, or in title and abstract (stemmed) or authors (as written)."""
        if clause.prefix and len(self._lex("names", clause.text)) >= 1 and self._prefix_ok(clause):
            return self._prefix(clause)
        stemmed = None
        if clause.field in (None, "title", "abstract"):
            weights = _WEIGHTS[clause.field] if clause.field else "AB"
            stemmed = _phrase(self._lex("en", clause.text), weights)
            if stemmed is None and clause.field is None:
                return None  # only stop words ("the"): no paper is asked to have them among its authors
        names = _phrase(self._lex("names", clause.text), "C") if clause.field in (None, "authors") else None
        return _any([stemmed, names])

    def _prefix_ok(self, clause: Clause) -> bool:
        tokens = self._lex("names", clause.text)
        return len(tokens) > 1 or len(tokens[0][0]) >= MIN_PREFIX

    def _prefix(self, clause: Clause) -> str | None:
        """``prefix*``: an unstemmed word of title/abstract (``D``) starting so, located in the field by
        its start in the stemmed text (as tantivy's ``words`` + stemmed field); or an author's name."""
        tokens = self._lex("names", clause.text)
        parts: list[str | None] = []
        if clause.field in (None, "title", "abstract"):
            exact = _phrase(tokens, "D", prefix_last=True)
            if len(tokens) == 1:
                start = tokens[0][0][: max(MIN_PREFIX, len(tokens[0][0]) - 4)]
                weights = _WEIGHTS[clause.field] if clause.field else "AB"
                exact = f"({exact} & {_quote(start)}:*{weights})"
            parts.append(exact)
        if clause.field in (None, "authors"):
            parts.append(_phrase(tokens, "C", prefix_last=True))
        return _any(parts)

    def _headline_query(self, parsed: ParsedQuery) -> str | None:
        """Every clause that can match in the abstract, any of them, without weights (ts_headline's text has none)."""
        clauses = [c for c in parsed.must + [c for g in parsed.any_of for c in g] if c.field in (None, "abstract")]
        self._prime(clauses)
        return _any([_phrase(self._lex("en", c.text), "", prefix_last=c.prefix) for c in clauses])

    def _prime(self, clauses: list[Clause]) -> None:
        """Ask the server for every clause's lexemes in one round trip (a pasted abstract has 160 clauses)."""
        wanted = list(dict.fromkeys((cfg, c.text) for c in clauses for cfg in ("en", "names")))
        missing = [k for k in wanted if k not in self._lexed]
        if not missing:
            return
        if len(self._lexed) > 8192:
            self._lexed.clear()
        found = sql.lexemes(self.store.conn, [(sql.EN if cfg == "en" else sql.NAMES, text) for cfg, text in missing])
        self._lexed.update(zip(missing, found, strict=True))

    def _lex(self, config: str, text: str) -> list[tuple[str, int]]:
        """The lexemes of ``text`` in config ``en`` (stemmed) or ``names``, with positions."""
        if (config, text) not in self._lexed:
            self._prime([Clause(text=text)])
        return self._lexed[(config, text)]
