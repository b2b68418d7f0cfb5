"""A small real database for search and feed tests, built from ../shared.

The first ``ARXIV_LINES`` records of the arXiv file (listing days
2025-03-18 to 2025-04-03) plus a few Hugging Face Daily Papers files whose
papers overlap them, so some papers have upvotes. Along with the database
path comes ``truth``: what each paper should look like, computed from the
raw files independently of paperradar (first listing day, categories,
upvotes), for tests to check the store's answers against.
"""

from __future__ import annotations

import gzip
import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from conftest import shared

from paperradar.cli import main

ARXIV = "data/arxiv/arxiv-2025-2026.jsonl.gz"
ARXIV_LINES = 3000
HF_DAYS = ("2025-03-18", "2025-03-20", "2025-03-21", "2025-03-25")


@dataclass
class Truth:
    first_listed: str | None = None
    categories: list[str] = field(default_factory=list)
    upvotes: int = 0
    upvotes_day: str = ""


@dataclass
class SliceDB:
    path: Path
    truth: dict[str, Truth]


def build(tmp_dir: Path) -> SliceDB:
    """Write the slice to ``tmp_dir``, import it with the real CLI, return the db and the truth."""
    arxiv = shared(ARXIV)
    hf_files = [shared(f"data/hf-daily-papers/{day}.json") for day in HF_DAYS]
    truth: dict[str, Truth] = {}
    slice_path = tmp_dir / "arxiv-slice.jsonl.gz"
    with gzip.open(arxiv, "rb") as src, gzip.open(slice_path, "wb") as dst:
        for _ in range(ARXIV_LINES):
            line = src.readline()
            if not line:
                break
            dst.write(line)
            obj = json.loads(line)
            t = truth.setdefault(obj["arxiv_id"], Truth())
            t.first_listed = min(filter(None, [t.first_listed, obj.get("listed")]), default=None)
            t.categories = obj.get("categories") or t.categories
    for path, day in zip(hf_files, HF_DAYS):
        for entry in json.loads(path.read_text(encoding="utf-8")):
            t = truth.setdefault(entry["paper"]["id"], Truth())
            t.first_listed = min(filter(None, [t.first_listed, day]))
            if day >= t.upvotes_day:
                t.upvotes, t.upvotes_day = int(entry["paper"].get("upvotes") or 0), day
    db = tmp_dir / "slice.db"
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--db", str(db), "import", "--no-embed", str(slice_path), *map(str, hf_files), "--json", "--no-progress"])
    assert code == 0, err.getvalue()
    summary = json.loads(out.getvalue())
    assert summary["new"] == len(truth), summary
    return SliceDB(db, truth)
