"""Fixtures for the web tests: the real slice database (slice_db.py) served in-process,
and a database of hostile records (markup, TeX, quotes, slashes) for the escaping tests."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import slice_db
from fastapi.testclient import TestClient

from paperradar.app import Radar
from paperradar.cli import main
from paperradar.store import SQLiteStore, on_server, open_store
from paperradar.web import create_app

CSP = "default-src 'self'; script-src 'self'; style-src 'self'"

HOSTILE = [
    {"arxiv_id": "2503.99901", "title": "<script>alert('t')</script> & Co: $x<y$ </textarea><b>bold</b>",
     "abstract": "Abstract with <img src=x onerror=alert(1)> and &amp; and $\\text{<script>}$ and "
                 "$\\href{javascript:alert(1)}{click}$ and {{ 7*7 }} and a lone { brace",
     "authors": ['Eve "Quote" <Evil>', "Mallory/Slash", "José Ñúñez"], "categories": ["cs.CR"],
     "listed": "2025-03-19"},
    {"arxiv_id": "2503.99902", "title": "Price of $5 and $10 % # & {unbalanced",
     "abstract": "We pay $4 per test; $O(n \\log n)$ time; display $$\\sum_{i=1}^n i$$.\n\n  A new paragraph "
                 "with \\emph{emphasis} and a bad formula $\\frac{a}{$ end.",
     "authors": ["José Ñúñez"], "categories": ["cs.CR"], "listed": "2025-03-19"},
]


def quiet_main(*args: Any) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue() + err.getvalue()


WEB_BACKENDS = ["sqlite", "postgresql"]  # every test of web_store / client / community runs on each

EMBEDDED = 160  # papers given vectors: the first imported (the slice's first day); the rest have none


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> slice_db.SliceDB:
    """The slice of real data (3,000 arXiv papers, four HF days) plus two hostile papers; the first
    EMBEDDED papers have vectors (the real model), so similar papers work for them and not for the rest."""
    tmp = tmp_path_factory.mktemp("web")
    db = slice_db.build(tmp)  # imported without embedding: all 3,000 would take most of a minute
    hostile = tmp / "hostile.jsonl"
    hostile.write_text("".join(json.dumps(r) + "\n" for r in HOSTILE), encoding="utf-8")
    code, output = quiet_main("--db", db.path, "import", hostile, "--no-progress", "--no-embed")
    assert code == 0, output
    store = open_store(str(db.path))
    try:
        assert Radar(store).refresh(embed=True, limit=EMBEDDED).embedding.embedded == EMBEDDED
    finally:
        store.close()
    return db


@pytest.fixture(scope="session")
def pg_slice(web_db: slice_db.SliceDB, pg_server: Any) -> str:
    """The name of a PostgreSQL database holding the web slice, moved in by the real ``paperradar copy``,
    its text and vector indexes made (first use). A template: nobody stays connected to it, so each
    PostgreSQL site is a copy of it (``CREATE DATABASE ... TEMPLATE``)."""
    name = "web_slice"
    pg_server.drop(name)
    pg_server._sql(f"CREATE DATABASE {name}")
    code, output = quiet_main("copy", "--to", pg_server.url(name), "--from", web_db.path, "--no-progress")
    assert code == 0, output
    store = open_store(pg_server.url(name))
    try:
        radar = Radar(store)
        radar.keyword  # noqa: B018  (the tsvector column and its GIN index: made on first use)
        radar.vectors.refresh()  # the halfvec copies and their HNSW index
    finally:
        store.dispose()  # type: ignore[attr-defined]
    return name


@pytest.fixture(scope="session", params=WEB_BACKENDS)
def web_store(request: pytest.FixtureRequest, web_db: slice_db.SliceDB) -> Iterator[SQLiteStore]:
    """The web slice's store on each backend: the SQLite file, or a PostgreSQL copy of :func:`pg_slice`.
    ``web_store.path`` is what ``--db`` takes for the same data (a file path, or the URL without its password:
    the embedded server needs none)."""
    if request.param == "postgresql":
        with request.getfixturevalue("pg_server").copy_of(request.getfixturevalue("pg_slice")) as url:
            pg = open_store(url)
            yield pg  # type: ignore[misc]
            pg.dispose()  # type: ignore[attr-defined]
        return
    store = open_store(str(web_db.path))
    yield store
    store.close()


def on_postgresql(store: Any) -> bool:
    """Whether ``store`` (a :func:`web_store`) is the PostgreSQL one."""
    return on_server(str(store.path))


def copy_db(web_db: slice_db.SliceDB, target: Path) -> Path:
    """The web tests' database and its index folders, copied into ``target``."""
    source = Path(web_db.path)
    target.mkdir(parents=True, exist_ok=True)
    for item in source.parent.iterdir():
        if item.name.startswith(source.name) or item.is_dir():
            dest = target / item.name
            if item.is_dir():
                shutil.copytree(item, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(item, dest)
    return target / source.name


@contextmanager
def database_on(request: pytest.FixtureRequest, web_db: slice_db.SliceDB, folder: Path,
                backend: str | None = None) -> Iterator[Path | str]:
    """A copy of the web slice on ``backend`` (the fixture's param by default), dropped afterwards: the
    SQLite file copied into ``folder``, or a PostgreSQL copy of web_fixtures.pg_slice; what ``--db`` takes."""
    backend = backend or request.param
    if backend == "postgresql":
        with request.getfixturevalue("pg_server").copy_of(request.getfixturevalue("pg_slice")) as url:
            yield url
        return
    yield copy_db(web_db, folder)


@pytest.fixture
def web_copy(request: pytest.FixtureRequest, web_store: SQLiteStore, web_db: slice_db.SliceDB,
             tmp_path: Path) -> Iterator[str]:
    """A private copy of the web slice on :func:`web_store`'s backend, for a test whose server writes to it
    (``serve --embed``): its ``--db`` (:func:`database_on`)."""
    backend = "postgresql" if on_postgresql(web_store) else "sqlite"
    with database_on(request, web_db, tmp_path / "copy", backend) as where:
        yield str(where)


@pytest.fixture(scope="session")
def client(web_store: SQLiteStore) -> Iterator[TestClient]:
    with TestClient(create_app(Radar(web_store)), follow_redirects=False) as c:
        yield c


def embedded_ids(store: SQLiteStore) -> list[str]:
    """Ids of the papers that have vectors, in rowid order."""
    import numpy as np

    rowids = [r[0] for r in store.conn.execute("SELECT rowid FROM papers ORDER BY rowid LIMIT 400")]
    keys, _ = Radar(store).vectors.get(np.array(rowids, dtype=np.int64))
    rows = store.rows([int(k) for k in keys])
    return [rows[int(k)]["id"] for k in sorted(keys)]


def alternate(html: str, kind: str) -> str | None:
    """The href of the page's <link rel="alternate" type=kind>."""
    m = re.search(rf'<link rel="alternate" type="{re.escape(kind)}"[^>]*href="([^"]+)"', html)
    return m.group(1).replace("&amp;", "&") if m else None


class _InlineCode(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, styles, event handlers, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{name}= attribute on <{tag}>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("script with a body")


def assert_no_inline_code(html: str) -> None:
    """What the CSP would block anyway, and what must never be on a page: inline script or style."""
    parser = _InlineCode()
    parser.feed(html)
    parser.close()
    assert not parser.problems, parser.problems


class Server:
    """``paperradar serve`` in a subprocess on a free port (``--port 0``); ``base`` is its address."""

    def __init__(self, db: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> None:
        import os
        import subprocess
        import sys
        import threading
        import time

        from conftest import ROOT

        full_env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
        full_env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperradar", "--db", str(db), "serve", "--port", "0", *args],
            cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        found = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line)
                if re.search(r"at http://127\.0\.0\.1:\d+/", line):
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.is_set() and self.proc.poll() is None and time.monotonic() < deadline:
            found.wait(0.1)
        if not found.is_set():
            self.stop()
            raise AssertionError("server did not start:\n" + "".join(self.lines))
        m = next(re.search(r"(http://127\.0\.0\.1:\d+)/", line) for line in self.lines if "at http://" in line)
        assert m is not None
        self.base = m.group(1)

    def get(self, path: str) -> tuple[int, Any, bytes]:
        import urllib.error
        import urllib.request

        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(self.base + path, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def stop(self) -> int:
        """Ctrl-C, then the exit code."""
        import signal
        import subprocess

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return "".join(self.lines)


def asgi_get(app: Any, path: str, query: bytes) -> tuple[int, dict[str, str], bytes]:
    """A GET straight through the ASGI app, for a query string longer than HTTP clients build (httpx caps
    URLs at 64 KiB): (status, headers, body)."""
    import asyncio

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query,
             "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body
