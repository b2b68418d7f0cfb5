"""./quickstart.sh on a machine without ../shared: it says where it looked, offers the live start, and
never ends "successfully" with an empty database."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT
from sync_server import services, write_config  # noqa: F401


def _checkout(tmp_path: Path) -> Path:
    """The repository's start script in a folder with no ../shared beside it (the project's .venv reused)."""
    repo = tmp_path / "machine" / "paperradar"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "quickstart.sh", repo)
    shutil.copy(ROOT / "scripts" / "setup_venv.sh", repo / "scripts")
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def _run(repo: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PAPERRADAR_DB": str(tmp_path / "papers.db"), "PAPERRADAR_NO_SERVE": "1", **env}
    return subprocess.run(["bash", str(repo / "quickstart.sh"), *args], capture_output=True, text=True,
                          env=environ, timeout=600)


def test_without_shared_data_it_says_where_it_looked_and_fails(tmp_path: Path) -> None:
    repo = _checkout(tmp_path)
    proc = _run(repo, tmp_path)
    assert proc.returncode != 0
    assert f"{tmp_path / 'machine' / 'shared' / 'data'}/arxiv/arxiv-2025-2026.jsonl.gz" in proc.stderr
    assert "./quickstart.sh --live" in proc.stderr and "sync hf-daily" in proc.stderr
    assert "Try:" not in proc.stdout  # no searches suggested over nothing


def test_nothing_imported_is_a_failure(tmp_path: Path) -> None:
    repo = _checkout(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    proc = _run(repo, tmp_path, str(empty))
    assert proc.returncode == 1
    assert "still empty" in proc.stderr and "Try:" not in proc.stdout


def test_live_start_fetches_papers(tmp_path: Path, services) -> None:  # noqa: F811
    repo = _checkout(tmp_path)
    config = write_config(tmp_path / "sync.toml", services)
    proc = _run(repo, tmp_path, "--live", PAPERRADAR_CONFIG=str(config), PAPERRADAR_CATEGORIES="cs.CL",
                NO_PROXY="127.0.0.1,localhost")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "fetching Hugging Face Daily Papers" in proc.stdout
    assert services.seen("/api/daily_papers") and "Try:" in proc.stdout
