"""A harvest killed (SIGKILL) after page 1 and restarted imports each record exactly once.

The CLI runs in a subprocess against the local server (tests/sync_server.py,
real OAI pages chained by rewritten resumption tokens). The server holds the
request for page 2, which the harvester only sends after page 1 is imported
and its token stored; the test then kills the process with SIGKILL, so
nothing gets a chance to clean up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from community_fixtures import location, opened
from conftest import ROOT
from helpers import run
from sync_server import OAI_RECORDS, services, write_config  # noqa: F401

WINDOW = ("--from", "2015-01-16", "--until", "2015-01-18")


def test_a_harvest_killed_after_page_1_resumes_and_imports_each_record_once(tmp_path, services, store):
    db = location(store)  # a fresh database of each backend (conftest's store)
    config = write_config(tmp_path / "sync.toml", services)
    services.fail_next("/oai", "pass")  # page 1
    services.fail_next("/oai", "block")  # page 2: held until the client is dead
    args = [sys.executable, "-m", "paperradar", "--db", str(db), "sync", "--no-embed", "arxiv", "--set", "cs", *WINDOW,
            "--config", str(config), "--json"]
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    env.pop("PAPERRADAR_DB", None)
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert services.blocked.wait(30), "the harvester never asked for page 2"
        with opened(db) as seen:  # page 1 is stored and recorded before page 2 is asked for
            assert tuple(seen.conn.execute("SELECT pages, token FROM oai_harvests").fetchone()) == (1, "tok-1")
            assert seen.conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0] == 6
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    services.release.set()

    status = json.loads(run("sync", "status", "--json", "--config", config, db=db, env=env).stdout)
    assert status["sources"]["arxiv-oai"]["status"] == "interrupted"
    assert [h["token"] for h in status["open_harvests"]] == ["tok-1"]

    first_requests = len(services.seen("/oai"))
    started = time.monotonic()
    again = run("sync", "--no-embed", "arxiv", "--set", "cs", *WINDOW, "--config", config, "--json", db=db, env=env)
    assert again.returncode == 0, again.stderr.decode()
    assert time.monotonic() - started < 30
    (report,) = json.loads(again.stdout)
    resumed = [r.params for r in services.seen("/oai")[first_requests:]]
    assert resumed == [{"verb": "ListRecords", "resumptionToken": "tok-1"},
                       {"verb": "ListRecords", "resumptionToken": "tok-2"}]  # not from scratch
    assert (report["status"], report["new"], report["unchanged"]) == ("ok", OAI_RECORDS - 6, 0)
    assert b"resuming an interrupted harvest at page 2" in again.stderr

    with opened(db) as seen:
        conn = seen.conn
        assert tuple(conn.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM papers").fetchone()) == (OAI_RECORDS, OAI_RECORDS)
        assert conn.execute("SELECT COUNT(*) FROM provenance").fetchone()[0] == OAI_RECORDS
        assert [tuple(r) for r in conn.execute("SELECT status, pages, records FROM oai_harvests")] == [
            ("done", 3, OAI_RECORDS)]
        new_total = conn.execute("SELECT SUM(new) FROM sync_runs WHERE source = 'arxiv-oai'").fetchone()[0]
    assert new_total == OAI_RECORDS  # each record was new exactly once across the two runs

    search = run("search", "Reproducing Kernel Banach Spaces", "--json", db=db, env=env)
    assert json.loads(search.stdout)[0]["id"] == "1101.4388"  # the index caught up after the kill
