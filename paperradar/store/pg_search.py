"""Keyword search inside PostgreSQL: a weighted ``tsvector`` on ``papers``, a GIN index, and the SQL that asks it.

The database keeps the text index current itself (a generated column), so
a merge, a ``paperradar copy`` or any other writer is indexed in the same
transaction, and there is nothing to catch up. :mod:`paperradar.index.pg_keyword`
turns a parsed search into a ``tsquery`` and calls the functions here; all
SQL of keyword search on PostgreSQL is in this module.

The document (``papers.search_doc``):

- title, weight A, and abstract, weight B, through ``paperradar_en`` (English
  stemming, accents folded as tantivy's ``ascii_fold``);
- authors, weight C, through ``paperradar_names`` (no stemming): the JSON list
  is read as ``jsonb``, so a phrase never spans two authors (PostgreSQL leaves a
  gap between the strings), as tantivy keeps one value per author;
- title and abstract again, unstemmed, weight D: what a ``prefix*`` is tested
  against ("transformer*" must find "transformers", stemmed "transform", but
  not "transform"), as tantivy's unstemmed ``words`` field. Ranking gives D no
  weight.

Why made on first keyword use and not in the store's migrations: the store's
schema is SQLite's, migration by migration (a test compares them), and
these objects have no SQLite counterpart; :func:`ensure` is idempotent and
runs under an advisory lock, so several processes make them once. Adding
the column to a table already full of papers rewrites it once, holding the
table's lock meanwhile (64 s at 115k papers on a 2-core machine at load 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import psycopg

from .base import Filters, StorageFault, StoreError
from .faults import DENIED, DISK_FULL, READ_ONLY

_FAULTS = {"25006": READ_ONLY, "53100": DISK_FULL, "42501": DENIED}  # as the store reads them (postgres.py)

COLUMN = "search_doc"
EN, NAMES = "paperradar_en", "paperradar_names"  # text search configurations
ENSURE_LOCK = 0x5052_5453_5645  # pg_advisory_xact_lock key while making them ("PRTSVE")
# ts_rank's weights, {D, C, B, A}: tantivy's field boosts 10 (title), 4 (abstract), 2 (authors), scaled to 1.
RANK_WEIGHTS = "{0, 0.2, 0.4, 1.0}"
RANK_FUNCTION = "ts_rank"
RANK_NORMALIZATION = 1  # divide by 1 + log(document length): long abstracts do not win by length alone
MAX_RANKED = 4  # clauses scored one by one at most (each is a ts_rank per matching paper)
HEADLINE = "StartSel=\x02, StopSel=\x03, MaxWords=35, MinWords=15, ShortWord=2, HighlightAll=false"

_WORDS = "asciiword, asciihword, hword_asciipart, word, hword, hword_part"
_DOC = (
    f"setweight(to_tsvector('{EN}'::regconfig, title), 'A')"
    f" || setweight(to_tsvector('{EN}'::regconfig, abstract), 'B')"
    f" || setweight(to_tsvector('{NAMES}'::regconfig, authors::jsonb), 'C')"
    f" || setweight(to_tsvector('{NAMES}'::regconfig, title || ' ' || abstract), 'D')"
)


def _configs(unaccent: bool) -> str:
    """The two text search configurations (English stems; plain names), accents folded when ``unaccent`` exists."""
    fold = "unaccent, " if unaccent else ""
    return f"""
    DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{EN}') THEN
            CREATE TEXT SEARCH CONFIGURATION {EN} (COPY = english);
            ALTER TEXT SEARCH CONFIGURATION {EN} ALTER MAPPING FOR {_WORDS} WITH {fold}english_stem;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '{NAMES}') THEN
            CREATE TEXT SEARCH CONFIGURATION {NAMES} (COPY = simple);
            ALTER TEXT SEARCH CONFIGURATION {NAMES} ALTER MAPPING FOR {_WORDS} WITH {fold}simple;
        END IF;
    END $$"""


def _made(conn: Any) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'papers'::regclass AND attname = %s AND NOT attisdropped",
        (COLUMN,)).fetchone()
    return row is not None


def ensure(url: str, where: str, read_only: str | None) -> None:
    """Make the search column, its GIN index and the configurations if missing (idempotent, one transaction)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            if _made(conn):
                return
            if read_only:
                raise StorageFault(where, read_only, "keyword search must be set up first: open it once for "
                                   "search where it can be written")
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (ENSURE_LOCK,))
                if _made(conn):
                    return
                conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
                unaccent = _try_unaccent(conn)
                conn.execute(_configs(unaccent))  # type: ignore[arg-type]
                conn.execute(f"ALTER TABLE papers ADD COLUMN {COLUMN} tsvector GENERATED ALWAYS AS ({_DOC}) STORED")  # type: ignore[arg-type]
                conn.execute(f"CREATE INDEX papers_{COLUMN} ON papers USING gin ({COLUMN})")  # type: ignore[arg-type]
                conn.execute("ANALYZE papers")  # the lexemes' shares that ranking reads (lexeme_shares)
    except psycopg.Error as exc:  # the server went away, or the role may not alter papers (not its owner)
        if exc.sqlstate in _FAULTS:
            raise StorageFault(where, _FAULTS[exc.sqlstate], "keyword search cannot be set up") from None
        raise StoreError(f"cannot set up keyword search in {where}: {' '.join(str(exc).split())}") from None


