"""``embed --ray``: both embedding passes as Ray tasks, on a local Ray started once for the module
(2 CPUs) and a few hundred real papers with the real model. The vectors must be those local embedding
stores, the vector index must answer the same, an interrupted run must resume without embedding a
paper twice, and a cluster that cannot be reached must give one clear line."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import ray
from conftest import ROOT
from helpers import cli, read_arxiv_lines, run

from paperradar import app
from paperradar.app import Radar
from paperradar.cli import main
from paperradar.index import embed
from paperradar.index.embed import current_model
from paperradar.index.embed_ray import ClusterError, RayBatches, on_cluster
from paperradar.store import SQLiteStore

N_PAPERS = 240


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray for the whole module (starting one costs seconds); its address."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real arXiv papers, imported without vectors."""
    tmp = tmp_path_factory.mktemp("ray")
    src = tmp / "in.jsonl"
    src.write_bytes(b"".join(read_arxiv_lines(N_PAPERS)))
    db = tmp / "plain.db"
    assert main(["--db", str(db), "import", str(src), "--no-embed", "--no-progress", "--json"]) in (0, None)
    return db


@pytest.fixture(scope="module")
def local(plain: Path) -> Path:
    """The same papers embedded in this process (``paperradar embed``): what Ray must reproduce."""
    db = plain.with_name("local.db")
    shutil.copy(plain, db)
    store = SQLiteStore(db)
    Radar(store).refresh(embed=True)
    store.close()
    return db


def _copy(plain: Path, tmp_path: Path) -> Path:
    db = tmp_path / "papers.db"
    shutil.copy(plain, db)
    return db


def _vectors(store: SQLiteStore, table: str) -> dict[int, tuple[str, np.ndarray]]:
    column = "vec" if table == "vectors" else "vecs"
    rows = store.conn.execute(f"SELECT paper, model, text_hash, {column} FROM {table}")
    out = {}
    for paper, model, text_hash, blob in rows:
        assert model == current_model()
        out[paper] = (text_hash, np.frombuffer(blob, dtype="<f2").astype(np.float32).reshape(-1, 384))
    return out


def _log_head(store: SQLiteStore) -> int:
    """Vector writes so far: the vector log numbers each one (and keeps counting after pruning)."""
    return store.vector_log_head()


