"""Keyword search on PostgreSQL (``index/pg_keyword.py``, ``store/pg_search.py``) against tantivy's, on a real server.

The same 1,500 real arXiv listings are imported with the CLI into a SQLite
file (tantivy) and a PostgreSQL database (embedded PostgreSQL 18, see
conftest.py). For every piece of the search syntax and every filter, what
PostgreSQL finds must mean what the query says (each hit holds the words,
the phrase, the prefix, none of the excluded words; filters exact), and its
top 10 must overlap tantivy's substantially: the ranking differs (BM25 over
the best matches by ts_rank, with one idf for all fields), the meaning may not.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import shared

from paperradar.app import Radar
from paperradar.cli import main
from paperradar.index.pg_keyword import PgKeywordIndex
from paperradar.index.query import parse
from paperradar.rank.search import keyword_search
from paperradar.store import Filters

PAPERS = 1500
# Mean share of tantivy's top 10 that PostgreSQL's top 10 holds. Measured on this corpus with the BM25
# reranking (index/pg_bm25.py): 0.78 over the syntax cases, 0.91 over benchmark queries (before it:
# 0.55 and about 0.7; docs/postgresql.md).
SYNTAX_FLOOR = 0.65
OVERLAP_FLOOR = 0.8
BENCH_QUERIES = 100
ROOT = Path(__file__).resolve().parent.parent


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _has(root: str, *fields: str) -> Callable[[dict[str, Any]], bool]:
    """A paper holds a word starting with ``root`` (a regex) in one of ``fields``."""
    pattern = re.compile(r"\b" + root)

    def check(row: dict[str, Any]) -> bool:
        texts = {"title": row["title"], "abstract": row["abstract"], "authors": " ; ".join(row["authors"])}
        return any(pattern.search(_fold(texts[f])) for f in fields)

    return check


TEXT = ("title", "abstract")
ALL = ("title", "abstract", "authors")


def _and(*checks: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda row: all(c(row) for c in checks)


def _not(check: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda row: not check(row)


def _or(*checks: Callable[[dict[str, Any]], bool]) -> Callable[[dict[str, Any]], bool]:
    return lambda row: any(c(row) for c in checks)


# (query, filters, mode, what every hit must satisfy)
CASES: list[tuple[str, Filters, str, Callable[[dict[str, Any]], bool]]] = [
    ("graph neural", Filters(), "all", _and(_has("graph", *ALL), _has("neural", *ALL))),
    ('"language model"', Filters(), "all", _has(r"language[\s-]+model", *TEXT)),
    ("diffus*", Filters(), "all", _has("diffus", *ALL)),
    ("transformer*", Filters(), "all", _has("transformer", *ALL)),
    ("graph OR molecule", Filters(), "all", _or(_has("graph", *ALL), _has("molecul", *ALL))),
    ("llm -agent", Filters(), "all", _and(_has("llm", *ALL), _not(_has("agent", *ALL)))),
    ("title:survey", Filters(), "all", _has("survey", "title")),
    ("abstract:benchmark", Filters(), "all", _has("benchmark", "abstract")),
    ('author:"wang"', Filters(), "all", _has("wang", "authors")),
    ("learning", Filters(category="cs.cv"), "all", lambda r: "cs.cv" in {c.lower() for c in r["categories"]}),
    ("model", Filters(since="2025-03-20", until="2025-03-21"), "all",
     lambda r: "2025-03-20" <= (r["published"] or "") <= "2025-03-21"),
    ("quantum protein", Filters(), "any", _or(_has("quantum", *ALL), _has("protein", *ALL))),
    ("reinforcement learning robot", Filters(), "any",
     _or(_has("reinforc", *ALL), _has("learn", *ALL), _has("robot", *ALL))),
]


@pytest.fixture(scope="module")
def radars(pg_server, tmp_path_factory) -> Iterator[tuple[Radar, Radar, str]]:
    """(tantivy on SQLite, PostgreSQL, its URL), both filled by ``paperradar import`` from one file."""
    folder = tmp_path_factory.mktemp("pg_search")
    source = folder / "arxiv.jsonl"
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rb") as stream:
        source.write_bytes(b"".join(line for _, line in zip(range(PAPERS), stream, strict=False)))
    name = pg_server.fresh_database()
    url = pg_server.url(name)
    for target in (str(folder / "papers.db"), url):
        assert main(["--db", target, "import", str(source), "--no-embed"]) == 0
    sqlite, pg = Radar.open(str(folder / "papers.db")), Radar.open(url)
    yield sqlite, pg, url
    sqlite.close()
    pg.store.dispose()  # type: ignore[attr-defined]
    pg_server.drop(name)  # not back to the pool: its papers table has the search column


def _rows(radar: Radar, rowids: list[int]) -> list[dict[str, Any]]:
    found = radar.store.rows(rowids)
    return [dict(found[r]) for r in rowids]


def test_postgres_keyword_search_means_what_the_query_says_and_overlaps_tantivy(radars, capsys) -> None:
    sqlite, pg, _ = radars
    assert isinstance(pg.keyword, PgKeywordIndex)
    assert pg.keyword.count() == sqlite.keyword.count() == PAPERS
    overlaps = []
    for query, filters, mode, means in CASES:
        parsed = parse(query)
        mine = pg.keyword.search(parsed, filters, limit=50, mode=mode)
        theirs = sqlite.keyword.search(parsed, filters, limit=10, mode=mode)
        assert theirs, query  # the corpus has answers for every case
        assert mine, query
        wrong = [r["id"] for r in _rows(pg, [h.rowid for h in mine]) if not means(r)]
        assert wrong == [], (query, wrong)
        ids = lambda radar, hits: {r["id"] for r in _rows(radar, [h.rowid for h in hits])}
        if "*" not in query:  # tantivy scores a prefix by the fields it is in alone: its ties come in index order
            overlaps.append(len(ids(pg, mine[:10]) & ids(sqlite, theirs)) / len(theirs))
        assert [h.score for h in mine] == sorted((h.score for h in mine), reverse=True)
        assert pg.keyword.matches(parsed, filters, mode=mode) >= len(mine)
    mean = sum(overlaps) / len(overlaps)
    with capsys.disabled():
        print(f"\nPostgreSQL vs tantivy top-10 overlap over {len(overlaps)} syntax queries: {mean:.2f} "
              f"({', '.join(f'{o:.1f}' for o in overlaps)})")
    assert mean >= SYNTAX_FLOOR


def test_top_10_overlaps_tantivys_on_the_benchmark_queries(radars, capsys) -> None:
    """The first queries of bench/queries.txt (plain words, as people type them): PostgreSQL's top 10
    holds most of tantivy's."""
    sqlite, pg, _ = radars
    queries = [q.strip() for q in (ROOT / "bench" / "queries.txt").read_text().splitlines() if q.strip()][:BENCH_QUERIES]
    overlaps = []
    for query in queries:
        theirs = {r["id"] for r in keyword_search(sqlite, query, limit=10)}
        if theirs:
            overlaps.append(len(theirs & {r["id"] for r in keyword_search(pg, query, limit=10)}) / len(theirs))
    mean = sum(overlaps) / len(overlaps)
    with capsys.disabled():
        print(f"\nPostgreSQL vs tantivy top-10 overlap over {len(overlaps)} benchmark queries: {mean:.2f}")
    assert mean >= OVERLAP_FLOOR


