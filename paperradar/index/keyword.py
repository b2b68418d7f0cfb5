"""The keyword index: BM25 over title, abstract and authors, in tantivy.

Why tantivy and not SQLite FTS5: measured on the 115k arXiv file, FTS5 took
100-400 ms for common one-word queries ("model", "learning") because it
scores every match, and indexing inside SQLite's write transaction doubled
import time; tantivy answers the same queries in under 1 ms (block-max WAND
top-k) and indexes in its own threads.

The index is derived data: the store is the truth. Every write to the store
stamps rows with a ``seq``; :meth:`paperradar.app.Radar.refresh` indexes
whatever the index has not seen (a fresh index, a crash between the two
commits, a deleted index directory) and records the seq it reached in the
store's ``meta`` table. The index folder carries a stamp (see
:mod:`paperradar.store.marks`) so an index made from another database is
rebuilt, never served.
Queries are built as query objects from :mod:`paperradar.index.query`
clauses, never parsed from strings, so no user input is a syntax error.

A folder that cannot be written (a read-only copy) is still searched:
tantivy takes a lock file in the index folder to open or reload a reader,
so such a folder is read through a private temporary folder of links to
its files (the lock files made there), and asking for the writer says why
it cannot be had (:class:`~paperradar.store.StorageFault`). A write that
fails for lack of space or permission says so in one line the same way.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tantivy

from ..store import Filters, StorageFault, StoredPaper
from ..store.faults import DISK_FULL, guarded
from . import shadow
from .query import Clause, ParsedQuery, author_clause

META_SEQ = "keyword_index_seq"  # store meta key: the seq the index has reached
MARK = "keyword"  # its name in the store's index marks
STAMP = "stamp.json"
SCHEMA_VERSION = "4"  # a new version builds a new index directory from the store
# Field weights: a word in the title says more than one in the abstract.
WEIGHTS = {"title": 10.0, "abstract": 4.0, "authors": 2.0}
MARK_START, MARK_END = "\x02", "\x03"
_TEXT_FIELDS = ("title", "abstract", "authors")
_PREFIX_FIELD = {"title": "words", "abstract": "words"}
MIN_PREFIX = 2  # "a*" would expand to most of the vocabulary: read it as the word "a"
# A query is searched as two halves at once (see _search_halves) from SPLIT_MIN papers, when it holds a
# phrase whose positions are checked in at least SPLIT_SHARE of them (see _middle_day; below that,
# splitting gained nothing).
SPLIT_MIN = 200_000
SPLIT_SHARE = 0.15


def _analyzer(stem: bool) -> tantivy.TextAnalyzer:
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
    )
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("english"))
    return builder.build()


_STEMMED = _analyzer(stem=True)
_PLAIN = _analyzer(stem=False)


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    sb.add_text_field("title", stored=False, tokenizer_name="paper")
    sb.add_text_field("abstract", stored=False, tokenizer_name="paper")
    sb.add_text_field("authors", stored=False, tokenizer_name="names")
    # Unstemmed words of title and abstract, for prefix queries: "transformer*"
    # must find "transformers" (stemmed "transform") but not plain "transform".
    sb.add_text_field("words", stored=False, tokenizer_name="names", index_option="basic")
    sb.add_text_field("categories", stored=False, tokenizer_name="raw")
    sb.add_integer_field("published", stored=False, indexed=True, fast=True)
    return sb.build()


@dataclass
class Hit:
    rowid: int
    score: float


class IndexBusy(Exception):
    """Another process holds the index writer (an import is running)."""


class KeywordIndex:
    """A tantivy index in ``path``; open readers see commits after :meth:`refresh`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.schema = _schema()
        self.read_only: str | None = None  # why the folder cannot be written ("read-only", ...); None: it can
        self._shadow: Path | None = None  # where a read-only folder is opened from (see _open_shadow)
        self.index = self._open()
        self.index.register_tokenizer("paper", _STEMMED)
        self.index.register_tokenizer("names", _PLAIN)
        self._writer: tantivy.IndexWriter | None = None
        # filter -> (commit it was counted at, count, sorted rowids or None): see filtered()
        self._filtered_sets: dict[tuple, tuple] = {}
        self._middle: tuple[tuple[int, ...] | None, int | None] | None = None  # (commit, day): see _middle_day
        # The thread that searches the older half (started on first use; see _search_halves).
        self._half_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyword-half")
        self._searching = 0  # searches of this index running now (see search)
        self._searching_lock = threading.Lock()

    def _open(self) -> tantivy.Index:
        """The index in its folder (made if missing), or read through a shadow when it cannot be written."""
        try:
            with guarded(self.path):
                self.path.mkdir(parents=True, exist_ok=True)
                return tantivy.Index(self.schema, path=str(self.path), reuse=True)
        except StorageFault as fault:
            if fault.cause == DISK_FULL:
                raise
            self.read_only = fault.cause
            try:
                return self._open_shadow()
            except (OSError, ValueError) as exc:  # no temporary folder, or files it cannot read either
                raise fault from exc

    def _open_shadow(self) -> tantivy.Index:
        """Open a folder that cannot be written through a shadow of links (see :mod:`.shadow`)."""
        self._shadow = shadow.make(self)
        shadow.link(self.path, self._shadow)
        return tantivy.Index(self.schema, path=str(self._shadow), reuse=True)

    def _link_shadow(self) -> None:
        """Link the folder's files the shadow lacks (segments a commit by another process made since)."""
        if self._shadow is not None:
            shadow.link(self.path, self._shadow)

    # -- writing -----------------------------------------------------------

    def writer(self, wait: float = 0.0) -> tantivy.IndexWriter:
        """The single index writer; waits up to ``wait`` seconds for another process's.

        A folder that cannot be written, or a disk too full to start one,
        is a :class:`StorageFault` naming the folder.
        """
        if self.read_only:
            raise StorageFault(str(self.path), self.read_only)
        deadline = time.monotonic() + wait
        while self._writer is None:
            try:
                with guarded(self.path):
                    self._writer = self.index.writer(heap_size=128_000_000, num_threads=1)
            except ValueError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise IndexBusy(f"keyword index {self.path} is being written by another process") from exc
                time.sleep(0.2)
        return self._writer

    def add(self, rows: list[StoredPaper], replace: bool = True) -> None:
        """Index rows as the store holds them; ``replace`` drops older copies first."""
        w = self.writer()
        with guarded(self.path):  # tantivy's indexing thread dies on a full disk: later calls fail
            for row in rows:
                if replace:
                    w.delete_documents_by_term("rowid", row["rowid"])
                w.add_document(_document(row))

    def commit(self) -> None:
        if self._writer is not None:
            with guarded(self.path):
                self._writer.commit()

    def clear(self) -> None:
        """Drop every document (before rebuilding an index made from another database)."""
        w = self.writer()
        with guarded(self.path):
            w.delete_all_documents()

    def stamp(self) -> str | None:
        """The token of the last saved state (None: never stamped)."""
        try:
            return str(json.loads((self.path / STAMP).read_text())["token"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write_stamp(self, token: str) -> None:
        """Write the token of the state just committed (temporary file, then rename)."""
        tmp = self.path / (STAMP + ".tmp")
        with guarded(self.path):
            tmp.write_text(json.dumps({"token": token}))
            os.replace(tmp, self.path / STAMP)

    def close(self) -> None:
        """Release the writer (and its lock) so another process can write, once its merges are done."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with guarded(self.path):
                writer.wait_merging_threads()

    def abandon(self) -> None:
        """Drop the writer after a failure: what it held uncommitted is discarded, its lock released.

        The index stays at its last commit, which the store's seq mark
        describes, so the next writer catches up from there.
        """
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                writer.rollback()
            except ValueError:
                pass  # a writer whose thread died has nothing left to roll back
            del writer

    # -- reading -----------------------------------------------------------

    def refresh(self) -> None:
        self._link_shadow()
        self.index.reload()

    def search(
        self, parsed: ParsedQuery, filters: Filters | None = None, limit: int = 10, offset: int = 0, mode: str = "all",
        within: list[int] | None = None, halves: bool = True,
    ) -> list[Hit]:
        """Top hits for a parsed query: ``all`` clauses required, or ``any`` of them; only rowids ``within``.

        ``halves``: a slow query (a phrase of common words, ``SPLIT_MIN`` papers or more) is
        searched as two halves at once (see :meth:`_search_halves`) when no other
        search of this index is running: a second core is then likely idle, and
        when it is not, splitting only adds work (each half costs about 70 % of
        the whole). False: the caller runs another search beside this one.
        """
        f = filters or Filters()
        with self._searching_lock:
            alone = self._searching == 0
            self._searching += 1
        try:
            middle = self._middle_day(parsed, f, mode) if halves and alone and within is None else None
            if middle is not None:
                return self._search_halves(parsed, f, mode, offset + limit, middle)[offset:]
            query = self._query(parsed, f, mode)
            if query is None:
                return []
            if within is not None:
                members = tantivy.Query.term_set_query(self.schema, "rowid", list(within))
                query = tantivy.Query.boolean_query([(tantivy.Occur.Must, query), (tantivy.Occur.Must, members)])
            return self._top(query, limit, offset)
        finally:
            with self._searching_lock:
                self._searching -= 1

    def _top(self, query: tantivy.Query, limit: int, offset: int = 0, searcher: tantivy.Searcher | None = None
             ) -> list[Hit]:
        searcher = searcher or self.index.searcher()
        result = searcher.search(query, limit, count=False, offset=offset)
        rowids = _rowids(searcher, [address for _, address in result.hits])
        return [Hit(rowid, float(score)) for rowid, (score, _) in zip(rowids, result.hits, strict=True)]

    def _search_halves(self, parsed: ParsedQuery, f: Filters, mode: str, want: int, middle: int) -> list[Hit]:
        """The top ``want`` hits, searched as the papers up to day ``middle`` and those after, at once.

        Why: a phrase of common words (``"large language models"``,
        ``state-of-the-art``) cannot be pruned: tantivy checks the word
        positions of every paper holding its words, about 200,000 at a
        million papers, 33-35 ms on one core. Each half checks only its own
        papers, on its own core (tantivy searches outside the GIL). Exact:
        both halves score with the whole index's statistics, so the best
        ``want`` of both together are the best ``want`` of all. With every
        clause required, the half's date range goes inside each required
        phrase's query too (as :func:`_within_phrases` does for authors), so
        that the phrase seeks only papers of its half; a phrase in an OR, or
        optional (any clause enough), has the range outside only: inside, it
        cut less (measured at a million papers, bench/README.md).
        """
        queries = [self._query(parsed, f, mode, part) for part in ((None, middle), (middle + 1, None))]
        if queries[0] is None or queries[1] is None:
            return []
        searcher = self.index.searcher()  # one set of segments for both halves
        older = self._half_pool.submit(self._top, queries[0], want, 0, searcher)
        hits = self._top(queries[1], want, 0, searcher) + older.result()
        return sorted(hits, key=lambda h: -h.score)[:want]

    def _middle_day(self, parsed: ParsedQuery, f: Filters, mode: str) -> int | None:
        """The day (``YYYYMMDD``) that splits the papers in two halves, for a query worth splitting:
        no date filter, at least ``SPLIT_MIN`` papers, and a phrase (a hyphenated word is one)
        whose positions are checked in at least ``SPLIT_SHARE`` of them: each of its words is in
        that many, and so is each rarer required word that goes inside it (see
        :meth:`_rarer_words`). None: search it whole. The day is counted once per commit (a
        terms aggregation: 4 ms at a million papers)."""
        if f.since or f.until:
            return None
        commit = self._filters_commit()  # None (a read-only folder): counted once, kept
        if self._middle is None or (commit is not None and self._middle[0] != commit):
            self._middle = (commit, self._count_middle())
        if self._middle[1] is None:
            return None
        searcher = self.index.searcher()
        common = SPLIT_SHARE * searcher.num_docs
        # A phrase's positions are checked in the papers holding its rarest word, or, for a required
        # phrase, the rarest required word that goes inside it (see _rarer_words) if one is rarer still.
        required = _required(parsed, mode)
        inside = [_doc_freq(searcher, o) for o in required if _word(o)]
        rest = [c for c in parsed.must if c not in required] + [c for group in parsed.any_of for c in group]
        phrases = [(c, inside) for c in required if _phrase(c)] + [(c, []) for c in rest if _phrase(c)]
        slow = any(min([_doc_freq(searcher, c), *words]) >= common for c, words in phrases)
        return self._middle[1] if slow else None

    def _count_middle(self) -> int | None:
        """The first-listing day by which half of the papers are listed; None under ``SPLIT_MIN`` papers."""
        searcher = self.index.searcher()
        total = int(searcher.num_docs)
        if total < SPLIT_MIN:
            return None
        agg = {"days": {"terms": {"field": "published", "size": 60_000}}}  # arXiv since 1991: ~13,000 days
        try:
            buckets = searcher.aggregate(tantivy.Query.all_query(), agg)["days"]["buckets"]
        except (ValueError, KeyError, TypeError):  # more days than tantivy's bucket limit: search whole
            return None
        seen = 0
        for bucket in sorted(buckets, key=lambda b: b["key"]):
            seen += int(bucket["doc_count"])
            if 2 * seen >= total:
                return int(bucket["key"])
        return None

    def matches(self, parsed: ParsedQuery, filters: Filters | None = None, mode: str = "all") -> int:
        """How many papers match (every clause, or ``any`` of them): counted, not ranked."""
        query = self._query(parsed, filters or Filters(), mode)
        if query is None:
            return 0
        return int(self.index.searcher().search(query, 1, count=True).count or 0)

    def snippets(self, parsed: ParsedQuery, abstracts: list[str], filters: Filters | None = None) -> list[str]:
        """Abstract fragments around the query's matches, marked with MARK_START/MARK_END.

        The index does not store abstracts (the store has them), so the
        snippet generator is fed the texts of the hits being shown.
        """
        query = self._query(parsed, filters or Filters(), "any")
        if query is None:
            return ["" for _ in abstracts]
        generator = tantivy.SnippetGenerator.create(self.index.searcher(), query, self.schema, "abstract")
        generator.set_max_num_chars(240)
        out = []
        for text in abstracts:
            doc = tantivy.Document()
            doc.add_text("abstract", text)
            out.append(_marked(generator.snippet_from_doc(doc)))
        return out

    def filtered(self, filters: Filters, limit: int) -> tuple[np.ndarray, int]:
        """How many papers pass ``filters``, and their rowids (sorted) if that is at most ``limit`` (else none).

        Semantic search asks this so its filters mean exactly what keyword
        search's mean (same category, author and date matching). What it
        finds is kept per filter until the index's next commit: at a million
        papers, counting an author phrase costs 20-40 ms and turning
        230,000 hits into Python objects about 200 ms, where the scan that
        uses them costs 30. Kept answers are exact: before counting, the
        reader is brought to the commit that ``meta.json`` names (tantivy
        rewrites that file on every commit and merge), so an unchanged
        ``meta.json`` means an unchanged index. A read-only folder (read
        through a shadow) keeps nothing.
        """
        key = (filters.category, filters.author, filters.since, filters.until)
        commit = self._filters_commit()
        kept = self._filtered_sets.get(key)
        if kept is None or commit is None or kept[0] != commit:
            if commit is not None:
                self.index.reload()  # the reader at the commit just stamped, or a newer one
            query = self._filter_query(filters)
            total = int(self.index.searcher().search(query, 1, count=True).count or 0)
            kept = (commit, total, None)
        total, rowids = kept[1], kept[2]
        if total == 0 or total > limit:
            self._keep_filtered(key, kept)
            return np.zeros(0, dtype=np.int64), total
        if rowids is None:
            # Ordered by the rowid column, each hit's key is its rowid: no second pass over the column.
            hits = self.index.searcher().search(self._filter_query(filters), total, count=False, order_by_field="rowid").hits
            rowids = np.sort(np.fromiter((rowid for rowid, _ in hits), dtype=np.int64, count=len(hits)))
            total = len(rowids)
        self._keep_filtered(key, (kept[0], total, rowids))
        return rowids, total

    def _filters_commit(self) -> tuple[int, ...] | None:
        """The index's last commit as ``meta.json``'s (mtime, inode, size); None: keep nothing."""
        if self.read_only:
            return None
        try:
            meta = (self.path / "meta.json").stat()
        except OSError:
            return None
        return (meta.st_mtime_ns, meta.st_ino, meta.st_size)

    def _keep_filtered(self, key: tuple, kept: tuple) -> None:
        """Keep a filter's answer (a few filters: 2 MB each at 230,000 papers; the oldest goes)."""
        if kept[0] is None:
            return
        cache = self._filtered_sets
        cache.pop(key, None)
        if len(cache) >= 16:
            cache.pop(next(iter(cache)))
        cache[key] = kept

    def passing(self, filters: Filters, rowids: list[int]) -> set[int]:
        """Which of ``rowids`` pass ``filters`` (from a kept set of :meth:`filtered` when there is one)."""
        if not rowids:
            return set()
        kept = self._filtered_sets.get((filters.category, filters.author, filters.since, filters.until))
        if kept is not None and kept[2] is not None and kept[0] == self._filters_commit():
            asked, members = np.asarray(rowids, dtype=np.int64), kept[2]  # members: sorted
            at = np.minimum(np.searchsorted(members, asked), len(members) - 1)
            return set(asked[members[at] == asked].tolist())
        members = tantivy.Query.term_set_query(self.schema, "rowid", rowids)
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, members), (tantivy.Occur.Must, self._filter_query(filters))]
        )
        searcher = self.index.searcher()
        result = searcher.search(query, len(rowids), count=False)
        return set(_rowids(searcher, [a for _, a in result.hits]))

    def _filter_query(self, filters: Filters) -> tantivy.Query:
        parts = self._filters(filters) or [tantivy.Query.all_query()]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in parts])

    def count(self) -> int:
        """Documents in the last commit (reloads, so a commit just made is seen)."""
        self.refresh()
        return int(self.index.searcher().num_docs)

    def _query(
        self, parsed: ParsedQuery, f: Filters, mode: str, part: tuple[int | None, int | None] | None = None
    ) -> tantivy.Query | None:
        """The query for ``parsed`` with filters ``f``; ``part``: only papers first listed between
        these days (``YYYYMMDD``, inclusive, None: open), one half of :meth:`_search_halves`."""
        # In "any" mode plain words become optional; a field clause (author:,
        # title:) is still required: it names what the user is sure of.
        filters = self._filters(f)
        inner = _within_phrases(filters) if f.author is not None else []
        inner_required = inner  # what goes inside the phrases of the required clauses
        if part is not None:
            days = tantivy.Query.range_query(self.schema, "published", tantivy.FieldType.Integer, *part)
            filters.append(days)
            if mode == "all":
                inner_required = inner + _within_phrases([days])
        required = _required(parsed, mode)
        optional = [c for c in parsed.must if c not in required]
        searcher = self.index.searcher() if len(required) > 1 else None
        must = [self._clause(c, inner_required + self._rarer_words(searcher, c, required)) for c in required]
        must = [q for q in must if q is not None]
        if mode == "all":
            must += [q for q in (self._any([self._clause(c, inner) for c in g]) for g in parsed.any_of) if q is not None]
        else:
            optional += [c for g in parsed.any_of for c in g]
        # The optional clauses' per-field queries go into one flat OR: it scores the
        # same as nested ORs (a sum either way), and a flat OR of term queries alone
        # is what tantivy answers with block-max WAND (2-3x faster on long questions).
        should = [q for c in optional for q in self._clause_parts(c, inner)]
        if not must and not should:
            return None
        excluded = [q for q in (self._clause(c) for c in parsed.exclude) if q is not None]
        if not must and not excluded and not filters:
            return self._any(should)
        parts = [(tantivy.Occur.Must, q) for q in must]
        if should:
            parts.append((tantivy.Occur.Must, self._any(should)))
        parts += [(tantivy.Occur.MustNot, q) for q in excluded]
        parts += [(tantivy.Occur.Must, tantivy.Query.const_score_query(flt, 0.0)) for flt in filters]
        return tantivy.Query.boolean_query(parts)

    def _rarer_words(self, searcher: tantivy.Searcher | None, clause: Clause, required: list[Clause]
                     ) -> list[tantivy.Query]:
        """The other required single words rarer than every word of phrase ``clause``, scoring
        nothing, to go inside its query.

        Why: like a filter (:func:`_within_phrases`), a phrase ANDed with
        other words is read in blocks of documents whatever they allow, its
        positions checked in every paper holding its words; with the rarer
        word inside, only in the papers that also hold that word.
        ``model-based reinforcement learning`` at a million papers: 36.5 ms
        before, 11.3 after (``reinforcement`` is in 7 % of the papers, "model"
        and "based" in over 46 %); same hits, same scores (the word is
        required anyway, and adds nothing inside).
        """
        if searcher is None or not _phrase(clause):
            return []
        own = _doc_freq(searcher, clause)
        rarer = [o for o in required if o is not clause and _word(o) and _doc_freq(searcher, o) < own]
        return _within_phrases([q for q in (self._clause(o) for o in rarer) if q is not None])

    def _filters(self, f: Filters) -> list[tantivy.Query]:
        out = []
        if f.category:
            out.append(tantivy.Query.term_query(self.schema, "categories", f.category.lower()))
        if f.since or f.until:
            lo = int(f.since.replace("-", "")) if f.since else None
            hi = int(f.until.replace("-", "")) if f.until else None
            out.append(tantivy.Query.range_query(self.schema, "published", tantivy.FieldType.Integer, lo, hi))
        if f.author is not None:
            clause = author_clause(f.author)
            q = self._clause(clause) if clause else None
            out.append(q if q is not None else tantivy.Query.empty_query())
        return out

    def _clause(self, clause: Clause, inner: list[tantivy.Query] | None = None) -> tantivy.Query | None:
        """One clause over its field, or over all text fields with their weights."""
        return self._any(self._clause_parts(clause, inner))

    def _clause_parts(self, clause: Clause, inner: list[tantivy.Query] | None = None) -> list[tantivy.Query]:
        """A clause's query in each field it searches (weighted when it searches them all).

        ``inner``: filters repeated inside each phrase's query (see :func:`_within_phrases`).
        """
        fields = [clause.field] if clause.field else list(_TEXT_FIELDS)
        per_field = []
        for name in fields:
            q = self._field_query(name, clause, inner)
            if q is not None:
                per_field.append(tantivy.Query.boost_query(q, WEIGHTS[name]) if not clause.field else q)
        return per_field

    def _field_query(self, name: str, clause: Clause, inner: list[tantivy.Query] | None = None) -> tantivy.Query | None:
        """A clause in one field: a word, a prefix, or a phrase (ANDed with ``inner``, if any)."""
        tokens = _tokens(name, clause)
        if not tokens:
            return None
        if clause.prefix and len(tokens) == 1 and len(tokens[0]) >= MIN_PREFIX:
            return self._prefix_query(name, tokens[0])
        if len(tokens) == 1:
            return tantivy.Query.term_query(self.schema, name, tokens[0], index_option="freq")
        if clause.prefix:
            phrase = tantivy.Query.phrase_prefix_query(self.schema, name, tokens)
        else:
            phrase = tantivy.Query.phrase_query(self.schema, name, tokens)
        if not inner:
            return phrase
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, phrase)] + [(tantivy.Occur.Must, q) for q in inner])

    def _prefix_query(self, name: str, prefix: str) -> tantivy.Query:
        """Papers with a word starting with ``prefix`` in field ``name``.

        Title and abstract are indexed stemmed, and a stem can be shorter
        than the prefix ("transformers" is "transform"), so the exact test
        runs on the unstemmed ``words`` (title and abstract together), and
        the stemmed field says in which of the two the word can be.
        """
        exact = tantivy.Query.regex_query(self.schema, _PREFIX_FIELD.get(name, name), re.escape(prefix) + ".*")
        if name not in _PREFIX_FIELD:
            return exact
        shorter = [re.escape(prefix[:k]) for k in range(max(2, len(prefix) - 4), len(prefix))]
        located = tantivy.Query.regex_query(self.schema, name, "|".join([re.escape(prefix) + ".*", *shorter]))
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, exact), (tantivy.Occur.Must, located)])

    @staticmethod
    def _any(queries: list[tantivy.Query | None]) -> tantivy.Query | None:
        qs = [q for q in queries if q is not None]
        if not qs:
            return None
        if len(qs) == 1:
            return qs[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in qs])