def _try_unaccent(conn: Any) -> bool:
    """Whether accents can be folded (the ``unaccent`` contrib extension, trusted: the owner may create it)."""
    with conn.transaction():  # a savepoint: a server without the extension goes on without folding
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            return True
        except psycopg.Error:
            return False


# -- asking -------------------------------------------------------------------------


def lexemes(conn: Any, items: Sequence[tuple[str, str]]) -> list[list[tuple[str, int]]]:
    """Each (config, text)'s lexemes with their positions, in text order: what the stored document holds."""
    if not items:
        return []
    rows = conn.execute(
        "SELECT q.i, v.lexeme, v.positions FROM unnest(?::text[], ?::regconfig[]) WITH ORDINALITY AS q(t, c, i),"
        " unnest(to_tsvector(q.c, q.t)) AS v",
        ([t for _, t in items], [c for c, _ in items])).fetchall()
    out: list[list[tuple[str, int]]] = [[] for _ in items]
    for i, lexeme, positions in rows:
        out[int(i) - 1] += [(str(lexeme), int(p)) for p in positions or [1]]
    for found in out:
        found.sort(key=lambda lp: (lp[1], lp[0]))
    return out


def _filter_sql(f: Filters, author: str | None) -> tuple[str, list[Any]]:
    """The filters as SQL on ``papers p``, exactly as the tantivy index applies them; ``author``: its tsquery."""
    sql, params = "", []
    if f.category:
        sql += " AND EXISTS (SELECT 1 FROM paper_categories c WHERE c.paper = p.rowid AND c.category = ?)"
        params.append(f.category)
    if f.since:
        sql += " AND p.published >= ?"  # a paper without a day is day 0: before every since
        params.append(f.since)
    if f.until:
        sql += " AND COALESCE(p.published, '') <= ?"  # ... and within every until
        params.append(f.until)
    if f.author is not None:
        if author is None:
            return " AND FALSE", []
        sql += f" AND p.{COLUMN} @@ ?::tsquery"
        params.append(author)
    return sql, params


# The stored document, decompressed once per row: each function given the column itself would
# decompress it again (a ts_rank per clause, then each feature below), which was most of the time.
_ONCE = f"CROSS JOIN LATERAL (SELECT p.{COLUMN} || ''::tsvector AS d OFFSET 0) x"
_RANK_A, _RANK_AB = "{0, 0, 0, 1}", "{0, 0, 1, 1}"  # ts_rank weights {D, C, B, A}: title alone; title and abstract