def test_filters_are_exactly_tantivys(radars) -> None:
    """``filtered`` and ``passing`` (what semantic search filters by) give the same papers on both."""
    sqlite, pg, _ = radars
    author = _rows(sqlite, [sqlite.keyword.search(parse("learning"), limit=1)[0].rowid])[0]["authors"][0]
    for filters in (Filters(category="CS.CL"), Filters(since="2025-03-21"), Filters(until="2025-03-19"),
                    Filters(author=author), Filters(category="cs.LG", since="2025-03-20", until="2025-03-24"),
                    Filters(author="nobody at all here"), Filters()):
        theirs, total = sqlite.keyword.filtered(filters, 10_000)
        mine, my_total = pg.keyword.filtered(filters, 10_000)
        assert my_total == total, filters
        ids = lambda radar, rowids: sorted(r["id"] for r in _rows(radar, [int(x) for x in rowids]))
        assert ids(pg, mine) == ids(sqlite, theirs), filters
        assert pg.keyword.filtered(filters, 0)[1] == total  # counted, none listed
        some = [int(r) for r in pg.keyword.filtered(Filters(), 10_000)[0][::7]]
        assert pg.keyword.passing(filters, some) == {r for r in some if r in set(mine.tolist())}


def test_search_within_offsets_and_snippets(radars) -> None:
    _, pg, _ = radars
    parsed = parse("diffusion model")
    top = pg.keyword.search(parsed, limit=20)
    assert [h.rowid for h in pg.keyword.search(parsed, limit=10, offset=10)] == [h.rowid for h in top[10:]]
    within = [h.rowid for h in top[5:15]]
    assert {h.rowid for h in pg.keyword.search(parsed, limit=50, within=within)} == set(within)
    assert pg.keyword.search(parsed, within=[]) == []
    abstracts = [r["abstract"] for r in _rows(pg, [h.rowid for h in top[:5]])]
    for snippet in pg.keyword.snippets(parsed, abstracts):
        marked = re.findall("\x02([^\x03]*)\x03", snippet)
        assert marked and all(re.match(r"(?i)diffus|model", m) for m in marked), snippet
    assert pg.keyword.snippets(parse("author:wang"), abstracts[:1]) == [""]  # nothing of it in abstracts
    assert pg.keyword.search(parse("the"), limit=5) == []  # stop words only: nothing asked (tantivy matches "the")
    assert pg.keyword.search(parse("zzqxv -model"), limit=5) == []


