"""Helpers for the end-to-end tests: real-data slices, running the CLI, reading the DB.

The CLI runs in-process (``paperradar.cli.main``) where output capture is
enough, and as a subprocess (``python -m paperradar``) where stdin, exit
codes or the absence of a traceback matter. Every test gets its own SQLite
file under ``tmp_path``; nothing here ever touches the user's default DB.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, shared

from paperradar.app import Radar
from paperradar.cli import main
from paperradar.store import open_store

ARXIV = "data/arxiv/arxiv-2025-2026.jsonl.gz"
HF_DAILY = "data/hf-daily-papers/"
HF_PAGES = "data/hf-papers-pages/"
FIXTURES = "fixtures/"
CSFCUBE = "eval/csfcube-dev/corpus.jsonl"

SLICE_LINES = 2000


def read_arxiv_lines(n: int) -> list[bytes]:
    """The first ``n`` raw lines of the shared arXiv listing file."""
    out: list[bytes] = []
    with gzip.open(shared(ARXIV), "rb") as f:
        for line in f:
            out.append(line)
            if len(out) >= n:
                break
    return out


@pytest.fixture(scope="session")
def arxiv_lines() -> list[bytes]:
    return read_arxiv_lines(SLICE_LINES)


@pytest.fixture(scope="session")
def arxiv_records(arxiv_lines: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in arxiv_lines]


@pytest.fixture(scope="session")
def arxiv_slice(tmp_path_factory: pytest.TempPathFactory, arxiv_lines: list[bytes]) -> Path:
    """The first 2,000 lines of the arXiv listing file as a .jsonl.gz (written once)."""
    path = tmp_path_factory.mktemp("slice") / "arxiv-slice.jsonl.gz"
    with gzip.open(path, "wb") as f:
        f.writelines(arxiv_lines)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    """Run ``paperradar ARGS`` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:  # argparse: --help, usage errors
        rc = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return rc, out, err


def cli_json(capsys: pytest.CaptureFixture[str], *args: Any, rc: int = 0) -> Any:
    """Run a command with --json in-process and return the parsed output."""
    code, out, err = cli(capsys, *args, "--json")
    assert code == rc, (code, out, err)
    return json.loads(out)


def import_json(capsys: pytest.CaptureFixture[str], db: Path, *paths: Any, rc: int = 0, extra: tuple = ()) -> dict:
    """``paperradar --db DB import PATHS --json`` in-process; the summary."""
    return cli_json(capsys, "--db", db, "import", "--no-embed", *extra, *paths, rc=rc)


def show_json(capsys: pytest.CaptureFixture[str], db: Path, paper_id: str) -> dict:
    return cli_json(capsys, "--db", db, "show", paper_id)


def stats_json(capsys: pytest.CaptureFixture[str], db: Path) -> dict:
    return cli_json(capsys, "--db", db, "stats")


def run(*args: Any, db: Path | None = None, stdin: bytes | None = None, env: dict | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """``python -m paperradar ARGS`` in a subprocess (bytes in and out)."""
    full_env = {k: v for k, v in os.environ.items() if k != "PAPERRADAR_DB"}
    if db is not None:
        full_env["PAPERRADAR_DB"] = str(db)  # never the user's default database
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "paperradar", *(str(a) for a in args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=full_env,
        cwd=ROOT,
        timeout=timeout,
    )


def paper_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])


def db_dump(db: Path) -> dict[str, Any]:
    """Every table's content that describes papers, for exact comparisons."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        papers = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM papers ORDER BY id")}
        provenance = sorted(
            tuple(r) for r in conn.execute(
                "SELECT p.id, v.source, v.origin, v.first_seen, v.last_changed FROM provenance v"
                " JOIN papers p ON p.rowid = v.paper"
            )
        )
        upvotes = sorted(
            tuple(r) for r in conn.execute(
                "SELECT p.id, u.site, u.count, u.observed_at FROM upvotes u JOIN papers p ON p.rowid = u.paper"
            )
        )
        categories = sorted(
            tuple(r) for r in conn.execute(
                "SELECT p.id, c.category, c.is_primary FROM paper_categories c JOIN papers p ON p.rowid = c.paper"
            )
        )
    finally:
        conn.close()
    return {"papers": papers, "provenance": provenance, "upvotes": upvotes, "categories": categories}


def public_papers(db: Path) -> dict[str, dict[str, Any]]:
    """Every paper as ``show --json`` prints it, without the import times of its sources."""
    from paperradar.present import paper_json
    from paperradar.store import SQLiteStore

    store = SQLiteStore(db)
    try:
        ids = [r[0] for r in store.conn.execute("SELECT id FROM papers")]
        out = {}
        for pid in ids:
            paper = paper_json(store.get(pid), full=True)
            paper["sources"] = sorted(s["source"] for s in paper["sources"])
            out[pid] = paper
        return out
    finally:
        store.close()


def arxiv_record(arxiv_id: str, **fields: Any) -> bytes:
    """One line in the arXiv listing format (shape of data/arxiv)."""
    record = {
        "arxiv_id": arxiv_id,
        "title": f"A study of {arxiv_id}",
        "abstract": "We study things. We find results. We discuss them at length here.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.CL"],
        "comment": None,
        "listed": "2025-06-02",
    }
    record.update(fields)
    return json.dumps(record).encode() + b"\n"


HF_PAGE_CHROME = (
    "Get trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nMar 19\n\n"
)


def hf_page(entries: list[tuple[str, str]], chrome: bool = True) -> bytes:
    """A Hugging Face papers page copied as text: chrome, then title / abstract pairs."""
    body = "".join(f"{title}\n\n{' '.join(abstract.split())}\n\n" for title, abstract in entries)
    return ((HF_PAGE_CHROME if chrome else "") + body).encode()


@contextmanager
def imported_radar(papers: list[dict[str, Any]], folder: Path) -> Iterator[Radar]:
    """A :class:`Radar` over a new database in ``folder`` holding ``papers`` (JSON lines through the real
    ``import``, no vectors), closed afterwards: the small made-up corpora of the keyword tests."""
    src = folder / "papers.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in papers), encoding="utf-8")
    db = folder / "papers.db"
    assert main(["--db", str(db), "import", "--no-embed", str(src), "--no-progress"]) == 0
    store = open_store(str(db))
    try:
        yield Radar(store)
    finally:
        store.close()
