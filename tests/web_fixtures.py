"""Fixtures for the web tests: the real slice database (slice_db.py) served in-process,
and a database of hostile records (markup, TeX, quotes, slashes) for the escaping tests."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest
import slice_db
from fastapi.testclient import TestClient

from paperradar.cli import main
from paperradar.store import SQLiteStore, open_store
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


EMBEDDED = 160  # papers given vectors: the first imported (the slice's first day); the rest have none


def _without_embedding(argv: list[str]) -> int:
    return main([*argv, "--no-embed"] if "import" in argv else argv)


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> slice_db.SliceDB:
    """The slice of real data (3,000 arXiv papers, four HF days) plus two hostile papers; the first
    EMBEDDED papers have vectors (the real model), so similar papers work for them and not for the rest."""
    from paperradar.index.embed import embed_pending

    tmp = tmp_path_factory.mktemp("web")
    real_main = slice_db.main
    slice_db.main = _without_embedding  # embedding all 3,000 would take most of a minute
    try:
        db = slice_db.build(tmp)
    finally:
        slice_db.main = real_main
    hostile = tmp / "hostile.jsonl"
    hostile.write_text("".join(json.dumps(r) + "\n" for r in HOSTILE), encoding="utf-8")
    code, output = quiet_main("--db", db.path, "import", hostile, "--no-progress", "--no-embed")
    assert code == 0, output
    store = open_store(str(db.path))
    try:
        assert embed_pending(store, limit=EMBEDDED).embedded == EMBEDDED
    finally:
        store.close()
    return db


@pytest.fixture(scope="session")
def web_store(web_db: slice_db.SliceDB) -> Iterator[SQLiteStore]:
    store = open_store(str(web_db.path))
    yield store
    store.close()


@pytest.fixture(scope="session")
def client(web_store: SQLiteStore) -> Iterator[TestClient]:
    with TestClient(create_app(web_store), follow_redirects=False) as c:
        yield c


def embedded_ids(store: SQLiteStore) -> list[str]:
    """Ids of the papers that have vectors, in rowid order."""
    from paperradar.index.embed import vector_index

    import numpy as np

    rowids = [r[0] for r in store.conn.execute("SELECT rowid FROM papers ORDER BY rowid LIMIT 400")]
    keys, _ = vector_index(store).get(np.array(rowids, dtype=np.int64))
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
