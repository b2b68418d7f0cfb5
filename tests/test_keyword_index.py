"""The keyword index follows the store: rebuilt when lost, caught up after a crash, never ahead."""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, shared

from paperradar.cli import main
from paperradar.app import Radar
from paperradar.index.keyword import META_SEQ, index_dir
from paperradar.rank.search import keyword_search
from paperradar.store import open_store


@pytest.fixture
def slice_file(tmp_path: Path) -> Path:
    """The first 1,500 papers of the real arXiv file."""
    out = tmp_path / "slice.jsonl"
    with gzip.open(shared("data/arxiv/arxiv-2025-2026.jsonl.gz"), "rt", encoding="utf-8") as src:
        out.write_text("".join(line for _, line in zip(range(1500), src)), encoding="utf-8")
    return out


def _counts(db: Path) -> tuple[int, int]:
    store = open_store(str(db))
    try:
        return store.count(), Radar(store).keyword.count()
    finally:
        store.close()


def test_import_indexes_every_paper_once(tmp_path: Path, slice_file: Path) -> None:
    db = tmp_path / "p.db"
    assert main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"]) == 0
    assert main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"]) == 0
    papers, docs = _counts(db)
    assert papers == docs > 1400


def test_lost_index_is_rebuilt_by_search(tmp_path: Path, slice_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "p.db"
    main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"])
    store = open_store(str(db))
    shutil.rmtree(index_dir(store.path).parent)
    store.close()
    capsys.readouterr()
    assert main(["--db", str(db), "search", "prosthetic vision", "--json"]) == 0
    assert "2503.11677" in capsys.readouterr().out
    papers, docs = _counts(db)
    assert papers == docs


def test_catch_up_after_crash_between_the_two_commits(tmp_path: Path, slice_file: Path) -> None:
    """Index committed, seq not recorded: catching up must not index anything twice."""
    db = tmp_path / "p.db"
    main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"])
    store = open_store(str(db))
    store.set_meta(META_SEQ, "0")  # as if the process died right after the index commit
    radar = Radar(store)
    index = radar.keyword
    assert radar.refresh().keyword == store.count()
    assert index.count() == store.count()
    hits = keyword_search(radar, "prosthetic vision PRIMA")
    assert [h["id"] for h in hits].count("2503.11677") == 1


def test_index_never_serves_a_paper_the_store_lacks(tmp_path: Path, slice_file: Path) -> None:
    db = tmp_path / "p.db"
    main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"])
    store = open_store(str(db))
    with store.write() as conn:  # a paper gone from the store, still in the index
        conn.execute("DELETE FROM papers WHERE id = '2503.11677'")
    radar = Radar(store)
    assert radar.keyword.count() == store.count() + 1
    ids = [h["id"] for h in keyword_search(radar, "prosthetic vision PRIMA", limit=50)]
    assert ids and "2503.11677" not in ids


def test_killed_import_resumes_consistent(tmp_path: Path) -> None:
    """kill -9 in the middle of a large import; the next import leaves store and index equal."""
    data = shared("data/arxiv/arxiv-2025-2026.jsonl.gz")
    db = tmp_path / "p.db"
    cmd = [sys.executable, "-m", "paperradar", "--db", str(db), "import", "--no-embed", str(data), "--no-progress"]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some batches are in the store
        time.sleep(0.5)
        if db.exists() and _count_quietly(db) >= 20_000:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    partial = _count_quietly(db)
    assert 0 < partial < 115_000
    head = tmp_path / "head.jsonl"
    with gzip.open(data, "rt", encoding="utf-8") as src:
        head.write_text("".join(line for _, line in zip(range(3000), src)), encoding="utf-8")
    assert main(["--db", str(db), "import", "--no-embed", str(head), "--no-progress"]) == 0
    papers, docs = _counts(db)
    assert papers == docs >= partial


def _count_quietly(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_index_of_an_older_schema_is_rebuilt_with_progress(
    tmp_path: Path, slice_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new index schema (keyword.SCHEMA_VERSION) lives in its own folder: a database whose index the
    previous version wrote is indexed again from the store, with a progress bar where one is asked for,
    and the old folder is never opened with the new schema."""
    from paperradar.index import keyword

    db = tmp_path / "p.db"
    assert main(["--db", str(db), "import", "--no-embed", str(slice_file), "--no-progress"]) == 0
    store = open_store(str(db))
    old = index_dir(store.path)
    old_files = sorted(p.name for p in old.iterdir())
    monkeypatch.setattr(keyword, "SCHEMA_VERSION", keyword.SCHEMA_VERSION + "-next")
    assert index_dir(store.path) != old
    radar = Radar(store)
    capsys.readouterr()
    done = radar.refresh(progress=True)
    assert done.keyword == store.count() > 1400
    assert "keyword index" in capsys.readouterr().err
    assert [r["id"] for r in keyword_search(radar, '"prosthetic vision"', limit=5)][:1] == ["2503.11677"]
    assert radar.keyword.count() == store.count()
    assert sorted(p.name for p in old.iterdir()) == old_files  # the old folder was left as it was
    store.close()