def test_cli_imports_and_searches_by_keyword_on_postgres(radars, capsys, tmp_path) -> None:
    _, _, url = radars
    capsys.readouterr()
    assert main(["--db", url, "search", "--mode", "keyword", "--json", '"language model" -agent',
                 "--category", "cs.CL", "--limit", "5"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 5
    for paper in results:
        assert re.search(r"(?i)language[\s-]+models?", paper["title"] + " " + paper["abstract"])
        assert "cs.CL" in paper["categories"]
    # A later import is searchable at once: the database indexes what it stores (no refresh to run).
    later = tmp_path / "later.jsonl"
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rb") as stream:
        lines = [line for _, line in zip(range(PAPERS + 1), stream, strict=False)]
    later.write_bytes(lines[-1])
    title = json.loads(lines[-1])["title"]
    word = max(re.findall(r"[A-Za-z]{6,}", title), key=len)
    assert main(["--db", url, "import", str(later), "--no-embed"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "search", "--mode", "keyword", "--json", f"title:{word}", "--limit", "50"]) == 0
    assert title in [p["title"] for p in json.loads(capsys.readouterr().out)]


def test_a_read_only_server_that_never_had_keyword_search_says_so(pg_server, capsys) -> None:
    """The search column is made on first use; a server that refuses writes cannot make it: one line, exit 1."""
    import psycopg

    name = pg_server.fresh_database()
    try:
        with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        capsys.readouterr()
        assert main(["--db", pg_server.url(name), "search", "--mode", "keyword", "graph"]) == 1  # a storage fault
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "keyword search must be set up first" in err, err
    finally:
        pg_server.drop(name)


def test_match_counts_stop_at_the_cap_and_read_more_than(radars, monkeypatch) -> None:
    """The /search page's counts on PostgreSQL: exact up to the cap, "more than CAP" past it (counting every
    match read every matching document: 0.4 to 3.6 s for common words at 115k papers)."""
    from starlette.testclient import TestClient

    from paperradar.index import pg_keyword
    from paperradar.rank.search import count_matches
    from paperradar.web import create_app

    sqlite, pg, _ = radars
    every, some = count_matches(sqlite, "language model")  # tantivy: exact
    assert 0 < every < some <= PAPERS
    mine = count_matches(pg, "language model")
    assert not mine[0].capped and abs(mine[0] - every) <= every * 0.05  # the stemmers agree, not the analyzers
    monkeypatch.setattr(pg_keyword, "COUNT_CAP", every + 10)
    capped_every, capped_some = count_matches(pg, "language model")
    assert not capped_every.capped and capped_every == mine[0]  # under the cap: exact
    assert capped_some.capped and capped_some == every + 11 > capped_every  # past it: ordered above every exact count
    assert f"{capped_some:,}" == f"more than {every + 10:,}" and f"{capped_every:,}" == f"{int(mine[0]):,}"
    monkeypatch.setattr(pg_keyword, "COUNT_CAP", 5)
    with TestClient(create_app(pg)) as client:
        page = client.get("/search", params={"q": "language model", "mode": "keyword"})
    assert page.status_code == 200
    assert "more than 5 papers contain every word." in page.text  # both capped: "some of them" says nothing more


def test_term_counts_come_back_from_ts_rank(radars) -> None:
    """BM25's term frequencies are read back from ts_rank (index/pg_bm25.py): exact for 0 to 60
    occurrences in the title and in the abstract, on the server's own ts_rank."""
    from paperradar.index.pg_bm25 import occurrences

    _, pg, _ = radars
    conn = pg.store.conn
    for title, abstract in [(0, 1), (1, 0), (1, 1), (2, 5), (3, 17), (7, 40), (20, 60)]:
        doc = ("setweight(to_tsvector('simple', repeat('w x ', ?::int)), 'A')"
               " || setweight(to_tsvector('simple', repeat('x w ', ?::int)), 'B')")
        in_title, in_both = conn.execute(
            f"SELECT ts_rank('{{0,0,0,1}}', d, 'w'::tsquery, 0), ts_rank('{{0,0,1,1}}', d, 'w'::tsquery, 0)"
            f" FROM (SELECT {doc} AS d) s", (title, abstract)).fetchone()
        assert (occurrences(in_title), occurrences(in_both) - occurrences(in_title)) == (title, abstract)


def test_bm25_ranks_short_titles_first_and_finds_a_pasted_abstract(radars) -> None:
    """What the BM25 reranking is for: a paper whose short title is the query beats a long title with the
    words; a pasted abstract (a question in mode any, only its rarest words picking the papers to score)
    finds its own paper first; a few common words bound the papers scored and keep the meaning."""
    from paperradar.index import pg_keyword

    sqlite, pg, _ = radars
    rows = _rows(pg, [h.rowid for h in pg.keyword.search(parse("learning"), limit=200)])
    titles = [r["title"] for r in rows]
    assert all(re.search(r"(?i)\blearn", r["title"] + r["abstract"] + " ".join(r["authors"])) for r in rows)
    assert sum(map(len, titles[:10])) / 10 < sum(map(len, titles[100:])) / len(titles[100:])
    target = _rows(pg, [pg.keyword.search(parse("diffusion"), limit=1)[0].rowid])[0]
    found = keyword_search(pg, target["abstract"], limit=3)
    assert found and found[0]["id"] == target["id"]
    assert keyword_search(sqlite, target["abstract"], limit=3)[0]["id"] == target["id"]
    old = pg_keyword.SCORED_MAX
    try:
        pg_keyword.SCORED_MAX = 50
        capped = pg.keyword.search(parse("model -graph"), limit=20)
    finally:
        pg_keyword.SCORED_MAX = old
    assert len(capped) == 20
    for row in _rows(pg, [h.rowid for h in capped]):
        text = _fold(row["title"] + " " + row["abstract"] + " " + " ".join(row["authors"]))
        assert re.search(r"\bmodel", text) and not re.search(r"\bgraph", text)
