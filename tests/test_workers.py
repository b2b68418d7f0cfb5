"""``serve --workers N`` and the job locks that let one process at a time run a background job.

Real parts only: the job lock on both backends (a second holder in this process, and a holder
process killed with SIGKILL); schedulers sharing one database; and a real ``paperradar serve
--workers 3 --sync`` against the local fixture services and a real aiosmtpd, whose three workers
make one sync round and one digest round between them, answer requests from several processes, and
accept a session made on one worker on the others; on both backends.
"""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from typing import Any

import psutil
import pytest
from community_fixtures import location, opened
from conftest import ROOT, shared
from sync_server import services, write_config  # noqa: F401 - services is a fixture
from test_mail_send import SENDER, free_port, server, url  # noqa: F401 - server is a fixture
from web_fixtures import Server, quiet_main

from paperradar import accounts
from paperradar.mail.subscribers import subscribe
from paperradar.model import Paper
from paperradar.store import Store, open_store
from paperradar.store.job_lock import job_lock
from paperradar.sync.schedule import Scheduler, Shared

HF_DAY = "2025-03-20"


# -- the job lock, on both backends ------------------------------------------------------------


def test_a_second_holder_is_refused_until_the_first_lets_go(store) -> None:
    first, second = job_lock(store, "sync"), job_lock(store, "sync")
    assert first.acquire()
    assert not second.acquire()  # another connection / open file: refused at once, not waited for
    assert not first.acquire()  # not re-entrant either
    with job_lock(store, "digests").hold() as other:
        assert other  # another name is another lock
    first.release()
    with second.hold() as got:
        assert got
        assert not job_lock(store, "sync").acquire()
    assert job_lock(store, "sync").acquire()


