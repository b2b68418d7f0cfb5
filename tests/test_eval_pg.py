"""``paperradar eval csfcube`` on PostgreSQL: with a PostgreSQL ``--db`` the corpus goes into a temporary
database made on that server (and dropped), so both backends' rankings can be measured on the same set."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from helpers import cli
from test_eval_csfcube import small_set  # noqa: F401  (the fixture: 3 real CSFCube queries and their pools)


def _eval_databases(pg_server) -> list[str]:  # type: ignore[no-untyped-def]
    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'paperradar_eval_%'")]


def test_eval_csfcube_runs_on_postgres_in_a_database_of_its_own(small_set: Path, pg_server, capsys) -> None:  # noqa: F811
    before = _eval_databases(pg_server)
    rc, out, err = cli(capsys, "eval", "csfcube", small_set, "--json", "--no-facets", "--db", pg_server.url("postgres"))
    assert rc == 0, err
    on_pg = json.loads(out)
    rc, out, err = cli(capsys, "eval", "csfcube", small_set, "--json", "--no-facets", "--db", small_set / "unused.db")
    assert rc == 0, err
    on_sqlite = json.loads(out)
    assert on_pg["queries"] == on_sqlite["queries"] == 3
    assert list(on_pg["rankings"]) == ["hybrid", "keyword", "semantic"]
    for name, r in on_pg["rankings"].items():
        assert 0.0 < r["ndcg20"] <= 1.0 and 0.0 < r["map"] <= 1.0, name
    # The same vectors scored exactly on both: semantic ranking agrees (ties aside).
    assert abs(on_pg["rankings"]["semantic"]["ndcg20"] - on_sqlite["rankings"]["semantic"]["ndcg20"]) < 0.02
    assert _eval_databases(pg_server) == before  # dropped when done
    with psycopg.connect(pg_server.url("postgres")) as conn:
        assert conn.execute("SELECT to_regclass('public.papers')").fetchone()[0] is None  # the named database untouched


def test_eval_on_a_postgres_database_that_cannot_be_reached_says_so(small_set: Path, pg_server, capsys) -> None:  # noqa: F811
    rc, _, err = cli(capsys, "eval", "csfcube", small_set, "--no-facets",
                     "--db", pg_server.url("no_such_database").replace("postgres:", "postgres:secret", 1))
    assert rc == 1
    assert len(err.strip().splitlines()) == 1 and "cannot make a temporary database" in err and "secret" not in err
