"""The derived indexes know their database, and the embedding pipeline leaves nothing for a page to compute.

An index folder beside a database that did not make it (a restored backup
next to a newer index, an index copied from elsewhere) must be rebuilt,
never served; sentence vectors for similar papers are made by ``embed``, so
a paper page only reads.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from helpers import read_arxiv_lines

from paperradar.app import Radar
from paperradar.cli import main
from paperradar.index.embed import current_model
from paperradar.rank.search import keyword_search, search
from paperradar.rank.semantic import nearest, query_vector
from paperradar.store import SQLiteStore


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in read_arxiv_lines(360)]


def _import(db: Path, records: list[dict], tmp: Path, name: str, embed: bool = True) -> None:
    src = tmp / f"{name}.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    args = ["--db", str(db), "import", str(src), "--no-progress", "--json"]
    assert main(args if embed else [*args, "--no-embed"]) == 0


def _backup(db: Path, to: Path) -> None:
    """A consistent copy, as a backup tool would make it (WAL included)."""
    with sqlite3.connect(db) as src, sqlite3.connect(to) as dst:
        src.backup(dst)


def _restore(backup: Path, db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, db)


def _phrase(title: str) -> str:
    """An exact-title query: the title as one quoted phrase."""
    return '"' + " ".join(title.replace('"', " ").split()) + '"'


def _holds(row: dict, title: str) -> bool:
    """Whether a hit really has every word of ``title`` (a stale index would answer with a paper that does not)."""
    words = [w.strip(".,:;()").lower() for w in title.split()]
    text = f"{row['title']} {row['abstract']}".lower()
    return all(w in text for w in words if w.isalpha() and len(w) > 3)


def test_a_restored_backup_next_to_a_newer_index_serves_the_right_papers(tmp_path: Path, records) -> None:
    first, lost, later = records[:120], records[120:240], records[240:360]
    db = tmp_path / "p.db"
    _import(db, first, tmp_path, "first")
    _backup(db, tmp_path / "backup.db")
    _import(db, lost, tmp_path, "lost")  # indexed by word and by meaning, then the database is restored
    _restore(tmp_path / "backup.db", db)
    _import(db, later, tmp_path, "later")  # the restored site goes on: new papers take the lost ones' rowids

    store = SQLiteStore(db)
    radar = Radar(store)
    try:
        radar.refresh()
        assert radar.keyword.count() == store.count() == len(first) + len(later)
        for record in lost[:40]:  # gone with the restore: no other paper may answer for them
            for row in keyword_search(radar, _phrase(record["title"]), limit=20):
                assert _holds(row, record["title"]), (record["title"], row["title"])
        for record in later[:25]:
            hits = keyword_search(radar, _phrase(record["title"]), limit=3)
            assert hits and hits[0]["id"] == record["arxiv_id"]
        # By meaning: what the vector index returns is what the stored vectors say.
        model = current_model()
        assert len(radar.vectors) == store.vector_count(model) == store.count()
        rowids = [r[0] for r in store.conn.execute("SELECT rowid FROM papers")]
        keys, vectors = store.get_vectors(model, rowids)
        for record in later[:10]:
            query = query_vector(radar, record["abstract"])
            expected = [int(keys[i]) for i in np.argsort(-(vectors @ query), kind="stable")[:5]]
            assert [r for r, _ in nearest(radar, query, 5)] == expected
            assert search(radar, record["abstract"], mode="semantic", limit=1)[0]["id"] == record["arxiv_id"]
    finally:
        store.close()


def test_an_index_folder_copied_from_another_database_is_rebuilt(tmp_path: Path, records) -> None:
    one, other = tmp_path / "one.db", tmp_path / "other.db"
    _import(one, records[:60], tmp_path, "one", embed=False)
    _import(other, records[60:120], tmp_path, "other", embed=False)
    shutil.rmtree(f"{other}.index")
    shutil.copytree(f"{one}.index", f"{other}.index")  # same rowids, other papers
    store = SQLiteStore(other)
    radar = Radar(store)
    try:
        for record in records[:40]:  # papers of the other database only
            assert all(_holds(row, record["title"]) for row in keyword_search(radar, _phrase(record["title"]), limit=20))
        for record in records[60:80]:
            hits = keyword_search(radar, _phrase(record["title"]), limit=3)
            assert hits and hits[0]["id"] == record["arxiv_id"]
        assert radar.keyword.count() == store.count()
    finally:
        store.close()


def test_embed_stores_sentence_vectors_and_a_paper_page_only_reads(tmp_path: Path, records, capsys) -> None:
    from starlette.testclient import TestClient

    from paperradar.web import create_app

    db = tmp_path / "p.db"
    _import(db, records[:80], tmp_path, "papers", embed=False)
    capsys.readouterr()
    assert main(["--db", str(db), "embed", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["embedded"] == 80 and report["sentences"] == 80
    store = SQLiteStore(db)
    radar = Radar(store)
    try:
        status = radar.embed_status()
        assert status["sentences"] == 80 and status["sentences_pending"] == 0
        watcher = sqlite3.connect(db)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        with TestClient(create_app(radar)) as client:
            page = client.get(f"/papers/{records[5]['arxiv_id']}")
            assert page.status_code == 200 and "Similar papers" in page.text
            similar = client.get(f"/api/papers/{records[5]['arxiv_id']}/similar").json()
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == version  # nothing was written
        watcher.close()
        assert similar["papers"] and all(set(p["why"]) == {"keyword", "vector", "sentences"} for p in similar["papers"])
        assert all(p["why"]["sentences"] is not None for p in similar["papers"][:5])
    finally:
        store.close()


def test_a_changed_abstract_gets_new_sentence_vectors(tmp_path: Path, records) -> None:
    db = tmp_path / "p.db"
    _import(db, records[:30], tmp_path, "papers")
    changed = dict(records[4], abstract="A new abstract. It has three sentences. Each one is embedded.",
                   updated="2030-01-01", version=9)
    _import(db, [changed], tmp_path, "changed")
    store = SQLiteStore(db)
    try:
        rowid = store.rowids([changed["arxiv_id"]])[changed["arxiv_id"]]
        (_, matrix), = store.get_sentence_vectors(current_model(), [rowid]).values()
        assert matrix.shape[0] == 4  # the title and the new abstract's three sentences
        assert Radar(store).embed_status()["sentences_pending"] == 0
    finally:
        store.close()
