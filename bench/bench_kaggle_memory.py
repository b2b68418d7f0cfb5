"""Memory of importing a Kaggle-snapshot-shaped stream: does it stay flat?

The real snapshot is 4.5 GB (about 2.5M records). This generates records of
exactly its shape from the 200 real sample lines in ../shared/fixtures (ids
rewritten so each is a new paper), pipes them into `paperradar import -`
(stdin, so nothing large lands on disk but the database), samples the
importer's resident memory twice a second, and prints RSS at each tenth of
the run. Flat means the last tenths are no higher than the first ones.

    python bench/bench_kaggle_memory.py [--records 500000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared/fixtures/kaggle_arxiv_snapshot/arxiv-metadata-oai-snapshot.first200.jsonl"


def generate(n: int, out) -> int:  # type: ignore[no-untyped-def]
    """Write n snapshot records to ``out``; returns bytes written."""
    lines = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    written = 0
    for i in range(n):
        rec = dict(lines[i % len(lines)])
        rec["id"] = f"{9001 + i // 100000:04d}.{i % 100000:05d}"
        rec["title"] = f"{rec['title']} (part {i})"  # real snapshot titles and DOIs are distinct
        if rec.get("doi"):
            rec["doi"] = f"{rec['doi']}.{i}"
        data = (json.dumps(rec) + "\n").encode()
        out.write(data)
        written += len(data)
    out.close()
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=500_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kaggle.db"
        child = subprocess.Popen(
            [sys.executable, "-m", "paperradar", "--db", str(db), "import", "-", "--json", "--no-progress"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        proc = psutil.Process(child.pid)
        samples: list[tuple[float, int, int]] = []
        sizes: dict[str, int] = {}
        started = time.perf_counter()
        feeder = threading.Thread(target=lambda: sizes.setdefault("bytes", generate(args.records, child.stdin)))
        feeder.start()
        while child.poll() is None:
            try:
                samples.append((time.perf_counter() - started, proc.memory_info().rss, _anon(child.pid)))
            except (psutil.NoSuchProcess, OSError):
                break
            time.sleep(0.5)
        feeder.join()
        summary = json.loads(child.stdout.read())
        elapsed = time.perf_counter() - started
    print(f"records: {args.records}  input: {sizes['bytes'] / 1e9:.2f} GB  imported new: {summary['new']}  "
          f"time: {elapsed:.1f} s  ({summary['new'] / elapsed:.0f} papers/s)")
    print("memory by tenth of the run (MiB): RSS = anonymous (the process's own heap) + file pages mapped")
    for tenth in range(10):
        part = [(rss, anon) for t, rss, anon in samples if tenth / 10 * elapsed <= t < (tenth + 1) / 10 * elapsed]
        if part:
            print(f"  {tenth * 10:3d}-{tenth * 10 + 10:3d}%: RSS max {max(p[0] for p in part) / 2**20:7.1f}"
                  f"   anonymous max {max(p[1] for p in part) / 2**20:7.1f}")
    print(f"peak RSS: {max(s[1] for s in samples) / 2**20:.1f} MiB; "
          f"peak anonymous: {max(s[2] for s in samples) / 2**20:.1f} MiB")


def _anon(pid: int) -> int:
    """RssAnon of a process: memory it allocated, unlike mapped index files the kernel can drop."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
