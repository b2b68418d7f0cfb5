"""`paperradar serve` as a real server: options, startup, Ctrl-C, and --sync in the background.

Each server test runs on both backends: over the web slice (``web_store.path``: the SQLite file, or the
PostgreSQL clone's URL) or over a fresh store (conftest's ``store``: ``--db`` is its ``path``)."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest
from helpers import cli, run
from sync_server import services, write_config  # noqa: F401
from web_fixtures import CSP, Server


def test_serve_answers_then_stops_on_ctrl_c(web_store) -> None:
    server = Server(web_store.path)
    try:
        status, headers, body = server.get("/")
        assert status == 200 and b"<h1>Papers of" in body
        assert headers["Content-Security-Policy"].startswith(CSP) and "Server" not in headers
        status, _, body = server.get("/api/daily_papers?date=2025-03-20")
        assert status == 200 and json.loads(body)[0]["paper"]["upvotes"] > 0
        assert server.get("/papers/2501.00000")[0] == 404
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "serving" in server.output() and "Traceback" not in server.output()


@pytest.mark.parametrize("args, message", [
    (["--every", "1h"], "--every goes with --sync"),
    (["--port", "70000"], "not a port number"),
    (["--port", "http"], "not a port number"),
])
def test_serve_usage_errors(capsys, tmp_path, args, message) -> None:
    code, _, err = cli(capsys, "--db", tmp_path / "p.db", "serve", *args)
    assert code == 2 and message in err


def test_serve_reports_a_busy_port(web_store) -> None:
    first = Server(web_store.path)
    try:
        port = first.base.rsplit(":", 1)[1]
        result = run("serve", "--port", port, db=web_store.path, timeout=60)
        assert result.returncode == 1, result.stderr.decode()
        assert b"cannot serve on 127.0.0.1:" + port.encode() in result.stderr
        assert b"Traceback" not in result.stderr
    finally:
        first.stop()


def test_serve_sync_imports_in_the_background_while_pages_answer(tmp_path, store, services) -> None:  # noqa: F811
    # the held request outlasts a slow start (a loaded machine): with the tests' 2 s timeout, the retry
    # could import before the server answers its first page
    config = write_config(tmp_path / "c.toml", services, top='sources = ["arxiv-rss"]', timeout=60)
    db = store.path
    services.fail_next("/rss", "block")  # hold the sync's request: pages must answer meanwhile
    server = Server(db, "--sync", "--every", "1h", "--config", str(config))
    try:
        assert services.blocked.wait(30), server.output()
        status, _, body = server.get("/api/stats")  # the sync is mid-request: reads are not blocked
        assert status == 200 and json.loads(body)["papers"] == 0
        assert server.get("/")[0] == 200
        services.release.set()
        deadline = time.monotonic() + 60
        papers = 0
        while papers == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            papers = json.loads(server.get("/api/stats")[2])["papers"]
        assert papers > 0, server.output()
        latest = json.loads(server.get("/api/feed")[2])  # the new papers are on the site, and searchable
        assert latest["total"] > 0
        paper = latest["papers"][0]
        query = f"/api/search?mode=keyword&q={quote(paper['title'])}"
        found: list[str] = []
        while paper["id"] not in found and time.monotonic() < deadline:
            found = [p["id"] for p in json.loads(server.get(query)[2])["papers"]]
            time.sleep(0.1)
        assert paper["id"] in found, server.output()
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "syncing every 3600 s" in server.output() and "arxiv-rss" in server.output()


def test_serve_embed_makes_vectors_in_the_background(tmp_path, store) -> None:
    from helpers import read_arxiv_lines
    from web_fixtures import quiet_main

    data = tmp_path / "papers.jsonl"
    data.write_bytes(b"".join(read_arxiv_lines(60)))
    db = store.path
    code, output = quiet_main("--db", db, "import", data, "--no-embed", "--no-progress")
    assert code == 0, output
    paper = json.loads(read_arxiv_lines(1)[0])["arxiv_id"]
    server = Server(db, "--embed")
    try:
        assert server.get("/")[0] == 200  # the site is up while vectors are made
        deadline = time.monotonic() + 120
        similar: dict = {}
        while time.monotonic() < deadline and not similar.get("embedded"):
            similar = json.loads(server.get(f"/api/papers/{paper}/similar")[2])
            time.sleep(0.2)
        assert similar["embedded"] and len(similar["papers"]) == 10, server.output()
        while time.monotonic() < deadline and "embedded 60 papers" not in server.output():
            time.sleep(0.1)
    finally:
        assert server.stop() == 0, server.output()
    assert "embedding 60 papers in the background" in server.output()
    assert "embedded 60 papers" in server.output()
