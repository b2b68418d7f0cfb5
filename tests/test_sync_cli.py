"""`paperradar sync`: usage, --all, status, exit codes, --db placement, the scheduler."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from community_fixtures import location, opened
from conftest import ROOT
from helpers import cli
from sync_server import OAI_RECORDS, services, sync_config, write_config  # noqa: F401

from paperradar.store import Store
from paperradar.sync.config import load_config
from paperradar.app import Radar
from paperradar.sync.schedule import Scheduler, start_sync_schedule

SOURCES = ["arxiv", "arxiv-rss", "hf-daily", "status"]


@pytest.mark.parametrize("args", [["sync", "--help"], *[["sync", s, "--help"] for s in SOURCES]],
                         ids=lambda a: " ".join(a))
def test_help_exits_0(capsys, tmp_path, args):
    rc, out, _ = cli(capsys, "--db", tmp_path / "p.db", *args)
    assert rc == 0 and out.startswith(f"usage: paperradar {' '.join(args[:-1])}")


@pytest.mark.parametrize("args", [
    ["sync"],                                                    # nothing to sync
    ["sync", "--all", "arxiv", "--set", "cs"],                   # both
    ["sync", "--every", "5m"],                                   # --every without --all
    ["sync", "--all", "--every", "soon"],                        # bad interval
    ["sync", "arxiv"],                                           # none of --set/--ids/--query
    ["sync", "arxiv", "--set", "cs", "--ids", "1605.08386"],     # two of them
    ["sync", "arxiv", "--ids", "1605.08386", "--from", "2020-01-01"],
    ["sync", "arxiv", "--set", "cs", "--max-results", "5"],
    ["sync", "arxiv", "--set", "cs", "--from", "2020-02-01", "--until", "2020-01-01"],
    ["sync", "arxiv", "--set", "cs", "--from", "2020-02-30"],   # not a date
    ["sync", "arxiv", "--set", "cs", "--metadata-prefix", "oai_dc"],
    ["sync", "arxiv-rss"],                                       # no category
    ["sync", "hf-daily"],                                        # no day
    ["sync", "hf-daily", "--date", "2024-05-27", "--until", "2024-05-28"],
    ["sync", "hf-daily", "--since", "2024-05-28", "--until", "2024-05-27"],
    ["sync", "frobnicate"],
], ids=lambda a: " ".join(a))
def test_usage_errors_exit_2_and_fetch_nothing(capsys, tmp_path, sync_config, services, args):
    rc, _, err = cli(capsys, "--db", tmp_path / "p.db", *args, "--config", sync_config)
    assert rc == 2 and "paperradar" in err
    assert services.requests == []


def test_db_and_config_before_or_after_the_source(capsys, tmp_path, sync_config, services):
    db = tmp_path / "p.db"
    rc, out, _ = cli(capsys, "--db", db, "sync", "--no-embed", "--config", sync_config, "hf-daily", "--date", "2024-05-27")
    assert rc == 0 and "hf-daily date=2024-05-27: ok" in out
    rc, out, _ = cli(capsys, "sync", "--no-embed", "hf-daily", "--date", "2024-05-27", "--db", db, "--config", sync_config, "--json")
    assert rc == 0 and json.loads(out)[0]["unchanged"] > 0


def test_status_before_any_run(capsys, tmp_path, sync_config):
    rc, out, _ = cli(capsys, "--db", tmp_path / "p.db", "sync", "status", "--config", sync_config, "--json")
    assert rc == 0
    assert json.loads(out) == {"sources": {"arxiv-oai": None, "arxiv-api": None, "arxiv-rss": None, "hf-daily": None},
                               "open_harvests": []}
    rc, out, _ = cli(capsys, "--db", tmp_path / "p.db", "sync", "status", "--config", sync_config)
    assert rc == 0 and "arxiv-oai: never run" in out


@pytest.fixture
def db(store: Store) -> str:
    """What ``--db`` takes for a fresh database of each backend (conftest's ``store``)."""
    return location(store)


def test_all_runs_every_configured_source_and_a_failure_does_not_stop_the_others(capsys, tmp_path, services, db):
    config = write_config(
        tmp_path / "all.toml", services,
        top='sources = ["arxiv-oai", "arxiv-api", "arxiv-rss", "hf-daily"]',
        oai='sets = ["cs", "moo"]\nfrom = 2015-01-16',
        api='queries = ["testing"]\nmax_results = 10',
        rss='categories = ["cs.CL", "cs.LG"]',
        hf="days = 2",
    )
    services.fail_next("/rss", "status", times=3, code=502)  # the listing is down for good
    rc, out, err = cli(capsys, "--db", db, "sync", "--no-embed", "--all", "--config", config, "--json")
    assert rc == 1, err
    reports = json.loads(out)
    assert [(r["source"], r["status"]) for r in reports] == [
        ("arxiv-oai", "ok"), ("arxiv-oai", "ok"), ("arxiv-api", "ok"), ("arxiv-rss", "failed"), ("hf-daily", "ok")]
    assert reports[0]["new"] == OAI_RECORDS and reports[1]["records"] == 0
    assert "gave up after 3 tries: HTTP 502" in reports[3]["error"]
    assert reports[4]["pages"] == 2

    rc, out, _ = cli(capsys, "--db", db, "sync", "status", "--config", config, "--json")
    status = json.loads(out)
    assert status["sources"]["arxiv-rss"]["status"] == "failed"
    assert status["sources"]["arxiv-oai"]["request"]["set"] == "moo"  # the last run of the source
    rc, out, _ = cli(capsys, "--db", db, "sync", "status", "--config", config)
    assert "arxiv-rss: last run" in out and "error: " in out


# ---------------------------------------------------------------------------
# The scheduler


def test_the_scheduler_runs_at_once_then_on_schedule_and_survives_a_failing_run():
    calls: list[float] = []

    def job() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("boom")

    scheduler = Scheduler(job, every=0.1).start()
    deadline = time.monotonic() + 5
    while len(calls) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    scheduler.stop(timeout=5)
    assert not scheduler.running and len(calls) >= 4 and scheduler.failures == 1
    assert all(b - a >= 0.09 for a, b in zip(calls, calls[1:]))


def test_stop_wakes_a_waiting_scheduler_at_once():
    scheduler = Scheduler(lambda: None, every=3600).start()
    time.sleep(0.05)
    started = time.monotonic()
    scheduler.stop(timeout=5)
    assert not scheduler.running and time.monotonic() - started < 1 and scheduler.runs == 1


def test_start_sync_schedule_runs_sync_all_in_the_background(tmp_path, services, store):
    config = load_config(str(write_config(tmp_path / "c.toml", services, top='sources = ["hf-daily"]', hf="days = 1")))
    rounds: list[list[dict]] = []
    done = threading.Event()

    def on_reports(reports: list[dict]) -> None:
        rounds.append(reports)
        if len(rounds) == 2:
            done.set()

    scheduler = start_sync_schedule(Radar(store), config, every=0.2, on_reports=on_reports, embed=False)
    try:
        assert done.wait(20)
    finally:
        scheduler.stop(timeout=10)
    assert not scheduler.running
    assert [[r["status"] for r in rs] for rs in rounds[:2]] == [["ok"], ["ok"]]
    assert len(services.seen("/api/daily_papers")) >= 2


def test_stopping_the_schedule_stops_a_harvest_between_pages(tmp_path, services, store):
    config = load_config(str(write_config(tmp_path / "c.toml", services, top='sources = ["arxiv-oai"]',
                                          oai="from = 2015-01-16")))
    services.fail_next("/oai", "pass")
    services.fail_next("/oai", "block")  # page 2 is held while the scheduler is told to stop
    rounds: list[list[dict]] = []
    scheduler = start_sync_schedule(Radar(store), config, every=3600, on_reports=rounds.append, embed=False)
    assert services.blocked.wait(20)
    stopper = threading.Thread(target=scheduler.stop, kwargs={"timeout": 20})
    stopper.start()
    time.sleep(0.1)
    services.release.set()
    stopper.join(20)
    assert not scheduler.running
    ((report,),) = rounds
    assert report["status"] == "interrupted" and report["pages"] == 2
    assert len(services.seen("/oai")) == 2  # page 3 was never asked for; the next run resumes there


def test_sync_all_every_in_a_subprocess_prints_json_lines_until_interrupted(tmp_path, services):
    config = write_config(tmp_path / "c.toml", services, top='sources = ["hf-daily"]', hf="days = 1")
    env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "paperradar", "--db", str(tmp_path / "p.db"), "sync", "--no-embed", "--all", "--every", "0.5s",
         "--config", str(config), "--json"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    # Rounds run one after another: a third request means two rounds have finished and printed.
    while len(services.seen("/api/daily_papers")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    reports = [json.loads(line) for line in out.decode().splitlines()]  # JSON lines, one per run
    assert len(reports) >= 2 and {r["source"] for r in reports} == {"hf-daily"}
    assert [r["status"] for r in reports[:2]] == ["ok", "ok"]
    assert {r["status"] for r in reports} <= {"ok", "interrupted"}  # Ctrl-C may land in a round
    assert b"Traceback" not in err


def test_papers_a_sync_brings_are_embedded_and_findable_by_meaning(capsys, tmp_path, sync_config, services, db):
    rc, out, err = cli(capsys, "--db", db, "sync", "hf-daily", "--date", "2024-05-27", "--json")
    assert rc == 0, err
    with opened(db) as store:
        _findable_by_meaning(store)


def _findable_by_meaning(store: Store) -> None:
    from paperradar.rank.semantic import semantic_search

    radar = Radar(store)
    status = radar.embed_status()
    assert status["papers"] > 0 and status["embedded"] == status["papers"] and status["pending"] == 0
    paper = store.rows([1])[1]
    assert semantic_search(radar, paper["abstract"], limit=1)[0]["id"] == paper["id"]