def search(conn: Any, query: str, ranked: Sequence[tuple[str, float]], f: Filters, author: str | None, limit: int,
           offset: int, within: list[int] | None, scored: int | None = None, match: str | None = None,
           ) -> list[tuple[int, float]]:
    """(rowid, score) of the best matches of a ``tsquery``, ties by rowid: the first, cheap ranking
    (:mod:`paperradar.index.pg_bm25` ranks these again). Each (clause tsquery, weight) of ``ranked``
    scored alone by ts_rank with the field weights (a term frequency that saturates), times the
    weight (the clause's rarity).

    ``match``: a looser tsquery that picks the papers to score (the rarest words of a long question);
    ``query`` must hold too. ``scored``: at most that many matches are scored, the newest (highest
    rowid) first, so that a word in most papers costs a bounded time."""
    where, params = _filter_sql(f, author)
    if within is not None:
        where += " AND p.rowid = ANY(?::bigint[])"
        params.append(list(within))
    if len(ranked) > MAX_RANKED:  # a pasted passage: one ts_rank of all its words, unweighted, is cheaper
        ranked = [(" | ".join(q for q, _ in ranked), 1.0)]
    rank = f"{RANK_FUNCTION}('{RANK_WEIGHTS}', x.d, ?::tsquery, {RANK_NORMALIZATION}) * ?::float8"
    score = " + ".join([rank] * len(ranked)) or "0"
    # The matches (rowid and the document, not yet read: a TOAST pointer) from the GIN bitmap, the newest
    # ``scored`` of them; each document then decompressed once for the exact query and the scores.
    newest = "ORDER BY p.rowid DESC LIMIT ?" if scored is not None else ""
    keep = " WHERE x.d @@ ?::tsquery" if match or scored is not None else ""
    with conn.raw.transaction():
        # Plans that read documents in key order until enough match (or every row) are off: a document
        # read is the cost here, and the GIN bitmap says which to read.
        conn.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)")
        rows = conn.execute(
            f"SELECT p.rowid, {score} AS score FROM (SELECT p.rowid, p.{COLUMN} FROM papers p"
            f" WHERE p.{COLUMN} @@ ?::tsquery{where} {newest}) p {_ONCE}{keep}"
            f" ORDER BY score DESC, p.rowid LIMIT ? OFFSET ?",
            [x for pair in ranked for x in pair] + [match or query, *params] + ([scored] if newest else [])
            + ([query] if keep else []) + [limit, offset]).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def features(conn: Any, rowids: list[int], lexemes: list[str], flags: list[str]) -> list[tuple[Any, ...]]:
    """What BM25 needs of each paper, for a few hundred candidates: the byte lengths of title, abstract and
    authors (BM25's field lengths, relative to the mean: bytes stand for words), and for each lexeme
    (tsquery text) ts_rank with title alone and with title and abstract weighted 1, unnormalized:
    ``(1 + 1/4 + ... + 1/n²) / (π²/6)`` for n occurrences, which gives n back (:mod:`..index.pg_bm25`);
    for each ``flags`` tsquery whether the paper matches it (authors, prefixes)."""
    if not rowids:
        return []
    rows = conn.execute(
        f"SELECT p.rowid, octet_length(p.title), octet_length(p.abstract), octet_length(p.authors),"
        f" ARRAY(SELECT ts_rank('{_RANK_A}', x.d, l.t, 0)::float8 FROM unnest(?::tsquery[]) WITH ORDINALITY"
        f" AS l(t, i) ORDER BY l.i),"
        f" ARRAY(SELECT ts_rank('{_RANK_AB}', x.d, l.t, 0)::float8 FROM unnest(?::tsquery[]) WITH ORDINALITY"
        f" AS l(t, i) ORDER BY l.i),"
        f" ARRAY(SELECT x.d @@ l.t FROM unnest(?::tsquery[]) WITH ORDINALITY AS l(t, i) ORDER BY l.i)"
        f" FROM papers p {_ONCE} WHERE p.rowid = ANY(?::bigint[])",
        (lexemes, lexemes, flags, rowids)).fetchall()
    return [tuple(r) for r in rows]


def field_lengths(conn: Any, sample: int = 2000) -> tuple[float, float, float]:
    """Mean byte lengths of title, abstract and authors over the newest ``sample`` papers (BM25's averages)."""
    row = conn.execute(
        "SELECT avg(octet_length(title)), avg(octet_length(abstract)), avg(octet_length(authors)) FROM"
        " (SELECT title, abstract, authors FROM papers ORDER BY rowid DESC LIMIT ?) s", (sample,)).fetchone()
    return tuple(float(v or 1.0) or 1.0 for v in row)  # type: ignore[return-value]


def document_counts(conn: Any, lexemes: list[str], cap: int) -> list[int]:
    """How many papers hold each lexeme (tsquery text, no weights: answered by the GIN index without
    reading the documents), counted up to ``cap``."""
    if not lexemes:
        return []
    with conn.raw.transaction():
        conn.execute("SELECT set_config('enable_seqscan', 'off', true)")
        rows = conn.execute(
            f"SELECT (SELECT count(*) FROM (SELECT 1 FROM papers p WHERE p.{COLUMN} @@ l.t LIMIT ?) s)"
            " FROM unnest(?::tsquery[]) WITH ORDINALITY AS l(t, i) ORDER BY l.i", (cap, lexemes)).fetchall()
    return [int(r[0]) for r in rows]