HOLDER = """
import sys, time
from paperradar.store import open_store
from paperradar.store.job_lock import job_lock
lock = job_lock(open_store(sys.argv[1]), "sync")
assert lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_holders_lock_is_free_again(store) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, location(store)], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        lock = job_lock(store, "sync")
        assert not lock.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 20  # PostgreSQL ends the session once it sees the connection close
        while not lock.acquire() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.held
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_schedulers_sharing_a_database_make_one_round(store) -> None:
    runs: list[str] = []

    def job(name: str) -> Any:
        def run() -> None:
            runs.append(name)
            time.sleep(0.3)  # long enough for the others to find the lock taken
        return run

    generation = Shared(store, "sync").generation
    schedulers = [Scheduler(job(f"w{i}"), 3600, shared=Shared(store, "sync", generation)) for i in range(3)]
    for s in schedulers:
        s.start()
    try:
        _until(lambda: all(s.runs + s.skipped > 0 for s in schedulers))
        assert len(runs) == 1 and sum(s.skipped for s in schedulers) == 2
        assert all(s.failures == 0 for s in schedulers)
        late = Scheduler(job("late"), 3600, shared=Shared(store, "sync", generation)).start()  # a worker restarted
        _until(lambda: late.runs + late.skipped > 0)
        fresh = Scheduler(job("fresh"), 3600, shared=Shared(store, "sync")).start()  # a new serve
        _until(lambda: fresh.runs + fresh.skipped > 0)
        late.stop(5)
        fresh.stop(5)
    finally:
        for s in schedulers:
            s.stop(timeout=5)
    assert late.runs == 0 and late.skipped == 1  # a worker of the same serve: the round was made
    assert runs[0].startswith("w") and runs[1:] == ["fresh"]  # a new serve makes its first round at once


def _until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_submission_is_once_a_paper_and_day_in_one_transaction(store) -> None:
    paper = Paper(title="A paper", abstract="About it.", authors=["A. Author"], categories=["cs.LG"],
                  id="2501.00001", arxiv_id="2501.00001", published="2025-01-01", source="test")
    store.merge([paper], "test")
    day = date.today().isoformat()
    assert store.add_featured("2501.00001", day, "local", submitted_by="1", only_new=True)
    assert not store.add_featured("2501.00001", day, "local", submitted_by="2", only_new=True)
    rowid = store.get("2501.00001")["rowid"]
    (featured,) = store.featured_of([rowid])[rowid]
    assert featured.submitted_by == "1"  # the second submitter changed nothing


# -- serve --workers 3 --sync: one sync round, one digest round, sessions across workers --------------


@pytest.fixture
def site_db(store: Store) -> str:
    """A database of one real Hugging Face day, two of its papers on today's list (so that today's
    digests have papers), three confirmed subscribers and an account with a password; on each backend
    (conftest's ``store``): what ``--db`` takes."""
    db = location(store)
    code, output = quiet_main("--db", db, "import", shared(f"data/hf-daily-papers/{HF_DAY}.json"),
                              "--no-progress", "--no-embed")
    assert code == 0, output
    try:
        listed, _ = store.feed(HF_DAY, HF_DAY)
        for row in listed[:2]:
            store.add_featured(row["id"], date.today().isoformat(), "local")
        for i in range(3):
            subscribe(store, f"reader{i}@example.org", confirmed=True)
        store.add_user("ada@example.org", name="Ada", password_hash=accounts.hash_password(PASSWORD))
    finally:
        store.close()  # this thread's connection: the server's processes are the ones using the database
    return db


def rows(db: str, sql: str) -> list[tuple]:
    """A query's rows, read through a store of its own (on either backend)."""
    with opened(db) as store:
        return [tuple(r) for r in store.conn.execute(sql).fetchall()]


PASSWORD = "correct horse battery staple"


def test_three_workers_sync_once_send_each_digest_once_and_share_sessions(
        site_db, tmp_path, services, server) -> None:  # noqa: F811 - the fixtures, by name
    controller, inbox = server
    config = write_config(tmp_path / "c.toml", services, top='sources = ["hf-daily"]', hf="days = 1")
    config.write_text(config.read_text() + "\n[mail]\nsend_hour = 0\nrate = 0\n", encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Server(site_db, "--port", str(port), "--workers", "3", "--sync", "--every", "1h",
                   "--config", str(config), "--base-url", base,
                   env={"PAPERRADAR_SMTP_URL": url(controller), "PAPERRADAR_MAIL_FROM": SENDER}, timeout=120)
    try:
        workers = _workers(serve.proc.pid, 3)
        cookie, signed_in_by = _sign_in(port, workers)
        seen = {signed_in_by}
        for _ in range(300):  # fresh connections until every worker answered (the kernel picks one)
            status, body, pid = _get(port, "/api/me", workers, cookie)
            assert status == 200 and b"ada@example.org" in body, (status, body[:300])
            seen.add(pid)
            if len(seen) == 3:
                break
        assert len(seen) >= 2, f"every answer came from worker {seen}"  # the session is valid on another
        deadline = time.monotonic() + 60
        while len(inbox.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        _wait_for_every_first_tick(serve, site_db)
    finally:
        code = serve.stop()
    output = serve.output()
    assert code == 0, output
    assert inbox.per_recipient() == {f"reader{i}@example.org": 1 for i in range(3)}, output
    runs = rows(site_db, "SELECT source, pid FROM sync_runs")
    mails = rows(site_db, "SELECT kind, state, COUNT(*) FROM outbox GROUP BY kind, state")
    assert len(runs) == 1 and runs[0][0] == "hf-daily" and runs[0][1] in workers, (runs, output)
    assert len(services.seen("/api/daily_papers")) == 1
    assert mails == [("digest", "sent", 3)], mails
    assert output.count("digests made for") == 1, output
    assert "with 3 workers" in output and "Traceback" not in output and "leaked" not in output


def _workers(parent: int, n: int) -> list[int]:
    """The pids of the serve's worker processes (uvicorn starts them with multiprocessing's spawn)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        kids = [p for p in psutil.Process(parent).children() if "spawn_main" in " ".join(p.cmdline())]
        if len(kids) >= n:
            return [p.pid for p in kids]
        time.sleep(0.1)
    raise AssertionError("the workers did not start")


def _answered_by(conn: http.client.HTTPConnection, workers: list[int]) -> int:
    """Which worker holds the other end of this (still open) connection."""
    mine = conn.sock.getsockname()[1]
    for pid in workers:
        for c in psutil.Process(pid).net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == mine:
                return pid
    raise AssertionError("no worker holds the connection")


def _get(port: int, path: str, workers: list[int], cookie: str) -> tuple[int, bytes, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        return response.status, body, _answered_by(conn, workers)
    finally:
        conn.close()


def _sign_in(port: int, workers: list[int]) -> tuple[str, int]:
    """Sign in through /login on whichever worker answers: the session cookie, and that worker."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        form = f"email=ada%40example.org&password={PASSWORD.replace(' ', '+')}"
        conn.request("POST", "/login", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{port}"})
        response = conn.getresponse()
        response.read()
        assert response.status == 303, response.status
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        assert cookie.startswith("paperradar_session="), cookie
        return cookie, _answered_by(conn, workers)
    finally:
        conn.close()


def _wait_for_every_first_tick(serve: Server, db: str) -> None:
    """Until each worker's sync and mail threads have had their first look (a sync round in the store,
    the day's digests stamped, and a few seconds for the others' looks, which skip)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        [(stamped,)] = rows(db, "SELECT COUNT(*) FROM meta WHERE key IN ('schedule:sync', 'schedule:digests')")
        [(finished,)] = rows(db, "SELECT COUNT(*) FROM sync_runs WHERE finished_at IS NOT NULL")
        if stamped == 2 and finished:
            break
        time.sleep(0.2)
    time.sleep(3)  # the other workers' first looks, which must find the rounds made


def test_serve_embed_leaves_the_embedding_to_the_process_holding_its_lock(tmp_path, capsys) -> None:
    from paperradar.app import Radar
    from paperradar.cli.serve import _start_embedding

    store = open_store(str(tmp_path / "p.db"))
    store.merge([Paper(title="A paper", abstract="About it.", authors=["A. Author"], categories=["cs.LG"],
                       id="2501.00001", arxiv_id="2501.00001", published="2025-01-01", source="test")], "test")
    radar = Radar(store)
    try:
        with job_lock(store, "embed").hold() as got:  # another worker is embedding
            assert got
            _start_embedding(radar)
            assert radar.embedding is None and "embedding" not in capsys.readouterr().err
            assert not any(t.name == "paperradar-embed" for t in threading.enumerate())
        assert job_lock(store, "embed").acquire()  # and this one took nothing it kept
    finally:
        store.close()
