"""The command line: help, --db / PAPERRADAR_DB, exit codes, show, stats, vote, concurrent reads."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter

import pytest
from conftest import BACKENDS, shared
from helpers import (  # noqa: F401  (fixtures are used by name)
    HF_DAILY,
    arxiv_lines,
    arxiv_record,
    arxiv_records,
    arxiv_slice,
    cli,
    cli_json,
    import_json,
    paper_count,
    run,
    show_json,
    stats_json,
)
from web_fixtures import quiet_main

from paperradar.importer import run_import
from paperradar.app import Radar
from paperradar.store import SQLiteStore

SUBCOMMANDS = ["import", "search", "show", "feed", "stats", "vote"]


# ---------------------------------------------------------------------------
# Help and usage errors


@pytest.mark.parametrize("args", [["--help"], *[[c, "--help"] for c in SUBCOMMANDS]], ids=lambda a: " ".join(a))
def test_help_exits_0(capsys, tmp_path, monkeypatch, args):
    monkeypatch.setenv("PAPERRADAR_DB", str(tmp_path / "papers.db"))
    rc, out, err = cli(capsys, *args)
    assert rc == 0, err
    assert out.startswith("usage: paperradar")
    if args[0] != "--help":
        assert f"paperradar {args[0]}" in out.splitlines()[0]


def test_help_in_a_subprocess_exits_0(tmp_path):
    proc = run("--help", db=tmp_path / "papers.db")
    assert proc.returncode == 0
    for command in SUBCOMMANDS:
        assert command.encode() in proc.stdout
    assert not (tmp_path / "papers.db").exists() or paper_count(tmp_path / "papers.db") == 0


@pytest.mark.parametrize(
    "args",
    [
        [],                                          # no subcommand
        ["frobnicate"],                              # unknown subcommand
        ["import", "--bogus", "x.jsonl"],            # unknown flag
        ["import"],                                  # no path
        ["import", "--format", "docx", "x"],         # unknown format
        ["feed", "--date", "2025-13-45"],            # bad date
        ["feed", "--date", "yesterday-ish"],
        ["feed", "--month", "2025-13"],              # bad month
        ["feed"],                                    # no period
        ["search", "llm", "--since", "2025/02/30"],  # bad date
        ["search", "llm", "--limit", "0"],
        ["search", "llm", "--offset", "-1"],
    ],
    ids=lambda a: " ".join(a) or "no-args",
)
def test_usage_errors_exit_2(capsys, tmp_path, args):
    rc, out, err = cli(capsys, "--db", tmp_path / "papers.db", *args)
    assert rc == 2
    assert "usage: paperradar" in err or "paperradar" in err


def test_usage_error_in_a_subprocess_has_no_traceback(tmp_path):
    proc = run("feed", "--date", "2025-02-30", db=tmp_path / "papers.db")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "--date" in err


# ---------------------------------------------------------------------------
# Where the database is: --db before or after the subcommand, PAPERRADAR_DB


@pytest.fixture
def listing(tmp_path):
    path = tmp_path / "listing.jsonl"
    path.write_bytes(arxiv_record("2506.00001") + arxiv_record("2506.00002"))
    return path


def test_db_before_the_subcommand(capsys, tmp_path, listing, monkeypatch):
    monkeypatch.delenv("PAPERRADAR_DB", raising=False)
    db = tmp_path / "before.db"
    rc, _, _ = cli(capsys, "--db", db, "import", "--no-embed", listing)
    assert rc == 0
    assert paper_count(db) == 2


def test_db_after_the_subcommand(capsys, tmp_path, listing, monkeypatch):
    monkeypatch.delenv("PAPERRADAR_DB", raising=False)
    db = tmp_path / "after.db"
    rc, _, _ = cli(capsys, "import", "--no-embed", listing, "--db", db)
    assert rc == 0
    assert paper_count(db) == 2
    assert cli_json(capsys, "stats", "--db", db)["papers"] == 2
    assert cli_json(capsys, "show", "2506.00001", "--db", db)["id"] == "2506.00001"


def test_db_from_environment_and_flag_wins(capsys, tmp_path, listing, monkeypatch):
    env_db = tmp_path / "env.db"
    monkeypatch.setenv("PAPERRADAR_DB", str(env_db))
    rc, _, _ = cli(capsys, "import", "--no-embed", listing)
    assert rc == 0
    assert paper_count(env_db) == 2
    assert cli_json(capsys, "stats")["papers"] == 2
    flag_db = tmp_path / "flag.db"
    assert cli_json(capsys, "--db", flag_db, "stats")["papers"] == 0
    assert paper_count(env_db) == 2


def test_db_from_environment_in_a_subprocess(tmp_path, listing):
    db = tmp_path / "env.db"
    proc = run("import", "--no-embed", listing, db=db)
    assert proc.returncode == 0, proc.stderr
    assert paper_count(db) == 2
    proc = run("stats", "--json", db=db)
    assert json.loads(proc.stdout)["papers"] == 2


def test_sqlite_url(capsys, tmp_path, listing):
    db = tmp_path / "url.db"
    rc, _, _ = cli(capsys, "--db", f"sqlite:///{db}", "import", "--no-embed", listing)
    assert rc == 0
    assert paper_count(db) == 2


@pytest.mark.parametrize("url", ["postgresql://user@localhost/papers", "postgres://localhost/papers"])
def test_postgresql_url_is_a_clear_usage_error(tmp_path, url):
    proc = run("--db", url, "stats", db=tmp_path / "unused.db")
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert "PostgreSQL" in err
    assert len(err.strip().splitlines()) == 1


def test_unknown_database_url_exit_2(capsys):
    rc, _, err = cli(capsys, "--db", "mysql://localhost/papers", "stats")
    assert rc == 2
    assert "mysql://localhost/papers" in err


def test_db_that_is_a_directory_is_a_clear_error(tmp_path):
    proc = run("--db", tmp_path, "stats", db=tmp_path / "unused.db")
    err = proc.stderr.decode()
    assert proc.returncode in (1, 2)
    assert "Traceback" not in err
    assert str(tmp_path) in err


def test_db_that_is_not_a_database_is_a_clear_error(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_text("these are my notes, not a database\n" * 10)
    proc = run("--db", junk, "stats", db=tmp_path / "unused.db")
    err = proc.stderr.decode()
    assert proc.returncode in (1, 2)
    assert "Traceback" not in err
    assert str(junk) in err
    assert junk.read_text().startswith("these are my notes")


def test_unwritable_report_path_is_a_clear_error(tmp_path, listing):
    report = tmp_path / "no" / "such" / "dir" / "rejects.jsonl"
    proc = run("import", "--no-embed", listing, "--report", report, db=tmp_path / "papers.db")
    err = proc.stderr.decode()
    assert proc.returncode in (1, 2)
    assert "Traceback" not in err
    assert str(report) in err


# ---------------------------------------------------------------------------
# show, stats, vote


@pytest.fixture(scope="module")
def loaded_pg(pg_server, arxiv_slice):
    """A PostgreSQL database with what ``loaded`` imports, imported once by the real command: a template
    each PostgreSQL test gets a copy of (an import into PostgreSQL takes seconds, a copy a fraction)."""
    name = pg_server.fresh_database()
    code, out = quiet_main("--db", pg_server.url(name), "import", "--no-embed", "--no-progress", arxiv_slice,
                           shared(HF_DAILY + "2025-03-18.json"))
    assert code == 0, out
    yield name
    pg_server.drop(name)


@pytest.fixture(params=BACKENDS)
def loaded(request, capsys, tmp_path, arxiv_slice):
    """A database with the arXiv slice and the HF daily file of 2025-03-18, on each backend: what --db takes."""
    if request.param == "postgresql":
        with request.getfixturevalue("pg_server").copy_of(request.getfixturevalue("loaded_pg")) as url:
            yield url
        return
    db = tmp_path / "papers.db"
    import_json(capsys, db, arxiv_slice, shared(HF_DAILY + "2025-03-18.json"))
    yield db


def test_show_text(capsys, loaded):
    rc, out, err = cli(capsys, "--db", loaded, "show", "2503.12885")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith("DreamRenderer: Taming Multi-Instance Attribute Control")
    assert lines[1] == "Dewei Zhou, Mingwei Li, Zongxin Yang, Yi Yang"
    assert "categories: cs.CV" in out and "upvotes: 21" in out
    assert "https://arxiv.org/abs/2503.12885" in out
    assert "sources: " in out and "arxiv-listing" in out and "hf-daily" in out


def test_show_json_shape(capsys, loaded):
    paper = show_json(capsys, loaded, "2503.12885v1")
    assert paper["id"] == "2503.12885"
    assert {"id", "title", "authors", "abstract", "categories", "date", "links", "upvotes", "sources"} <= set(paper)
    assert paper["upvotes"] == 21


@pytest.mark.parametrize("command", ["show", "vote"])
@pytest.mark.parametrize("paper_id", ["2599.99999", "hep-th/0000001", "nonsense id"])
def test_unknown_id_exit_1_with_clear_message(tmp_path, command, paper_id):
    db = tmp_path / "papers.db"
    proc = run(command, paper_id, db=db)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert "Traceback" not in err
    assert err.strip() == f"paperradar: no paper with id {paper_id!r}"


def test_stats_json(capsys, loaded, arxiv_records):
    stats = stats_json(capsys, loaded)
    assert {"papers", "by_source", "by_category", "date_range"} <= set(stats)
    hf_ids = {e["paper"]["id"] for e in json.loads(shared(HF_DAILY + "2025-03-18.json").read_bytes())}
    listing_ids = {r["arxiv_id"] for r in arxiv_records}
    assert stats["papers"] == len(listing_ids | hf_ids) == 2008
    assert stats["by_source"] == {"arxiv-listing": 2000, "hf-daily": 17}
    # Only the arXiv records have categories; each paper counts under its primary one.
    assert stats["by_category"] == dict(Counter(r["categories"][0] for r in arxiv_records))
    assert stats["date_range"] == {"first": "2025-03-18", "last": "2025-03-28"}


def test_stats_text(capsys, loaded):
    rc, out, _ = cli(capsys, "--db", loaded, "stats")
    assert rc == 0
    assert "papers: 2008" in out
    assert "2025-03-18" in out and "2025-03-28" in out


def test_stats_of_an_empty_database(capsys, tmp_path):
    stats = stats_json(capsys, tmp_path / "empty.db")
    assert stats["papers"] == 0
    assert stats["by_source"] == {} and stats["by_category"] == {}
    assert stats["date_range"] == {"first": None, "last": None}


def test_vote_up_and_down(capsys, loaded):
    """`vote` is the owner's one vote: again changes nothing, --down takes it back, HF's 21 stay."""
    db = loaded
    voted = {"id": "2503.12885", "upvotes": 22, "users": 1, "huggingface": 21, "voted": True}
    assert cli_json(capsys, "--db", db, "vote", "2503.12885") == voted
    assert cli_json(capsys, "--db", db, "vote", "2503.12885v1") == voted  # the same paper, the same voter
    assert show_json(capsys, db, "2503.12885")["upvotes"] == 22
    rc, out, _ = cli(capsys, "--db", db, "vote", "2503.12885", "--down")
    assert rc == 0 and out.strip() == "2503.12885: 21 upvotes (0 on this site, 21 on Hugging Face)"
    rc, out, _ = cli(capsys, "--db", db, "vote", "2503.12885", "--down")  # nothing left to take back
    assert rc == 0 and out.strip() == "2503.12885: 21 upvotes (0 on this site, 21 on Hugging Face)"
    paper = show_json(capsys, db, "2503.12885")
    assert paper["upvotes"] == 21
    assert [s["site"] for s in paper["upvote_sources"]] == ["huggingface"]


def test_vote_down_on_a_paper_without_votes_stays_at_zero(capsys, loaded, arxiv_records):
    pid = arxiv_records[7]["arxiv_id"]
    assert cli_json(capsys, "--db", loaded, "vote", pid, "--down") == {
        "id": pid, "upvotes": 0, "users": 0, "huggingface": 0, "voted": False}
    assert cli_json(capsys, "--db", loaded, "vote", pid)["upvotes"] == 1
    assert show_json(capsys, loaded, pid)["upvotes"] == 1


def test_votes_survive_a_reimport(capsys, loaded):
    cli(capsys, "--db", loaded, "vote", "2503.12885")
    import_json(capsys, loaded, shared(HF_DAILY + "2025-03-18.json"))
    assert show_json(capsys, loaded, "2503.12885")["upvotes"] == 22


def test_search_and_feed_after_import(capsys, loaded, arxiv_records):
    record = arxiv_records[10]
    title = " ".join(record["title"].split())
    hits = cli_json(capsys, "--db", loaded, "search", f'"{title}"')
    assert hits and hits[0]["id"] == record["arxiv_id"]
    feed = cli_json(capsys, "--db", loaded, "feed", "--date", "2025-03-18", "--limit", "3")
    entries = json.loads(shared(HF_DAILY + "2025-03-18.json").read_bytes())
    top = sorted(entries, key=lambda e: -e["paper"]["upvotes"])[:3]
    # Most upvoted first: the HF entries of that day lead the day's feed.
    assert [p["upvotes"] for p in feed] == [e["paper"]["upvotes"] for e in top]
    assert feed[0]["id"] == top[0]["paper"]["id"]


# ---------------------------------------------------------------------------
# Readers are never blocked by a writer (WAL)


def test_reads_succeed_while_a_write_transaction_is_open(capsys, tmp_path, arxiv_lines, arxiv_records):
    db = tmp_path / "papers.db"
    path = tmp_path / "first.jsonl"
    path.write_bytes(b"".join(arxiv_lines[:300]))
    import_json(capsys, db, path)
    record = arxiv_records[5]
    title = " ".join(record["title"].split())

    writer = sqlite3.connect(db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE papers SET title = 'Uncommitted' WHERE id = ?", (record["arxiv_id"],))
        writer.execute("DELETE FROM provenance")
        started = time.monotonic()
        for args in (
            ["search", f'"{title}"', "--json"],
            ["feed", "--date", record["listed"], "--json"],
            ["show", record["arxiv_id"], "--json"],
            ["stats", "--json"],
        ):
            proc = run(*args, db=db, timeout=25)
            assert proc.returncode == 0, (args, proc.stderr)
            out = json.loads(proc.stdout)
            if args[0] == "search":
                assert out[0]["id"] == record["arxiv_id"] and out[0]["title"] == title
            elif args[0] == "show":
                assert out["title"] == title and out["sources"]
            elif args[0] == "stats":
                assert out["papers"] == 300
            else:
                assert out
        assert time.monotonic() - started < 20  # nobody waited for the busy timeout (30 s)
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reads_succeed_during_an_import(capsys, tmp_path, arxiv_slice, arxiv_records):
    db = tmp_path / "papers.db"
    first = tmp_path / "first.jsonl"
    first.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in arxiv_records[:50]))
    import_json(capsys, db, first)
    title = " ".join(arxiv_records[3]["title"].split())

    writer_store = SQLiteStore(db)
    result: dict = {}

    def writer() -> None:
        # --strict: the whole import is one write transaction, the longest a reader could wait.
        result["summary"] = run_import(Radar(writer_store), [str(arxiv_slice)] * 3, strict=True, progress=False)

    thread = threading.Thread(target=writer)
    thread.start()
    reads_during_import = 0
    slowest = 0.0
    try:
        while thread.is_alive() or reads_during_import == 0:
            alive = thread.is_alive()
            started = time.monotonic()
            hits = cli_json(capsys, "--db", db, "search", f'"{title}"')
            feed = cli_json(capsys, "--db", db, "feed", "--date", "2025-03-18", "--limit", "5")
            slowest = max(slowest, time.monotonic() - started)
            assert hits and hits[0]["id"] == arxiv_records[3]["arxiv_id"]
            assert feed
            reads_during_import += alive and thread.is_alive()
            if not alive:
                break
    finally:
        thread.join(timeout=120)
        writer_store.close()
    assert reads_during_import >= 1
    assert slowest < 5
    assert result["summary"].new == 1950
    assert paper_count(db) == 2000


def test_a_database_from_a_newer_paperradar_is_one_line_not_a_traceback(tmp_path, capsys) -> None:
    import sqlite3

    from paperradar.cli import main
    from paperradar.store import open_store

    path = tmp_path / "newer.db"
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    assert main(["--db", str(path), "stats"]) == 2
    err = capsys.readouterr().err
    assert "newer than this paperradar supports" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