def lexeme_shares(conn: Any) -> tuple[dict[str, float], float]:
    """The share of papers holding each common lexeme, from the planner's statistics (``ANALYZE``; autovacuum
    keeps them), and the smallest share listed (rarer lexemes are not listed); ({}, 0) before any."""
    row = conn.execute(
        "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
        " WHERE schemaname = current_schema() AND tablename = 'papers' AND attname = ?", (COLUMN,)).fetchone()
    if row is None or row[0] is None or not row[1]:
        return {}, 0.0
    lexemes, shares = list(row[0]), [float(x) for x in row[1]]
    return dict(zip(lexemes, shares[: len(lexemes)], strict=True)), shares[len(lexemes)]  # then: min, max, nulls


class Count(int):
    """How many papers match; when counting stopped at ``cap``, the int is ``cap + 1`` and it reads
    "more than CAP" wherever it is formatted (the /search page writes ``"{:,}".format(count)``), so
    comparisons still order it above every exact count up to the cap."""

    capped: bool = False

    def __new__(cls, value: int, capped: bool = False) -> Self:
        made = super().__new__(cls, value)
        made.capped = capped
        return made

    def __format__(self, spec: str) -> str:
        shown = format(int(self) - 1 if self.capped else int(self), spec)
        return f"more than {shown}" if self.capped else shown

    def __str__(self) -> str:
        return format(self, "")

    def __repr__(self) -> str:
        return f"Count({int(self)}, capped={self.capped})"


def matches(conn: Any, query: str, f: Filters, author: str | None, cap: int) -> Count:
    """How many papers match, counted up to ``cap`` (a :class:`Count`: "more than CAP" past it).

    Why capped: counting visits every matching row (the weights and phrases are checked in the
    stored document, which the GIN index cannot do), 0.4 to 3.6 s for a common word at 115k papers,
    while the first ``cap + 1`` matches cost milliseconds. Sequential scans are off for it: with a
    limit the planner may scan the table expecting matches soon, and a rare combination of common
    words would then read every row; the GIN bitmap bounds the rows read by the matches."""
    where, params = _filter_sql(f, author)
    sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM papers p WHERE p.{COLUMN} @@ ?::tsquery{where} LIMIT ?) s"
    with conn.raw.transaction():
        conn.execute("SELECT set_config('enable_seqscan', 'off', true)")
        found = int(conn.execute(sql, (query, *params, cap + 1)).fetchone()[0])
    return Count(found, capped=found > cap)


def filtered(conn: Any, f: Filters, author: str | None, limit: int) -> tuple[list[int], int]:
    """The rowids passing the filters (ascending) when at most ``limit`` do, and how many pass."""
    source, params = _passing_sql(f, author)
    rows = conn.execute(f"{source} ORDER BY 1 LIMIT ?", (*params, min(limit, 1 << 62) + 1)).fetchall()
    if len(rows) <= limit:
        return [int(r[0]) for r in rows], len(rows)
    total = conn.execute(f"SELECT COUNT(*) FROM ({source}) s", tuple(params)).fetchone()[0]
    return [], int(total)


def _passing_sql(f: Filters, author: str | None) -> tuple[str, list[Any]]:
    """A query of the rowids passing the filters. A category alone is read from its key in
    ``paper_categories`` (an index-only scan), not from ``papers``: at a million papers listing
    cs.CL's 232k papers through the papers table took 0.9-1.6 s, most of a filtered search."""
    if f.category and not f.since and not f.until and f.author is None:
        return "SELECT paper FROM paper_categories WHERE category = ?", [f.category]
    where, params = _filter_sql(f, author)
    return f"SELECT p.rowid FROM papers p WHERE TRUE{where}", params


def passing(conn: Any, f: Filters, author: str | None, rowids: list[int]) -> set[int]:
    where, params = _filter_sql(f, author)
    rows = conn.execute(f"SELECT p.rowid FROM papers p WHERE p.rowid = ANY(?::bigint[]){where}",
                        (list(rowids), *params)).fetchall()
    return {int(r[0]) for r in rows}


def headlines(conn: Any, query: str, texts: list[str]) -> list[str]:
    """ts_headline of each text, matches between \\x02 and \\x03 (as the tantivy index marks them)."""
    if not texts:
        return []
    rows = conn.execute(
        f"SELECT ts_headline('{EN}'::regconfig, t.a, CAST(? AS tsquery), ?) FROM unnest(?::text[])"
        " WITH ORDINALITY AS t(a, i) ORDER BY t.i",
        (query, HEADLINE, texts)).fetchall()
    return [str(r[0]) for r in rows]


def count(conn: Any) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