def _within_phrases(filters: list[tantivy.Query]) -> list[tantivy.Query]:
    """The filters, scoring nothing, to repeat inside each phrase's query.

    A clause over three fields is an OR of three queries, and tantivy's OR
    reads its parts 4,096 documents at a time: ANDed with a filter, every
    seek to the next paper that passes fills such a window, checking the
    positions of every paper in it that has the phrase's words. With an
    author filter (3,593 papers at a million, spread over the whole index)
    that is the whole phrase evaluated: ``state-of-the-art`` took 100 ms.
    The filter inside each phrase's AND makes the phrase seek only papers
    that pass: 10 ms, same hits and scores (bench/README.md). Only for
    author filters: with a category or date range, measured mixed.
    """
    return [tantivy.Query.const_score_query(q, 0.0) for q in filters]


def _required(parsed: ParsedQuery, mode: str) -> list[Clause]:
    """The clauses every hit must match: all of them, or in ``any`` mode those naming a field
    (``author:``, ``title:``: what the user is sure of)."""
    return [c for c in parsed.must if mode == "all" or c.field]


def _tokens(field: str, clause: Clause) -> list[str]:
    """A clause's words as field ``field`` indexes them (names and prefixes unstemmed)."""
    plain = field == "authors" or clause.prefix
    return (_PLAIN if plain else _STEMMED).analyze(clause.text)


