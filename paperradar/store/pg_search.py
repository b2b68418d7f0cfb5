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
from typing import Any

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


def search(conn: Any, query: str, ranked: Sequence[tuple[str, float]], f: Filters, author: str | None, limit: int,
           offset: int, within: list[int] | None) -> list[tuple[int, float]]:
    """(rowid, score) of the best matches of a ``tsquery``, ties by rowid. The score is BM25's shape
    with ts_rank's parts: each (clause tsquery, weight) of ``ranked`` scored alone by ts_rank with the
    field weights (a term frequency that saturates), times the weight (the clause's rarity)."""
    where, params = _filter_sql(f, author)
    if within is not None:
        where += " AND p.rowid = ANY(?::bigint[])"
        params.append(list(within))
    if len(ranked) > MAX_RANKED:  # a pasted passage: one ts_rank of all its words, unweighted, is cheaper
        ranked = [(" | ".join(q for q, _ in ranked), 1.0)]
    rank = f"{RANK_FUNCTION}('{RANK_WEIGHTS}', p.{COLUMN}, ?::tsquery, {RANK_NORMALIZATION}) * ?::float8"
    rows = conn.execute(
        f"SELECT p.rowid, {' + '.join([rank] * len(ranked)) or '0'} AS score FROM papers p, CAST(? AS tsquery) AS q"
        f" WHERE p.{COLUMN} @@ q{where} ORDER BY score DESC, p.rowid LIMIT ? OFFSET ?",
        ([x for pair in ranked for x in pair]) + [query, *params, limit, offset]).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


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


def matches(conn: Any, query: str, f: Filters, author: str | None) -> int:
    where, params = _filter_sql(f, author)
    sql = f"SELECT COUNT(*) FROM papers p WHERE p.{COLUMN} @@ ?::tsquery{where}"
    return int(conn.execute(sql, (query, *params)).fetchone()[0])


def filtered(conn: Any, f: Filters, author: str | None, limit: int) -> tuple[list[int], int]:
    """The rowids passing the filters (ascending) when at most ``limit`` do, and how many pass."""
    where, params = _filter_sql(f, author)
    rows = conn.execute(f"SELECT p.rowid FROM papers p WHERE TRUE{where} ORDER BY p.rowid LIMIT ?",
                        (*params, min(limit, 1 << 62) + 1)).fetchall()
    if len(rows) <= limit:
        return [int(r[0]) for r in rows], len(rows)
    total = conn.execute(f"SELECT COUNT(*) FROM papers p WHERE TRUE{where}", tuple(params)).fetchone()[0]
    return [], int(total)


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