def test_ray_vectors_equal_local_ones_and_the_index_answers_the_same(
    cluster: str, plain: Path, local: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed, "BATCH", 50)  # five tasks on two CPUs: stored in the order they finish
    monkeypatch.setattr(app, "SAVE_EVERY", 100)  # the vector index saved midway too
    store, reference = SQLiteStore(_copy(plain, tmp_path)), SQLiteStore(local)
    radar, local_radar = Radar(store), Radar(reference)
    with on_cluster(None) as (batches, info):
        report = radar.refresh(embed=True, batches=batches).embedding
    assert (report.embedded, report.sentences, info.cpus, info.in_flight) == (N_PAPERS, N_PAPERS, 2, 4)
    status = radar.embed_status()
    assert (status["pending"], status["sentences_pending"], status["indexed"]) == (0, 0, N_PAPERS)
    assert _log_head(store) == N_PAPERS  # each vector written once, through the log the index follows
    for table in ("vectors", "sentence_vectors"):
        ours, theirs = _vectors(store, table), _vectors(reference, table)
        assert ours.keys() == theirs.keys() and len(ours) == N_PAPERS
        for paper, (text_hash, vecs) in ours.items():
            assert text_hash == theirs[paper][0] and vecs.shape == theirs[paper][1].shape
            cosine = (vecs * theirs[paper][1]).sum(axis=1) / (
                np.linalg.norm(vecs, axis=1) * np.linalg.norm(theirs[paper][1], axis=1))
            assert cosine.min() >= 0.999, (table, paper, cosine.min())
    queries = store.get_vectors(current_model(), list(range(1, N_PAPERS + 1, 24)))[1]
    for query in queries:
        assert [r for r, _ in radar.vectors.search(query, 10)] == [r for r, _ in local_radar.vectors.search(query, 10)]
    store.close()
    reference.close()


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from paperradar.cli import main
    from paperradar.index import embed
    from paperradar.store import SQLiteStore
    calls = []
    original = SQLiteStore.save_vectors
    def save(self, *args):  # die as the third finished batch is stored, before its commit
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args)
    SQLiteStore.save_vectors = save
    embed.BATCH = 40
    sys.exit(main(["--db", sys.argv[1], "embed", "--ray", sys.argv[2], "--no-progress"]))
    """
)


def test_a_killed_ray_run_resumes_and_embeds_nothing_twice(
    cluster: str, plain: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _copy(plain, tmp_path)
    # A driver of its own, connected to the module's cluster by its address, killed midway.
    proc = subprocess.run([sys.executable, "-c", KILLER, str(db), cluster], capture_output=True, cwd=ROOT, check=False,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    store = SQLiteStore(db)
    assert store.vector_count(current_model()) == 80  # two batches stored, the torn one not at all
    assert store.sentence_vector_count(current_model()) == 0
    store.close()
    rc, out, err = cli(capsys, "--db", db, "embed", "--ray", cluster, "--json")
    assert rc == 0, err
    data = json.loads(out)
    assert (data["embedded"], data["sentences"], data["indexed"]) == (N_PAPERS - 80, N_PAPERS, N_PAPERS)
    assert data["ray"]["cpus"] == 2
    store = SQLiteStore(db)
    assert _log_head(store) == N_PAPERS  # nothing embedded twice
    assert tuple(store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT paper) FROM vectors").fetchone()) == (
        N_PAPERS, N_PAPERS)
    status = Radar(store).embed_status()
    assert (status["pending"], status["sentences_pending"], status["indexed"]) == (0, 0, N_PAPERS)
    store.close()


def test_an_interrupted_sentence_pass_resumes_and_stores_each_paper_once(
    cluster: str, local: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed, "SENTENCE_BATCH", 60)
    saved: list[int] = []
    stopped: list[bool] = []
    original = SQLiteStore.save_sentence_vectors

    def save(self: SQLiteStore, model: str, items: list) -> None:
        if len(saved) == 120 and not stopped:  # Ctrl-C as the third finished batch is stored
            stopped.append(True)
            raise KeyboardInterrupt
        saved.extend(rowid for rowid, _, _ in items)
        original(self, model, items)

    monkeypatch.setattr(SQLiteStore, "save_sentence_vectors", save)
    store = SQLiteStore(_copy(local, tmp_path))  # document vectors done: only the sentence pass is left
    with store.write() as conn:
        conn.execute("DELETE FROM sentence_vectors")
    radar = Radar(store)
    with pytest.raises(KeyboardInterrupt), on_cluster(None) as (batches, _):
        radar.refresh(embed=True, batches=batches)
    assert store.vector_count(current_model()) == N_PAPERS and store.sentence_vector_count(current_model()) == 120
    with on_cluster(None) as (batches, _):
        report = radar.refresh(embed=True, batches=batches).embedding
    assert (report.embedded, report.sentences) == (0, N_PAPERS - 120)
    assert sorted(saved) == sorted(r[0] for r in store.conn.execute("SELECT rowid FROM papers"))  # each once
    assert radar.embed_status()["sentences_pending"] == 0
    store.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    (f"127.0.0.1:{_closed_port()}", "cannot reach a Ray cluster at 127.0.0.1:"),
    ("no-port-here", "Ray address 'no-port-here' is not HOST:PORT"),
])
def test_a_bad_address_is_one_clear_line(plain: Path, tmp_path: Path, address: str, message: str) -> None:
    proc = run("embed", "--ray", address, db=_copy(plain, tmp_path), timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert err.startswith(f"paperradar: {message}"), err


def test_without_ray_installed_the_error_says_how_to_install_it(
    plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    rc, _, err = cli(capsys, "--db", _copy(plain, tmp_path), "embed", "--ray")
    assert rc == 1 and "pip install 'paperradar[ray]'" in err and "Traceback" not in err


def test_a_worker_with_another_model_refuses_to_embed(cluster: str) -> None:
    batches = RayBatches("all-MiniLM-L6-v2@0.0.1/other")
    with pytest.raises(ClusterError, match="same paperradar version"):
        list(batches.map([(0, ["a paper about graphs"])]))