def _words(clause: Clause) -> list[str]:
    """A clause's words in its field (the abstract's, for a clause over every field)."""
    return _tokens(clause.field or "abstract", clause)


def _phrase(clause: Clause) -> bool:
    """A phrase whose positions are checked: quoted or hyphenated, more than one word, no prefix."""
    return not clause.prefix and len(_words(clause)) > 1


def _word(clause: Clause) -> bool:
    return not clause.prefix and len(_words(clause)) == 1


def _doc_freq(searcher: tantivy.Searcher, clause: Clause) -> int:
    """How many papers hold the clause's rarest word, in its field (the abstract, for a clause over
    every field)."""
    field = clause.field or "abstract"
    return min((searcher.doc_freq(field, word) for word in _words(clause)), default=0)


def _rowids(searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress]) -> list[int]:
    """The store rowids of hits, read from the rowid column (no stored document is decoded)."""
    return [int(v) for v in searcher.fast_field_values("rowid", addresses)] if addresses else []


def _document(row: StoredPaper, prefix_field: bool = True) -> tantivy.Document:
    """The index document of a store row (``prefix_field=False``: without the unstemmed
    words behind exact prefixes, for bench/bench_import.py to show what they cost)."""
    doc = tantivy.Document()
    doc.add_integer("rowid", row["rowid"])
    doc.add_text("title", row["title"])
    doc.add_text("abstract", row["abstract"])
    if prefix_field:
        doc.add_text("words", row["title"] + " \n " + row["abstract"])
    for name in row["authors"]:  # one value each: a phrase never spans two authors
        doc.add_text("authors", name)
    for cat in row["categories"]:
        doc.add_text("categories", cat.lower())
    published = row.get("published")
    doc.add_integer("published", int(published.replace("-", "")) if published else 0)
    return doc


def _marked(snippet: tantivy.Snippet) -> str:
    """The fragment with highlights between MARK_START/MARK_END (offsets are in UTF-8 bytes)."""
    raw = snippet.fragment().encode("utf-8")
    out, pos = [], 0
    for r in sorted(snippet.highlighted(), key=lambda r: r.start):
        out += [raw[pos : r.start].decode("utf-8", "replace"), MARK_START,
                raw[r.start : r.end].decode("utf-8", "replace"), MARK_END]  # fmt: skip
        pos = r.end
    out.append(raw[pos:].decode("utf-8", "replace"))
    return "".join(out)


def index_dir(db_path: str) -> Path:
    """Where the keyword index of a database lives: beside its file."""
    return Path(f"{db_path}.index") / f"keyword-v{SCHEMA_VERSION}"
